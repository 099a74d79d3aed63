//! The journal's images and what each needs, decided without a request: its manifests (its
//! own, the children its indexes list, what refers to them), the order they are pushed in,
//! and, from what the registry has, whether it is lost, or what to push.

use super::journal::JournaledManifest;
use super::journal_file::JournalFile;
use super::report::Missing;
use crate::ext::names::{Digest, RepositoryName};
use crate::ext::registry::{ManifestKind, ManifestStructure};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// A manifest of the journal: its repository and digest.
pub(super) type Key = (RepositoryName, Digest);

/// A recorded manifest and what its bytes reference.
pub(super) struct Entry {
    pub(super) manifest: JournaledManifest,
    pub(super) blobs: Vec<Digest>,
    pub(super) children: Vec<Digest>,
    subject: Option<Digest>,
    /// Why its bytes cannot be pushed as they are (not a manifest this crate reads).
    unreadable: Option<String>,
}

impl Entry {
    fn new(manifest: JournaledManifest) -> Self {
        let mut entry = Self {
            manifest,
            blobs: Vec::new(),
            children: Vec::new(),
            subject: None,
            unreadable: None,
        };
        match references(&entry.manifest) {
            Ok((blobs, children, subject)) => {
                (entry.blobs, entry.children, entry.subject) = (blobs, children, subject)
            }
            Err(why) => entry.unreadable = Some(why),
        }
        entry
    }
}

type References = (Vec<Digest>, Vec<Digest>, Option<Digest>);

/// The blobs (config, layers), children and subject of a recorded manifest.
fn references(manifest: &JournaledManifest) -> Result<References, String> {
    #[derive(serde::Deserialize)]
    struct Blobs {
        #[serde(default)]
        config: Option<Reference>,
        #[serde(default)]
        layers: Vec<Reference>,
    }
    #[derive(serde::Deserialize)]
    struct Reference {
        digest: String,
    }
    let structure = ManifestStructure::parse(Some(&manifest.media_type), &manifest.bytes)?;
    let digest = |d: String| Digest::new(d).map_err(|e| e.to_string());
    let children = (structure.children.into_iter())
        .map(|c| digest(c.digest))
        .collect::<Result<_, _>>()?;
    let blobs = match structure.kind {
        ManifestKind::Index => Vec::new(),
        ManifestKind::Image => {
            let b: Blobs = serde_json::from_slice(&manifest.bytes).map_err(|e| e.to_string())?;
            (b.config.into_iter().chain(b.layers))
                .map(|r| digest(r.digest))
                .collect::<Result<_, _>>()?
        }
    };
    Ok((blobs, children, structure.subject))
}

/// The journal's manifests, once each, and its images.
pub(super) struct Recorded {
    pub(super) entries: BTreeMap<Key, Entry>,
    /// Each image's root and its recorded manifests, in journal order.
    pub(super) images: Vec<(Key, Vec<Key>)>,
    /// Recorded manifests by the subject they refer to.
    referrers: HashMap<Key, Vec<Key>>,
}

impl Recorded {
    pub(super) fn new(file: JournalFile) -> Self {
        let mut entries: BTreeMap<Key, Entry> = BTreeMap::new();
        let mut images: Vec<(Key, Vec<Key>)> = Vec::new();
        let mut image_index: HashMap<Key, usize> = HashMap::new();
        for m in file.manifests {
            let key = (m.repository.clone(), m.digest.clone());
            let root = (m.repository.clone(), m.image.clone());
            if let Some(known) = entries.get_mut(&key) {
                // Recorded twice (two runs' journals joined): one entry, every tag.
                known.manifest.tags.extend(m.tags);
                known.manifest.tags.sort();
                known.manifest.tags.dedup();
                continue;
            }
            entries.insert(key.clone(), Entry::new(m));
            let at = *image_index.entry(root.clone()).or_insert_with(|| {
                images.push((root, Vec::new()));
                images.len() - 1
            });
            images[at].1.push(key);
        }
        let mut referrers: HashMap<Key, Vec<Key>> = HashMap::new();
        for (key, entry) in &entries {
            if let Some(subject) = &entry.subject {
                let subject = (key.0.clone(), subject.clone());
                referrers.entry(subject).or_default().push(key.clone());
            }
        }
        Self {
            entries,
            images,
            referrers,
        }
    }

