//! The rule table: one pure function, [`RetentionPolicy::judge`], from a policy and the facts
//! about one image to its [`Verdict`], with typed reasons. Planning gathers the facts and calls
//! it; nothing else decides what is deleted. The table itself is written in
//! [`RetentionPolicy`]'s docs.

use super::in_use::InUseMatch;
use super::policy::{Age, RetentionPolicy};
use crate::ext::names::Digest;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// What is known about one image when it is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageFacts {
    /// Its own tags, sorted (tag-schema tags of referrers do not count). Empty: untagged.
    pub tags: Vec<String>,
    /// Its place among the repository's **tagged** images, newest first (0 is the newest);
    /// meaningless for an untagged image.
    pub tagged_rank: usize,
    /// How long ago its root was updated (`None`: not known, which counts as young and as
    /// not older than any limit).
    pub age: Option<Duration>,
    /// The images in use that name it, each with what uses it.
    pub in_use: Vec<InUseMatch>,
    /// A kept image whose closure holds this image's root (a per-architecture tag of a kept
    /// index, a signature of a kept image).
    pub member_of_kept: Option<Digest>,
}

impl ImageFacts {
    /// A tagged image: its `tags` and its `rank` among the tagged images (0 is the newest).
    pub fn tagged(tags: Vec<String>, rank: usize, age: Option<Duration>) -> Self {
        Self {
            tags,
            tagged_rank: rank,
            age,
            in_use: Vec::new(),
            member_of_kept: None,
        }
    }

    /// An untagged image.
    pub fn untagged(age: Option<Duration>) -> Self {
        Self::tagged(Vec::new(), 0, age)
    }

    /// Named by these images in use.
    pub fn in_use(mut self, matches: Vec<InUseMatch>) -> Self {
        self.in_use = matches;
        self
    }

    /// Its root is held by this kept image.
    pub fn member_of_kept(mut self, image: Option<Digest>) -> Self {
        self.member_of_kept = image;
        self
    }

    fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// What the rules decide for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reasons", rename_all = "snake_case")]
pub enum Verdict {
    /// The policy selects it and nothing keeps it: it goes, with its closure (less what kept
    /// images hold). The reasons are every criterion that selected it (never empty).
    Delete(Vec<PruneReason>),
    /// The policy does not select it: each reason it stays (never empty), the keep rules
    /// that would also hold it included.
    Keep(Vec<KeepReason>),
    /// The policy selects it, but a keep rule holds it: each keep rule that does (never empty).
    Protected(Vec<KeepReason>),
}

impl Verdict {
    /// Whether the image goes.
    pub fn deletes(&self) -> bool {
        matches!(self, Verdict::Delete(_))
    }
}

/// Why an image is deleted: each criterion that selected it.
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
    /// A tagged image not among the newest `keep` tagged images.
    BeyondNewest {
        /// How many tagged images the policy keeps.
        keep: usize,
    },
    /// Has no tag, and the policy deletes untagged images.
    Untagged,
}

/// Why an image stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeepReason {
    /// One of the newest `keep` tagged images (`rank` 0 is the newest).
    AmongNewest {
        /// Its place among the tagged images.
        rank: usize,
        /// How many the policy keeps.
        keep: usize,
    },
    /// Not updated more than `age` ago (or its time is not known).
    NotOlderThan {
        /// The policy's age limit.
        #[serde(rename = "seconds", with = "seconds")]
        age: Duration,
    },
    /// Tagged, and the policy sets no rule for tagged images (`keep_last`, `older_than`).
    NoRuleForTagged,
    /// Untagged, and the policy does not delete untagged images.
    UntaggedNotSelected,
    /// A tag matches a keep pattern.
    TagMatches {
        /// The tag.
        tag: String,
    },
    /// An image in use names it.
    InUse(InUseMatch),
    /// Its root is untagged and younger than the grace window: a push may be in progress.
    InGrace {
        /// The grace window.
        #[serde(rename = "seconds", with = "seconds")]
        grace: Duration,
    },
    /// A kept image holds its root: it stays as long as that image does.
    MemberOfKeptImage {
        /// The kept image.
        image: Digest,
    },
}

