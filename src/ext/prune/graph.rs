//! Images, not manifests: the structure of a repository as its manifests declare it, the
//! images in it (manifests nothing else references), and each image's closure (its index
//! children, nested indexes, attestations and referrers, recursively). Pure: no I/O.

use crate::ext::names::Digest;
use crate::ext::registry::{ManifestKind, ManifestStructure, is_attestation};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What the registry says about one repository: the truth a plan is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepositoryStructure {
    /// Every tag, and the digest it points to now.
    pub tags: BTreeMap<String, Digest>,
    /// What each manifest declares, or why it could not be read.
    pub manifests: BTreeMap<Digest, Result<ManifestStructure, ReadFailure>>,
    /// Referrers by subject, from the referrers API where the registry serves it.
    pub referrers: BTreeMap<Digest, Vec<Digest>>,
    /// Reads that failed outright (the tag listing, a tag, referrers): each blocks the
    /// repository.
    pub failures: Vec<BlockReason>,
}

/// Why a manifest's read gave no structure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadFailure {
    /// The registry does not have it (404).
    NotFound,
    /// The read failed, or the manifest is not one this crate understands: why.
    Failed(String),
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadFailure::NotFound => f.write_str("the registry does not have it"),
            ReadFailure::Failed(why) => f.write_str(why),
        }
    }
}

/// Why nothing is deleted in a repository: something about it could not be known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BlockReason {
    /// The registry could not be read at all: its tag listing failed.
    RegistryUnreadable {
        /// The registry's URL tried.
        url: String,
        /// The HTTP status, when the registry answered (none: it could not be reached).
        status: Option<u16>,
        /// What failed.
        error: String,
    },
    /// A tag could not be resolved.
    TagUnreadable {
        /// The tag.
        tag: String,
        /// What failed.
        error: String,
    },
    /// The referrers of a manifest could not be listed.
    ReferrersUnreadable {
        /// The manifest.
        digest: Digest,
        /// What failed.
        error: String,
    },
    /// A manifest could not be read, or is not of a type this crate knows.
    ManifestUnreadable {
        /// The manifest.
        digest: Digest,
        /// Why.
        error: String,
    },
    /// The API lists a manifest the registry does not have.
    NotInRegistry {
        /// The manifest.
        digest: Digest,
    },
    /// An index names a child the registry does not have: the image is broken already.
    MissingChild {
        /// The index.
        index: Digest,
        /// The index's tags (empty: untagged).
        tags: Vec<String>,
        /// The child it names.
        child: Digest,
    },
    /// The registry names a referrer it does not have.
    MissingReferrer {
        /// The referrer.
        digest: Digest,
    },
}

impl std::error::Error for BlockReason {}

impl std::error::Error for ReadFailure {}

impl std::fmt::Display for BlockReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockReason::RegistryUnreadable {
                url,
                status: None,
                error,
            } => write!(f, "the registry at {url} could not be reached: {error}"),
            BlockReason::RegistryUnreadable {
                url,
                status: Some(status),
                error,
            } => write!(f, "the registry at {url} answered {status}: {error}"),
            BlockReason::TagUnreadable { tag, error } => {
                write!(f, "tag {tag} could not be resolved: {error}")
            }
            BlockReason::ReferrersUnreadable { digest, error } => {
                write!(f, "the referrers of {digest} could not be listed: {error}")
            }
            BlockReason::ManifestUnreadable { digest, error } => write!(f, "{digest}: {error}"),
            BlockReason::NotInRegistry { digest } => {
                write!(
                    f,
                    "{digest} is listed by the API but unknown to the registry"
                )
            }
            BlockReason::MissingChild { index, tags, child } => {
                let tags = if tags.is_empty() {
                    "untagged".to_string()
                } else {
                    format!("tagged {}", tags.join(", "))
                };
                write!(
                    f,
                    "index {index} ({tags}) names a child the registry does not have: {child}"
                )
            }
            BlockReason::MissingReferrer { digest } => write!(
                f,
                "the registry names a referrer it does not have: {digest}"
            ),
        }
    }
}

