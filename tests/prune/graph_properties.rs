//! Planning by image, on random repositories of multi-platform indexes (children shared and
//! nested), buildx attestations and referrers (by `subject`, by the referrers API, by cosign
//! and referrers-index tags), under random policies: what stays is whole, what is kept or in use
//! or being pushed is never planned, images go root first, doubt blocks everything, and plans
//! are deterministic.
//!
//! The test keeps its own graph of each repository (built from the generator's drafts, not
//! from the structure the plan reads), so that the rules are restated independently.

use chrono::{DateTime, TimeZone, Utc};
use docr::types::{RepositoryBlob, RepositoryManifest};
use docr::{
    Digest, ImageReference, RegistryName, RepositoryName, prune::ManifestRole, prune::ReadFailure,
    prune::RepositoryPlan, prune::RepositoryStructure, prune::RetentionPolicy, prune::Verdict,
    registry::Descriptor, registry::ManifestKind, registry::ManifestStructure, registry::Platform,
};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

const TAGS: [&str; 8] = ["latest", "v1", "v2", "v3", "main", "rc", "dev", "old"];
const PATTERNS: [&str; 4] = ["v.*", "latest", "main|rc", "sha256-.*"];
const COSIGN: [&str; 3] = [".sig", ".att", ".sbom"];
const MINUTE: i64 = 60;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()
}

fn registry() -> RegistryName {
    "acme".parse().unwrap()
}

fn repository() -> RepositoryName {
    "app".parse().unwrap()
}

/// How a referrer names its subject.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Its own `subject` field.
    Subject,
    /// The registry's referrers API lists it.
    ReferrersApi,
    /// A cosign tag `sha256-<hex>.sig` (`.att`, `.sbom`) points at it.
    Cosign(usize),
    /// A referrers-index tag `sha256-<hex>` points at it (an index).
    IndexTag,
}

/// What one manifest is; `usize`s pick among the manifests drafted before it.
#[derive(Debug, Clone)]
enum Shape {
    Image,
    /// Children: (pick, is a buildx attestation).
    Index(Vec<(usize, bool)>),
    Referrer(usize, Via),
}

#[derive(Debug, Clone)]
struct Draft {
    shape: Shape,
    tags: Vec<usize>,
    /// Minutes before `now` (negative: clock skew), or no `updated_at`.
    minutes: Option<i64>,
    /// Whether the API's listing shows it (a listing lags: referrers may be missing).
    listed: bool,
    blobs: Vec<u8>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let via = prop_oneof![
        Just(Via::Subject),
        Just(Via::ReferrersApi),
        (0..COSIGN.len()).prop_map(Via::Cosign),
        Just(Via::IndexTag),
    ];
    prop_oneof![
        4 => Just(Shape::Image),
        3 => proptest::collection::vec((any::<usize>(), proptest::bool::weighted(0.25)), 1..=4)
            .prop_map(Shape::Index),
        2 => (any::<usize>(), via).prop_map(|(s, v)| Shape::Referrer(s, v)),
    ]
}

fn draft() -> impl Strategy<Value = Draft> {
    (
        shape(),
        prop_oneof![
            3 => Just(vec![]),
            2 => proptest::collection::vec(0..TAGS.len(), 1..=2),
        ],
        prop_oneof![
            1 => Just(None),
            2 => (-30i64..180).prop_map(Some),
            6 => (0i64..5 * 24 * 60).prop_map(Some),
        ],
        proptest::bool::weighted(0.9),
        proptest::collection::vec(0u8..12, 0..3),
    )
        .prop_map(|(shape, tags, minutes, listed, blobs)| Draft {
            shape,
            tags,
            minutes,
            listed,
            blobs,
        })
}

/// A repository as the registry and the API show it, and the test's own graph of it.
#[derive(Debug, Clone)]
struct Repo {
    listing: Vec<RepositoryManifest>,
    structure: RepositoryStructure,
    /// Every manifest.
    nodes: BTreeSet<Digest>,
    /// Parent or subject -> child or referrer.
    edges: BTreeMap<Digest, BTreeSet<Digest>>,
    /// How each edge's target belongs to its source.
    roles: BTreeMap<(Digest, Digest), ManifestRole>,
    /// Every tag of each manifest (the tags' own and tag-schema ones).
    tags: BTreeMap<Digest, Vec<String>>,
    /// `updated_at` as listed.
    updated: BTreeMap<Digest, DateTime<Utc>>,
}

