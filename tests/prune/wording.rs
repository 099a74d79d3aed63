//! What plans, policies and skip reasons say to people, and where the grace window ends.

use crate::apply::untagged;
use crate::apply_outcomes::index_and_lone;
use crate::properties::now;
use chrono::TimeDelta;
use docr::types::RepositoryManifest;
use docr::{ImageReference, prune::RetentionPolicy, prune::SkipReason};
use std::time::Duration;

#[test]
fn a_policy_says_its_grace_only_when_it_is_not_the_default() {
    let default = RetentionPolicy::new().delete_untagged(true);
    assert_eq!(default.to_string(), "delete untagged");
    let short = default.clone().grace(Duration::from_secs(7_200));
    assert_eq!(short.to_string(), "delete untagged; grace 2h");
}

#[test]
fn a_policy_gives_back_the_images_it_keeps() {
    let web: ImageReference = "web:prod".parse().unwrap();
    let api: ImageReference =
        "api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            .parse()
            .unwrap();
    let policy = RetentionPolicy::new().keep_images([web.clone(), api.clone()]);
    assert_eq!(policy.kept_images(), [&web, &api]);
    assert!(RetentionPolicy::new().kept_images().is_empty());
}

#[test]
fn a_skip_for_moved_tags_names_them_or_says_untagged() {
    let none = SkipReason::TagsChanged { current: vec![] };
    assert_eq!(
        none.to_string(),
        "its tags changed since the plan (now untagged)"
    );
    let two = SkipReason::TagsChanged {
        current: vec!["1.0".into(), "prod".into()],
    };
    assert_eq!(
        two.to_string(),
        "its tags changed since the plan (now 1.0, prod)"
    );
}

/// One untagged manifest updated `age` before [`now`], planned with a one-hour grace window.
fn planned_at_age(age: TimeDelta) -> usize {
    let manifest = RepositoryManifest {
        digest: Some(format!("sha256:{:064x}", 1)),
        updated_at: Some(now() - age),
        ..Default::default()
    };
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .grace(Duration::from_secs(3_600));
    let repository = "app".parse().unwrap();
    crate::plan_flat(&policy, &repository, &[manifest], now())
        .delete
        .len()
}

#[test]
fn the_grace_window_ends_at_exactly_its_length() {
    assert_eq!(
        planned_at_age(TimeDelta::seconds(3_599)),
        0,
        "inside the window"
    );
    assert_eq!(
        planned_at_age(TimeDelta::seconds(3_600)),
        1,
        "as old as the window"
    );
    assert_eq!(planned_at_age(TimeDelta::seconds(3_601)), 1);
}

#[tokio::test]
async fn the_table_names_each_row_and_counts_in_words() {
    let (repo, ..) = index_and_lone();
    let (fake, client) = crate::acme_with([repo]).await;
    let plan = crate::plan(&client, &untagged()).await;
    let table = plan.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines.contains(&"app: delete 4 manifests, keep 0 images (0 manifests)"),
        "{table}"
    );
    let row = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row starting `{prefix}`:\n{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let index = &plan.repositories[0].delete[0];
    let digest = |d: &docr::Digest| d.as_str()[..19].to_string();
    // An image's row starts two spaces in and names its platforms; its members, four.
    assert_eq!(
        row(&format!("  {}", digest(&index.digest)))[1..4],
        ["index", "(linux/amd64,", "linux/arm64)"]
    );
    let child = &plan.repositories[0].delete[1];
    assert_eq!(
        row(&format!("    {}", digest(&child.digest)))[1],
        "linux/amd64"
    );
    let lone = &plan.repositories[0].delete[3];
    assert_eq!(row(&format!("  {}", digest(&lone.digest)))[1], "image");
    let total = lines.iter().find(|l| l.starts_with("Total:")).unwrap();
    assert!(
        total.starts_with("Total: delete 4 manifests in 2 images (0 tags); keep 0 manifests"),
        "{table}"
    );
    assert!(!table.contains("blocked"), "{table}");
    fake.shutdown().await;
}

#[tokio::test]
async fn the_table_says_one_in_the_singular_and_names_blocked_repositories() {
    let (repo, ..) = crate::images::app("1.0");
    let unreadable = docr_fake::ManifestSeed::new(format!("sha256:{}", "e".repeat(64)));
    let broken = docr_fake::RepositorySeed::new("broken").manifest(unreadable);
    let (fake, client) = crate::acme_with([repo, broken]).await;
    let plan = crate::plan(&client, &untagged()).await;
    let table = plan.to_string();
    assert!(
        table.contains("app: delete 1 manifest, keep 1 image ("),
        "{table}"
    );
    assert!(
        table.contains("listed by the API but unknown to the registry"),
        "{table}"
    );
    assert!(
        table.ends_with("\n1 repository blocked: nothing is deleted there (see above)"),
        "{table}"
    );
    fake.shutdown().await;
}