/// How a manifest belongs to the image whose closure holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ManifestRole {
    /// The image itself: a manifest nothing else references.
    Image,
    /// A platform's manifest in an index (`linux/arm64`), or a nested index.
    Platform {
        /// The platform, when the index names one.
        platform: Option<String>,
    },
    /// A buildx attestation manifest (provenance, SBOM) in an index.
    Attestation,
    /// A manifest that refers to another (its `subject`, the referrers API, or a cosign
    /// `sha256-<hex>.sig`/`.att`/`.sbom` or `sha256-<hex>` tag).
    Referrer {
        /// Its artifact type, when it declares one.
        artifact_type: Option<String>,
    },
}

/// The repository as a graph: edges from a manifest to what belongs to it.
#[derive(Debug, Default)]
pub(crate) struct ImageGraph {
    /// Every manifest known, by digest.
    pub nodes: BTreeSet<Digest>,
    /// Outgoing edges: parent or subject -> (member, role).
    pub edges: BTreeMap<Digest, Vec<(Digest, ManifestRole)>>,
    /// Manifests something else references.
    pub referenced: BTreeSet<Digest>,
    /// Why the repository cannot be planned, if it cannot.
    pub blocked: Vec<BlockReason>,
}

impl ImageGraph {
    /// Builds the graph of `listed` manifests (the API's listing) and what `structure` says.
    /// Every manifest must have been read: one that could not be, or whose media type is
    /// unknown, blocks the repository.
    pub fn build(listed: &BTreeSet<Digest>, structure: &RepositoryStructure) -> Self {
        let mut graph = ImageGraph {
            blocked: structure.failures.clone(),
            ..ImageGraph::default()
        };
        graph.nodes.extend(listed.iter().cloned());
        graph.nodes.extend(structure.manifests.keys().cloned());
        graph.nodes.extend(structure.tags.values().cloned());
        let tags_of = |index: &Digest| -> Vec<String> {
            let mut tags: Vec<String> = (structure.tags.iter())
                .filter(|(_, d)| *d == index)
                .map(|(t, _)| t.clone())
                .collect();
            tags.sort();
            tags
        };
        // The index that names a child, for a child the registry does not have.
        let parent_of = |child: &Digest| -> Option<&Digest> {
            structure.manifests.iter().find_map(|(d, m)| {
                let m = m.as_ref().ok()?;
                m.children
                    .iter()
                    .any(|c| c.digest == child.as_str())
                    .then_some(d)
            })
        };
        for digest in &graph.nodes {
            let reason = match structure.manifests.get(digest) {
                // When a whole read failed (the registry unreachable), that failure says it;
                // the manifests it left unread are not each another reason.
                None if !structure.failures.is_empty() => continue,
                None => BlockReason::ManifestUnreadable {
                    digest: digest.clone(),
                    error: "not read from the registry".into(),
                },
                Some(Err(ReadFailure::Failed(why))) => BlockReason::ManifestUnreadable {
                    digest: digest.clone(),
                    error: why.clone(),
                },
                Some(Err(ReadFailure::NotFound)) if listed.contains(digest) => {
                    BlockReason::NotInRegistry {
                        digest: digest.clone(),
                    }
                }
                Some(Err(ReadFailure::NotFound)) => match parent_of(digest) {
                    Some(index) => BlockReason::MissingChild {
                        index: index.clone(),
                        tags: tags_of(index),
                        child: digest.clone(),
                    },
                    None => BlockReason::MissingReferrer {
                        digest: digest.clone(),
                    },
                },
                Some(Ok(_)) => continue,
            };
            graph.blocked.push(reason);
        }
        let mut edges: Vec<(Digest, Digest, ManifestRole)> = Vec::new();
        for (digest, read) in &structure.manifests {
            let Ok(m) = read else { continue };
            if m.kind == ManifestKind::Index {
                for child in &m.children {
                    let Ok(child_digest) = Digest::new(child.digest.clone()) else {
                        continue;
                    };
                    let role = if is_attestation(child) {
                        ManifestRole::Attestation
                    } else {
                        ManifestRole::Platform {
                            platform: child.platform.as_ref().map(ToString::to_string),
                        }
                    };
                    if !graph.nodes.contains(&child_digest) {
                        // A child the registry does not have: the image is already broken;
                        // nothing here makes it worse, but say so.
                        graph.blocked.push(BlockReason::MissingChild {
                            index: digest.clone(),
                            tags: tags_of(digest),
                            child: child_digest,
                        });
                        continue;
                    }
                    edges.push((digest.clone(), child_digest, role));
                }
            }
            if let Some(subject) = &m.subject {
                edges.push((subject.clone(), digest.clone(), referrer(m)));
            }
        }
        for (subject, referrers) in &structure.referrers {
            for r in referrers {
                let role = match structure.manifests.get(r) {
                    Some(Ok(m)) => referrer(m),
                    _ => ManifestRole::Referrer {
                        artifact_type: None,
                    },
                };
                edges.push((subject.clone(), r.clone(), role));
            }
        }
        for (tag, digest) in &structure.tags {
            if let Some(subject) = tag_schema_subject(tag) {
                let role = match structure.manifests.get(digest) {
                    Some(Ok(m)) => referrer(m),
                    _ => ManifestRole::Referrer {
                        artifact_type: None,
                    },
                };
                edges.push((subject, digest.clone(), role));
            }
        }
        for (from, to, role) in edges {
            // An edge from a subject that is not here (a signature of a deleted image) does
            // not hold its target: the target is then an image of its own.
            if from == to || !graph.nodes.contains(&from) {
                continue;
            }
            let out = graph.edges.entry(from).or_default();
            if !out.iter().any(|(d, _)| *d == to) {
                out.push((to.clone(), role));
                graph.referenced.insert(to);
            }
        }
        graph.blocked.sort_by_key(ToString::to_string);
        graph.blocked.dedup();
        graph
    }

