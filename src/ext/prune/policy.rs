//! A retention policy: its criteria, built by chaining, and the rule table in its docs (the
//! function that applies the table is [`RetentionPolicy::judge`], in `verdict.rs`).

use super::super::error::Error;
use super::in_use::{ImageInUse, InUseMatch};
use crate::ext::names::{Digest, ImageReference, RegistryName, RepositoryName};
use regex::Regex;
use std::fmt;
use std::time::Duration;

/// Which images of a repository to delete, and which to keep whatever else says so.
///
/// Built by chaining; every criterion is optional and they combine. Pruning works on
/// **images**: a manifest nothing else references, or any manifest with a tag of its own,
/// with its closure (index children, attestations, signatures and other referrers). Each
/// image gets a [`Verdict`](crate::prune::Verdict) from [`judge`](Self::judge), one pure function of
/// this policy and the facts about the image; planning only gathers the facts.
///
/// ## The rules
///
/// | # | rule | for | verdict |
/// |---|---|---|---|
/// | 1 | [`keep_last(n)`](Self::keep_last): ranks **tagged** images newest first (an image with several tags counts once; a per-architecture tag is an image of its own); the first `n` stay | tagged | keep *one of the newest n*; the others are selected *beyond the newest n* |
/// | 2 | [`older_than(d)`](Self::older_than): images updated more than `d` ago | tagged and untagged | selected *older than d* when older, kept *not older than d* otherwise; when set, **every** deletion must be older than `d` |
/// | 3 | neither `keep_last` nor `older_than` set | tagged | keep *no rule for tagged images* |
/// | 4 | [`delete_untagged(true)`](Self::delete_untagged) | untagged | selected *untagged*; without it untagged images are kept (`keep_last` neither keeps nor selects them) |
/// | 5 | [`keep_tags_matching(p)`](Self::keep_tags_matching): a tag matches `p` (the whole tag) | tagged | **protected**: kept whatever rules 1-4 say |
/// | 6 | [`keep_images`](Self::keep_images) / [`keep_images_in_use`](Self::keep_images_in_use): a tag names the image, or a digest is in its closure | any | **protected** (*in use by ...*) |
/// | 7 | [`grace(g)`](Self::grace) (default one hour): the image's **root** is untagged and updated less than `g` ago, or its time is unknown | untagged | **protected** (*a push may be in progress*: children land before the index and its tag) |
/// | 8 | a kept or protected image's closure holds this image's root (a per-architecture tag of a kept index) | any | **protected** (*held by a kept image*) |
///
/// An image is deleted when every rule that is set selects it (rules 1, 2 and 4 that apply
/// to it) and no keep rule (5 to 8) holds it. A manifest is deleted only when every image
/// whose closure holds it is deleted: a kept image keeps its whole closure. An image whose
/// root is also a member of another image (a platform tagged `1.0-amd64` in the list `1.0`)
/// is judged as itself, and goes only when that other image goes too.
///
/// What the combinations do:
///
/// | set | tagged images deleted | untagged images deleted |
/// |---|---|---|
/// | `keep_last(n)` | beyond the newest `n` tagged | none |
/// | `older_than(d)` | older than `d` | none |
/// | `keep_last(n)` + `older_than(d)` | beyond the newest `n` **and** older than `d` | none |
/// | `delete_untagged` | none | all (outside the grace window) |
/// | `delete_untagged` + `older_than(d)` | older than `d` | older than `d` |
/// | `keep_last(n)` + `delete_untagged` | beyond the newest `n` | all (outside the grace window) |
/// | nothing | none | none |
///
/// Images are ranked by their root's `updated_at`, newest first; one without `updated_at`
/// ranks as newest and has no age (never older than anything); ties go by digest. "Older
/// than `d`" means updated strictly more than `d` before the plan's time. `keep_last(0)`
/// keeps no tagged image by count.
///
/// ```
/// use docr::prune::RetentionPolicy;
/// use std::time::Duration;
///
/// let policy = RetentionPolicy::new()
///     .keep_last(10)
///     .older_than(Duration::from_secs(30 * 24 * 3600))
///     .keep_tags_matching(r"v\d+\.\d+\.\d+|latest")?
///     .delete_untagged(true);
/// assert_eq!(
///     policy.to_string(),
///     "keep the newest 10 tagged; delete older than 30d; \
///      keep tags matching `v\\d+\\.\\d+\\.\\d+|latest`; delete untagged"
/// );
/// # Ok::<(), docr::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct RetentionPolicy {
    pub(super) keep_last: Option<usize>,
    pub(super) older_than: Option<Duration>,
    keep_tags: Vec<KeepPattern>,
    pub(super) delete_untagged: bool,
    keep_images: Vec<ImageInUse>,
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