impl RetentionPolicy {
    /// The verdict for one image, from the policy and the facts about it: the whole rule
    /// table of [`RetentionPolicy`]'s docs, row by row. Pure: the same facts always give the
    /// same verdict, whatever the order images are judged in.
    pub fn judge(&self, facts: &ImageFacts) -> Verdict {
        let mut selected = Vec::new();
        let mut not_selected = Vec::new();
        let older = |limit: Duration| facts.age.is_some_and(|a| a > limit);
        if facts.is_tagged() {
            if self.keep_last.is_none() && self.older_than.is_none() {
                not_selected.push(KeepReason::NoRuleForTagged);
            }
            match self.keep_last {
                Some(keep) if facts.tagged_rank < keep => {
                    not_selected.push(KeepReason::AmongNewest {
                        rank: facts.tagged_rank,
                        keep,
                    })
                }
                Some(keep) => selected.push(PruneReason::BeyondNewest { keep }),
                None => {}
            }
        } else if self.delete_untagged {
            selected.push(PruneReason::Untagged);
        } else {
            not_selected.push(KeepReason::UntaggedNotSelected);
        }
        // The age limit narrows every selection it is set for, tagged or untagged.
        match self.older_than {
            Some(age) if older(age) => selected.push(PruneReason::OlderThan { age }),
            Some(age) => not_selected.push(KeepReason::NotOlderThan { age }),
            None => {}
        }

        let mut keep_rules = Vec::new();
        keep_rules.extend(facts.in_use.iter().cloned().map(KeepReason::InUse));
        if let Some(tag) = facts.tags.iter().find(|t| self.keeps_tag(t)) {
            keep_rules.push(KeepReason::TagMatches { tag: tag.clone() });
        }
        let grace = self.grace_window();
        if !facts.is_tagged() && !grace.is_zero() && facts.age.is_none_or(|a| a < grace) {
            keep_rules.push(KeepReason::InGrace { grace });
        }
        if let Some(image) = &facts.member_of_kept {
            keep_rules.push(KeepReason::MemberOfKeptImage {
                image: image.clone(),
            });
        }

        if !not_selected.is_empty() {
            not_selected.extend(keep_rules);
            Verdict::Keep(not_selected)
        } else if !keep_rules.is_empty() {
            Verdict::Protected(keep_rules)
        } else {
            Verdict::Delete(selected)
        }
    }
}

impl fmt::Display for PruneReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PruneReason::OlderThan { age } => write!(f, "older than {}", Age(*age)),
            PruneReason::BeyondNewest { keep } => write!(f, "beyond the newest {keep} tagged"),
            PruneReason::Untagged => f.write_str("untagged"),
        }
    }
}

impl fmt::Display for KeepReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepReason::AmongNewest { rank, keep } => {
                write!(f, "one of the newest {keep} tagged (#{})", rank + 1)
            }
            KeepReason::NotOlderThan { age } => write!(f, "not older than {}", Age(*age)),
            KeepReason::NoRuleForTagged => f.write_str("tagged, and no rule selects tagged images"),
            KeepReason::UntaggedNotSelected => {
                f.write_str("untagged, and untagged images are not deleted")
            }
            KeepReason::TagMatches { tag } => write!(f, "tag {tag} matches a keep pattern"),
            KeepReason::InUse(m) if m.used_by.is_empty() => {
                write!(f, "in use: {} is kept", m.reference)
            }
            KeepReason::InUse(m) => {
                let by: Vec<String> = m.used_by.iter().map(ToString::to_string).collect();
                write!(f, "in use by {}", by.join(", "))
            }
            KeepReason::InGrace { grace } => write!(
                f,
                "untagged and younger than the grace window ({}): a push may be in progress",
                Age(*grace)
            ),
            KeepReason::MemberOfKeptImage { image } => {
                write!(f, "held by kept image {}", short(image))
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join<T: fmt::Display>(reasons: &[T]) -> String {
            reasons
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        }
        match self {
            Verdict::Delete(r) => write!(f, "delete: {}", join(r)),
            Verdict::Keep(r) => write!(f, "keep: {}", join(r)),
            Verdict::Protected(r) => write!(f, "protected: {}", join(r)),
        }
    }
}