fn digest_of(i: usize) -> Digest {
    // Digest order is not draft order.
    let mixed = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Digest::new(format!("sha256:{mixed:016x}{:048x}", i)).unwrap()
}

fn hex(d: &Digest) -> &str {
    d.as_str().strip_prefix("sha256:").unwrap()
}

fn reaches(edges: &BTreeMap<Digest, BTreeSet<Digest>>, from: &Digest, to: &Digest) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.clone()];
    while let Some(d) = stack.pop() {
        if d == *to {
            return true;
        }
        if seen.insert(d.clone()) {
            stack.extend(edges.get(&d).into_iter().flatten().cloned());
        }
    }
    false
}

fn manifest(kind: ManifestKind) -> ManifestStructure {
    ManifestStructure {
        media_type: match kind {
            ManifestKind::Index => docr::registry::OCI_INDEX.into(),
            ManifestKind::Image => docr::registry::OCI_MANIFEST.into(),
        },
        kind,
        children: Vec::new(),
        subject: None,
        artifact_type: None,
    }
}

fn child(digest: &Digest, attestation: bool, pick: usize) -> Descriptor {
    let mut annotations = BTreeMap::new();
    if attestation {
        annotations.insert(
            "vnd.docker.reference.type".to_string(),
            "attestation-manifest".to_string(),
        );
    }
    let (os, architecture) = if attestation {
        ("unknown", "unknown")
    } else {
        ("linux", ["amd64", "arm64", "s390x"][pick % 3])
    };
    Descriptor {
        media_type: docr::registry::OCI_MANIFEST.into(),
        digest: digest.to_string(),
        size: 1,
        platform: Some(Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: None,
        }),
        artifact_type: None,
        annotations,
    }
}

/// Builds a repository from drafts. Every edge goes to a manifest drafted earlier (an index's
/// child) or from one (a referrer's subject); an edge that would close a cycle is dropped, as
/// content addressing makes cycles impossible.
fn repo(drafts: &[Draft]) -> Repo {
    let mut r = Repo {
        listing: Vec::new(),
        structure: RepositoryStructure::default(),
        nodes: BTreeSet::new(),
        edges: BTreeMap::new(),
        roles: BTreeMap::new(),
        tags: BTreeMap::new(),
        updated: BTreeMap::new(),
    };
    for (i, d) in drafts.iter().enumerate() {
        let digest = digest_of(i);
        r.nodes.insert(digest.clone());
        let mut m = manifest(ManifestKind::Image);
        let mut schema_tag = None;
        match (&d.shape, i) {
            (Shape::Image, _) | (Shape::Index(_), 0) => {}
            (Shape::Index(children), _) => {
                m = manifest(ManifestKind::Index);
                for &(pick, attestation) in children {
                    let c = digest_of(pick % i);
                    if reaches(&r.edges, &c, &digest) {
                        continue;
                    }
                    let descriptor = child(&c, attestation, pick);
                    let role = if attestation {
                        ManifestRole::Attestation
                    } else {
                        ManifestRole::Platform {
                            platform: descriptor.platform.as_ref().map(ToString::to_string),
                        }
                    };
                    m.children.push(descriptor);
                    r.roles.entry((digest.clone(), c.clone())).or_insert(role);
                    r.edges.entry(digest.clone()).or_default().insert(c);
                }
            }
            (Shape::Referrer(pick, via), _) => {
                // Mostly an earlier manifest; sometimes itself, or one not in the repository
                // (a signature of a deleted image): neither holds the referrer.
                let subject = match pick % (i + 2) {
                    p if p < i => digest_of(p),
                    p if p == i => digest.clone(),
                    _ => {
                        Digest::new(format!("sha256:{:064x}", 0xdead_0000_u64 + i as u64)).unwrap()
                    }
                };
                let holds = r.nodes.contains(&subject) && subject != digest;
                m.artifact_type = Some(format!("application/vnd.test.{via:?}"));
                if subject == digest || !reaches(&r.edges, &digest, &subject) {
                    match via {
                        Via::Subject => m.subject = Some(subject.clone()),
                        Via::ReferrersApi => r
                            .structure
                            .referrers
                            .entry(subject.clone())
                            .or_default()
                            .push(digest.clone()),
                        Via::Cosign(suffix) => {
                            schema_tag =
                                Some(format!("sha256-{}{}", hex(&subject), COSIGN[*suffix]))
                        }
                        Via::IndexTag => {
                            m = manifest(ManifestKind::Index);
                            schema_tag = Some(format!("sha256-{}", hex(&subject)));
                        }
                    }
                    // A tag names one manifest: a second referrer by the same tag gets none.
                    if schema_tag
                        .as_ref()
                        .is_some_and(|t| r.structure.tags.contains_key(t))
                    {
                        schema_tag = None;
                    } else if holds {
                        let role = ManifestRole::Referrer {
                            artifact_type: m.artifact_type.clone(),
                        };
                        r.roles
                            .entry((subject.clone(), digest.clone()))
                            .or_insert(role);
                        r.edges.entry(subject).or_default().insert(digest.clone());
                    }
                }
            }
        }
        let names = d
            .tags
            .iter()
            .map(|t| TAGS[*t].to_string())
            .chain(schema_tag);
        for tag in names {
            if !r.structure.tags.contains_key(&tag) {
                r.structure.tags.insert(tag.clone(), digest.clone());
                r.tags.entry(digest.clone()).or_default().push(tag);
            }
        }
        r.structure.manifests.insert(digest.clone(), Ok(m));
        let updated_at = d
            .minutes
            .map(|min| now() - chrono::Duration::seconds(min * MINUTE));
        if d.listed {
            // Ages come from the listing only.
            if let Some(t) = updated_at {
                r.updated.insert(digest.clone(), t);
            }
            let mut tags = r.tags.get(&digest).cloned().unwrap_or_default();
            tags.sort();
            r.listing.push(RepositoryManifest {
                digest: Some(digest.to_string()),
                tags,
                updated_at,
                compressed_size_bytes: Some(100 + i as i64),
                size_bytes: Some(200 + i as i64),
                blobs: d
                    .blobs
                    .iter()
                    .map(|b| RepositoryBlob {
                        digest: Some(format!("sha256:{:064x}", 0xb10b_0000_u64 + u64::from(*b))),
                        compressed_size_bytes: Some(1000 + i64::from(*b)),
                    })
                    .collect(),
                ..Default::default()
            });
        }
    }
    for tags in r.tags.values_mut() {
        tags.sort();
    }
    r
}