impl RetentionPolicy {
    /// A policy that deletes nothing until criteria are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the newest `n` tagged images and selects the other tagged images (rule 1).
    /// Untagged images are neither counted nor selected by it.
    pub fn keep_last(mut self, n: usize) -> Self {
        self.keep_last = Some(n);
        self
    }

    /// Selects tagged images updated more than `age` ago, and narrows every other selection
    /// to images older than `age` (rule 2).
    pub fn older_than(mut self, age: Duration) -> Self {
        self.older_than = Some(age);
        self
    }

    /// Protects every image with a tag matching `pattern`, a regular expression matched
    /// against the whole tag (as if written `^(?:pattern)$`): `v1` protects `v1` only, not
    /// `v10` or `dev1`; write `v1.*` for a prefix (rule 5). May be called several times: a tag
    /// matching any pattern protects its image. Errors when `pattern` is not a regular
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

    /// Selects untagged images (default `false`; rule 4).
    pub fn delete_untagged(mut self, delete: bool) -> Self {
        self.delete_untagged = delete;
        self
    }

    /// Protects the images these references name (rule 6). A tag protects the image it
    /// points to; a digest protects every image whose closure holds it (an index's digest, or
    /// one platform's). A reference without a registry applies to the registry planned; one
    /// naming another registry protects nothing there.
    pub fn keep_images(self, images: impl IntoIterator<Item = ImageReference>) -> Self {
        self.keep_images_in_use(images.into_iter().map(|r| ImageInUse::new(r, Vec::new())))
    }

    /// Protects the images in use, as [`keep_images`](Self::keep_images) does, and names
    /// what uses each (`in use by Deployment shop/web`): read them from a cluster with
    /// [`ImagesInUse`](crate::prune::ImagesInUse).
    pub fn keep_images_in_use(mut self, images: impl IntoIterator<Item = ImageInUse>) -> Self {
        self.keep_images.extend(images);
        self
    }

    /// Images whose root is untagged and updated less than `grace` ago are never deleted
    /// (default [`DEFAULT_GRACE`], one hour; a root without `updated_at` counts as young; zero
    /// turns the window off; rule 7). A tagged image is complete: the window does not apply.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// The grace window in force.
    pub fn grace_window(&self) -> Duration {
        self.grace.unwrap_or(DEFAULT_GRACE)
    }

    /// The references of [`keep_images`](Self::keep_images) and
    /// [`keep_images_in_use`](Self::keep_images_in_use).
    pub fn kept_images(&self) -> Vec<&ImageReference> {
        self.keep_images.iter().map(|i| &i.reference).collect()
    }

    /// The images in use that name this image: by one of its `tags`, or by a digest in its
    /// `closure`. References to another registry name nothing here.
    pub fn in_use_matches(
        &self,
        registry: &RegistryName,
        repository: &RepositoryName,
        tags: &[String],
        closure: &[&Digest],
    ) -> Vec<InUseMatch> {
        self.keep_images
            .iter()
            .filter(|i| {
                let r = &i.reference;
                r.registry.as_ref().is_none_or(|reg| reg == registry)
                    && r.repository == *repository
                    && (r
                        .tag
                        .as_ref()
                        .is_some_and(|t| tags.iter().any(|x| x == t.as_ref()))
                        || r.digest.as_ref().is_some_and(|d| closure.contains(&d)))
            })
            .map(|i| InUseMatch {
                reference: i.reference.to_string(),
                used_by: i.used_by.clone(),
            })
            .collect()
    }

    /// Whether `tag` matches a keep pattern (the whole tag).
    pub fn keeps_tag(&self, tag: &str) -> bool {
        self.keep_tags.iter().any(|p| p.anchored.is_match(tag))
    }
}

impl fmt::Display for RetentionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(n) = self.keep_last {
            parts.push(format!("keep the newest {n} tagged"));
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
pub(super) struct Age(pub(super) Duration);

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_policy_with_nothing_set_says_so() {
        assert_eq!(RetentionPolicy::new().to_string(), "delete nothing");
    }
}