/// A digest shortened for a table: `sha256:` and 12 hex digits.
pub(crate) fn short(digest: &Digest) -> String {
    digest.as_str().chars().take(19).collect()
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

/// The rule table of [`RetentionPolicy`]'s docs, a test per row, then the table of
/// combinations.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::names::ImageReference;
    use crate::ext::prune::in_use::Workload;
    use KeepReason as K;
    use PruneReason as P;

    const DAY: Duration = Duration::from_secs(86_400);
    const HOUR: Duration = Duration::from_secs(3_600);

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    fn digest(n: u8) -> Digest {
        Digest::new(format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
    }

    fn old_tagged(rank: usize) -> ImageFacts {
        ImageFacts::tagged(tags(&["t"]), rank, Some(90 * DAY))
    }

    #[test]
    fn row_1_keep_last_ranks_tagged_images_only() {
        let p = RetentionPolicy::new().keep_last(2);
        assert_eq!(
            p.judge(&old_tagged(1)),
            Verdict::Keep(vec![K::AmongNewest { rank: 1, keep: 2 }])
        );
        assert_eq!(
            p.judge(&old_tagged(2)),
            Verdict::Delete(vec![P::BeyondNewest { keep: 2 }])
        );
        // An untagged image is neither kept nor selected by the count.
        assert_eq!(
            p.judge(&ImageFacts::untagged(Some(90 * DAY))),
            Verdict::Keep(vec![K::UntaggedNotSelected])
        );
        let p = p.delete_untagged(true);
        assert_eq!(
            p.judge(&ImageFacts::untagged(Some(90 * DAY))),
            Verdict::Delete(vec![P::Untagged])
        );
        assert_eq!(
            RetentionPolicy::new().keep_last(0).judge(&old_tagged(0)),
            Verdict::Delete(vec![P::BeyondNewest { keep: 0 }])
        );
    }

    #[test]
    fn row_2_older_than_narrows_every_selection() {
        let p = RetentionPolicy::new().older_than(30 * DAY);
        assert_eq!(
            p.judge(&ImageFacts::tagged(tags(&["t"]), 0, Some(31 * DAY))),
            Verdict::Delete(vec![P::OlderThan { age: 30 * DAY }])
        );
        // Exactly 30 days old is not older than 30 days; an unknown age is never older.
        for age in [Some(30 * DAY), None] {
            assert_eq!(
                p.judge(&ImageFacts::tagged(tags(&["t"]), 0, age)),
                Verdict::Keep(vec![K::NotOlderThan { age: 30 * DAY }])
            );
        }
        let p = p.keep_last(1).delete_untagged(true);
        assert_eq!(
            p.judge(&ImageFacts::tagged(tags(&["t"]), 5, Some(DAY))),
            Verdict::Keep(vec![K::NotOlderThan { age: 30 * DAY }])
        );
        assert_eq!(
            p.judge(&ImageFacts::untagged(Some(DAY))),
            Verdict::Keep(vec![K::NotOlderThan { age: 30 * DAY }])
        );
        assert_eq!(
            p.judge(&ImageFacts::untagged(Some(31 * DAY))),
            Verdict::Delete(vec![P::Untagged, P::OlderThan { age: 30 * DAY }])
        );
    }

    #[test]
    fn row_3_no_rule_for_tagged_images_keeps_them() {
        let p = RetentionPolicy::new().delete_untagged(true);
        assert_eq!(
            p.judge(&old_tagged(7)),
            Verdict::Keep(vec![K::NoRuleForTagged])
        );
    }

    #[test]
    fn row_4_untagged_images_need_their_own_switch() {
        assert_eq!(
            RetentionPolicy::new().judge(&ImageFacts::untagged(Some(DAY))),
            Verdict::Keep(vec![K::UntaggedNotSelected])
        );
        assert_eq!(
            RetentionPolicy::new()
                .delete_untagged(true)
                .judge(&ImageFacts::untagged(Some(DAY))),
            Verdict::Delete(vec![P::Untagged])
        );
    }

    #[test]
    fn row_5_a_matching_tag_protects() {
        let p = RetentionPolicy::new()
            .keep_last(1)
            .keep_tags_matching("v1.*")
            .unwrap();
        assert_eq!(
            p.judge(&ImageFacts::tagged(tags(&["a", "v1.2"]), 3, None)),
            Verdict::Protected(vec![K::TagMatches { tag: "v1.2".into() }])
        );
        // Not selected anyway: kept, with the keep rule among the reasons.
        assert_eq!(
            p.judge(&ImageFacts::tagged(tags(&["v1.2"]), 0, None)),
            Verdict::Keep(vec![
                K::AmongNewest { rank: 0, keep: 1 },
                K::TagMatches { tag: "v1.2".into() }
            ])
        );
    }

    #[test]
    fn row_6_images_in_use_are_protected() {
        let reference: ImageReference = "web:1".parse().unwrap();
        let m = InUseMatch {
            reference: reference.to_string(),
            used_by: vec![Workload::new("CronJob", Some("shop".into()), "nightly")],
        };
        let p = RetentionPolicy::new()
            .delete_untagged(true)
            .grace(Duration::ZERO);
        let verdict = p.judge(&ImageFacts::untagged(Some(DAY)).in_use(vec![m.clone()]));
        assert_eq!(verdict, Verdict::Protected(vec![K::InUse(m)]));
        assert_eq!(
            verdict.to_string(),
            "protected: in use by CronJob shop/nightly"
        );
    }

    #[test]
    fn row_7_grace_protects_young_untagged_roots_only() {
        let p = RetentionPolicy::new().delete_untagged(true).keep_last(0);
        for age in [Some(HOUR - Duration::from_secs(1)), None] {
            assert_eq!(
                p.judge(&ImageFacts::untagged(age)),
                Verdict::Protected(vec![K::InGrace { grace: HOUR }])
            );
        }
        // The window ends at exactly its length.
        assert_eq!(
            p.judge(&ImageFacts::untagged(Some(HOUR))),
            Verdict::Delete(vec![P::Untagged])
        );
        // A tagged image is complete: a young one is not in any window.
        assert_eq!(
            p.judge(&ImageFacts::tagged(tags(&["t"]), 0, Some(Duration::ZERO))),
            Verdict::Delete(vec![P::BeyondNewest { keep: 0 }])
        );
        let off = p.grace(Duration::ZERO);
        assert_eq!(
            off.judge(&ImageFacts::untagged(None)),
            Verdict::Delete(vec![P::Untagged])
        );
    }

    #[test]
    fn row_8_a_member_of_a_kept_image_is_protected() {
        let p = RetentionPolicy::new().keep_last(1);
        assert_eq!(
            p.judge(&old_tagged(4).member_of_kept(Some(digest(1)))),
            Verdict::Protected(vec![K::MemberOfKeptImage { image: digest(1) }])
        );
    }

    #[test]
    fn the_combinations_table() {
        let with = |keep_last: Option<usize>, older: bool, untagged: bool| {
            let mut p = RetentionPolicy::new()
                .delete_untagged(untagged)
                .grace(Duration::ZERO);
            if let Some(n) = keep_last {
                p = p.keep_last(n);
            }
            if older {
                p = p.older_than(30 * DAY);
            }
            p
        };
        // (policy, beyond-n old tagged, beyond-n young tagged, old untagged, young untagged)
        let rows = [
            (with(Some(1), false, false), [true, true, false, false]),
            (with(None, true, false), [true, false, false, false]),
            (with(Some(1), true, false), [true, false, false, false]),
            (with(None, false, true), [false, false, true, true]),
            (with(None, true, true), [true, false, true, false]),
            (with(Some(1), false, true), [true, true, true, true]),
            (with(None, false, false), [false, false, false, false]),
        ];
        for (i, (policy, expected)) in rows.iter().enumerate() {
            let got = [
                ImageFacts::tagged(tags(&["t"]), 3, Some(90 * DAY)),
                ImageFacts::tagged(tags(&["t"]), 3, Some(DAY)),
                ImageFacts::untagged(Some(90 * DAY)),
                ImageFacts::untagged(Some(DAY)),
            ]
            .map(|f| policy.judge(&f).deletes());
            assert_eq!(&got, expected, "row {} ({policy})", i + 1);
        }
    }

    #[test]
    fn verdicts_serialize_with_typed_reasons() {
        let v = Verdict::Protected(vec![K::MemberOfKeptImage { image: digest(2) }]);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verdict": "protected", "reasons": [
                {"kind": "member_of_kept_image", "image": digest(2).to_string()}
            ]})
        );
        assert_eq!(serde_json::from_value::<Verdict>(json).unwrap(), v);
        let v = Verdict::Delete(vec![P::OlderThan { age: DAY }]);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verdict": "delete", "reasons": [{"kind": "older_than", "seconds": 86400}]})
        );
    }

    #[test]
    fn reasons_read_well() {
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
                "beyond the newest 10 tagged",
                "untagged"
            ]
        );
    }
}
