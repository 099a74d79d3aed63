//! A manifest to seed: [`ManifestSeed`], with its digest, tags, blobs and times, and the bytes
//! the registry side serves; and [`digest`], a digest made from a label.

use super::oci;
use bytes::Bytes;
use chrono::{DateTime, Utc};

/// A manifest to create at start: its digest, tags (none: untagged), blobs and times, and the
/// bytes the registry side serves.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestSeed {
    pub(crate) digest: String,
    pub(crate) tags: Vec<String>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
    pub(crate) size_bytes: Option<u64>,
    pub(crate) blobs: Vec<(String, u64)>,
    /// Media type and bytes; `None` for a digest [`digest`] did not make.
    pub(crate) content: Option<(String, Bytes)>,
    /// Whether the API's `blobs` come from the content (config and layers) rather than from
    /// [`blob`](Self::blob) calls.
    pub(crate) blobs_from_content: bool,
    /// Blobs whose bytes the registry side serves, by digest.
    pub(crate) blob_contents: Vec<(String, Bytes)>,
}

impl ManifestSeed {
    /// A manifest with this digest (`sha256:` and 64 lowercase hex digits; see [`digest`]).
    /// A digest from [`digest`] comes with the bytes of its synthesized manifest, which the
    /// registry side serves; the API's `blobs` are the ones [`blob`](Self::blob) adds.
    pub fn new(digest: impl Into<String>) -> Self {
        let digest = digest.into();
        let content = oci::synthesized(&digest).map(|bytes| (oci::OCI_MANIFEST.to_string(), bytes));
        Self {
            digest,
            tags: Vec::new(),
            updated_at: None,
            size_bytes: None,
            blobs: Vec::new(),
            content,
            blobs_from_content: false,
            blob_contents: Vec::new(),
        }
    }

    /// A manifest of these bytes (one of the four manifest media types), its digest their
    /// SHA-256. The API's `blobs` are an image manifest's config and layers (an index has
    /// none); [`ImageSeed`](crate::ImageSeed) and [`IndexSeed`](crate::IndexSeed) build such
    /// bytes. Bytes that are no manifest make [`start`](crate::FakeDocrBuilder::start) fail.
    pub fn raw(media_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            digest: oci::sha256(&bytes),
            blobs_from_content: true,
            content: Some((media_type.into(), bytes)),
            ..Self::new(String::new())
        }
    }

    /// Its digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Its media type and bytes, when it has them.
    pub fn content(&self) -> Option<(&str, &[u8])> {
        self.content
            .as_ref()
            .map(|(media_type, bytes)| (media_type.as_str(), bytes.as_ref()))
    }

    /// Stores the bytes of a blob it references, for the registry side to serve.
    pub fn blob_content(mut self, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        self.blob_contents.push((oci::sha256(&bytes), bytes));
        self
    }

    /// Adds tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Adds one tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    setters! {
        /// When the manifest (and its tags) were last updated (default: when the fake
        /// started).
        updated_at(at: DateTime<Utc>) => updated_at = Some(at);
        /// The uncompressed size (default: the compressed size, the sum of the blobs).
        size_bytes(size: u64) => size_bytes = Some(size);
    }

    /// Adds a blob (layer or config) the manifest references. A blob shared by several
    /// manifests of a registry is stored, and counted in its storage, once.
    pub fn blob(mut self, digest: impl Into<String>, compressed_size_bytes: u64) -> Self {
        self.blobs.push((digest.into(), compressed_size_bytes));
        self
    }
}

/// A deterministic `sha256:` digest made from `label`: the real SHA-256 of an OCI image
/// manifest synthesized for the label (the empty config and layer, and the annotation
/// `dev.docr-fake.label: <label>`). The same label always gives the same digest; a
/// [`ManifestSeed::new`] with it is served by the registry side as those bytes. The process
/// remembers the first million labels it was given for that.
///
/// ```
/// let d = docr_fake::digest("web-1.0");
/// assert!(d.starts_with("sha256:") && d.len() == 71);
/// assert_eq!(d, docr_fake::digest("web-1.0"));
/// ```
pub fn digest(label: &str) -> String {
    oci::label_digest(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_well_formed_and_stable() {
        let d = digest("x");
        assert!(docr::Digest::new(d.clone()).is_ok());
        assert_eq!(d, digest("x"));
        assert_ne!(d, digest("y"));
    }
}
