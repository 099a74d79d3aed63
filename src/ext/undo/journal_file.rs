//! An undo journal read back: its header checked (a docr journal, of this format version),
//! every record's bytes checked against its digest, a last line cut short ignored and named.

use super::journal::{
    FORMAT, Header, JOURNAL_FORMAT_VERSION, JournaledCollection, JournaledManifest, Record,
};
use crate::ext::error::Error;
use crate::ext::names::RegistryName;
use crate::ext::registry::sha256_digest;
use chrono::{DateTime, Utc};
use std::fs;
use std::path::Path;

/// A journal read back: its registry, the manifests it recorded (in order) and the garbage
/// collections started after them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JournalFile {
    /// The registry its manifests were deleted from.
    pub registry: RegistryName,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Every manifest recorded, in the order recorded.
    pub manifests: Vec<JournaledManifest>,
    /// Every garbage collection recorded.
    pub garbage_collections: Vec<JournaledCollection>,
    /// The line number (from 1) of a last line cut short, ignored: a run stopped while
    /// writing it, so the delete it was to record was never sent.
    pub torn_line: Option<usize>,
}

impl JournalFile {
    /// Reads the journal at `path`. A file that cannot be read is [`Error::Journal`]; one that
    /// is not a journal of [`JOURNAL_FORMAT_VERSION`] is [`Error::InvalidInput`], saying why
    /// and naming the file.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = fs::read(path).map_err(|source| Error::Journal {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&bytes).map_err(|e| match e {
            Error::InvalidInput(why) => Error::InvalidInput(format!("{}: {why}", path.display())),
            other => other,
        })
    }

    /// Reads a journal's bytes (see [`read`](Self::read)).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let refused = |why: String| Error::InvalidInput(why);
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        // Terminated: the split's last piece is empty. Otherwise it is a line cut short, or
        // one whose newline was lost.
        let unterminated = lines.pop().filter(|last| !last.is_empty());
        let last_number = lines.len() + usize::from(unterminated.is_some());
        let numbered = lines
            .into_iter()
            .chain(unterminated)
            .enumerate()
            .map(|(i, l)| (i + 1, l));
        let mut journal: Option<Self> = None;
        for (number, text) in numbered {
            let torn_allowed = unterminated.is_some() && number == last_number;
            let Some(journal) = journal.as_mut() else {
                journal = Some(header(text)?);
                continue;
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match record(text) {
                Ok(Record::Manifest(m)) => journal.manifests.push(m),
                Ok(Record::GarbageCollection(c)) => journal.garbage_collections.push(c),
                Err(_) if torn_allowed => journal.torn_line = Some(number),
                Err(why) => return Err(refused(format!("line {number}: {why}"))),
            }
        }
        journal.ok_or_else(|| refused("it is empty: not a docr undo journal".into()))
    }
}

fn header(text: &[u8]) -> Result<JournalFile, Error> {
    let refused = |why: String| Error::InvalidInput(why);
    let value: serde_json::Value = serde_json::from_slice(text)
        .map_err(|_| refused("its first line is not JSON: not a docr undo journal".into()))?;
    if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(refused("it is not a docr undo journal".into()));
    }
    match value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(JOURNAL_FORMAT_VERSION) => {}
        Some(v) => {
            return Err(refused(format!(
                "the journal is of format version {v}; this docr reads journals of version \
                 {JOURNAL_FORMAT_VERSION}: restore it with the docr that wrote it"
            )));
        }
        None => return Err(refused("the journal has no format version".into())),
    }
    let header: Header = serde_json::from_value(value)
        .map_err(|e| refused(format!("its header is not a journal's: {e}")))?;
    Ok(JournalFile {
        registry: header.registry,
        created_at: header.created_at,
        manifests: Vec::new(),
        garbage_collections: Vec::new(),
        torn_line: None,
    })
}

/// One record, its manifest's bytes checked against its digest.
fn record(text: &[u8]) -> Result<Record, String> {
    let record: Record =
        serde_json::from_slice(text).map_err(|e| format!("not a journal record: {e}"))?;
    if let Record::Manifest(m) = &record {
        let hashed = sha256_digest(&m.bytes);
        if hashed != m.digest {
            return Err(format!(
                "the bytes recorded for {}@{} hash to {hashed}: the journal is damaged",
                m.repository, m.digest
            ));
        }
    }
    Ok(record)
}

impl JournalFile {
    /// Refuses the journal unless it is for `registry`, saying which it is for.
    pub fn check_registry(&self, registry: &RegistryName) -> Result<(), Error> {
        if self.registry == *registry {
            Ok(())
        } else {
            Err(Error::InvalidInput(format!(
                "the journal is for registry {}, not {registry}",
                self.registry
            )))
        }
    }
}