fn repositories() -> impl Strategy<Value = Repo> {
    proptest::collection::vec(draft(), 0..16).prop_map(|drafts| repo(&drafts))
}

/// Whom a kept reference names.
#[derive(Debug, Clone)]
enum Keep {
    Tag(usize),
    /// A manifest anywhere in a closure, by digest (picks among the repository's manifests).
    Digest(usize),
    /// The same digest, in another repository: protects nothing here.
    OtherRepository(usize),
    /// A tag in another registry: protects nothing here.
    OtherRegistry(usize),
}

#[derive(Debug, Clone)]
struct Spec {
    keep_last: Option<usize>,
    older_than_hours: Option<u64>,
    patterns: Vec<&'static str>,
    delete_untagged: bool,
    keep: Vec<Keep>,
    grace_minutes: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    let keep = prop_oneof![
        3 => (0..TAGS.len()).prop_map(Keep::Tag),
        4 => any::<usize>().prop_map(Keep::Digest),
        1 => any::<usize>().prop_map(Keep::OtherRepository),
        1 => (0..TAGS.len()).prop_map(Keep::OtherRegistry),
    ];
    (
        proptest::option::of(0usize..6),
        proptest::option::of(0u64..72),
        proptest::sample::subsequence(PATTERNS.to_vec(), 0..=2),
        proptest::bool::weighted(0.6),
        prop_oneof![2 => Just(vec![]), 1 => proptest::collection::vec(keep, 1..=3)],
        prop_oneof![3 => Just(0u64), 1 => Just(30), 1 => Just(60), 1 => Just(600)],
    )
        .prop_map(
            |(keep_last, older_than_hours, patterns, delete_untagged, keep, grace_minutes)| Spec {
                keep_last,
                older_than_hours,
                patterns,
                delete_untagged,
                keep,
                grace_minutes,
            },
        )
}

