//! The way back after a prune: a manifest delete is final, but DigitalOcean frees nothing until
//! a garbage collection. Until then every blob of a deleted image is still stored, and pushing
//! the same manifest bytes again restores the image exactly, digests and all.
//!
//! - **The journal** ([`Journal`]): [`ApplyPrune::journal`](crate::prune::ApplyPrune::journal)
//!   records each manifest (its exact bytes, media type, repository, tags and image) before
//!   its delete is sent, on disk (`fsync`ed) first: nothing is deleted that is not recorded.
//!   A garbage collection started after the deletions is recorded too.
//! - **Restore** ([`RestoreExt::restore`]): reads a [`JournalFile`] back and pushes each image
//!   again, members before the index that lists them, then the tags, with read-write registry
//!   credentials of short expiry kept in memory only. Each blob is asked for first: an image
//!   whose blobs a garbage collection took is reported lost, by name, and nothing of it is
//!   pushed. What is there already is skipped: a restore can be run again.
//!
//! The limits: the way back lasts until the next garbage collection that frees the blobs;
//! tags pushed since the prune are left alone (the image comes back without them); a
//! restored manifest is listed as updated at the time of the restore.
//!
//! ```no_run
//! use docr::prelude::*;
//! use docr::undo::{Journal, JournalFile};
//! use std::path::Path;
//!
//! # async fn run(client: Client, plan: docr::prune::Plan) -> Result<(), docr::Error> {
//! let journal = Journal::create(Path::new("prune.jsonl"), &plan.registry)?;
//! let applied = client.apply_prune(&plan).journal(journal).send().await?;
//! println!("deleted {}", applied.deleted());
//!
//! // Later, before a garbage collection:
//! let journal = JournalFile::read(Path::new("prune.jsonl"))?;
//! let restored = client.restore(&journal).send().await?;
//! for image in restored.images.iter().filter(|i| !i.is_back()) {
//!     eprintln!("{}: {:?}", image.name(), image.outcome);
//! }
//! # Ok(()) }
//! ```

mod journal;
mod journal_file;
mod recorded;
mod report;
mod restore;

pub use journal::{JOURNAL_FORMAT_VERSION, Journal, JournaledCollection, JournaledManifest};
pub use journal_file::JournalFile;
pub use report::{Missing, MovedTag, RestoreOutcome, RestoreReport, RestoredImage};
pub use restore::{DEFAULT_RESTORE_CONCURRENCY, RestoreJournal};

use crate::Client;

/// Restoring what an undo journal recorded, as a method of [`Client`].
pub trait RestoreExt {
    /// Pushes back what `journal` recorded, in the journal's registry; end with
    /// [`RestoreJournal::send`].
    fn restore(&self, journal: &JournalFile) -> RestoreJournal;
}

impl RestoreExt for Client {
    fn restore(&self, journal: &JournalFile) -> RestoreJournal {
        RestoreJournal::new(self.clone(), journal.clone())
    }
}
