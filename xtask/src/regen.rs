//! `regen`: upstream split spec -> `spec/registry.yaml` + `spec/provenance.json`.

use crate::bundle::{self, Operation};
use crate::patches::PATCHES;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The vendored fragment, relative to the workspace root.
pub const SPEC_FILE: &str = "spec/registry.yaml";
/// Where it came from and what was done to it.
pub const PROVENANCE_FILE: &str = "spec/provenance.json";

/// How many operations of each family the fragment must hold.
const EXPECTED: [(&str, usize); 3] = [
    ("/v2/registries", 19),
    ("/v2/registry", 18),
    ("/v2/kubernetes", 4),
];

/// The files `regen` writes, as (path relative to the workspace root, contents).
pub struct Generated {
    pub files: Vec<(&'static str, String)>,
}

/// The default input: the upstream snapshot beside the project.
pub fn default_upstream(workspace: &Path) -> PathBuf {
    workspace.join("../shared/digitalocean-openapi/specification")
}

/// Bundles, patches and serializes the fragment. Pure: reads `from`, writes nothing.
pub fn generate(from: &Path) -> Result<Generated, String> {
    if !from.join("DigitalOcean-public.v2.yaml").is_file() {
        return Err(format!(
            "no upstream spec at {} (expected DigitalOcean-public.v2.yaml there); \
             pass --from PATH to the `specification` folder of DigitalOcean's OpenAPI spec",
            from.display()
        ));
    }
    let bundle::Bundle {
        mut document,
        operations,
        inputs,
    } = bundle::bundle(from)?;
    check_operations(&operations)?;
    for patch in PATCHES {
        (patch.apply)(&mut document).map_err(|e| format!("patch `{}`: {e}", patch.name))?;
    }
    bundle::prune_unreferenced(&mut document);

    let upstream_commit = upstream_commit(from);
    let mut input_hash = Sha256::new();
    for (path, bytes) in &inputs {
        input_hash.update(path.as_bytes());
        input_hash.update([0]);
        input_hash.update((bytes.len() as u64).to_le_bytes());
        input_hash.update(bytes);
    }
    let input_sha256 = hex(&input_hash.finalize());

    let body = serde_yaml::to_string(&document).map_err(|e| format!("serializing: {e}"))?;
    let spec = format!(
        "# The Container Registry operations of DigitalOcean's public API v2, bundled from\n\
         # DigitalOcean's OpenAPI spec (github.com/digitalocean/openapi, {}, Apache-2.0)\n\
         # and patched by `cargo xtask regen`. Do not edit: see spec/provenance.json.\n{body}",
        upstream_commit
            .as_deref()
            .map(|c| format!("commit {c}"))
            .unwrap_or_else(|| format!("input sha256 {input_sha256}")),
    );
    let provenance = json!({
        "generator": "cargo xtask regen",
        "upstream": {
            "repository": "github.com/digitalocean/openapi",
            "folder": "specification",
            "commit": upstream_commit,
            "license": "Apache-2.0",
            "input_sha256": input_sha256,
            "input_files": inputs.keys().collect::<Vec<_>>(),
        },
        "operations": operations
            .iter()
            .map(|o| json!({"method": o.method, "path": o.path, "operation_id": o.operation_id}))
            .collect::<Vec<_>>(),
        "patches": PATCHES
            .iter()
            .map(|p| json!({"name": p.name, "why": p.why}))
            .collect::<Vec<_>>(),
        "output": {"file": SPEC_FILE, "sha256": sha256_hex(spec.as_bytes())},
    });
    let provenance = serde_json::to_string_pretty(&provenance).map_err(|e| e.to_string())? + "\n";
    Ok(Generated {
        files: vec![(SPEC_FILE, spec), (PROVENANCE_FILE, provenance)],
    })
}

fn check_operations(operations: &[Operation]) -> Result<(), String> {
    for (prefix, want) in EXPECTED {
        let got = operations
            .iter()
            .filter(|o| o.path == prefix || o.path.starts_with(&format!("{prefix}/")))
            .count();
        if got != want {
            return Err(format!(
                "expected {want} operations under {prefix}, found {got}: \
                 the upstream registry API changed; review the fragment and EXPECTED"
            ));
        }
    }
    Ok(())
}

/// The commit named in the snapshot's PROVENANCE.md, beside `specification/`.
fn upstream_commit(from: &Path) -> Option<String> {
    let text = std::fs::read_to_string(from.join("../PROVENANCE.md")).ok()?;
    let after = text.split("commit").nth(1)?;
    let word = after.split_whitespace().next()?;
    let hex: String = word.chars().take_while(char::is_ascii_hexdigit).collect();
    (hex.len() == 40).then_some(hex)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares what `regen` would write with what is in `workspace`; `Ok(vec![])` when equal.
pub fn differences(workspace: &Path, generated: &Generated) -> Vec<String> {
    let mut out = Vec::new();
    for (path, want) in &generated.files {
        match std::fs::read_to_string(workspace.join(path)) {
            Err(e) => out.push(format!("{path}: cannot read ({e})")),
            Ok(have) if have != *want => {
                let line = have
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
                out.push(format!(
                    "{path}: differs from line {} (vendored {} lines, regenerated {} lines)",
                    line + 1,
                    have.lines().count(),
                    want.lines().count()
                ));
            }
            Ok(_) => {}
        }
    }
    out
}

/// The recorded output hash, read back from the vendored provenance.
pub fn recorded_sha256(provenance: &str) -> Option<String> {
    let v: Value = serde_json::from_str(provenance).ok()?;
    v.pointer("/output/sha256")?.as_str().map(str::to_string)
}
