//! Planning a prune, on random repositories and random policies: the plan deletes exactly what
//! the policy's rules say, nothing a policy keeps is ever planned, plans do not depend on the
//! listing's order, and the totals add up.
//!
//! Repositories are as DOCR has them: each manifest has its own digest, a tag points at exactly
//! one manifest, some manifests are untagged, some have no `updated_at`, and timestamps tie.

use chrono::{DateTime, TimeZone, Utc};
use docr::prelude::*;
use docr::types::RepositoryManifest;
use docr::{prune::Plan, prune::PruneReason, prune::RepositoryPlan, prune::RetentionPolicy};
use proptest::prelude::*;
use regex::Regex;
use std::collections::HashSet;
use std::time::Duration;

const DAY: i64 = 86_400;
const TAG_PREFIXES: [&str; 6] = ["v1.", "v2.", "latest", "main-", "release-", "pr-"];
const PATTERNS: [&str; 5] = [r"v1\..*", "latest.*", "release-[0-9]+", "main-1", "pr-.*"];

/// The time plans are made at.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

/// The policy's settings, kept so that the test can restate the rules on its own.
#[derive(Debug, Clone)]
struct Spec {
    keep_last: Option<usize>,
    older_than: Option<Duration>,
    patterns: Vec<&'static str>,
    delete_untagged: bool,
}

impl Spec {
    fn policy(&self) -> RetentionPolicy {
        let mut policy = RetentionPolicy::new()
            .delete_untagged(self.delete_untagged)
            .grace(Duration::ZERO);
        if let Some(n) = self.keep_last {
            policy = policy.keep_last(n);
        }
        if let Some(d) = self.older_than {
            policy = policy.older_than(d);
        }
        for p in &self.patterns {
            policy = policy.keep_tags_matching(p).unwrap();
        }
        policy
    }

    fn anchored(&self) -> Vec<Regex> {
        self.patterns
            .iter()
            .map(|p| Regex::new(&format!("^(?:{p})$")).unwrap())
            .collect()
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of(0usize..12),
        // Whole half-days, as the manifests' times are: equal ages happen.
        proptest::option::of((0u64..160).prop_map(|h| Duration::from_secs(h * 43_200))),
        proptest::sample::subsequence(PATTERNS.to_vec(), 0..=PATTERNS.len()),
        any::<bool>(),
    )
        .prop_map(|(keep_last, older_than, patterns, delete_untagged)| Spec {
            keep_last,
            older_than,
            patterns,
            delete_untagged,
        })
}

/// One manifest's random parts: half-days before `now` (negative: in the future, as clock
/// skew makes), tag prefixes, sizes.
type Draft = (Option<i64>, Vec<usize>, Option<i64>, Option<i64>);

fn draft() -> impl Strategy<Value = Draft> {
    (
        prop_oneof![1 => Just(None), 9 => (-4i64..200).prop_map(Some)],
        prop_oneof![
            2 => Just(vec![]),
            5 => proptest::collection::vec(0..TAG_PREFIXES.len(), 1..=3),
        ],
        proptest::option::of(0i64..1 << 32),
        proptest::option::of(0i64..1 << 33),
    )
}

/// Manifests with distinct digests and distinct tags (a counter makes each tag unique).
fn manifests(drafts: Vec<Draft>) -> Vec<RepositoryManifest> {
    let mut counter = 0;
    drafts
        .into_iter()
        .enumerate()
        .map(|(i, (half_days, prefixes, compressed, size))| {
            let tags = prefixes
                .into_iter()
                .map(|p| {
                    counter += 1;
                    format!("{}{counter}", TAG_PREFIXES[p])
                })
                .collect();
            RepositoryManifest {
                digest: Some(format!("sha256:{:064x}", i * 7919 % 1000)),
                updated_at: half_days.map(|h| now() - chrono::Duration::seconds(h * DAY / 2)),
                tags,
                compressed_size_bytes: compressed,
                size_bytes: size,
                ..Default::default()
            }
        })
        .collect()
}

fn repository_manifests() -> impl Strategy<Value = Vec<RepositoryManifest>> {
    proptest::collection::vec(draft(), 0..40).prop_map(manifests)
}

fn repo(name: &str) -> RepositoryName {
    name.parse().unwrap()
}

/// The digests in the rules' order: newest first, undated first of all, ties by digest.
fn ranked(manifests: &[RepositoryManifest]) -> Vec<&RepositoryManifest> {
    let mut ranked: Vec<_> = manifests.iter().collect();
    ranked.sort_by_key(|m| {
        (
            m.updated_at.is_some(),
            std::cmp::Reverse(m.updated_at),
            m.digest.clone(),
        )
    });
    ranked
}