    /// The images, in digest order: manifests nothing else references, and every manifest
    /// with a tag of its own (a tagged platform manifest is an image too, so that deleting
    /// its index never takes it; tag-schema tags of referrers do not count).
    pub fn images(&self, tags: &BTreeMap<Digest, Vec<String>>) -> Vec<Digest> {
        self.nodes
            .iter()
            .filter(|d| {
                !self.referenced.contains(*d)
                    || tags
                        .get(*d)
                        .is_some_and(|t| t.iter().any(|t| tag_schema_subject(t).is_none()))
            })
            .cloned()
            .collect()
    }

    /// An image's closure, the image first, then every member after all of its parents in
    /// the closure (breadth-first where that allows), with each member's role.
    pub fn closure(&self, image: &Digest) -> Vec<(Digest, ManifestRole)> {
        let mut seen = BTreeSet::from([image.clone()]);
        let mut found = vec![(image.clone(), ManifestRole::Image)];
        let mut queue = VecDeque::from([image.clone()]);
        while let Some(node) = queue.pop_front() {
            for (member, role) in self.edges.get(&node).into_iter().flatten() {
                if seen.insert(member.clone()) {
                    found.push((member.clone(), role.clone()));
                    queue.push_back(member.clone());
                }
            }
        }
        // Breadth-first alone can reach a member before one of its parents (a nested index
        // on a longer path, a referrer that is also a sibling): order topologically, ties in
        // the order found.
        let at: BTreeMap<&Digest, usize> =
            found.iter().enumerate().map(|(i, (d, _))| (d, i)).collect();
        let mut parents = vec![0usize; found.len()];
        for (from, _) in &found {
            for (to, _) in self.edges.get(from).into_iter().flatten() {
                if let Some(&i) = at.get(to).filter(|&&i| i > 0) {
                    parents[i] += 1;
                }
            }
        }
        let mut ready = BTreeSet::from([0]);
        let mut order = Vec::with_capacity(found.len());
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for (to, _) in self.edges.get(&found[i].0).into_iter().flatten() {
                if let Some(&j) = at.get(to).filter(|&&j| j > 0) {
                    parents[j] -= 1;
                    if parents[j] == 0 {
                        ready.insert(j);
                    }
                }
            }
        }
        // Members of a cycle (impossible with content addressing) follow in the order found.
        let placed: BTreeSet<usize> = order.iter().copied().collect();
        order.extend((0..found.len()).filter(|i| !placed.contains(i)));
        order.into_iter().map(|i| found[i].clone()).collect()
    }
}

fn referrer(m: &ManifestStructure) -> ManifestRole {
    ManifestRole::Referrer {
        artifact_type: m.artifact_type.clone(),
    }
}

