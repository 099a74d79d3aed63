//! `registries`, `options`, `subscription`, `validate-name`.

use super::*;

#[tokio::test]
async fn registries_list_shows_every_registry_of_the_account() {
    let (fake, docr) = demo_with_docr().await;
    let snapshot = fake.snapshot();

    let table = docr
        .prints_column(
            "registries list",
            &["NAME", "acme", "acme-archive", "acme-staging"],
        )
        .await;
    assert!(table.lines()[1].contains("nyc3"), "{}", table.stdout);
    assert_eq!(table.stderr, "");

    let listed = docr.json("registries list").await;
    let mut got: Vec<(String, String, u64)> = items(&listed["registries"])
        .iter()
        .map(|r| {
            (
                text(&r["name"]),
                text(&r["region"]),
                number(&r["storage_usage_bytes"]),
            )
        })
        .collect();
    got.sort();
    let mut expected: Vec<_> = snapshot
        .registries
        .iter()
        .map(|r| (r.name.clone(), r.region.clone(), r.storage_usage_bytes))
        .collect();
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn registries_get_shows_one_registry() {
    let (fake, docr) = demo_with_docr().await;
    let snapshot = fake.snapshot();
    let staging = snapshot.registry("acme-staging").expect("demo registry");

    let table = docr
        .prints_column("registries get acme-staging", &["NAME", "acme-staging"])
        .await;
    assert!(table.lines()[1].contains("fra1"), "{}", table.stdout);

    let got = docr.json("registries get acme-staging").await;
    assert_eq!(got["registry"]["name"], "acme-staging");
    assert_eq!(got["registry"]["region"], staging.region.as_str());
    assert_eq!(
        got["registry"]["storage_usage_bytes"],
        json!(staging.storage_usage_bytes)
    );
    assert_eq!(fake.calls().of("registries_get"), 2);
}

#[tokio::test]
async fn registries_create_and_delete_change_the_account() {
    let (fake, docr) = demo_with_docr().await;

    docr.prints(
        "registries create acme-tools --tier professional --region sgp1",
        "created registry acme-tools\n",
    )
    .await;
    assert_eq!(
        fake.snapshot()
            .registry("acme-tools")
            .map(|r| r.region.clone()),
        Some("sgp1".into())
    );

    let created = docr
        .json("registries create acme-eu --tier professional --region fra1")
        .await;
    assert_eq!(created["registry"]["name"], "acme-eu");
    assert_eq!(created["registry"]["region"], "fra1");
    assert!(fake.snapshot().registry("acme-eu").is_some());

    docr.prints(
        "registries delete -f acme-tools",
        "deleted registry acme-tools\n",
    )
    .await;
    docr.prints_json(
        "registries delete -f acme-eu",
        json!({"deleted": "acme-eu"}),
    )
    .await;
    let names: Vec<String> = fake
        .snapshot()
        .registries
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["acme", "acme-archive", "acme-staging"]);

    // An unknown tier or region is refused before any request.
    let creates = fake.calls().of("registries_create");
    let why = docr.usage("registries create x1 --tier gold").await;
    assert!(why.contains("unknown tier `gold`"), "{why}");
    let why = docr
        .usage("registries create x1 --tier basic --region mars")
        .await;
    assert!(why.contains("unknown region `mars`"), "{why}");
    assert_eq!(fake.calls().of("registries_create"), creates);
}

#[tokio::test]
async fn options_lists_regions_and_tiers() {
    let (_fake, docr) = demo_with_docr().await;

    let options = docr.json("options").await;
    let regions = strings(&options["options"]["available_regions"]);
    assert!(regions.iter().any(|r| r == "nyc3"), "{regions:?}");
    let tiers = items(&options["options"]["subscription_tiers"]);
    let slugs: Vec<&str> = tiers
        .iter()
        .map(|t| t["slug"].as_str().expect("slug"))
        .collect();
    assert_eq!(slugs, ["starter", "basic", "professional"]);
    // Three registries: only professional allows them.
    assert_eq!(tiers[2]["eligible"], true);
    for tier in &tiers[..2] {
        assert_eq!(tier["eligible"], false);
        assert!(strings(&tier["eligibility_reasons"]).contains(&"OverRegistryLimit".to_string()));
    }

    let table = docr.ok("options").await;
    assert_eq!(table.lines()[0], format!("regions: {}", regions.join(", ")));
    assert_eq!(
        table.first_column()[1..],
        ["TIER", "starter", "basic", "professional"]
    );
    assert!(table.lines()[4].ends_with("yes"), "{}", table.stdout);
    assert!(table.lines()[2].contains("no (OverRepositoryLimit, OverRegistryLimit)"));
}

#[tokio::test]
async fn subscription_get_and_set_change_the_tier() {
    let (fake, docr) = demo_with_docr().await;

    docr.prints_column("subscription get", &["TIER", "professional"])
        .await;
    let got = docr.json("subscription get").await;
    assert_eq!(
        got["subscription"]["tier"]["slug"],
        fake.snapshot().tier.as_str()
    );

    // Three registries do not fit on basic: the API's 422, on one line.
    let why = docr.refused("subscription set -f basic").await;
    assert!(
        why.contains("422") && why.contains("OverRegistryLimit"),
        "{why}"
    );
    let why = docr.usage("subscription set -f gold").await;
    assert!(why.contains("unknown tier `gold`"), "{why}");
    assert_eq!(fake.snapshot().tier, "professional");
    assert_eq!(fake.calls().of("registries_update_subscription"), 1);

    // One registry with one repository fits on any tier.
    let small = start(
        builder().registry(
            RegistrySeed::new("solo").tier("professional").repository(
                RepositorySeed::new("app").manifest(
                    ManifestSeed::new(digest("app-1"))
                        .tag("v1")
                        .blob(digest("l1"), 10),
                ),
            ),
        ),
    )
    .await;
    let docr = Docr::new(small.url());
    let set = docr.json("subscription set -f basic").await;
    assert_eq!(set["subscription"]["tier"]["slug"], "basic");
    assert_eq!(small.snapshot().tier, "basic");
    docr.prints_column("subscription set -f starter", &["TIER", "starter"])
        .await;
    assert_eq!(small.snapshot().tier, "starter");
}

#[tokio::test]
async fn validate_name_exits_zero_only_for_a_free_name() {
    let (fake, docr) = demo_with_docr().await;

    docr.prints("validate-name acme-next", "acme-next is available\n")
        .await;
    let why = docr.refused("validate-name acme").await;
    assert_eq!(why, "acme is taken");

    docr.prints_json(
        "validate-name acme-next",
        json!({"name": "acme-next", "available": true}),
    )
    .await;
    // As JSON too, a taken name is a non-zero exit, with the document on stdout.
    let taken = docr.run("-o json validate-name acme").await;
    assert_eq!(taken.status.code(), Some(1));
    assert_eq!(taken.json(), json!({"name": "acme", "available": false}));
    assert_eq!(taken.assert_one_error_line(), "acme is taken");
    assert_eq!(fake.calls().of("registries_validate_name"), 4);

    docr.refused_saying("validate-name Acme_2", "invalid registry name `Acme_2`")
        .await;
    assert_eq!(
        fake.calls().total,
        4,
        "a bad name is refused before any request"
    );
}