fn age(m: &RepositoryManifest) -> Option<Duration> {
    m.updated_at
        .map(|t| (now() - t).to_std().unwrap_or(Duration::ZERO))
}

/// The tagged manifests in the rules' order: `keep_last` ranks these only.
fn ranked_tagged(manifests: &[RepositoryManifest]) -> Vec<&RepositoryManifest> {
    ranked(manifests)
        .into_iter()
        .filter(|m| !m.tags.is_empty())
        .collect()
}

/// The rules, restated: a tagged manifest is selected by rank among the tagged and by age; an
/// untagged one by its own switch and age; a keep pattern protects; grace is off here.
fn expected_deletions(spec: &Spec, manifests: &[RepositoryManifest]) -> Vec<String> {
    let patterns = spec.anchored();
    let tagged = ranked_tagged(manifests);
    ranked(manifests)
        .into_iter()
        .filter(|m| {
            let old_enough = spec
                .older_than
                .is_none_or(|d| age(m).is_some_and(|a| a > d));
            if m.tags.is_empty() {
                return spec.delete_untagged && old_enough;
            }
            let rank = tagged.iter().position(|t| t.digest == m.digest).unwrap();
            let protected = m
                .tags
                .iter()
                .any(|t| patterns.iter().any(|p| p.is_match(t)));
            let criteria_set = spec.keep_last.is_some() || spec.older_than.is_some();
            criteria_set && spec.keep_last.is_none_or(|n| rank >= n) && old_enough && !protected
        })
        .map(|m| m.digest.clone().unwrap())
        .collect()
}

fn planned_digests(plan: &RepositoryPlan) -> Vec<String> {
    plan.delete
        .iter()
        .map(|d| d.digest.as_str().to_string())
        .collect()
}

