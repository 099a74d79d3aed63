//! The vendored spec is exactly what `cargo xtask regen` makes of the upstream snapshot that
//! `spec/provenance.json` records: not edited by hand, not stale, and listing every operation.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use xtask::regen;

const REGEN: &str =
    "run `cargo xtask regen` and commit spec/registry.yaml and spec/provenance.json";

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read(file: &str) -> String {
    let path = workspace().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The spec's hash is the one its provenance records.
fn assert_spec_matches_its_provenance() {
    let recorded = regen::recorded_sha256(&read(regen::PROVENANCE_FILE))
        .expect("spec/provenance.json records output.sha256");
    let actual = regen::sha256_hex(read(regen::SPEC_FILE).as_bytes());
    assert_eq!(
        actual, recorded,
        "spec/registry.yaml is not the file spec/provenance.json records (edited by hand, or \
         regenerated without its provenance): {REGEN}"
    );
}

#[test]
fn the_spec_is_the_file_its_provenance_records() {
    assert_spec_matches_its_provenance();
}

#[test]
fn regenerating_from_upstream_reproduces_the_vendored_files() {
    assert_spec_matches_its_provenance();
    let upstream = regen::default_upstream(workspace());
    if !upstream.is_dir() {
        eprintln!(
            "spec_drift: skipped regenerating spec/ from upstream: {} does not exist (the \
             snapshot of github.com/digitalocean/openapi that `cargo xtask regen` reads); the \
             spec's hash was still checked against its provenance",
            upstream.display()
        );
        return;
    }
    let generated = regen::generate(&upstream)
        .unwrap_or_else(|e| panic!("`cargo xtask regen` fails on {}: {e}", upstream.display()));
    let differences = regen::differences(workspace(), &generated);
    assert!(
        differences.is_empty(),
        "spec/ is out of date with {}:\n  {}\n{REGEN}",
        upstream.display(),
        differences.join("\n  ")
    );
}

#[test]
fn the_provenance_lists_every_operation_of_the_spec() {
    let provenance: Value =
        serde_json::from_str(&read(regen::PROVENANCE_FILE)).expect("provenance is JSON");
    let listed: Vec<(String, String, String)> = provenance["operations"]
        .as_array()
        .expect("an operations list")
        .iter()
        .map(|op| {
            let field = |name: &str| op[name].as_str().expect(name).to_string();
            (field("method"), field("path"), field("operation_id"))
        })
        .collect();
    assert_eq!(listed.len(), 41, "the registry API has 41 operations");

    let spec: serde_yaml::Value =
        serde_yaml::from_str(&read(regen::SPEC_FILE)).expect("the spec is YAML");
    let mut in_spec = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for (method, op) in item.as_mapping().expect("a path item") {
            let id = op["operationId"]
                .as_str()
                .expect("every operation has an id");
            in_spec.insert((
                method.as_str().expect("a method").to_uppercase(),
                path.as_str().expect("a path").to_string(),
                id.to_string(),
            ));
        }
    }
    let listed_set: BTreeSet<_> = listed.iter().cloned().collect();
    assert_eq!(
        listed_set.len(),
        listed.len(),
        "an operation is listed twice"
    );
    let unlisted: Vec<_> = in_spec.difference(&listed_set).collect();
    let missing: Vec<_> = listed_set.difference(&in_spec).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "in the spec, not the provenance: {unlisted:?}\nin the provenance, not the spec: \
         {missing:?}\n{REGEN}"
    );
}
