//! `repos`, `tags`, `manifests`: listing and deleting.

use super::*;

#[tokio::test]
async fn repos_list_shows_every_repository_with_its_counts() {
    let (fake, docr) = demo_with_docr().await;
    let snapshot = fake.snapshot();
    let acme = snapshot.registry("acme").expect("demo registry");

    let table = docr.ok("repos list acme").await;
    let mut expected_names: Vec<&str> = acme.repositories.iter().map(|r| r.name.as_str()).collect();
    expected_names.sort_unstable();
    let mut column = table.first_column();
    assert_eq!(column.remove(0), "REPOSITORY");
    column.sort_unstable();
    assert_eq!(column, expected_names);

    let listed = docr.json("repos list acme").await;
    let got: BTreeMap<String, (u64, u64, String)> = items(&listed)
        .iter()
        .map(|r| {
            (
                text(&r["name"]),
                (
                    number(&r["tag_count"]),
                    number(&r["manifest_count"]),
                    text(&r["latest_manifest"]["digest"]),
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (u64, u64, String)> = acme
        .repositories
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                (
                    r.tags().len() as u64,
                    r.manifests.len() as u64,
                    r.manifests[0].digest.clone(),
                ),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn tags_list_follows_every_page() {
    let (fake, docr) = demo_with_docr().await;
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").expect("demo repository");
    let expected: BTreeSet<(String, String)> = web
        .manifests
        .iter()
        .flat_map(|m| m.tags.iter().map(|t| (t.clone(), m.digest.clone())))
        .collect();
    assert_eq!(expected.len(), 45);

    // 45 tags: three pages of the API's default size; the table has them all.
    let table = docr.ok("tags list acme web").await;
    assert_eq!(table.lines().len(), 1 + 45);
    assert_eq!(table.first_column()[0], "TAG");

    let listed = docr.json("tags list acme web").await;
    let got: BTreeSet<(String, String)> = items(&listed)
        .iter()
        .map(|t| (text(&t["tag"]), text(&t["manifest_digest"])))
        .collect();
    assert_eq!(got, expected);

    // A repository as users paste it, host and registry included.
    let api = docr
        .json("tags list acme registry.digitalocean.com/acme/team/api")
        .await;
    let tags: BTreeSet<String> = items(&api).iter().map(|t| text(&t["tag"])).collect();
    let expected: BTreeSet<String> = snapshot
        .repository("acme", "team/api")
        .expect("demo repository")
        .tags()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(tags, expected);

    // ... but not one of another registry.
    let before = fake.calls().total;
    let why = docr
        .refused("tags list acme registry.digitalocean.com/acme-staging/team/api")
        .await;
    assert!(
        why.contains("names registry acme-staging, not acme"),
        "{why}"
    );
    assert_eq!(fake.calls().total, before);
}

#[tokio::test]
async fn tags_delete_removes_tags_and_keeps_their_manifests() {
    let (fake, docr) = demo_with_docr().await;
    let before = fake.snapshot();
    let api = before.repository("acme", "team/api").expect("demo");
    let v1 = api.tagged("v1").expect("v1").digest.clone();
    let latest = api.tagged("latest").expect("latest").digest.clone();

    docr.prints_lines(
        "tags delete -f acme team/api v1 v2",
        &["deleted team/api:v1", "deleted team/api:v2"],
    )
    .await;
    docr.prints_json(
        "tags delete -f acme team/api latest",
        json!({"repository": "team/api", "deleted_tags": ["latest"], "failed": []}),
    )
    .await;

    let after = fake.snapshot();
    let api_after = after.repository("acme", "team/api").expect("still there");
    assert_eq!(api_after.manifests.len(), api.manifests.len());
    assert!(api_after.tagged("v1").is_none() && api_after.tagged("v2").is_none());
    assert!(api_after.tagged("latest").is_none());
    assert_eq!(
        api_after.manifest(&v1).map(|m| m.tags.clone()),
        Some(vec![])
    );
    assert_eq!(
        api_after.tagged("v6").map(|m| m.digest.clone()),
        Some(latest)
    );

    // A tag that is not there: the API's 404, on one line.
    let why = docr.refused("tags delete -f acme team/api v1").await;
    assert!(why.starts_with("deleting tag v1:"), "{why}");
    assert!(why.contains("404"), "{why}");
}

#[tokio::test]
async fn manifests_list_shows_each_manifest_with_its_tags() {
    let (fake, docr) = demo_with_docr().await;
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").expect("demo repository");

    let listed = docr.json("manifests list acme web").await;
    let got: Vec<(String, BTreeSet<String>)> = items(&listed)
        .iter()
        .map(|m| {
            (
                text(&m["digest"]),
                // An untagged manifest has no `tags` field.
                if m["tags"].is_null() {
                    BTreeSet::new()
                } else {
                    strings(&m["tags"]).into_iter().collect()
                },
            )
        })
        .collect();
    let expected: Vec<(String, BTreeSet<String>)> = web
        .manifests
        .iter()
        .map(|m| (m.digest.clone(), m.tags.iter().cloned().collect()))
        .collect();
    assert_eq!(got, expected, "newest first, as the fake holds them");

    let table = docr.ok("manifests list acme web").await;
    assert_eq!(table.lines().len(), 1 + web.manifests.len());
    let untagged = web.manifests.iter().filter(|m| m.tags.is_empty()).count();
    assert_eq!(untagged, 3);
    assert_eq!(
        table
            .lines()
            .iter()
            .filter(|l| l.contains("<untagged>"))
            .count(),
        untagged
    );
}

#[tokio::test]
async fn manifests_delete_removes_manifests_and_their_tags() {
    let (fake, docr) = demo_with_docr().await;
    let before = fake.snapshot();
    let api = before.repository("acme", "team/api").expect("demo");
    let untagged: Vec<String> = api
        .manifests
        .iter()
        .filter(|m| m.tags.is_empty())
        .map(|m| m.digest.clone())
        .collect();
    assert_eq!(untagged.len(), 2);
    let v1 = api.tagged("v1").expect("v1").digest.clone();

    let deleted = docr
        .ok(&format!("manifests delete -f acme team/api {v1}"))
        .await;
    assert_eq!(deleted.stdout, format!("deleted team/api@{v1}\n"));
    let deleted = docr
        .json(&format!(
            "manifests delete -f acme team/api {} {}",
            untagged[0], untagged[1]
        ))
        .await;
    assert_eq!(
        deleted,
        json!({"repository": "team/api", "deleted_manifests": untagged, "failed": []})
    );

    let mut expected = manifests_of(&before, "acme");
    for digest in untagged.iter().chain([&v1]) {
        expected.remove(&("team/api".to_string(), digest.clone()));
    }
    let after = fake.snapshot();
    assert_eq!(manifests_of(&after, "acme"), expected);
    assert!(
        after
            .repository("acme", "team/api")
            .expect("still there")
            .tagged("v1")
            .is_none()
    );
}

#[tokio::test]
async fn bad_names_tags_and_digests_are_refused_before_any_request() {
    let (fake, docr) = demo_with_docr().await;

    // Each case: the arguments, then after ` => ` what the refusal says.
    for case in [
        "tags list acme Team/API => invalid repository name `Team/API`",
        "manifests list acme web//x => invalid repository name",
        // Every tag is checked before the first delete.
        "tags delete -f acme web 1.0.0 BAD:tag => invalid tag `BAD:tag`",
        "manifests delete -f acme web sha256:zz => invalid digest `sha256:zz`",
        "manifests delete -f acme web latest => invalid digest `latest`",
    ] {
        let (args, needle) = case.split_once(" => ").expect("a case");
        docr.refused_saying(args, needle).await;
    }

    // A registry name is checked by the argument parser (its usual exit status 2).
    let run = docr.run("repos list Acme").await;
    assert_eq!(run.status.code(), Some(2));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("invalid registry name `Acme`"),
        "{}",
        run.stderr
    );

    assert_eq!(fake.calls().total, 0, "{:?}", fake.calls());
    assert!(
        fake.snapshot()
            .repository("acme", "web")
            .expect("demo")
            .tagged("1.0.0")
            .is_some()
    );
}