impl Spec {
    fn grace(&self) -> Duration {
        Duration::from_secs(self.grace_minutes * 60)
    }

    fn references(&self, r: &Repo) -> Vec<ImageReference> {
        let nodes: Vec<&Digest> = r.nodes.iter().collect();
        let pick = |i: usize| nodes.get(i % nodes.len().max(1)).copied();
        self.keep
            .iter()
            .filter_map(|k| {
                let text = match k {
                    Keep::Tag(t) => format!("app:{}", TAGS[*t]),
                    Keep::Digest(i) => format!("registry.digitalocean.com/acme/app@{}", pick(*i)?),
                    Keep::OtherRepository(i) => format!("lib@{}", pick(*i)?),
                    Keep::OtherRegistry(t) => {
                        format!("registry.digitalocean.com/other/app:{}", TAGS[*t])
                    }
                };
                Some(text.parse().unwrap())
            })
            .collect()
    }

    fn policy(&self, r: &Repo) -> RetentionPolicy {
        thread_local! {
            // Compiling patterns is most of a case's time in a debug build: once per set.
            static PATTERNED: RefCell<HashMap<Vec<&'static str>, RetentionPolicy>> =
                RefCell::new(HashMap::new());
        }
        let patterned = PATTERNED.with_borrow_mut(|cache| {
            cache
                .entry(self.patterns.clone())
                .or_insert_with(|| {
                    self.patterns
                        .iter()
                        .fold(RetentionPolicy::new(), |p, pattern| {
                            p.keep_tags_matching(pattern).unwrap()
                        })
                })
                .clone()
        });
        let mut policy = patterned
            .delete_untagged(self.delete_untagged)
            .grace(self.grace())
            .keep_images(self.references(r));
        if let Some(n) = self.keep_last {
            policy = policy.keep_last(n);
        }
        if let Some(h) = self.older_than_hours {
            policy = policy.older_than(Duration::from_secs(h * 3600));
        }
        policy
    }
}

/// The test's own reading of a repository under a policy.
struct Expected {
    /// Manifests nothing references, and manifests with a tag that is not a tag-schema tag.
    images: Vec<Digest>,
    closures: BTreeMap<Digest, BTreeSet<Digest>>,
    deleted: BTreeSet<Digest>,
    /// Images the policy alone would delete.
    chosen: BTreeSet<Digest>,
    in_use: BTreeSet<Digest>,
    /// Untagged manifests in the grace window.
    young: BTreeSet<Digest>,
}

impl Expected {
    fn members_of<'a>(&'a self, images: impl IntoIterator<Item = &'a Digest>) -> BTreeSet<Digest> {
        images
            .into_iter()
            .flat_map(|i| self.closures[i].iter().cloned())
            .collect()
    }

    fn kept_images(&self) -> impl Iterator<Item = &Digest> {
        self.images.iter().filter(|i| !self.deleted.contains(*i))
    }

    fn planned(&self) -> BTreeSet<Digest> {
        let kept = self.members_of(self.kept_images());
        self.members_of(&self.deleted)
            .into_iter()
            .filter(|d| !kept.contains(d))
            .collect()
    }
}

fn is_schema_tag(tag: &str) -> bool {
    tag.starts_with("sha256-")
}

