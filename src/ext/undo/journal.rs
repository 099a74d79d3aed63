//! The undo journal: a JSON Lines file, one header line, then one record per manifest about to
//! be deleted (and one per garbage collection started), each written and flushed to disk
//! (`fsync`) before the call it records is sent.
//!
//! ```text
//! {"format":"docr-journal","format_version":1,"registry":"acme","created_at":"2025-01-02T03:04:05.678Z"}
//! {"record":"manifest","repository":"app","digest":"sha256:...","media_type":"application/vnd.oci.image.index.v1+json","tags":["1.0"],"image":"sha256:...","recorded_at":"...","bytes":"<base64>"}
//! {"record":"garbage_collection","uuid":"...","gc_type":"unreferenced blobs only","started_at":"..."}
//! ```
//!
//! A record says a delete was about to be sent, not that it was: a run killed between the two
//! leaves a record of a manifest still there, which a restore finds present and skips. A run
//! killed while writing a record leaves a last line cut short, whose delete was never sent:
//! reading ([`JournalFile`](super::JournalFile)) ignores it and says so. Any other line that
//! is not a record is refused.

use crate::ext::error::Error;
use crate::ext::garbage_collection::GcType;
use crate::ext::names::{Digest, RegistryName, RepositoryName};
use crate::ext::registry::sha256_digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The version of the journal format this crate writes and reads: a journal of another version
/// is refused.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;

/// What a journal's header line names itself.
pub(super) const FORMAT: &str = "docr-journal";

/// The header line.
#[derive(Serialize, Deserialize)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) format_version: u32,
    pub(super) registry: RegistryName,
    pub(super) created_at: DateTime<Utc>,
}

/// A line after the header.
#[derive(Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(super) enum Record {
    Manifest(JournaledManifest),
    GarbageCollection(JournaledCollection),
}

/// A manifest as it was just before its delete: everything needed to push it back exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournaledManifest {
    /// Its repository.
    pub repository: RepositoryName,
    /// Its digest: the SHA-256 of [`bytes`](Self::bytes).
    pub digest: Digest,
    /// Its media type, the `Content-Type` it is pushed back with.
    pub media_type: String,
    /// Its tags when it was deleted (deleting a manifest removes them), sorted.
    pub tags: Vec<String>,
    /// The root of the image it was deleted with (itself, for an image's root).
    pub image: Digest,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Its exact bytes, as the registry served them (base64 in the file).
    #[serde(with = "base64_bytes")]
    pub bytes: Bytes,
}

impl JournaledManifest {
    /// The manifest of `bytes` (its digest is their SHA-256) in `repository`, of `media_type`,
    /// tagged `tags`, deleted with the image whose root is `image` (`None`: itself).
    pub fn new(
        repository: RepositoryName,
        media_type: impl Into<String>,
        bytes: impl Into<Bytes>,
        tags: Vec<String>,
        image: Option<Digest>,
    ) -> Self {
        let bytes = bytes.into();
        let digest = sha256_digest(&bytes);
        let mut tags = tags;
        tags.sort();
        tags.dedup();
        Self {
            repository,
            image: image.unwrap_or_else(|| digest.clone()),
            digest,
            media_type: media_type.into(),
            tags,
            recorded_at: Utc::now(),
            bytes,
        }
    }
}

/// A garbage collection started after deletions: it may have freed the blobs a restore needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournaledCollection {
    /// Its UUID.
    pub uuid: String,
    /// Its type, as the API names it (`unreferenced blobs only`, ...).
    pub gc_type: String,
    /// When it was started.
    pub started_at: DateTime<Utc>,
}

impl JournaledCollection {
    /// Collection `uuid` of `gc_type`, started now.
    pub fn new(uuid: impl Into<String>, gc_type: GcType) -> Self {
        Self {
            uuid: uuid.into(),
            gc_type: gc_type.as_str().to_string(),
            started_at: Utc::now(),
        }
    }
}

mod base64_bytes {
    use super::{BASE64, Bytes, Engine};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BASE64
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

/// An undo journal being written: every record is on disk (`fsync`ed) when the call that
/// writes it returns, or that call fails. Cheap to clone (clones share the file).
///
/// Created anew, never over an existing file; readable by its owner only (mode 0600 on Unix).
/// Once a write failed, the file may end in part of a line: every later record is refused,
/// so nothing recorded after it is deleted.
///
/// ```no_run
/// use docr::prelude::*;
/// use docr::undo::Journal;
///
/// # async fn run(client: Client, plan: docr::prune::Plan) -> Result<(), docr::Error> {
/// let dir = Journal::default_dir().expect("XDG_STATE_HOME or HOME is set");
/// let journal = Journal::create_in(&dir, &plan.registry)?;
/// let report = client.apply_prune(&plan).journal(journal.clone()).send().await?;
/// println!("{} deleted; `docr restore {}` puts them back", report.deleted(), journal.path().display());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    registry: RegistryName,
    /// The file, or `None` once a write failed.
    file: Mutex<Option<File>>,
    manifests: AtomicUsize,
    garbage_collections: AtomicUsize,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.inner.path)
            .field("registry", &self.inner.registry)
            .finish()
    }
}

