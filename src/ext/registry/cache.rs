//! Manifests kept on disk between runs, by digest: a manifest is immutable (its digest is the
//! hash of its bytes), so one read once need never be read again.
//!
//! Each entry is a file `<dir>/<algorithm>/<hex>` holding the manifest's bytes as the registry
//! served them. An entry is checked against its digest whenever it is read: one that does not
//! match (corrupt, truncated, edited) is removed and read again from the registry, never
//! trusted. Entries are written to a temporary file in the same directory and renamed into
//! place, so concurrent runs sharing a directory never see half an entry. The directory is
//! bounded: past its bound, the entries least recently used (by modification time, touched on
//! each read) are removed.

use crate::ext::names::Digest;
use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The size a [`ManifestCache`] keeps to, by default: tens of thousands of manifests.
pub const DEFAULT_MANIFEST_CACHE_BYTES: u64 = 256 << 20;
/// What eviction brings the cache down to, as a share of its bound: room for the next writes
/// without a scan each.
const EVICT_TO: f64 = 0.9;
/// A temporary file older than this was left by a run that stopped mid-write.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// Manifest bytes kept on disk by digest, shared by runs; cheap to clone (clones share their
/// bookkeeping). Give it to a reader with
/// [`RegistryReader::with_cache`](super::RegistryReader::with_cache), or to a plan or an apply.
///
/// Only `sha256` digests are kept (the only ones checked when read). Failing to read or write
/// an entry is never an error: the manifest is then read from the registry.
///
/// ```no_run
/// use docr::registry::ManifestCache;
///
/// # fn run() -> std::io::Result<()> {
/// if let Some(dir) = ManifestCache::default_dir() {
///     let cache = ManifestCache::open(dir)?.max_bytes(64 << 20);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ManifestCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_bytes: AtomicU64,
    /// The entries' total size, as this process knows it (other runs write too: eviction
    /// counts again).
    size: AtomicU64,
}

impl ManifestCache {
    /// Where the `docr` command keeps its cache: `$XDG_CACHE_HOME/docr/manifests`, else
    /// `$HOME/.cache/docr/manifests`; `None` when neither is set (as an absolute path).
    pub fn default_dir() -> Option<PathBuf> {
        let absolute = |var: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
        };
        let base =
            absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")))?;
        Some(base.join("docr").join("manifests"))
    }

    /// The cache in `dir`, created if missing, bounded by [`DEFAULT_MANIFEST_CACHE_BYTES`].
    /// Errors when the directory cannot be created or listed.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        let sha256 = dir.join("sha256");
        fs::create_dir_all(&sha256).map_err(|e| context(e, "creating", &sha256))?;
        let size = entries(&sha256)
            .map_err(|e| context(e, "listing", &sha256))?
            .iter()
            .map(|e| e.len)
            .sum();
        Ok(Self {
            inner: Arc::new(Inner {
                dir,
                max_bytes: AtomicU64::new(DEFAULT_MANIFEST_CACHE_BYTES),
                size: AtomicU64::new(size),
            }),
        })
    }

    /// Bounds the cache to `max_bytes` (entries least recently used are removed past it).
    pub fn max_bytes(self, max_bytes: u64) -> Self {
        self.inner.max_bytes.store(max_bytes, Ordering::Relaxed);
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A manifest's bytes, when kept and still matching `digest`; an entry that does not match
    /// is removed.
    pub fn get(&self, digest: &Digest) -> Option<Bytes> {
        let path = self.path(digest)?;
        let bytes = fs::read(&path).ok()?;
        if hex_sha256(&bytes) != hex(digest) {
            tracing::warn!(%digest, path = %path.display(), "a manifest cache entry does not match its digest: removed, read again");
            self.forget(&path, bytes.len() as u64);
            return None;
        }
        // Recently used: evicted last. Best effort.
        if let Ok(file) = fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
        }
        Some(Bytes::from(bytes))
    }

    /// Whether an entry for `digest` exists (not checked: [`get`](Self::get) checks).
    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_some_and(|p| p.is_file())
    }

    /// Keeps `bytes` as the manifest `digest`, when they hash to it. Written whole or not at
    /// all; a failure is traced, not returned (the cache only saves reads).
    pub fn put(&self, digest: &Digest, bytes: &[u8]) {
        let Some(path) = self.path(digest) else {
            return;
        };
        if hex_sha256(bytes) != hex(digest) || path.is_file() {
            return;
        }
        let written = path
            .parent()
            .ok_or_else(|| io::Error::other("an entry has no directory"))
            .and_then(tempfile::NamedTempFile::new_in)
            .and_then(|mut file| {
                file.write_all(bytes)?;
                file.persist(&path).map_err(|e| e.error)?;
                Ok(())
            });
        match written {
            Ok(()) => {
                let size = self
                    .inner
                    .size
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed)
                    + bytes.len() as u64;
                if size > self.inner.max_bytes.load(Ordering::Relaxed) {
                    self.evict();
                }
            }
            Err(e) => tracing::warn!(%digest, error = %e, "a manifest could not be cached"),
        }
    }

    /// Removes the least recently used entries until the cache is within its bound (with
    /// room to spare), and temporary files left by runs that stopped mid-write.
    fn evict(&self) {
        let sha256 = self.inner.dir.join("sha256");
        let Ok(mut all) = entries(&sha256) else {
            return;
        };
        let stale = SystemTime::now() - STALE_TEMPORARY;
        all.retain(|e| {
            if e.temporary {
                if e.modified < stale {
                    let _ = fs::remove_file(&e.path);
                }
                return false;
            }
            true
        });
        let mut size: u64 = all.iter().map(|e| e.len).sum();
        let target = (self.inner.max_bytes.load(Ordering::Relaxed) as f64 * EVICT_TO) as u64;
        all.sort_by_key(|e| e.modified);
        for entry in all {
            if size <= target {
                break;
            }
            if fs::remove_file(&entry.path).is_ok() {
                size = size.saturating_sub(entry.len);
            }
        }
        self.inner.size.store(size, Ordering::Relaxed);
    }

    fn forget(&self, path: &Path, len: u64) {
        if fs::remove_file(path).is_ok() {
            let _ = self
                .inner
                .size
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                    Some(s.saturating_sub(len))
                });
        }
    }

    /// An entry's path; `None` for a digest that is not `sha256`.
    fn path(&self, digest: &Digest) -> Option<PathBuf> {
        let hex = digest.as_ref().strip_prefix("sha256:")?;
        Some(self.inner.dir.join("sha256").join(hex))
    }
}

