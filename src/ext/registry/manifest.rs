//! What a manifest says about the structure of an image: its media type, the manifests it
//! references (an index's children), its `subject` (a referrer's image) and its platform.

use crate::ext::names::Digest;
use serde::Deserialize;
use std::collections::BTreeMap;

/// An OCI image index (a multi-platform image).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// A Docker manifest list (a multi-platform image).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// A Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Every manifest media type read, in `Accept` order: without the index types some registries
/// answer "manifest unknown" for an index.
pub const ACCEPTED: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// A descriptor: a pointer to content, as an index or a referrers listing holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// The content's media type.
    #[serde(default)]
    pub media_type: String,
    /// The content's digest.
    pub digest: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// An index child's platform.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// A referrer's artifact type.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Annotations (buildx marks attestation manifests here).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An index child's platform.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// `linux`, `windows`, ... (`unknown` on buildx attestations).
    #[serde(default)]
    pub os: String,
    /// `amd64`, `arm64`, ...
    #[serde(default)]
    pub architecture: String,
    /// `v7`, `v8`, ...
    #[serde(default)]
    pub variant: Option<String>,
}

impl Descriptor {
    /// A descriptor of `digest`, of this media type and size, without platform, artifact
    /// type or annotations (set the public fields for those).
    pub fn new(media_type: impl Into<String>, digest: impl Into<String>, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest: digest.into(),
            size,
            platform: None,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Platform {
    /// `os/architecture`, without a variant.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Self {
            os: os.into(),
            architecture: architecture.into(),
            variant: None,
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// The kind of manifest, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An OCI index or a Docker manifest list: it references other manifests.
    Index,
    /// An OCI or Docker image manifest (also an artifact such as a signature or an SBOM).
    Image,
}

impl ManifestKind {
    /// The kind of a media type; `None` for one this crate does not know (which blocks any
    /// delete that depends on it).
    pub fn of(media_type: &str) -> Option<Self> {
        match media_type {
            OCI_INDEX | DOCKER_LIST => Some(Self::Index),
            OCI_MANIFEST | DOCKER_MANIFEST => Some(Self::Image),
            _ => None,
        }
    }
}

/// The structure a manifest declares: what pruning needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestStructure {
    /// Its media type, as the registry served it.
    pub media_type: String,
    /// Index or image.
    pub kind: ManifestKind,
    /// The manifests an index references, in order (none for an image manifest).
    pub children: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 `subject`): a signature, an SBOM, an
    /// attestation attached to an image.
    pub subject: Option<Digest>,
    /// Its artifact type (`artifactType`, else the config's media type for an artifact).
    pub artifact_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
}

impl ManifestStructure {
    /// A manifest of this kind, with the OCI media type of its kind, that references nothing
    /// (set the public fields to add children, a subject or an artifact type): structures
    /// built by hand, as for [`plan_repository`](crate::prune::plan_repository).
    pub fn new(kind: ManifestKind) -> Self {
        Self {
            media_type: match kind {
                ManifestKind::Index => OCI_INDEX.into(),
                ManifestKind::Image => OCI_MANIFEST.into(),
            },
            kind,
            children: Vec::new(),
            subject: None,
            artifact_type: None,
        }
    }

    /// Reads a manifest's bytes. `served_type` is the `Content-Type` the registry sent; the
    /// document's own `mediaType` wins when present. Errors say what is wrong, for the report.
    pub fn parse(served_type: Option<&str>, bytes: &[u8]) -> Result<Self, String> {
        let doc: Document = serde_json::from_slice(bytes)
            .map_err(|e| format!("the manifest is not a JSON manifest: {e}"))?;
        let media_type = doc
            .media_type
            .clone()
            .or_else(|| served_type.map(|t| t.split(';').next().unwrap_or(t).trim().to_string()))
            .ok_or("the manifest has no media type")?;
        let kind = ManifestKind::of(&media_type)
            .ok_or_else(|| format!("unknown manifest media type `{media_type}`"))?;
        let children = match kind {
            ManifestKind::Index => doc.manifests.ok_or("an index without `manifests`")?,
            ManifestKind::Image => Vec::new(),
        };
        for child in &children {
            Digest::new(child.digest.clone())
                .map_err(|e| format!("an index child has a bad digest: {e}"))?;
        }
        let subject = doc
            .subject
            .map(|s| Digest::new(s.digest).map_err(|e| format!("a bad subject digest: {e}")))
            .transpose()?;
        let artifact_type = doc.artifact_type.or_else(|| {
            doc.config
                .map(|c| c.media_type)
                .filter(|t| !t.is_empty() && !IMAGE_CONFIGS.contains(&t.as_str()))
        });
        Ok(Self {
            media_type,
            kind,
            children,
            subject,
            artifact_type,
        })
    }
}

/// Config media types of ordinary images (anything else marks an artifact).
const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// Whether an index child is a buildx attestation manifest rather than a platform image.
pub fn is_attestation(child: &Descriptor) -> bool {
    child
        .annotations
        .get("vnd.docker.reference.type")
        .is_some_and(|t| t == "attestation-manifest")
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn an_index_lists_its_children_and_their_roles() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":1,"platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}},
                "annotations":{{"vnd.docker.reference.type":"attestation-manifest","vnd.docker.reference.digest":"{D1}"}}}}]}}"#
        );
        let m = ManifestStructure::parse(None, body.as_bytes()).unwrap();
        assert_eq!(m.kind, ManifestKind::Index);
        assert_eq!(m.children.len(), 2);
        assert_eq!(
            m.children[0].platform.as_ref().unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert!(!is_attestation(&m.children[0]) && is_attestation(&m.children[1]));
    }

    #[test]
    fn a_referrer_names_its_subject_and_artifact_type() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.dev.cosign.artifact.sig.v1+json","digest":"{D1}","size":2}},
               "layers":[],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":3}}}}"#
        );
        let m = ManifestStructure::parse(None, body.as_bytes()).unwrap();
        assert_eq!(m.subject.as_ref().map(|d| d.as_ref()), Some(D1));
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.dev.cosign.artifact.sig.v1+json")
        );
    }

    #[test]
    fn unknown_types_and_bad_documents_are_refused_with_a_reason() {
        let unknown = ManifestStructure::parse(
            Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            b"{}",
        );
        assert!(unknown.unwrap_err().contains("unknown manifest media type"));
        assert!(
            ManifestStructure::parse(None, b"{}")
                .unwrap_err()
                .contains("no media type")
        );
        assert!(
            ManifestStructure::parse(None, b"<html>")
                .unwrap_err()
                .contains("not a JSON")
        );
        let served = ManifestStructure::parse(
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            b"{\"schemaVersion\":2}",
        );
        assert_eq!(served.unwrap().kind, ManifestKind::Image);
    }
}