impl Journal {
    /// Where the `docr` command keeps its journals: `$XDG_STATE_HOME/docr/journals`, else
    /// `$HOME/.local/state/docr/journals`; `None` when neither is set (as an absolute path).
    pub fn default_dir() -> Option<PathBuf> {
        let absolute = |var: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let base = absolute("XDG_STATE_HOME")
            .or_else(|| absolute("HOME").map(|h| h.join(".local").join("state")))?;
        Some(base.join("docr").join("journals"))
    }

    /// A new journal for `registry` in `dir` (created if missing), named
    /// `<registry>-<UTC time>.jsonl`.
    pub fn create_in(dir: &Path, registry: &RegistryName) -> Result<Self, Error> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
        Self::create_stamped(dir, registry, &stamp)
    }

    /// [`create_in`](Self::create_in) at the time `stamp`: a journal made in the same
    /// millisecond as another gets a number after it.
    fn create_stamped(dir: &Path, registry: &RegistryName, stamp: &str) -> Result<Self, Error> {
        create_dir(dir).map_err(|source| Error::Journal {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let mut attempt = 0;
        loop {
            let name = match attempt {
                0 => format!("{registry}-{stamp}.jsonl"),
                n => format!("{registry}-{stamp}-{n}.jsonl"),
            };
            match Self::create(dir.join(name), registry) {
                Err(Error::Journal { source, .. })
                    if source.kind() == io::ErrorKind::AlreadyExists && attempt < 100 =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A new journal for `registry` at `path`, which must not exist: its header written and on
    /// disk, its directory entry too. Nothing is left at `path` when this fails.
    pub fn create(path: impl Into<PathBuf>, registry: &RegistryName) -> Result<Self, Error> {
        let path = path.into();
        let failed = |action, source| Error::Journal {
            action,
            path: path.clone(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| failed("create", e))?;
        let header = Header {
            format: FORMAT.to_string(),
            format_version: JOURNAL_FORMAT_VERSION,
            registry: registry.clone(),
            created_at: Utc::now(),
        };
        let written = line(&header).and_then(|l| {
            file.write_all(&l)?;
            file.sync_all()?;
            sync_dir(&path)
        });
        if let Err(e) = written {
            drop(file);
            let _ = fs::remove_file(&path);
            return Err(failed("write", e));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                registry: registry.clone(),
                file: Mutex::new(Some(file)),
                manifests: AtomicUsize::new(0),
                garbage_collections: AtomicUsize::new(0),
            }),
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The registry it is for.
    pub fn registry(&self) -> &RegistryName {
        &self.inner.registry
    }

    /// How many manifests were recorded.
    pub fn manifests(&self) -> usize {
        self.inner.manifests.load(Ordering::Relaxed)
    }

    /// How many garbage collections were recorded.
    pub fn garbage_collections(&self) -> usize {
        self.inner.garbage_collections.load(Ordering::Relaxed)
    }

    /// Records a manifest about to be deleted: on disk when this returns `Ok`. Blocks on the
    /// disk; async code calls it off the runtime's threads.
    pub fn record_manifest(&self, manifest: &JournaledManifest) -> Result<(), Error> {
        if sha256_digest(&manifest.bytes) != manifest.digest {
            return Err(Error::InvalidInput(format!(
                "{}@{}: the bytes given do not hash to its digest; not recorded",
                manifest.repository, manifest.digest
            )));
        }
        self.append(&Record::Manifest(manifest.clone()))?;
        self.inner.manifests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Records a garbage collection started: from it on, blobs the journal's manifests need
    /// may be gone.
    pub fn record_garbage_collection(&self, collection: &JournaledCollection) -> Result<(), Error> {
        self.append(&Record::GarbageCollection(collection.clone()))?;
        self.inner
            .garbage_collections
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Appends one line and flushes it to disk. A failure closes the journal for good: the
    /// file may now end in part of a line, after which no record may follow.
    fn append(&self, record: &Record) -> Result<(), Error> {
        let failed = |source| Error::Journal {
            action: "write",
            path: self.inner.path.clone(),
            source,
        };
        let line = line(record).map_err(failed)?;
        let mut file = self.inner.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(open) = file.as_mut() else {
            return Err(failed(io::Error::other(
                "an earlier write to it failed; nothing more is recorded (or deleted)",
            )));
        };
        let written = open.write_all(&line).and_then(|()| open.sync_data());
        if let Err(e) = written {
            *file = None;
            return Err(failed(e));
        }
        Ok(())
    }
}

fn line<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Flushes the directory entry of a new file to disk (on Unix; elsewhere the file's own flush
/// is what there is).
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::undo::journal_file::JournalFile;

    fn manifest(label: &str) -> JournaledManifest {
        let bytes = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{{"l":"{label}"}}}}"#
        );
        JournaledManifest::new(
            "app".parse().unwrap(),
            "application/vnd.oci.image.manifest.v1+json",
            bytes.into_bytes(),
            vec!["b".into(), "a".into()],
            None,
        )
    }

    fn written(records: &[JournaledManifest]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create_in(dir.path(), &"acme".parse().unwrap()).unwrap();
        for m in records {
            journal.record_manifest(m).unwrap();
        }
        journal
            .record_garbage_collection(&JournaledCollection::new("u-1", GcType::UnreferencedBlobs))
            .unwrap();
        assert_eq!(journal.manifests(), records.len());
        let path = journal.path().to_path_buf();
        (dir, path)
    }

    #[test]
    fn journals_made_in_the_same_millisecond_get_numbers_in_a_private_folder() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state").join("journals");
        let acme = "acme".parse().unwrap();
        let names: Vec<String> = (0..3)
            .map(|_| {
                let journal = Journal::create_stamped(&dir, &acme, "20261207T000000.000Z").unwrap();
                let name = journal.path().file_name().unwrap().to_str().unwrap();
                name.to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "acme-20261207T000000.000Z.jsonl",
                "acme-20261207T000000.000Z-1.jsonl",
                "acme-20261207T000000.000Z-2.jsonl",
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "the folder is the user's alone");
        }
        let journal = Journal::create_stamped(&dir, &acme, "20261207T000001.000Z").unwrap();
        let shown = format!("{journal:?}");
        assert!(shown.contains("acme-20261207T000001.000Z.jsonl") && shown.contains("acme"));
    }

    #[test]
    fn what_is_written_reads_back_in_order() {
        let records = [manifest("1"), manifest("2")];
        let (_dir, path) = written(&records);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("acme-") && name.ends_with(".jsonl"),
            "{name}"
        );
        let read = JournalFile::read(&path).unwrap();
        assert_eq!(read.registry.as_str(), "acme");
        assert_eq!(read.manifests, records);
        assert_eq!(read.manifests[0].tags, ["a", "b"]);
        assert_eq!(read.garbage_collections[0].uuid, "u-1");
        assert_eq!(read.torn_line, None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Never over an existing file.
        let again = Journal::create(&path, &"acme".parse().unwrap()).unwrap_err();
        assert!(
            again
                .to_string()
                .starts_with("cannot create the undo journal"),
            "{again}"
        );
        assert_eq!(JournalFile::read(&path).unwrap().manifests.len(), 2);
    }

    #[test]
    fn a_last_line_cut_short_is_ignored_and_named_any_other_bad_line_refused() {
        let (_dir, path) = written(&[manifest("1"), manifest("2")]);
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Cut inside the second manifest's line: the run stopped while writing it.
        let cut = format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..40]);
        let read = JournalFile::parse(cut.as_bytes()).unwrap();
        assert_eq!(read.manifests.len(), 1);
        assert_eq!(read.torn_line, Some(3));
        // A whole last line without its newline is whole.
        let unterminated = format!("{}\n{}", lines[0], lines[1]);
        let read = JournalFile::parse(unterminated.as_bytes()).unwrap();
        assert_eq!((read.manifests.len(), read.torn_line), (1, None));
        // Damage anywhere else is refused, naming the line.
        let damaged = format!("{}\n{}\n{}\n", lines[0], &lines[1][..40], lines[2]);
        let err = JournalFile::parse(damaged.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2: not a journal record"), "{err}");
        let other = manifest("other");
        let forged = lines[1].replace(
            &BASE64.encode(&manifest("1").bytes),
            &BASE64.encode(&other.bytes),
        );
        let forged = format!("{}\n{forged}\n", lines[0]);
        let err = JournalFile::parse(forged.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("the journal is damaged"), "{err}");
    }

    #[test]
    fn another_format_version_or_another_file_is_refused_saying_which() {
        let (_dir, path) = written(&[manifest("1")]);
        let text = fs::read_to_string(&path).unwrap();
        let newer = text.replacen("\"format_version\":1", "\"format_version\":2", 1);
        let err = JournalFile::parse(newer.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "the journal is of format version 2; this docr reads journals of version 1"
            ),
            "{err}"
        );
        let plan = br#"{"format_version":1,"registry":"acme"}"#;
        let err = JournalFile::parse(plan).unwrap_err().to_string();
        assert_eq!(err, "it is not a docr undo journal");
        let err = JournalFile::parse(b"").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
        let read = JournalFile::read(&path).unwrap();
        assert!(read.check_registry(&"acme".parse().unwrap()).is_ok());
        let err = read
            .check_registry(&"other".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "the journal is for registry acme, not other");
        let missing = path.with_extension("missing");
        let err = JournalFile::read(&missing).unwrap_err().to_string();
        assert!(err.starts_with("cannot read the undo journal"), "{err}");
    }

    #[test]
    fn bytes_that_do_not_hash_to_the_digest_are_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let journal =
            Journal::create(dir.path().join("j.jsonl"), &"acme".parse().unwrap()).unwrap();
        let mut forged = manifest("1");
        forged.bytes = manifest("2").bytes;
        assert!(journal.record_manifest(&forged).is_err());
        assert_eq!(journal.manifests(), 0);
        let read = JournalFile::read(journal.path()).unwrap();
        assert!(read.manifests.is_empty());
    }
}
