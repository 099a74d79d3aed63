//! What a retention policy keeps and deletes, as one small pure function: [`RetentionPolicy::decide`].

use super::super::error::Error;
use crate::ext::names::{Digest, ImageReference, RegistryName, RepositoryName};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Which manifests of a repository to delete, and which to keep whatever else says so.
///
/// Built by chaining; every criterion is optional and they combine:
///
/// - [`keep_last(n)`](Self::keep_last): the newest `n` manifests (by `updated_at`) are
///   **protected**; the others are selected by count.
/// - [`older_than(d)`](Self::older_than): manifests updated more than `d` ago are selected by
///   age.
/// - [`keep_tags_matching(pattern)`](Self::keep_tags_matching): manifests with a tag matching
///   the pattern are **protected**. Patterns are regular expressions (the `regex` crate) matched
///   against the **whole tag**: `v1` protects `v1` only, not `v10` or `dev1`; write `v1.*` for
///   a prefix.
/// - [`delete_untagged(true)`](Self::delete_untagged): manifests without tags are selected.
///
/// A manifest is deleted when it is **selected and not protected**:
///
/// - *protected* = among the newest `n` (when `keep_last` is set) **or** has a tag matching a
///   keep pattern;
/// - *selected* = every age/count criterion that is set selects it (beyond the newest `n` when
///   `keep_last` is set, **and** older than `d` when `older_than` is set; with neither set, no
///   manifest is selected by them), **or**, for an untagged manifest, `delete_untagged` is set.
///
/// The newest `n` are counted among all the repository's manifests, untagged ones included, so
/// a recent untagged manifest (often one platform's image of a recent multi-arch index) is kept
/// even with `delete_untagged`. Manifests are ranked by `updated_at`, newest first; one without
/// `updated_at` ranks as newest and has no age (never older than anything); ties go by digest.
/// "Older than `d`" means updated strictly more than `d` before the plan's time. `keep_last(0)`
/// protects nothing by count, so every manifest is beyond the newest 0.
///
/// A policy with nothing set deletes nothing.
///
/// ```
/// use docr::RetentionPolicy;
/// use std::time::Duration;
///
/// let policy = RetentionPolicy::new()
///     .keep_last(10)
///     .older_than(Duration::from_secs(30 * 24 * 3600))
///     .keep_tags_matching(r"v\d+\.\d+\.\d+|latest")?
///     .delete_untagged(true);
/// assert_eq!(
///     policy.to_string(),
///     "keep the newest 10; delete older than 30d; \
///      keep tags matching `v\\d+\\.\\d+\\.\\d+|latest`; delete untagged"
/// );
/// # Ok::<(), docr::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicy {
    keep_last: Option<usize>,
    older_than: Option<Duration>,
    keep_tags: Vec<KeepPattern>,
    delete_untagged: bool,
    keep_images: Vec<ImageReference>,
    grace: Option<Duration>,
}

/// Untagged manifests younger than this are never deleted by default: a push in progress
/// uploads an index's children before the index and its tag.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// A keep pattern: as written, and compiled anchored at both ends.
#[derive(Debug, Clone)]
struct KeepPattern {
    written: String,
    anchored: Regex,
}

/// Why a manifest is in a plan: each criterion that selected it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PruneReason {
    /// Updated more than `age` ago (serialized as whole `seconds`).
    OlderThan {
        /// The policy's age limit.
        #[serde(rename = "seconds", with = "seconds")]
        age: Duration,
    },
    /// Not among the newest `keep` manifests.
    BeyondNewest {
        /// How many the policy keeps.
        keep: usize,
    },
    /// Has no tag, and the policy deletes untagged manifests.
    Untagged,
}

impl fmt::Display for PruneReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PruneReason::OlderThan { age } => write!(f, "older than {}", Age(*age)),
            PruneReason::BeyondNewest { keep } => write!(f, "beyond the newest {keep}"),
            PruneReason::Untagged => f.write_str("untagged"),
        }
    }
}

/// What a policy decides for one manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PruneDecision {
    /// Keep it: protected, or selected by nothing.
    Keep,
    /// Delete it, for these reasons (never empty).
    Delete(Vec<PruneReason>),
}

impl RetentionPolicy {
    /// A policy that deletes nothing until criteria are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Protects the newest `n` manifests and selects the others by count.
    pub fn keep_last(mut self, n: usize) -> Self {
        self.keep_last = Some(n);
        self
    }

