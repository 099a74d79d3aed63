//! What the fake holds for a run, what schemathesis learns of it, and what the fake answered.

use docr_fake::{
    Exchange, FakeDocr, FakeDocrBuilder, ManifestSeed, RegistrySeed, RepositorySeed, Snapshot,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The demo data, and a registry holding what the spec's examples name.
pub fn demo() -> FakeDocrBuilder {
    FakeDocr::builder().demo_data().registry(spec_examples())
}

/// The registry of the spec's examples, alone: the deprecated family acts on it.
pub fn single_registry() -> FakeDocrBuilder {
    FakeDocr::builder().registry(spec_examples().tier("basic"))
}

/// `example` with `repo-1`, its tag `06a447a` and manifest `sha256:cb8a…`: the values of the
/// spec's parameter examples, so that the examples phase reaches the answers that carry bodies.
fn spec_examples() -> RegistrySeed {
    let untagged = docr_fake::digest("example:repo-1:untagged");
    RegistrySeed::new("example").region("fra1").repository(
        RepositorySeed::new("repo-1")
            .manifest(
                ManifestSeed::new(
                    "sha256:cb8a924afdf0229ef7515d9e5b3024e23b3eb03ddbba287f4a19c6ac90b8d221",
                )
                .tags(["latest", "v1", "v2", "06a447a"])
                .blob(
                    "sha256:14119a10abf4669e8cdbdff324a9f9605d99697215a0d21c360fe8dfa8471bab",
                    1_471,
                )
                .blob(
                    "sha256:69704ef328d05a9f806b6b8502915e6a0a4faa4d72018dc42343f511490daf8a",
                    528,
                ),
            )
            .manifest(
                ManifestSeed::new(untagged).blob(docr_fake::digest("example:layer"), 2_814_446),
            ),
    )
}

/// The dictionaries `xtask/schemathesis.toml` reads, under the run's folder.
pub const DICTIONARIES: &str = "dictionaries";

/// The names of what the fake holds, one libFuzzer-style dictionary per kind, so that generated
/// paths also name registries, repositories, tags and manifests that exist.
pub fn write_dictionaries(snapshot: &Snapshot, folder: &Path) -> Result<(), String> {
    let mut kinds: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for registry in &snapshot.registries {
        kinds
            .entry("registries")
            .or_default()
            .insert(&registry.name);
        for repository in &registry.repositories {
            kinds
                .entry("repositories")
                .or_default()
                .insert(&repository.name);
            for manifest in &repository.manifests {
                kinds.entry("digests").or_default().insert(&manifest.digest);
                let tags = kinds.entry("tags").or_default();
                tags.extend(manifest.tags.iter().map(String::as_str));
            }
        }
    }
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    for kind in ["registries", "repositories", "digests", "tags"] {
        let entries: String = kinds
            .get(kind)
            .into_iter()
            .flatten()
            .map(|name| format!("\"{}\"\n", name.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let file = folder.join(format!("{kind}.dict"));
        std::fs::write(&file, entries)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    Ok(())
}

/// What the fake answered, one JSON line per request, to read a failure in its context.
pub fn write_journal(journal: &[Exchange], file: &Path) -> Result<(), String> {
    let lines: String = journal
        .iter()
        .map(|e| {
            let line = serde_json::json!({
                "operation": e.operation_id,
                "request": format!("{} {}", e.method, e.path_and_query),
                "status": e.status,
                "body": e.body,
            });
            format!("{line}\n")
        })
        .collect();
    std::fs::write(file, lines).map_err(|e| format!("cannot write {}: {e}", file.display()))
}
