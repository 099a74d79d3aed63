//! Images in use, read from what a cluster says: the output of `kubectl get ... -o json` or
//! `-o yaml` (a `List` or single objects, several YAML documents), or plain references one per
//! line. Every pod spec counts wherever it sits, so that a Deployment scaled to 0, a CronJob
//! between runs and the ReplicaSets kept for `kubectl rollout undo` keep their images.

mod kubectl;
mod reading;

use reading::Reading;

use crate::ext::names::{ImageReference, RegistryName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// An object of a cluster that uses an image: `Deployment shop/web`, `CronJob shop/nightly`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Workload {
    /// Its kind, as kubectl prints it (`Pod`, `Deployment`, `CronJob`, ...).
    pub kind: String,
    /// Its namespace (`None` for an object without one).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl Workload {
    /// A workload of `kind` named `name` in `namespace`.
    pub fn new(
        kind: impl Into<String>,
        namespace: Option<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            namespace,
            name: name.into(),
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// An image in use that names an image: the reference as given, and what uses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InUseMatch {
    /// The reference (`registry.digitalocean.com/acme/web:1.2`, `web@sha256:...`).
    pub reference: String,
    /// The objects of a cluster that use it (empty: named directly).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<Workload>,
}

/// One image in use, and what uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageInUse {
    /// The image.
    pub reference: ImageReference,
    /// The objects that use it, sorted (empty: named directly, as a reference line or
    /// [`RetentionPolicy::keep_images`](super::RetentionPolicy::keep_images) names it).
    pub used_by: Vec<Workload>,
}

impl ImageInUse {
    /// `reference`, used by `used_by`.
    pub fn new(reference: ImageReference, used_by: Vec<Workload>) -> Self {
        let mut used_by = used_by;
        used_by.sort();
        used_by.dedup();
        Self { reference, used_by }
    }
}

/// How many examples [`ImagesInUse::summary`] shows.
const SUMMARY_EXAMPLES: usize = 3;

/// Images in use on the registry pruned, read from kubectl's output or reference lines
/// ([`parse`](Self::parse)), one file or merged from several ([`merge`](Self::merge)), with what
/// was left out: references to other registries, counted and summed up in one line
/// ([`summary`](Self::summary)), and notes on references that name nothing usable.
///
/// ```
/// use docr::{prune::ImagesInUse, RegistryName};
///
/// let registry: RegistryName = "acme".parse()?;
/// let yaml = "
/// kind: CronJob
/// metadata: {namespace: shop, name: nightly}
/// spec:
///   jobTemplate:
///     spec:
///       template:
///         spec:
///           containers:
///           - image: registry.digitalocean.com/acme/report:2.1
///           - image: docker.io/library/busybox:1.36
/// ";
/// let in_use = ImagesInUse::parse(yaml, &registry)?;
/// let image = &in_use.images()[0];
/// assert_eq!(image.reference.to_string(), "registry.digitalocean.com/acme/report:2.1");
/// assert_eq!(image.used_by[0].to_string(), "CronJob shop/nightly");
/// assert_eq!(
///     in_use.summary().as_deref(),
///     Some("1 reference to other registries ignored (docker.io/library/busybox:1.36)")
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagesInUse {
    images: Vec<ImageInUse>,
    other_registries: Vec<String>,
    notes: Vec<String>,
}

