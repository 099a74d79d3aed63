//! Images in use, read from what a cluster says: the output of `kubectl get ... -o json` or
//! `-o yaml` (a `List` or single objects, several YAML documents), or plain references one per
//! line. Every pod spec counts wherever it sits, so that a Deployment scaled to 0, a CronJob
//! between runs and the ReplicaSets kept for `kubectl rollout undo` keep their images.

use crate::ext::names::ImageReference;
use serde::{Deserialize, Serialize};
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