fn expected(spec: &Spec, _policy: &RetentionPolicy, r: &Repo) -> Expected {
    let referenced: BTreeSet<&Digest> = r.edges.values().flatten().collect();
    let no_tags = Vec::new();
    let tags = |d: &Digest| r.tags.get(d).unwrap_or(&no_tags);
    let mut images: Vec<Digest> = r
        .nodes
        .iter()
        .filter(|d| !referenced.contains(d) || tags(d).iter().any(|t| !is_schema_tag(t)))
        .cloned()
        .collect();
    // Newest first, undated first of all, ties by digest.
    images.sort_by_key(|d| {
        (
            r.updated.contains_key(d),
            std::cmp::Reverse(r.updated.get(d)),
            d.clone(),
        )
    });
    let closures: BTreeMap<Digest, BTreeSet<Digest>> = images
        .iter()
        .map(|i| {
            let members = r.nodes.iter().filter(|d| reaches(&r.edges, i, d)).cloned();
            (i.clone(), members.collect())
        })
        .collect();
    let grace = chrono::Duration::from_std(spec.grace()).unwrap();
    let own_tags = |d: &Digest| -> Vec<String> {
        tags(d)
            .iter()
            .filter(|t| !is_schema_tag(t))
            .cloned()
            .collect()
    };
    // Only an image's root can be a push in progress: an untagged root in the window.
    let young: BTreeSet<Digest> = images
        .iter()
        .filter(|d| {
            !grace.is_zero()
                && own_tags(d).is_empty()
                && r.updated.get(*d).is_none_or(|t| now() - *t < grace)
        })
        .cloned()
        .collect();
    let references = spec.references(r);
    let patterns: Vec<regex::Regex> = spec
        .patterns
        .iter()
        .map(|p| regex::Regex::new(&format!("^(?:{p})$")).unwrap())
        .collect();
    let mut in_use = BTreeSet::new();
    let mut first = BTreeSet::new();
    let mut chosen = BTreeSet::new();
    let mut tagged_rank = 0;
    for image in &images {
        let closure = &closures[image];
        let used = references.iter().any(|k| {
            k.registry.as_ref().is_none_or(|reg| *reg == registry())
                && k.repository == repository()
                && (k
                    .tag
                    .as_ref()
                    .is_some_and(|t| tags(image).iter().any(|x| x == t.as_ref()))
                    || k.digest.as_ref().is_some_and(|d| closure.contains(d)))
        });
        if used {
            in_use.insert(image.clone());
        }
        let age = r
            .updated
            .get(image)
            .map(|t| (now() - *t).to_std().unwrap_or(Duration::ZERO));
        let old_enough = spec
            .older_than_hours
            .is_none_or(|h| age.is_some_and(|a| a > Duration::from_secs(h * 3600)));
        // The rule table, restated: tagged images by rank among tagged ones and age;
        // untagged ones by their own switch and age; keep patterns on own tags.
        let own = own_tags(image);
        let selected = if own.is_empty() {
            spec.delete_untagged && old_enough
        } else {
            let rank = tagged_rank;
            tagged_rank += 1;
            (spec.keep_last.is_some() || spec.older_than_hours.is_some())
                && spec.keep_last.is_none_or(|n| rank >= n)
                && old_enough
        };
        let tag_kept = own.iter().any(|t| patterns.iter().any(|p| p.is_match(t)));
        if selected {
            chosen.insert(image.clone());
        }
        if selected && !tag_kept && !used && !young.contains(image) {
            first.insert(image.clone());
        }
    }
    // An image whose root a kept image holds stays with it.
    let kept_members: BTreeSet<&Digest> = images
        .iter()
        .filter(|i| !first.contains(*i))
        .flat_map(|i| closures[i].iter())
        .collect();
    let deleted: BTreeSet<Digest> = first
        .iter()
        .filter(|i| !kept_members.contains(i))
        .cloned()
        .collect();
    Expected {
        images,
        closures,
        deleted,
        chosen,
        in_use,
        young,
    }
}

fn plan(policy: &RetentionPolicy, r: &Repo, listing: &[RepositoryManifest]) -> RepositoryPlan {
    docr::prune::plan_repository(
        policy,
        &registry(),
        &repository(),
        listing,
        &r.structure,
        now(),
    )
}

fn planned(plan: &RepositoryPlan) -> BTreeSet<Digest> {
    plan.delete.iter().map(|d| d.digest.clone()).collect()
}

/// One way a read can go wrong.
#[derive(Debug, Clone)]
enum Fault {
    /// A manifest the registry answered with an error.
    Unreadable(usize),
    /// A manifest listed or tagged but never read.
    NotRead(usize),
    /// A read that failed outright (the tag listing, a tag).
    Failure,
    /// An index child the repository does not have.
    MissingChild(usize),
    /// A manifest the listing shows but the registry was not asked about.
    ListedOnly,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        any::<usize>().prop_map(Fault::Unreadable),
        any::<usize>().prop_map(Fault::NotRead),
        Just(Fault::Failure),
        any::<usize>().prop_map(Fault::MissingChild),
        Just(Fault::ListedOnly),
    ]
}