/// A file that names no image at all: neither kubectl output with a pod spec nor a line that
/// reads as an image reference. (A file naming only images of other registries is no error.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InUseError {
    /// The text is empty, or only comments.
    #[error("no image reference found: the file is empty")]
    Empty,
    /// JSON or YAML objects, but no pod spec among them names an image.
    #[error("no image reference found: {}", no_pod_spec(*objects))]
    NoPodSpec {
        /// Objects read (a `List` counts its items).
        objects: usize,
    },
    /// Pod specs name images, but none reads as an image reference.
    #[error("no usable image reference found: {}", notes.join("; "))]
    NoUsableImage {
        /// Why each was left out.
        notes: Vec<String>,
    },
    /// Neither objects nor a line that names an image (with a tag or digest).
    #[error(
        "no image reference found: not kubectl output (no JSON object or YAML mapping) and no \
         reference lines: none of its {lines} line(s) names an image (the first: {first})"
    )]
    NoReferenceLines {
        /// Lines other than blank lines and comments.
        lines: usize,
        /// Why the first of them was left out.
        first: String,
    },
    /// Text that starts as JSON but does not parse.
    #[error("not valid JSON")]
    Json(#[source] serde_json::Error),
    /// Text that reads as YAML keys but does not parse.
    #[error("not valid YAML")]
    Yaml(#[source] serde_yaml::Error),
}

fn no_pod_spec(objects: usize) -> String {
    if objects == 0 {
        return "an empty List (no objects)".into();
    }
    format!(
        "not kubectl output of workloads: {objects} object(s), no pod specs under spec, \
         spec.template.spec or spec.jobTemplate.spec.template.spec (items[] of a List), and no \
         reference lines"
    )
}

impl ImagesInUse {
    /// Reads `text`: the JSON or YAML of `kubectl get ...` (a `List`, a single object of any
    /// kind, several YAML documents separated by `---`), or else image references one per
    /// line (blank lines and `#` comments skipped).
    ///
    /// From kubectl objects, every container's `image` in every pod spec (at `spec`,
    /// `spec.template.spec`, `spec.jobTemplate.spec.template.spec`: containers, init and
    /// ephemeral containers) and each pod status's `image` and `imageID` (the digest a node
    /// pulled), each with the objects naming it. There, a reference without the host
    /// `registry.digitalocean.com/` is another registry's (Docker Hub's, say), and one without
    /// a tag or digest means `:latest`, which is what a cluster pulls. In a line, a reference
    /// without the host is a repository of `registry`, and one naming no tag or digest is left
    /// out with a note.
    ///
    /// # Errors
    /// [`InUseError`] when nothing in `text` reads as an image reference, of any registry.
    pub fn parse(text: &str, registry: &RegistryName) -> Result<Self, InUseError> {
        let mut read = Reading::new(registry);
        match kubectl::parse(text) {
            kubectl::Parsed::Objects(objects) => {
                let mut found = kubectl::Found::default();
                for object in &objects {
                    found.walk(object, None);
                }
                if found.images.is_empty() {
                    return Err(InUseError::NoPodSpec {
                        objects: found.objects,
                    });
                }
                for (image, workload) in found.images {
                    read.cluster_image(&image, workload);
                }
                let in_use = read.done();
                if in_use.images.is_empty() && in_use.other_registries.is_empty() {
                    return Err(InUseError::NoUsableImage {
                        notes: in_use.notes,
                    });
                }
                Ok(in_use)
            }
            kubectl::Parsed::NotObjects { json, yaml } => {
                let lines: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect();
                for line in &lines {
                    read.line(line);
                }
                let in_use = read.done();
                if !in_use.images.is_empty() || !in_use.other_registries.is_empty() {
                    return Ok(in_use);
                }
                // Say why in the terms the file was meant in.
                Err(match (json, yaml) {
                    (Some(json), _) if text.trim_start().starts_with('{') => InUseError::Json(json),
                    (_, Some(yaml)) if lines.iter().any(|l| looks_like_yaml_key(l)) => {
                        InUseError::Yaml(yaml)
                    }
                    _ => match in_use.notes.into_iter().next() {
                        Some(first) => InUseError::NoReferenceLines {
                            lines: lines.len(),
                            first,
                        },
                        None => InUseError::Empty,
                    },
                })
            }
        }
    }

    /// Adds what `other` read (another file): the same image from both is one image, used by
    /// the objects of both.
    pub fn merge(&mut self, other: ImagesInUse) {
        let mut images: BTreeMap<String, ImageInUse> = BTreeMap::new();
        for image in self.images.drain(..).chain(other.images) {
            match images.entry(image.reference.to_string()) {
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(image);
                }
                std::collections::btree_map::Entry::Occupied(mut entry) => {
                    let used_by = &mut entry.get_mut().used_by;
                    used_by.extend(image.used_by);
                    used_by.sort();
                    used_by.dedup();
                }
            }
        }
        self.images = images.into_values().collect();
        self.other_registries.extend(other.other_registries);
        self.other_registries.sort();
        self.other_registries.dedup();
        for note in other.notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }

    /// The images in use on the registry read for, sorted by reference.
    pub fn images(&self) -> &[ImageInUse] {
        &self.images
    }

    /// The references of [`images`](Self::images).
    pub fn references(&self) -> impl Iterator<Item = &ImageReference> {
        self.images.iter().map(|image| &image.reference)
    }

    /// References to other registries (Docker Hub, another DOCR registry, ...), as written,
    /// sorted, each once: left out, and no error.
    pub fn other_registries(&self) -> &[String] {
        &self.other_registries
    }

    /// References left out because they name nothing usable (no tag or digest in a line, a
    /// name that does not parse), and references read as `:latest`, one sentence each.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// One line on the references to other registries: how many, and at most three of them
    /// (`12 references to other registries ignored (docker.io/library/nginx:1, ...)`); it says
    /// so when nothing in use is on the registry read for. `None` when there are none.
    pub fn summary(&self) -> Option<String> {
        let count = self.other_registries.len();
        if count == 0 {
            return None;
        }
        let mut examples = self.other_registries[..count.min(SUMMARY_EXAMPLES)].join(", ");
        if count > SUMMARY_EXAMPLES {
            examples.push_str(", ...");
        }
        let plural = if count == 1 { "" } else { "s" };
        let line = format!("{count} reference{plural} to other registries ignored ({examples})");
        Some(if self.images.is_empty() {
            format!("no image of this registry in use; {line}")
        } else {
            line
        })
    }
}

impl FromIterator<ImagesInUse> for ImagesInUse {
    fn from_iter<I: IntoIterator<Item = ImagesInUse>>(files: I) -> Self {
        files.into_iter().fold(Self::default(), |mut all, file| {
            all.merge(file);
            all
        })
    }
}

impl IntoIterator for ImagesInUse {
    type Item = ImageInUse;
    type IntoIter = std::vec::IntoIter<ImageInUse>;

    fn into_iter(self) -> Self::IntoIter {
        self.images.into_iter()
    }
}

/// `key:` or `key: value`, which no image reference is.
fn looks_like_yaml_key(line: &str) -> bool {
    line.split_once(':').is_some_and(|(key, rest)| {
        (rest.is_empty() || rest.starts_with(' '))
            && !key.is_empty()
            && key
                .trim_start_matches("- ")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_yaml_key;

    #[test]
    fn a_yaml_key_is_a_name_then_a_colon_then_nothing_or_a_space() {
        for key in [
            "kind:",
            "kind: List",
            "- name: web",
            "app.kubernetes.io/name: x",
        ] {
            assert_eq!(looks_like_yaml_key(key), !key.contains('/'), "{key}");
        }
        for not_key in [
            "web:1.2",
            ": x",
            "a b: c",
            "registry.digitalocean.com/acme/web:1",
        ] {
            assert!(!looks_like_yaml_key(not_key), "{not_key}");
        }
    }
}