proptest! {
    #![proptest_config(crate::cases())]

    #[test]
    fn the_plan_deletes_exactly_what_the_rules_say(spec in spec(), manifests in repository_manifests()) {
        let planned = crate::plan_flat(&spec.policy(), &repo("app"), &manifests, now());
        prop_assert_eq!(planned_digests(&planned), expected_deletions(&spec, &manifests));
        prop_assert_eq!(planned.kept + planned.delete.len(), manifests.len());
    }

    #[test]
    fn nothing_a_policy_keeps_is_deleted(spec in spec(), manifests in repository_manifests()) {
        let planned = crate::plan_flat(&spec.policy(), &repo("app"), &manifests, now());
        let patterns = spec.anchored();
        let newest: HashSet<String> = ranked_tagged(&manifests)
            .iter()
            .take(spec.keep_last.unwrap_or(0))
            .map(|m| m.digest.clone().unwrap())
            .collect();
        let planned_set: HashSet<String> = planned_digests(&planned).into_iter().collect();
        for d in &planned.delete {
            prop_assert!(!newest.contains(d.digest.as_str()), "{} is among the newest", d.digest);
            for tag in &d.tags {
                prop_assert!(!patterns.iter().any(|p| p.is_match(tag)), "{} carries kept tag {}", d.digest, tag);
            }
        }
        // Deleting a manifest never takes a tag of a manifest that stays.
        let kept_tags: HashSet<&String> = manifests
            .iter()
            .filter(|m| !planned_set.contains(m.digest.as_deref().unwrap()))
            .flat_map(|m| &m.tags)
            .collect();
        for d in &planned.delete {
            prop_assert!(d.tags.iter().all(|t| !kept_tags.contains(t)));
        }
        // A policy with no criteria and no untagged switch deletes nothing, whatever it protects.
        if spec.keep_last.is_none() && spec.older_than.is_none() && !spec.delete_untagged {
            prop_assert!(planned.delete.is_empty());
        }
    }

    #[test]
    fn every_reason_given_holds(spec in spec(), manifests in repository_manifests()) {
        let planned = crate::plan_flat(&spec.policy(), &repo("app"), &manifests, now());
        let order: Vec<String> = ranked_tagged(&manifests).iter().map(|m| m.digest.clone().unwrap()).collect();
        for d in &planned.delete {
            prop_assert!(!d.reasons.is_empty());
            let m = manifests.iter().find(|m| m.digest.as_deref() == Some(d.digest.as_str())).unwrap();
            let mut tags = m.tags.clone();
            tags.sort();
            prop_assert_eq!(&d.tags, &tags);
            prop_assert_eq!(d.updated_at, m.updated_at);
            prop_assert_eq!(d.compressed_size_bytes, m.compressed_size_bytes.unwrap_or(0) as u64);
            let rank = order.iter().position(|x| x == d.digest.as_str());
            for reason in &d.reasons {
                match *reason {
                    PruneReason::OlderThan { age: limit } => {
                        prop_assert_eq!(Some(limit), spec.older_than);
                        prop_assert!(age(m).is_some_and(|a| a > limit));
                    }
                    PruneReason::BeyondNewest { keep } => {
                        prop_assert_eq!(Some(keep), spec.keep_last);
                        prop_assert!(rank.is_some_and(|rank| rank >= keep), "{} is not beyond the newest {} tagged", d.digest, keep);
                    }
                    PruneReason::Untagged => prop_assert!(m.tags.is_empty() && spec.delete_untagged),
                    _ => prop_assert!(false, "unknown reason {reason:?}"),
                }
            }
        }
    }

    #[test]
    fn plans_do_not_depend_on_the_listing_order(
        spec in spec(),
        (manifests, shuffled) in repository_manifests()
            .prop_flat_map(|m| (Just(m.clone()), Just(m).prop_shuffle())),
    ) {
        let policy = spec.policy();
        let first = crate::plan_flat(&policy, &repo("app"), &manifests, now());
        prop_assert_eq!(&first, &crate::plan_flat(&policy, &repo("app"), &manifests, now()));
        prop_assert_eq!(&first, &crate::plan_flat(&policy, &repo("app"), &shuffled, now()));
        // A manifest listed twice (pages shifting) counts once.
        let doubled: Vec<_> = manifests.iter().chain(&shuffled).cloned().collect();
        prop_assert_eq!(&first, &crate::plan_flat(&policy, &repo("app"), &doubled, now()));
    }

    #[test]
    fn totals_add_up_and_plans_survive_json(
        spec in spec(),
        repositories in proptest::collection::vec(repository_manifests(), 0..4),
    ) {
        let policy = spec.policy();
        let plans: Vec<RepositoryPlan> = repositories
            .iter()
            .enumerate()
            .map(|(i, m)| crate::plan_flat(&policy, &repo(&format!("team/app-{i}")), m, now()))
            .collect();
        let whole = Plan::new("acme".parse().unwrap(), &policy, now(), plans.clone());
        let t = whole.totals;
        prop_assert_eq!(t.manifests, plans.iter().map(|p| p.delete.len()).sum::<usize>());
        prop_assert_eq!(t.manifests, whole.deletions().count());
        prop_assert_eq!(t.kept + t.manifests, repositories.iter().map(Vec::len).sum::<usize>());
        prop_assert_eq!(t.tags, whole.deletions().map(|d| d.tags.len()).sum::<usize>());
        prop_assert_eq!(t.compressed_size_bytes, whole.deletions().map(|d| d.compressed_size_bytes).sum::<u64>());
        prop_assert_eq!(t.size_bytes, whole.deletions().map(|d| d.size_bytes).sum::<u64>());
        prop_assert_eq!(whole.is_empty(), t.manifests == 0);
        let json = serde_json::to_string(&whole).unwrap();
        prop_assert_eq!(&serde_json::from_str::<Plan>(&json).unwrap(), &whole);
        // The table names every planned digest (shortened) and the totals.
        let table = whole.to_string();
        for d in whole.deletions() {
            prop_assert!(table.contains(&d.digest.as_str()[..19]));
        }
        let total_line = format!("Total: delete {} manifest", t.manifests);
        prop_assert!(table.contains(&total_line));
    }
}

#[test]
fn patterns_protect_whole_tags_only() {
    let policy = RetentionPolicy::new()
        .delete_untagged(true)
        .older_than(Duration::ZERO)
        .keep_tags_matching("v1")
        .unwrap();
    let ms = manifests(vec![
        (Some(10), vec![0], None, None),
        (Some(10), vec![], None, None),
    ]);
    let mut ms = ms;
    ms[0].tags = vec!["v10".into()];
    ms.push(RepositoryManifest {
        digest: Some(format!("sha256:{:064x}", 999_999)),
        updated_at: Some(now() - chrono::Duration::days(9)),
        tags: vec!["v1".into()],
        ..Default::default()
    });
    let planned = crate::plan_flat(&policy, &repo("app"), &ms, now());
    assert_eq!(planned.delete.len(), 2);
    assert!(planned.delete.iter().all(|d| d.tags != ["v1"]));
    assert_eq!(planned.kept, 1);
}

#[test]
fn bad_patterns_are_refused_with_the_pattern_named() {
    let err = RetentionPolicy::new().keep_tags_matching("v(").unwrap_err();
    assert!(err.to_string().contains("`v(`"), "{err}");
    assert!(RetentionPolicy::new().keep_tags_matching("a)|(b").is_err());
}