    /// Selects manifests updated more than `age` ago.
    pub fn older_than(mut self, age: Duration) -> Self {
        self.older_than = Some(age);
        self
    }

    /// Protects every manifest with a tag matching `pattern`, a regular expression matched
    /// against the whole tag (as if written `^(?:pattern)$`). May be called several times: a tag
    /// matching any pattern protects its manifest. Errors when `pattern` is not a regular
    /// expression.
    pub fn keep_tags_matching(mut self, pattern: &str) -> Result<Self, Error> {
        let invalid =
            |e: regex::Error| Error::InvalidInput(format!("keep-tag pattern `{pattern}`: {e}"));
        // Compiled alone first: a pattern that compiles has balanced groups, so the anchoring
        // group around it cannot be closed early (`a)|(b` would otherwise unanchor it).
        Regex::new(pattern).map_err(invalid)?;
        let anchored = Regex::new(&format!("^(?:{pattern})$")).map_err(invalid)?;
        self.keep_tags.push(KeepPattern {
            written: pattern.to_string(),
            anchored,
        });
        Ok(self)
    }

    /// Selects manifests without tags (default `false`).
    /// Protects the images these references name (images in use: what a cluster runs). A tag
    /// protects the image it points to; a digest protects every image whose closure holds it
    /// (an index's digest, or one platform's). A reference without a registry applies to the
    /// registry planned; one naming another registry protects nothing there.
    pub fn keep_images(mut self, images: impl IntoIterator<Item = ImageReference>) -> Self {
        self.keep_images.extend(images);
        self
    }

    /// Untagged manifests updated less than `grace` ago are never deleted, nor is any image
    /// whose closure holds one (default [`DEFAULT_GRACE`], one hour; a manifest without
    /// `updated_at` counts as young; zero turns the window off).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// The grace window in force.
    pub fn grace_window(&self) -> Duration {
        self.grace.unwrap_or(DEFAULT_GRACE)
    }

    /// The references of [`keep_images`](Self::keep_images).
    pub fn kept_images(&self) -> &[ImageReference] {
        &self.keep_images
    }

    /// Whether a kept reference names this image: by one of its `tags`, or by a digest in
    /// its `closure`.
    pub fn keeps_image(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
        tags: &[String],
        closure: &[&Digest],
    ) -> bool {
        self.keep_images.iter().any(|r| {
            r.registry.as_ref().is_none_or(|reg| reg == registry)
                && r.repository == *repository
                && (r
                    .tag
                    .as_ref()
                    .is_some_and(|t| tags.iter().any(|x| x == t.as_ref()))
                    || r.digest.as_ref().is_some_and(|d| closure.contains(&d)))
        })
    }

    pub fn delete_untagged(mut self, delete: bool) -> Self {
        self.delete_untagged = delete;
        self
    }

    /// Whether `tag` matches a keep pattern (the whole tag).
    pub fn keeps_tag(&self, tag: &str) -> bool {
        self.keep_tags.iter().any(|p| p.anchored.is_match(tag))
    }

    /// The policy's decision for one manifest: its `rank` among the repository's manifests
    /// (0 is the newest; see the type's docs for the order), its `age` at plan time (`None`
    /// when unknown) and its `tags`. This is the whole of the semantics; planning only ranks.
    pub fn decide(&self, rank: usize, age: Option<Duration>, tags: &[String]) -> PruneDecision {
        let among_newest = self.keep_last.is_some_and(|n| rank < n);
        let protected = among_newest || tags.iter().any(|t| self.keeps_tag(t));
        if protected {
            return PruneDecision::Keep;
        }
        let mut reasons = Vec::new();
        let by_criteria = (self.keep_last.is_some() || self.older_than.is_some())
            && self.older_than.is_none_or(|d| age.is_some_and(|a| a > d));
        if by_criteria {
            // Not protected, so beyond the newest n when keep_last is set.
            if let Some(keep) = self.keep_last {
                reasons.push(PruneReason::BeyondNewest { keep });
            }
            if let Some(age) = self.older_than {
                reasons.push(PruneReason::OlderThan { age });
            }
        }
        if tags.is_empty() && self.delete_untagged {
            reasons.push(PruneReason::Untagged);
        }
        if reasons.is_empty() {
            PruneDecision::Keep
        } else {
            PruneDecision::Delete(reasons)
        }
    }
}