/// A file in the cache's directory.
struct Entry {
    path: PathBuf,
    len: u64,
    modified: SystemTime,
    temporary: bool,
}

fn entries(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut all = Vec::new();
    for entry in fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        all.push(Entry {
            temporary: entry.file_name().to_string_lossy().starts_with('.'),
            path: entry.path(),
            len: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    Ok(all)
}

fn hex(digest: &Digest) -> &str {
    digest.as_ref().strip_prefix("sha256:").unwrap_or_default()
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn context(e: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{doing} the manifest cache {}: {e}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::registry::sha256_digest;

    fn cache() -> (tempfile::TempDir, ManifestCache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::open(dir.path().join("manifests")).unwrap();
        (dir, cache)
    }

    #[test]
    fn an_entry_reads_back_only_while_it_matches_its_digest() {
        let (_dir, cache) = cache();
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = sha256_digest(bytes);
        assert_eq!(cache.get(&digest), None);
        cache.put(&digest, bytes);
        assert_eq!(cache.get(&digest).as_deref(), Some(&bytes[..]));
        // Truncated: removed, not trusted.
        let path = cache.path(&digest).unwrap();
        fs::write(&path, &bytes[..5]).unwrap();
        assert_eq!(cache.get(&digest), None);
        assert!(!path.exists());
        // Bytes that are not the digest's are not kept.
        cache.put(&digest, b"other");
        assert!(!cache.contains(&digest));
    }

    #[test]
    fn past_its_bound_the_least_recently_used_entries_go() {
        let (_dir, cache) = cache();
        let cache = cache.max_bytes(100);
        let old = SystemTime::now() - Duration::from_secs(60);
        let digests: Vec<Digest> = (0..6)
            .map(|i| {
                let bytes = format!("{{\"n\":{i:020}}}");
                let digest = sha256_digest(bytes.as_bytes());
                cache.put(&digest, bytes.as_bytes());
                let file = fs::File::options()
                    .append(true)
                    .open(cache.path(&digest).unwrap())
                    .unwrap();
                file.set_modified(old + Duration::from_secs(i)).unwrap();
                digest
            })
            .collect();
        // 26 bytes an entry: the fourth write passed 100 and left three; then 5 and 6.
        assert!(!cache.contains(&digests[0]));
        assert!(cache.contains(&digests[5]) && cache.contains(&digests[4]));
        let kept: u64 = entries(&cache.dir().join("sha256"))
            .unwrap()
            .iter()
            .map(|e| e.len)
            .sum();
        assert!(kept <= 100, "{kept} bytes kept");
    }

    #[test]
    fn the_default_directory_follows_xdg() {
        // Read only: the variables are the test process's own.
        if let Some(dir) = ManifestCache::default_dir() {
            assert!(dir.ends_with("docr/manifests"));
        }
    }
}
