//! Seeds with real content: image manifests with a config and layers ([`ImageSeed`]), and
//! indexes of them with buildx-style attestation manifests ([`IndexSeed`]). Their bytes are
//! deterministic, so their digests are the same in every run.

use super::manifest_seed::ManifestSeed;
use super::oci::{self, Descriptor};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// An image manifest with real bytes: a config naming its platform and label, and layers, all
/// served by the registry side. The API lists the config and layers as its blobs.
///
/// ```
/// use docr_fake::{ImageSeed, ManifestSeed};
///
/// let image = ImageSeed::new("app-1").platform("linux", "arm64").layer(&b"hello"[..]);
/// let sbom = ImageSeed::new("app-1.sbom")
///     .artifact_type("application/spdx+json")
///     .subject(&image.seed());
/// let seeds: Vec<ManifestSeed> = vec![image.seed().tag("1.0"), sbom.seed()];
/// assert_ne!(seeds[0].digest(), seeds[1].digest());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSeed {
    label: String,
    os: String,
    architecture: String,
    docker: bool,
    layers: Option<Vec<(String, Bytes)>>,
    artifact_type: Option<String>,
    annotations: Map<String, Value>,
    subject: Option<Descriptor>,
}

impl ImageSeed {
    /// A `linux/amd64` OCI image whose config carries `label`, with one small layer made from it.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            os: "linux".into(),
            architecture: "amd64".into(),
            docker: false,
            layers: None,
            artifact_type: None,
            annotations: Map::new(),
            subject: None,
        }
    }

    /// Its platform.
    pub fn platform(mut self, os: impl Into<String>, architecture: impl Into<String>) -> Self {
        self.os = os.into();
        self.architecture = architecture.into();
        self
    }

    /// Adds a layer of these bytes (the first call replaces the default layer).
    pub fn layer(self, bytes: impl Into<Bytes>) -> Self {
        let media_type = if self.docker { DOCKER_LAYER } else { OCI_LAYER };
        self.layer_typed(media_type, bytes)
    }

    /// Adds a layer of these bytes and media type (an in-toto statement, a cosign signature).
    pub fn layer_typed(mut self, media_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        self.layers
            .get_or_insert_with(Vec::new)
            .push((media_type.into(), bytes.into()));
        self
    }

    /// Makes it an OCI artifact of this type: `artifactType` set, the empty config.
    pub fn artifact_type(mut self, artifact_type: impl Into<String>) -> Self {
        self.artifact_type = Some(artifact_type.into());
        self
    }

    /// Adds a manifest annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations
            .insert(key.into(), Value::String(value.into()));
        self
    }

    /// Makes it a referrer of `subject` (which must have content: see [`ManifestSeed::content`]).
    pub fn subject(mut self, subject: &ManifestSeed) -> Self {
        self.subject = descriptor(subject);
        self
    }

    /// Uses the Docker v2 media types instead of OCI's.
    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }

    fn media_type(&self) -> &'static str {
        if self.docker {
            oci::DOCKER_MANIFEST
        } else {
            oci::OCI_MANIFEST
        }
    }

    /// The manifest seed: its bytes, and its config and layers' bytes for the registry side.
    pub fn seed(&self) -> ManifestSeed {
        let default_layer = || {
            let media_type = if self.docker { DOCKER_LAYER } else { OCI_LAYER };
            let bytes = Bytes::from(format!("layer of {}\n", self.label));
            vec![(media_type.to_string(), bytes)]
        };
        let layers = self.layers.clone().unwrap_or_else(default_layer);
        let diff_ids: Vec<String> = layers.iter().map(|(_, b)| oci::sha256(b)).collect();
        let (config_type, config) = match (&self.artifact_type, self.docker) {
            (Some(_), _) => (oci::OCI_EMPTY, Bytes::from_static(oci::EMPTY_BLOB)),
            (None, docker) => {
                let config = json!({
                    "architecture": self.architecture,
                    "os": self.os,
                    "config": {"Labels": {"dev.docr-fake.label": self.label}},
                    "rootfs": {"type": "layers", "diff_ids": diff_ids},
                });
                let media_type = if docker { DOCKER_CONFIG } else { OCI_CONFIG };
                (media_type, Bytes::from(config.to_string()))
            }
        };
        let described = |media_type: &str, bytes: &Bytes| Descriptor {
            media_type: media_type.to_string(),
            digest: oci::sha256(bytes),
            size: bytes.len() as u64,
        };
        let mut manifest = Map::new();
        manifest.insert("schemaVersion".into(), 2.into());
        manifest.insert("mediaType".into(), self.media_type().into());
        if let Some(artifact_type) = &self.artifact_type {
            manifest.insert("artifactType".into(), artifact_type.clone().into());
        }
        manifest.insert("config".into(), described(config_type, &config).json());
        let layer_descriptors = layers.iter().map(|(t, b)| described(t, b).json()).collect();
        manifest.insert("layers".into(), Value::Array(layer_descriptors));
        if let Some(subject) = &self.subject {
            manifest.insert("subject".into(), subject.json());
        }
        if !self.annotations.is_empty() {
            manifest.insert(
                "annotations".into(),
                Value::Object(self.annotations.clone()),
            );
        }
        let bytes = Value::Object(manifest).to_string();
        let seed = ManifestSeed::raw(self.media_type(), bytes).blob_content(config);
        layers
            .into_iter()
            .fold(seed, |seed, (_, bytes)| seed.blob_content(bytes))
    }
}