fn inject(r: &mut Repo, fault: &Fault) {
    let nodes: Vec<Digest> = r.nodes.iter().cloned().collect();
    let stranger = Digest::new(format!("sha256:{}", "f".repeat(64))).unwrap();
    match (fault, nodes.len()) {
        (Fault::Unreadable(i), n) if n > 0 => {
            r.structure.manifests.insert(
                nodes[i % n].clone(),
                Err(ReadFailure::Failed("500 Internal Server Error".into())),
            );
        }
        (Fault::NotRead(i), n) if n > 0 => {
            let digest = &nodes[i % n];
            r.structure.manifests.remove(digest);
            if !r
                .listing
                .iter()
                .any(|m| m.digest.as_deref() == Some(digest.as_str()))
            {
                r.listing.push(RepositoryManifest {
                    digest: Some(digest.to_string()),
                    ..Default::default()
                });
            }
        }
        (Fault::MissingChild(i), n) if n > 0 => {
            let mut index = manifest(ManifestKind::Index);
            index.children.push(child(&stranger, false, 0));
            r.structure
                .manifests
                .insert(nodes[i % n].clone(), Ok(index));
        }
        (Fault::ListedOnly, _) => r.listing.push(RepositoryManifest {
            digest: Some(stranger.to_string()),
            ..Default::default()
        }),
        _ => r
            .structure
            .failures
            .push(docr::prune::BlockReason::TagUnreadable {
                tag: "latest".into(),
                error: "503".into(),
            }),
    }
}

