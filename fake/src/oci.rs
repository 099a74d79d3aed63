//! Manifests as bytes: the four media types, sha256 digests, what a manifest references
//! (blobs, children, subject), and the manifest synthesized for a seed label.

use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The media types a manifest may have, indexes first.
pub(crate) const MANIFEST_TYPES: [&str; 4] =
    [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
pub(crate) const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The OCI empty descriptor's content, `{}`, readable from every repository.
pub(crate) const EMPTY_BLOB: &[u8] = b"{}";
const LABEL_ANNOTATION: &str = "dev.docr-fake.label";
/// How many labels [`label_digest`] remembers for [`synthesized`] (a bound on its memory).
const LABELS_KEPT: usize = 1_000_000;

/// `sha256:` and the hex of the SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in hash.iter() {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    hex
}

pub(crate) fn empty_blob_digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| sha256(EMPTY_BLOB))
}

pub(crate) fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// A reference to content: media type, digest, size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Descriptor {
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
}

impl Descriptor {
    fn parse(value: &Value) -> Result<Self, String> {
        let field = |name: &str| value.get(name).and_then(Value::as_str);
        let digest = field("digest").ok_or("a descriptor has no digest")?;
        docr::Digest::new(digest).map_err(|e| e.to_string())?;
        Ok(Self {
            media_type: field("mediaType").unwrap_or_default().to_string(),
            digest: digest.to_string(),
            size: value
                .get("size")
                .and_then(Value::as_u64)
                .ok_or("a descriptor has no size")?,
        })
    }

    pub(crate) fn json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// A manifest's bytes and what they reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Content {
    pub(crate) media_type: String,
    pub(crate) bytes: Bytes,
    /// Config and layers, for an image manifest.
    pub(crate) blobs: Vec<Descriptor>,
    /// The manifests an index lists.
    pub(crate) children: Vec<Descriptor>,
    pub(crate) subject: Option<Descriptor>,
    /// `artifactType`, else (image manifests) the config's media type.
    pub(crate) artifact_type: Option<String>,
    pub(crate) annotations: Option<Map<String, Value>>,
}

impl Content {
    /// Reads a manifest of `media_type` (or, when empty, of its own `mediaType`).
    pub(crate) fn parse(media_type: &str, bytes: Bytes) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("the manifest is not JSON: {e}"))?;
        let own = value.get("mediaType").and_then(Value::as_str);
        let media_type = match (media_type, own) {
            ("", Some(own)) => own,
            ("", None) => return Err("the manifest has no media type".into()),
            (given, _) => given,
        };
        if !MANIFEST_TYPES.contains(&media_type) {
            return Err(format!("unsupported manifest media type `{media_type}`"));
        }
        if own.is_some_and(|own| own != media_type) {
            return Err(format!(
                "the manifest's mediaType does not match `{media_type}`"
            ));
        }
        if value.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
            return Err("the manifest's schemaVersion is not 2".into());
        }
        let list = |name: &str| -> Result<Vec<Descriptor>, String> {
            match value.get(name) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => items.iter().map(Descriptor::parse).collect(),
                Some(_) => Err(format!("`{name}` is not an array")),
            }
        };
        let (blobs, children, config_type) = if is_index(media_type) {
            (Vec::new(), list("manifests")?, None)
        } else {
            let config = Descriptor::parse(value.get("config").ok_or("no config")?)?;
            let config_type = Some(config.media_type.clone());
            let mut blobs = vec![config];
            blobs.extend(list("layers")?);
            (blobs, Vec::new(), config_type)
        };
        let subject = value.get("subject").map(Descriptor::parse).transpose()?;
        let artifact_type = value
            .get("artifactType")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(config_type);
        let annotations = value.get("annotations").and_then(Value::as_object).cloned();
        Ok(Self {
            media_type: media_type.to_string(),
            bytes,
            blobs,
            children,
            subject,
            artifact_type,
            annotations,
        })
    }
}

/// The bytes of the manifest synthesized for `label`: an OCI image manifest with the empty
/// config and layer and an annotation carrying the label.
fn synthesized_bytes(label: &str) -> Bytes {
    // Typed, so that the bytes (and the digest) keep one key order whether or not another
    // crate of the build turns on serde_json's `preserve_order`; fields in sorted order.
    #[derive(serde::Serialize)]
    struct Descriptor {
        digest: &'static str,
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        size: u64,
    }
    #[derive(serde::Serialize)]
    struct Manifest<'a> {
        annotations: std::collections::BTreeMap<&'static str, &'a str>,
        config: Descriptor,
        layers: [Descriptor; 1],
        #[serde(rename = "mediaType")]
        media_type: &'static str,
        #[serde(rename = "schemaVersion")]
        schema_version: u32,
    }
    let empty = || Descriptor {
        digest: empty_blob_digest(),
        media_type: OCI_EMPTY,
        size: 2,
    };
    let manifest = Manifest {
        annotations: [(LABEL_ANNOTATION, label)].into(),
        config: empty(),
        layers: [empty()],
        media_type: OCI_MANIFEST,
        schema_version: 2,
    };
    Bytes::from(serde_json::to_vec(&manifest).expect("a manifest serializes"))
}

fn labels() -> &'static Mutex<HashMap<String, String>> {
    static LABELS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    LABELS.get_or_init(Mutex::default)
}

/// The digest of the manifest synthesized for `label`, remembered so that a seed naming only
/// the digest can be served (see [`synthesized`]).
pub(crate) fn label_digest(label: &str) -> String {
    let digest = sha256(&synthesized_bytes(label));
    let mut labels = labels().lock().unwrap_or_else(|e| e.into_inner());
    if labels.len() < LABELS_KEPT {
        labels.insert(digest.clone(), label.to_string());
    }
    digest
}

/// The synthesized manifest whose digest is `digest`, if [`label_digest`] made it.
pub(crate) fn synthesized(digest: &str) -> Option<Bytes> {
    let labels = labels().lock().unwrap_or_else(|e| e.into_inner());
    labels.get(digest).map(|label| synthesized_bytes(label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_real_sha256() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            empty_blob_digest(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let digest = label_digest("x");
        let bytes = synthesized(&digest).unwrap();
        assert_eq!(sha256(&bytes), digest);
        let content = Content::parse("", bytes).unwrap();
        assert_eq!(content.media_type, OCI_MANIFEST);
        assert_eq!(content.blobs.len(), 2);
    }

    #[test]
    fn bad_manifests_are_refused() {
        for bad in [
            &b"{"[..],
            br#"{"schemaVersion":2}"#,
            br#"{"schemaVersion":1,"mediaType":"application/vnd.oci.image.index.v1+json"}"#,
        ] {
            assert!(Content::parse("", Bytes::from_static(bad)).is_err());
        }
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        assert!(Content::parse(OCI_MANIFEST, Bytes::from_static(index)).is_err());
        assert!(Content::parse(OCI_INDEX, Bytes::from_static(index)).is_ok());
    }
}