fn descriptor(seed: &ManifestSeed) -> Option<Descriptor> {
    let (media_type, bytes) = seed.content()?;
    Some(Descriptor {
        media_type: media_type.to_string(),
        digest: seed.digest().to_string(),
        size: bytes.len() as u64,
    })
}

/// A multi-platform index of [`ImageSeed`]s, as `docker buildx build --push` writes it:
/// optionally one attestation manifest per image (platform `unknown/unknown`, annotations
/// `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest`).
/// [`RepositorySeed::index`](crate::RepositorySeed::index) seeds its children untagged and
/// the index with its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSeed {
    images: Vec<ImageSeed>,
    attestations: bool,
    docker: bool,
    /// Carries the index's tags and time.
    stamp: ManifestSeed,
}

impl Default for IndexSeed {
    fn default() -> Self {
        Self::new()
    }
}

impl IndexSeed {
    /// An empty OCI index.
    pub fn new() -> Self {
        Self {
            images: Vec::new(),
            attestations: false,
            docker: false,
            stamp: ManifestSeed::new(String::new()),
        }
    }

    /// Adds a platform image.
    pub fn image(mut self, image: ImageSeed) -> Self {
        self.images.push(image);
        self
    }

    /// Adds a buildx-style attestation manifest for each image.
    pub fn attestations(mut self) -> Self {
        self.attestations = true;
        self
    }

    /// A Docker manifest list instead of an OCI index.
    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }

    /// Adds a tag to the index.
    pub fn tag(self, tag: impl Into<String>) -> Self {
        let stamp = self.stamp.clone().tag(tag);
        Self { stamp, ..self }
    }

    /// When the index and its children were pushed.
    pub fn updated_at(self, at: DateTime<Utc>) -> Self {
        let stamp = self.stamp.clone().updated_at(at);
        Self { stamp, ..self }
    }

    /// The children (images, then attestations), untagged.
    pub fn children(&self) -> Vec<ManifestSeed> {
        let images: Vec<ManifestSeed> = self.images.iter().map(ImageSeed::seed).collect();
        let attestations: Vec<ManifestSeed> = match self.attestations {
            true => self
                .images
                .iter()
                .zip(&images)
                .map(|(image, seed)| attestation(image, seed))
                .collect(),
            false => Vec::new(),
        };
        images
            .into_iter()
            .chain(attestations)
            .map(|seed| self.stamped(seed))
            .collect()
    }

    fn stamped(&self, seed: ManifestSeed) -> ManifestSeed {
        match self.stamp.updated_at {
            Some(at) => seed.updated_at(at),
            None => seed,
        }
    }

    /// The index itself, with its tags.
    pub fn seed(&self) -> ManifestSeed {
        let children = self.children();
        let mut manifests: Vec<Value> = Vec::new();
        for (n, child) in children.iter().enumerate() {
            let Some(mut entry) = descriptor(child).map(|d| d.json()) else {
                continue;
            };
            let (platform, annotations) = match self.images.get(n) {
                Some(image) => (
                    json!({"architecture": image.architecture, "os": image.os}),
                    None,
                ),
                None => {
                    let image = children[n - self.images.len()].digest();
                    let annotations = json!({
                        "vnd.docker.reference.digest": image,
                        "vnd.docker.reference.type": "attestation-manifest",
                    });
                    (
                        json!({"architecture": "unknown", "os": "unknown"}),
                        Some(annotations),
                    )
                }
            };
            if let Value::Object(map) = &mut entry {
                map.insert("platform".into(), platform);
                if let Some(annotations) = annotations {
                    map.insert("annotations".into(), annotations);
                }
            }
            manifests.push(entry);
        }
        let media_type = if self.docker {
            oci::DOCKER_LIST
        } else {
            oci::OCI_INDEX
        };
        let index = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests});
        self.stamped(ManifestSeed::raw(media_type, index.to_string()).tags(self.stamp.tags.clone()))
    }

    /// The index's digest.
    pub fn digest(&self) -> String {
        self.seed().digest().to_string()
    }
}

/// A buildx-style attestation manifest for `image`: an in-toto provenance statement.
fn attestation(image: &ImageSeed, seed: &ManifestSeed) -> ManifestSeed {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "_", "digest": {"sha256": seed.digest().trim_start_matches("sha256:")}}],
        "predicate": {"builder": {"id": "docr-fake"}},
    });
    ImageSeed::new(format!("{}.attestation", image.label))
        .platform("unknown", "unknown")
        .layer_typed(IN_TOTO, statement.to_string())
        .seed()
}
