//! Retention pruning: plans, their application, and properties over random repositories.

#[path = "../support/mod.rs"]
mod support;

mod apply;
mod apply_and_plan;
mod apply_outcomes;
mod graph_properties;
mod images;
mod in_use;
mod manifest_cache;
mod policy_file;
mod properties;
mod registry_credentials;
mod registry_reader;
mod registry_writer;
mod undo;
mod verdicts;
mod wording;

use docr::{
    Digest, RegistryName, RepositoryName, prune::RepositoryPlan, prune::RepositoryStructure,
    prune::RetentionPolicy, registry::ManifestKind, registry::ManifestStructure, types,
};

/// The property tests' settings: 256 cases, or `PROPTEST_CASES` where it is set (a mutation
/// run sets fewer, then runs its survivors again with the 256).
pub fn cases() -> proptest::test_runner::Config {
    let config = proptest::test_runner::Config::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        proptest::test_runner::Config::with_cases(256)
    }
}

/// The `sha256:<hex>` digest of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// The registry every prune test plans.
pub fn acme() -> RegistryName {
    "acme".parse().expect("a registry name")
}

/// `policy`'s plan of every repository of `acme`.
pub async fn plan(client: &docr::Client, policy: &RetentionPolicy) -> docr::prune::Plan {
    use docr::prune::PruneExt;
    client
        .plan_prune(&acme(), policy)
        .send()
        .await
        .expect("a plan")
}

/// An embedded DOCR holding `acme` with these repositories, and a client for it.
pub async fn acme_with(
    repositories: impl IntoIterator<Item = docr_fake::RepositorySeed>,
) -> (docr_fake::FakeDocr, docr::Client) {
    let registry = repositories
        .into_iter()
        .fold(docr_fake::RegistrySeed::new("acme"), |r, repo| {
            r.repository(repo)
        });
    let fake = docr_fake::FakeDocr::builder()
        .registry(registry)
        .gc_step(std::time::Duration::from_millis(10))
        .start()
        .await
        .expect("the fake starts");
    let client = fake.client().expect("a client");
    (fake, client)
}

/// The structure of a repository of single-platform images only: every listed manifest an
/// image manifest referencing no other, each listed tag pointing at its manifest. Plans from
/// it decide exactly as a plan by manifests would.
pub fn flat(manifests: &[types::RepositoryManifest]) -> RepositoryStructure {
    let mut structure = RepositoryStructure::default();
    for m in manifests {
        let Some(Ok(digest)) = m.digest.as_deref().map(Digest::new) else {
            continue;
        };
        for tag in &m.tags {
            structure.tags.insert(tag.clone(), digest.clone());
        }
        let image = ManifestStructure::new(ManifestKind::Image);
        structure.manifests.insert(digest, Ok(image));
    }
    structure
}

/// [`docr::prune::plan_repository`] of registry `acme` over [`flat`] structure.
pub fn plan_flat(
    policy: &RetentionPolicy,
    repository: &RepositoryName,
    manifests: &[types::RepositoryManifest],
    now: chrono::DateTime<chrono::Utc>,
) -> RepositoryPlan {
    let registry: RegistryName = "acme".parse().expect("a registry name");
    docr::prune::plan_repository(
        policy,
        &registry,
        repository,
        manifests,
        &flat(manifests),
        now,
    )
}