    /// An image's recorded manifests and every recorded manifest they need or that refers to
    /// them: its indexes' children, their referrers, recursively.
    pub(super) fn closure(&self, own: &[Key]) -> BTreeSet<Key> {
        let mut closure = BTreeSet::new();
        let mut next: VecDeque<Key> = own.iter().cloned().collect();
        while let Some(key) = next.pop_front() {
            if !closure.insert(key.clone()) {
                continue;
            }
            if let Some(entry) = self.entries.get(&key) {
                for child in &entry.children {
                    let child = (key.0.clone(), child.clone());
                    if self.entries.contains_key(&child) {
                        next.push_back(child);
                    }
                }
            }
            next.extend(self.referrers.get(&key).into_iter().flatten().cloned());
        }
        closure
    }

    /// The recorded manifests `key` must follow when pushed: its children and its subject,
    /// where the journal holds them.
    pub(super) fn dependencies(&self, key: &Key) -> Vec<Key> {
        let Some(entry) = self.entries.get(key) else {
            return Vec::new();
        };
        (entry.children.iter().chain(&entry.subject))
            .map(|d| (key.0.clone(), d.clone()))
            .filter(|k| self.entries.contains_key(k))
            .collect()
    }
}

/// What step 3 decided for an image.
pub(super) enum Decision {
    Failed(String),
    Lost(Vec<Missing>),
    /// Its closure's manifests to push.
    Push(BTreeSet<Key>),
}

