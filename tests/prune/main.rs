//! Retention pruning: plans, their application, and properties over random repositories.

#[path = "../support/mod.rs"]
mod support;

mod apply;
mod apply_and_plan;
mod graph_properties;
mod images;
mod properties;
mod registry_reader;
mod registry_writer;

use docr::{
    Digest, ManifestKind, ManifestStructure, RegistryName, RepositoryName, RepositoryPlan,
    RepositoryStructure, RetentionPolicy, types,
};

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
        let image = ManifestStructure {
            media_type: docr::OCI_MANIFEST.into(),
            kind: ManifestKind::Image,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
        };
        structure.manifests.insert(digest, Ok(image));
    }
    structure
}

/// [`docr::plan_repository`] of registry `acme` over [`flat`] structure.
pub fn plan_flat(
    policy: &RetentionPolicy,
    repository: &RepositoryName,
    manifests: &[types::RepositoryManifest],
    now: chrono::DateTime<chrono::Utc>,
) -> RepositoryPlan {
    let registry: RegistryName = "acme".parse().expect("a registry name");
    docr::plan_repository(
        policy,
        &registry,
        repository,
        manifests,
        &flat(manifests),
        now,
    )
}
