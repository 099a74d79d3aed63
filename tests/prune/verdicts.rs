//! Every image of a plan says why it goes or stays, against the embedded DOCR: kept images
//! with their reasons (the JSON and the `{:#}` table), protected ones named by tag and
//! platform, the grace window only for untagged roots, and a broken index named as such.

use crate::images::{app, long_ago};
use docr::{
    prune::BlockReason, prune::KeepReason, prune::PruneReason, prune::RetentionPolicy,
    prune::Verdict, prune::Workload,
};
use docr_fake::{ImageSeed, IndexSeed, RepositorySeed};
use std::time::Duration;

#[tokio::test]
async fn every_image_is_in_the_plan_with_its_verdict_and_reasons() {
    let (repo, index, lone, sbom) = app("0.9");
    let newer = ImageSeed::new("newer").seed().tag("1.0");
    let (fake, client) = crate::acme_with([repo.manifest(newer.clone())]).await;
    let policy = RetentionPolicy::new()
        .keep_last(1)
        .delete_untagged(true)
        .grace(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let images = &plan.repositories[0].images;
    let verdict_of = |digest: &str| -> &docr::prune::ImageVerdict {
        images
            .iter()
            .find(|i| i.digest.as_str() == digest)
            .unwrap_or_else(|| panic!("{digest} has no verdict: {images:?}"))
    };
    // Three images: the newest tagged, the index beyond it, the untagged one. The SBOM is a
    // member of the index, not an image.
    assert_eq!(images.len(), 3, "{images:?}");
    assert!(images.iter().all(|i| i.digest.as_str() != sbom.digest()));
    assert_eq!(
        verdict_of(newer.digest()).verdict,
        Verdict::Keep(vec![KeepReason::AmongNewest { rank: 0, keep: 1 }])
    );
    let old = verdict_of(&index.digest());
    assert_eq!(
        old.verdict,
        Verdict::Delete(vec![PruneReason::BeyondNewest { keep: 1 }])
    );
    assert_eq!(old.tags, ["0.9"]);
    assert_eq!(old.platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(
        verdict_of(lone.digest()).verdict,
        Verdict::Delete(vec![PruneReason::Untagged])
    );

    // The JSON carries them, typed, and reads back the same.
    let json = serde_json::to_value(&plan).unwrap();
    let kept = json["repositories"][0]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["digest"] == newer.digest())
        .unwrap()
        .clone();
    assert_eq!(
        kept,
        serde_json::json!({
            "digest": newer.digest(), "tags": ["1.0"], "platforms": [], "manifests": 1,
            "updated_at": kept["updated_at"], "verdict": "keep",
            "reasons": [{"kind": "among_newest", "rank": 0, "keep": 1}]
        })
    );
    let back = serde_json::from_value::<docr::prune::Plan>(json).unwrap();
    assert_eq!(back.repositories[0].images, *images);

    // The table lists kept images only in its alternate form.
    let line = format!(
        "app: keep {} (1.0): one of the newest 1 tagged (#1)",
        &newer.digest()[..19]
    );
    assert!(!plan.to_string().contains(&line), "{plan}");
    assert!(format!("{plan:#}").contains(&line), "{plan:#}");
    fake.shutdown().await;
}

#[tokio::test]
async fn a_protected_image_is_named_by_its_tags_and_platforms_and_what_uses_it() {
    let (repo, index, _, _) = app("0.9");
    let (fake, client) = crate::acme_with([repo]).await;
    let in_use = docr::prune::ImageInUse::new(
        format!("app@{}", index.children()[1].digest())
            .parse()
            .unwrap(),
        vec![Workload::new("CronJob", Some("shop".into()), "nightly")],
    );
    let policy = RetentionPolicy::new()
        .older_than(Duration::from_secs(86_400))
        .grace(Duration::ZERO)
        .keep_images_in_use([in_use]);
    let plan = crate::plan(&client, &policy).await;
    let table = plan.to_string();
    let line = format!(
        "app: protected {} (0.9; linux/amd64, linux/arm64): in use by CronJob shop/nightly",
        &index.digest()[..19]
    );
    assert!(table.contains(&line), "{table}");
    assert!(plan.is_empty(), "{plan}");
    fake.shutdown().await;
}

#[tokio::test]
async fn the_grace_window_protects_untagged_roots_not_young_tagged_images() {
    // A tagged index pushed just now (no age: young children) and an older tagged image.
    let fresh = IndexSeed::new()
        .image(ImageSeed::new("amd64"))
        .image(ImageSeed::new("arm64").platform("linux", "arm64"))
        .tag("2.0");
    let old = ImageSeed::new("old")
        .seed()
        .tag("1.0")
        .updated_at(long_ago());
    let pushing = ImageSeed::new("pushing").seed();
    let (fake, client) = crate::acme_with([RepositorySeed::new("app")
        .index(fresh.clone())
        .manifest(old.clone())
        .manifest(pushing.clone())])
    .await;
    // Every tagged image selected: the fresh index goes too, since a tagged image is complete
    // (its young untagged children do not put it in the window); the untagged image being
    // pushed is in the window.
    let policy = RetentionPolicy::new().keep_last(0).delete_untagged(true);
    let plan = crate::plan(&client, &policy).await;
    let planned: Vec<&str> = plan.deletions().map(|d| d.digest.as_str()).collect();
    assert!(planned.contains(&fresh.digest().as_str()), "{plan}");
    assert!(planned.contains(&old.digest()), "{plan}");
    assert!(!planned.contains(&pushing.digest()), "{plan}");
    let protected = plan.repositories[0]
        .images
        .iter()
        .find(|i| i.digest.as_str() == pushing.digest())
        .unwrap();
    assert!(
        matches!(&protected.verdict, Verdict::Protected(r) if matches!(r[..], [KeepReason::InGrace { .. }])),
        "{protected:?}"
    );
    fake.shutdown().await;
}

#[tokio::test]
async fn an_index_whose_child_is_gone_blocks_its_repository_naming_the_index() {
    let (repo, index, _, _) = app("0.9");
    let (fake, client) = crate::acme_with([repo]).await;
    let child = index.children()[0].digest().to_string();
    client
        .registries_delete_repository_manifest()
        .registry_name(&crate::acme())
        .repository_name("app")
        .manifest_digest(child.as_str())
        .send()
        .await
        .unwrap();
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .older_than(Duration::ZERO);
    let plan = crate::plan(&client, &policy).await;
    let r = &plan.repositories[0];
    assert!(r.delete.is_empty());
    assert_eq!(
        r.blocked,
        [BlockReason::MissingChild {
            index: index.digest().parse().unwrap(),
            tags: vec!["0.9".into()],
            child: child.parse().unwrap(),
        }]
    );
    assert!(
        plan.to_string().contains(&format!(
            "app: BLOCKED, nothing deleted here: index {} (tagged 0.9) names a child the registry does not have: {child}",
            index.digest()
        )),
        "{plan}"
    );
    fake.shutdown().await;
}