/// The subject a tag-schema tag names: `sha256-<hex>` (a referrers index) or
/// `sha256-<hex>.sig`/`.att`/`.sbom` (cosign).
pub(crate) fn tag_schema_subject(tag: &str) -> Option<Digest> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = rest
        .strip_suffix(".sig")
        .or_else(|| rest.strip_suffix(".att"))
        .or_else(|| rest.strip_suffix(".sbom"))
        .unwrap_or(rest);
    Digest::new(format!("sha256:{hex}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::registry::{Descriptor, OCI_INDEX, OCI_MANIFEST};

    fn digest(n: u8) -> Digest {
        Digest::new(format!("sha256:{}", format!("{n:02x}").repeat(32))).unwrap()
    }

    fn index(children: &[u8]) -> Result<ManifestStructure, ReadFailure> {
        Ok(ManifestStructure {
            media_type: OCI_INDEX.into(),
            kind: ManifestKind::Index,
            children: children
                .iter()
                .map(|c| Descriptor {
                    media_type: OCI_MANIFEST.into(),
                    digest: digest(*c).to_string(),
                    size: 1,
                    platform: None,
                    artifact_type: None,
                    annotations: BTreeMap::new(),
                })
                .collect(),
            subject: None,
            artifact_type: None,
        })
    }

    #[test]
    fn a_closure_lists_every_member_after_all_its_parents() {
        // 1 -> 2 -> 3 -> 4 -> 9 and 1 -> 9: breadth-first alone reaches 9 before 4.
        let mut structure = RepositoryStructure::default();
        for (n, children) in [(1, &[2, 9][..]), (2, &[3]), (3, &[4]), (4, &[9]), (9, &[])] {
            structure.manifests.insert(digest(n), index(children));
        }
        let graph = ImageGraph::build(&BTreeSet::new(), &structure);
        assert!(graph.blocked.is_empty(), "{:?}", graph.blocked);
        assert_eq!(graph.images(&BTreeMap::new()), [digest(1)]);
        let order: Vec<Digest> = graph
            .closure(&digest(1))
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        assert_eq!(order, [1, 2, 3, 4, 9].map(digest));
        // A member's closure holds only what is below it.
        let order: Vec<Digest> = graph
            .closure(&digest(2))
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        assert_eq!(order, [2, 3, 4, 9].map(digest));
    }

    #[test]
    fn a_missing_child_names_the_index_that_lists_it_and_its_tags() {
        let mut structure = RepositoryStructure::default();
        structure.manifests.insert(digest(1), index(&[2]));
        structure.manifests.insert(digest(3), index(&[4]));
        structure.manifests.insert(digest(2), index(&[]));
        structure
            .manifests
            .insert(digest(4), Err(ReadFailure::NotFound));
        structure.tags.insert("b".into(), digest(3));
        structure.tags.insert("a".into(), digest(3));
        structure.tags.insert("other".into(), digest(1));
        let graph = ImageGraph::build(&BTreeSet::from([digest(1), digest(3)]), &structure);
        assert_eq!(
            graph.blocked,
            [BlockReason::MissingChild {
                index: digest(3),
                tags: vec!["a".into(), "b".into()],
                child: digest(4),
            }]
        );
        // Listed by the API but not in the registry; a referrer the registry named but lacks.
        structure
            .manifests
            .insert(digest(4), Err(ReadFailure::Failed("500".into())));
        structure
            .manifests
            .insert(digest(5), Err(ReadFailure::NotFound));
        structure
            .manifests
            .insert(digest(6), Err(ReadFailure::NotFound));
        let graph = ImageGraph::build(&BTreeSet::from([digest(5)]), &structure);
        let text: Vec<String> = graph.blocked.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                format!("{}: 500", digest(4)),
                format!(
                    "{} is listed by the API but unknown to the registry",
                    digest(5)
                ),
                format!(
                    "the registry names a referrer it does not have: {}",
                    digest(6)
                ),
            ]
        );
        assert_eq!(
            ReadFailure::NotFound.to_string(),
            "the registry does not have it"
        );
    }

    #[test]
    fn tag_schema_tags_name_their_subject() {
        let hex = "a".repeat(64);
        for tag in [
            format!("sha256-{hex}"),
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
            format!("sha256-{hex}.sbom"),
        ] {
            assert_eq!(
                tag_schema_subject(&tag).map(|d| d.to_string()),
                Some(format!("sha256:{hex}")),
                "{tag}"
            );
        }
        assert_eq!(tag_schema_subject("latest"), None);
        assert_eq!(tag_schema_subject("sha256-abc.sig"), None);
        assert_eq!(tag_schema_subject(&format!("sha256-{hex}.txt")), None);
    }
}