impl fmt::Display for RetentionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.keep_last {
            parts.push(format!("keep the newest {n}"));
        }
        if let Some(age) = self.older_than {
            parts.push(format!("delete older than {}", Age(age)));
        }
        if !self.keep_tags.is_empty() {
            let patterns: Vec<String> = self
                .keep_tags
                .iter()
                .map(|p| format!("`{}`", p.written))
                .collect();
            parts.push(format!("keep tags matching {}", patterns.join(" or ")));
        }
        if self.delete_untagged {
            parts.push("delete untagged".into());
        }
        if !self.keep_images.is_empty() {
            parts.push(format!("keep {} image(s) in use", self.keep_images.len()));
        }
        if let Some(grace) = self.grace.filter(|g| *g != DEFAULT_GRACE) {
            parts.push(format!("grace {}", Age(grace)));
        }
        if parts.is_empty() {
            f.write_str("delete nothing")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// A duration in the largest unit that divides it: `30d`, `36h`, `90m`, `45s`, `1500ms`.
struct Age(Duration);

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        if self.0.subsec_nanos() != 0 {
            return write!(f, "{}ms", self.0.as_millis());
        }
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs >= size && secs.is_multiple_of(size) {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

/// A [`Duration`] as whole seconds.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn patterns_match_whole_tags() {
        let p = RetentionPolicy::new().keep_tags_matching("v1").unwrap();
        assert!(p.keeps_tag("v1"));
        assert!(!p.keeps_tag("v10") && !p.keeps_tag("dev1"));
        let p = RetentionPolicy::new().keep_tags_matching("a|b").unwrap();
        assert!(p.keeps_tag("a") && p.keeps_tag("b") && !p.keeps_tag("ab"));
        assert!(RetentionPolicy::new().keep_tags_matching("a)|(b").is_err());
    }

    #[test]
    fn criteria_combine() {
        let p = RetentionPolicy::new().keep_last(2).older_than(30 * DAY);
        assert_eq!(
            p.decide(1, Some(90 * DAY), &tags(&["x"])),
            PruneDecision::Keep
        );
        assert_eq!(p.decide(5, Some(DAY), &tags(&["x"])), PruneDecision::Keep);
        assert_eq!(p.decide(5, None, &tags(&["x"])), PruneDecision::Keep);
        assert_eq!(
            p.decide(5, Some(31 * DAY), &tags(&["x"])),
            PruneDecision::Delete(vec![
                PruneReason::BeyondNewest { keep: 2 },
                PruneReason::OlderThan { age: 30 * DAY }
            ])
        );
        // Exactly 30 days old is not older than 30 days.
        assert_eq!(p.decide(5, Some(30 * DAY), &[]), PruneDecision::Keep);
    }

    #[test]
    fn untagged_needs_its_own_switch_or_the_criteria() {
        let p = RetentionPolicy::new().delete_untagged(true);
        assert_eq!(
            p.decide(0, None, &[]),
            PruneDecision::Delete(vec![PruneReason::Untagged])
        );
        assert_eq!(p.decide(0, None, &tags(&["a"])), PruneDecision::Keep);
        let p = RetentionPolicy::new().keep_last(1).delete_untagged(true);
        assert_eq!(p.decide(0, None, &[]), PruneDecision::Keep);
        assert_eq!(
            p.decide(1, None, &[]),
            PruneDecision::Delete(vec![
                PruneReason::BeyondNewest { keep: 1 },
                PruneReason::Untagged
            ])
        );
        assert_eq!(
            RetentionPolicy::new().decide(9, Some(DAY), &[]),
            PruneDecision::Keep
        );
    }

    #[test]
    fn policies_and_reasons_read_well() {
        assert_eq!(RetentionPolicy::new().to_string(), "delete nothing");
        let reasons = [
            PruneReason::OlderThan { age: 30 * DAY },
            PruneReason::OlderThan {
                age: Duration::from_secs(36 * 3600),
            },
            PruneReason::OlderThan {
                age: Duration::from_secs(90),
            },
            PruneReason::OlderThan {
                age: Duration::from_millis(1500),
            },
            PruneReason::BeyondNewest { keep: 10 },
            PruneReason::Untagged,
        ];
        let text: Vec<String> = reasons.iter().map(PruneReason::to_string).collect();
        assert_eq!(
            text,
            [
                "older than 30d",
                "older than 36h",
                "older than 90s",
                "older than 1500ms",
                "beyond the newest 10",
                "untagged"
            ]
        );
    }
}