proptest! {
    #![proptest_config(crate::cases())]

    #[test]
    fn the_plan_deletes_the_closures_of_deleted_images_less_what_kept_images_hold(
        spec in spec(),
        r in repositories(),
    ) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        prop_assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
        prop_assert_eq!(planned(&plan), expected(&spec, &policy, &r).planned());
    }

    #[test]
    fn nothing_of_a_kept_image_is_planned(spec in spec(), r in repositories()) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let e = expected(&spec, &policy, &r);
        let planned = planned(&plan);
        for image in e.kept_images() {
            let planned_members: Vec<_> = e.closures[image].intersection(&planned).collect();
            prop_assert!(planned_members.is_empty(), "kept {} loses {:?}", image, planned_members);
        }
        for image in &e.in_use {
            prop_assert!(e.closures[image].is_disjoint(&planned), "{} is in use", image);
        }
        // Each image the policy chose but that a keep rule holds is protected, with why.
        let protected: BTreeSet<&Digest> = e.chosen.difference(&e.deleted).collect();
        let named: BTreeSet<&Digest> = plan
            .images
            .iter()
            .filter(|i| matches!(i.verdict, Verdict::Protected(_)))
            .map(|i| &i.digest)
            .collect();
        prop_assert_eq!(named, protected);
        for image in &plan.images {
            let Verdict::Protected(reasons) = &image.verdict else { continue };
            prop_assert!(!reasons.is_empty());
            if e.in_use.contains(&image.digest) {
                prop_assert!(reasons.iter().any(|r| matches!(r, docr::prune::KeepReason::InUse(_))), "{:?}", reasons);
            }
            if e.young.contains(&image.digest) {
                prop_assert!(reasons.iter().any(|r| matches!(r, docr::prune::KeepReason::InGrace { .. })), "{:?}", reasons);
            }
        }
        // Every image has a verdict, once, and the deleted ones are exactly those expected.
        prop_assert_eq!(plan.images.len(), e.images.len());
        let deleting: BTreeSet<&Digest> = plan.images.iter().filter(|i| i.verdict.deletes()).map(|i| &i.digest).collect();
        prop_assert_eq!(deleting, e.deleted.iter().collect::<BTreeSet<_>>());
    }

    #[test]
    fn no_untagged_root_younger_than_grace_goes(
        spec in spec(),
        r in repositories(),
    ) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let e = expected(&spec, &policy, &r);
        let planned = planned(&plan);
        prop_assert!(e.young.is_disjoint(&planned));
        for image in &e.young {
            prop_assert!(e.closures[image].is_disjoint(&planned), "{} is young", image);
        }
        if spec.grace_minutes == 0 {
            prop_assert!(e.young.is_empty());
        }
    }

    #[test]
    fn no_tagged_image_among_the_newest_n_tagged_is_deleted(spec in spec(), r in repositories()) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let planned = planned(&plan);
        let tagged: Vec<&docr::prune::ImageVerdict> = plan
            .images
            .iter()
            .filter(|i| i.tags.iter().any(|t| !is_schema_tag(t)))
            .collect();
        for image in tagged.iter().take(spec.keep_last.unwrap_or(0)) {
            prop_assert!(!planned.contains(&image.digest), "{} is among the newest tagged", image.digest);
            prop_assert!(!image.verdict.deletes());
        }
    }

    #[test]
    fn what_stays_is_whole(spec in spec(), r in repositories()) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let planned = planned(&plan);
        // An index that stays keeps every child; a subject that stays keeps its referrers.
        for (from, to) in r.edges.iter().flat_map(|(f, ts)| ts.iter().map(move |t| (f, t))) {
            prop_assert!(
                planned.contains(from) || !planned.contains(to),
                "{} stays but {} it references is planned", from, to
            );
        }
        // The same, read from the structure the plan was given.
        for (digest, read) in &r.structure.manifests {
            let m = read.as_ref().unwrap();
            if !planned.contains(digest) {
                for c in &m.children {
                    prop_assert!(!planned.contains(&Digest::new(c.digest.clone()).unwrap()));
                }
            }
            if let Some(subject) = &m.subject && planned.contains(digest) {
                // A referrer goes only with its subject (or when its subject is not here).
                prop_assert!(planned.contains(subject) || !r.nodes.contains(subject));
            }
        }
    }

    #[test]
    fn images_are_deleted_whole_root_first(spec in spec(), r in repositories()) {
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let e = expected(&spec, &policy, &r);
        let planned = planned(&plan);
        let at: BTreeMap<&Digest, usize> =
            plan.delete.iter().enumerate().map(|(i, d)| (&d.digest, i)).collect();
        prop_assert_eq!(at.len(), plan.delete.len(), "a manifest planned twice");
        let mut finished: BTreeSet<&Digest> = BTreeSet::new();
        for (i, row) in plan.delete.iter().enumerate() {
            prop_assert!(e.deleted.contains(&row.image), "{} is not a deleted image", row.image);
            prop_assert_eq!(row.role == ManifestRole::Image, row.digest == row.image);
            prop_assert!(!row.reasons.is_empty());
            let root = at.get(&row.image).copied();
            prop_assert!(root.is_some_and(|r| r <= i), "{} before its image {}", row.digest, row.image);
            prop_assert!(e.closures[&row.image].contains(&row.digest));
            // A member's role is how a parent in the same image holds it.
            if row.digest != row.image {
                let held = r.roles.iter().any(|((from, to), role)| {
                    *to == row.digest && e.closures[&row.image].contains(from) && *role == row.role
                });
                prop_assert!(held, "{} as {:?}", row.digest, row.role);
                prop_assert!(row.platforms.is_empty());
            } else {
                // The platforms of its index, nested ones too.
                let platform = |from: &Digest, role: &ManifestRole| {
                    matches!(role, ManifestRole::Platform { .. })
                        && e.closures[&row.image].contains(from)
                };
                let direct = r.roles.iter().any(|((from, _), role)| *from == row.image && platform(from, role));
                let nested = r.roles.iter().any(|((from, _), role)| platform(from, role));
                prop_assert!(!direct || !row.platforms.is_empty(), "{:?}", row.platforms);
                prop_assert!(nested || row.platforms.is_empty(), "{:?}", row.platforms);
                prop_assert!(row.platforms.iter().all(|p| p.starts_with("linux/")));
            }
            let listed = r.listing.iter().find(|m| m.digest.as_deref() == Some(row.digest.as_str()));
            let size = |f: fn(&RepositoryManifest) -> Option<i64>| {
                listed.and_then(f).map_or(0, |b| b as u64)
            };
            prop_assert_eq!(row.compressed_size_bytes, size(|m| m.compressed_size_bytes));
            prop_assert_eq!(row.size_bytes, size(|m| m.size_bytes));
            prop_assert_eq!(row.updated_at, r.updated.get(&row.digest).copied());
            prop_assert_eq!(&row.tags, &r.tags.get(&row.digest).cloned().unwrap_or_default());
            // An image's rows are consecutive: apply deletes them in one sequence.
            if i > 0 && plan.delete[i - 1].image != row.image {
                prop_assert!(finished.insert(&plan.delete[i - 1].image));
                prop_assert!(!finished.contains(&row.image), "{}'s rows are split", row.image);
            }
            // Parent first, within the image.
            for (parent, children) in &r.edges {
                if children.contains(&row.digest)
                    && let Some(p) = at.get(parent)
                    && plan.delete[*p].image == row.image
                {
                    prop_assert!(*p < i, "{} is planned before its parent {}", row.digest, parent);
                }
            }
        }
        // A deleted image whose root is planned goes whole: every member no kept image holds.
        let kept = e.members_of(e.kept_images());
        for image in e.deleted.iter().filter(|i| planned.contains(*i)) {
            for member in e.closures[image].iter().filter(|m| !kept.contains(*m)) {
                prop_assert!(planned.contains(member), "{} of {} stays", member, image);
            }
        }
    }

    #[test]
    fn any_read_in_doubt_blocks_the_repository(
        spec in spec(),
        mut r in repositories(),
        faults in proptest::collection::vec(fault(), 1..=3),
    ) {
        for f in &faults {
            inject(&mut r, f);
        }
        // One listed without a digest: kept, and counted, blocked or not.
        r.listing.push(RepositoryManifest::default());
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        prop_assert!(!plan.blocked.is_empty(), "{:?}", faults);
        prop_assert!(plan.delete.is_empty());
        let mut all: BTreeSet<&str> = r.listing.iter().filter_map(|m| m.digest.as_deref()).collect();
        all.extend(r.structure.manifests.keys().map(Digest::as_str));
        all.extend(r.structure.tags.values().map(Digest::as_str));
        prop_assert_eq!(plan.kept, all.len() + 1);
    }

    #[test]
    fn plans_do_not_depend_on_the_listing_order(
        spec in spec(),
        (r, shuffled) in repositories().prop_flat_map(|r| {
            let listing = r.listing.clone();
            (Just(r), Just(listing).prop_shuffle())
        }),
    ) {
        let policy = spec.policy(&r);
        let first = plan(&policy, &r, &r.listing);
        prop_assert_eq!(&first, &plan(&policy, &r, &shuffled));
        // Pages shifting list a manifest twice: it counts once.
        let doubled: Vec<_> = shuffled.iter().chain(&r.listing).cloned().collect();
        prop_assert_eq!(&first, &plan(&policy, &r, &doubled));
    }

    #[test]
    fn every_manifest_is_kept_or_deleted_once(
        spec in spec(),
        mut r in repositories(),
        junk in proptest::collection::vec(proptest::option::of(Just("sha256:bogus".to_string())), 0..3),
    ) {
        // Listed without a digest that can be deleted: kept, and counted.
        r.listing.extend(junk.iter().map(|digest| RepositoryManifest {
            digest: digest.clone(),
            ..Default::default()
        }));
        let policy = spec.policy(&r);
        let plan = plan(&policy, &r, &r.listing);
        let e = expected(&spec, &policy, &r);
        prop_assert_eq!(plan.kept + plan.delete.len(), r.nodes.len() + junk.len());
        // An image stays when its root does (deleted or kept by another image's closure).
        let planned = planned(&plan);
        let staying = e.images.iter().filter(|i| !planned.contains(*i)).count();
        prop_assert_eq!(plan.kept_images, staying);
        let indexes = r
            .structure
            .manifests
            .values()
            .filter(|m| m.as_ref().is_ok_and(|m| m.kind == ManifestKind::Index))
            .count();
        prop_assert_eq!(plan.indexes, indexes);
        prop_assert_eq!(plan.seen.len(), r.nodes.len());
        // A garbage collection frees the blobs only deleted manifests reference, once each.
        let blobs = |deleted: bool| -> BTreeMap<String, u64> {
            r.listing
                .iter()
                .filter(|m| m.digest.as_deref().and_then(|d| Digest::new(d).ok()).is_some_and(|d| planned.contains(&d) == deleted))
                .flat_map(|m| &m.blobs)
                .map(|b| (b.digest.clone().unwrap(), b.compressed_size_bytes.unwrap() as u64))
                .collect()
        };
        let kept_blobs = blobs(false);
        let frees: u64 = blobs(true).iter().filter(|(b, _)| !kept_blobs.contains_key(*b)).map(|(_, s)| s).sum();
        let whole = docr::prune::Plan::new(registry(), &policy, now(), vec![plan.clone()]);
        prop_assert_eq!(whole.totals.gc_frees_bytes, frees);
    }
}