/// Step 3 for one image.
pub(super) fn decide(
    journal: &Recorded,
    closure: &BTreeSet<Key>,
    there: &HashMap<Key, Result<bool, String>>,
    stored: &HashMap<Key, Result<bool, String>>,
) -> Decision {
    let mut missing = Vec::new();
    let mut push = BTreeSet::new();
    for key in closure {
        let Some(entry) = journal.entries.get(key) else {
            continue;
        };
        match there.get(key) {
            Some(Ok(true)) => continue,
            Some(Ok(false)) => {}
            Some(Err(e)) => return Decision::Failed(format!("checking {}: {e}", key.1)),
            None => return Decision::Failed(format!("{} was not checked", key.1)),
        }
        if let Some(why) = &entry.unreadable {
            return Decision::Failed(format!("{} cannot be pushed: {why}", key.1));
        }
        for blob in &entry.blobs {
            match stored.get(&(key.0.clone(), blob.clone())) {
                Some(Ok(true)) => {}
                Some(Ok(false)) => missing.push(Missing::Blob {
                    manifest: key.1.clone(),
                    blob: blob.clone(),
                }),
                Some(Err(e)) => return Decision::Failed(format!("checking blob {blob}: {e}")),
                None => return Decision::Failed(format!("blob {blob} was not checked")),
            }
        }
        for child in &entry.children {
            let child_key = (key.0.clone(), child.clone());
            if journal.entries.contains_key(&child_key) {
                continue;
            }
            match there.get(&child_key) {
                Some(Ok(true)) => {}
                Some(Ok(false)) | None => missing.push(Missing::Manifest {
                    index: key.1.clone(),
                    child: child.clone(),
                }),
                Some(Err(e)) => return Decision::Failed(format!("checking {child}: {e}")),
            }
        }
        push.insert(key.clone());
    }
    if missing.is_empty() {
        Decision::Push(push)
    } else {
        Decision::Lost(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::registry::{OCI_INDEX, OCI_MANIFEST};

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn image(label: &str, blobs: &[u8]) -> JournaledManifest {
        let layers: Vec<String> = blobs
            .iter()
            .map(|b| format!(r#"{{"mediaType":"l","digest":"{}","size":1}}"#, digest(*b)))
            .collect();
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"c","digest":"{}","size":1}},"layers":[{}],"annotations":{{"l":"{label}"}}}}"#,
            digest(0),
            layers.join(",")
        );
        JournaledManifest::new(
            "app".parse().unwrap(),
            OCI_MANIFEST,
            bytes.into_bytes(),
            vec![],
            None,
        )
    }

    fn index(children: &[&JournaledManifest], extra: &[u8]) -> JournaledManifest {
        let mut listed: Vec<String> = children
            .iter()
            .map(|c| {
                format!(
                    r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1}}"#,
                    c.digest
                )
            })
            .collect();
        listed.extend(extra.iter().map(|n| {
            format!(
                r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1}}"#,
                digest(*n)
            )
        }));
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
            listed.join(",")
        );
        JournaledManifest::new(
            "app".parse().unwrap(),
            OCI_INDEX,
            bytes.into_bytes(),
            vec!["1.0".into()],
            None,
        )
    }

    fn member(m: JournaledManifest, of: &JournaledManifest) -> JournaledManifest {
        JournaledManifest {
            image: of.digest.clone(),
            ..m
        }
    }

    fn key(m: &JournaledManifest) -> Key {
        (m.repository.clone(), m.digest.clone())
    }

    fn journal(manifests: Vec<JournaledManifest>) -> Recorded {
        Recorded::new(JournalFile {
            registry: "acme".parse().unwrap(),
            created_at: chrono::Utc::now(),
            manifests,
            garbage_collections: Vec::new(),
            torn_line: None,
        })
    }

    fn blob(n: u8) -> Key {
        ("app".parse().unwrap(), Digest::new(digest(n)).unwrap())
    }

    #[test]
    fn an_index_follows_its_children_and_is_lost_with_any_of_their_blobs() {
        let (a, b) = (image("a", &[1]), image("b", &[2]));
        let top = index(&[&a, &b], &[]);
        let j = journal(vec![
            top.clone(),
            member(a.clone(), &top),
            member(b.clone(), &top),
        ]);
        assert_eq!(j.images.len(), 1);
        let closure = j.closure(&j.images[0].1);
        assert_eq!(closure.len(), 3);
        let mut deps = j.dependencies(&key(&top));
        deps.sort();
        let mut children = vec![key(&a), key(&b)];
        children.sort();
        assert_eq!(deps, children);

        let there: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(false))).collect();
        let mut stored: HashMap<Key, Result<bool, String>> =
            [0, 1, 2].into_iter().map(|n| (blob(n), Ok(true))).collect();
        assert!(matches!(decide(&j, &closure, &there, &stored), Decision::Push(p) if p.len() == 3));
        stored.insert(blob(2), Ok(false));
        match decide(&j, &closure, &there, &stored) {
            Decision::Lost(missing) => assert_eq!(
                missing,
                [Missing::Blob {
                    manifest: b.digest.clone(),
                    blob: Digest::new(digest(2)).unwrap()
                }]
            ),
            _ => panic!("not lost"),
        }
    }

    #[test]
    fn a_child_neither_recorded_nor_there_loses_the_index_and_one_there_is_enough() {
        let a = image("a", &[1]);
        let top = index(&[&a], &[9]);
        let j = journal(vec![top.clone(), member(a.clone(), &top)]);
        let closure = j.closure(&j.images[0].1);
        let mut there: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(false))).collect();
        let stored: HashMap<Key, Result<bool, String>> =
            [0, 1].into_iter().map(|n| (blob(n), Ok(true))).collect();
        there.insert(blob(9), Ok(false));
        assert!(matches!(
            decide(&j, &closure, &there, &stored),
            Decision::Lost(m) if m == [Missing::Manifest { index: top.digest.clone(), child: Digest::new(digest(9)).unwrap() }]
        ));
        there.insert(blob(9), Ok(true));
        assert!(matches!(
            decide(&j, &closure, &there, &stored),
            Decision::Push(_)
        ));
        // All there already: nothing to push.
        let all: HashMap<Key, Result<bool, String>> =
            closure.iter().map(|k| (k.clone(), Ok(true))).collect();
        assert!(
            matches!(decide(&j, &closure, &all, &HashMap::new()), Decision::Push(p) if p.is_empty())
        );
    }

    #[test]
    fn a_platform_shared_by_two_images_is_in_both_closures() {
        let (shared, own) = (image("shared", &[1]), image("own", &[2]));
        let release = index(&[&shared, &own], &[]);
        let candidate = index(&[&shared], &[3]);
        let j = journal(vec![
            release.clone(),
            member(shared.clone(), &release),
            member(own.clone(), &release),
            candidate.clone(),
        ]);
        assert_eq!(j.images.len(), 2);
        let second = j.closure(&j.images[1].1);
        assert!(second.contains(&key(&shared)) && second.contains(&key(&candidate)));
        assert!(!second.contains(&key(&own)));
    }
}
