//! One import of a person's listening history: the history files found in
//! what they gave (a file, a folder, an export archive), which of them were
//! imported before, every record read and what became of it. The `producer`
//! binary runs it, and so does the Import page ([`crate::page_import`]);
//! Kafka delivery itself lives in [`crate::stream::send`], the registry of
//! imports in [`crate::store::imports`].

mod run;
mod summary;

use std::future::Future;
use std::path::PathBuf;

pub use run::{import, prepare, ImportError, Prepared};
pub use summary::{EarlierImport, FileSummary, ImportSummary, Rejection};

use crate::accounts::PersonId;
use crate::event::ImportId;
use crate::ingest::export::ArchiveLimits;
use crate::ingest::Format;

/// What to import, for whom, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Whose listens these are.
    pub person: PersonId,
    /// A history file, a folder of them, or a Spotify export `.zip`.
    pub path: PathBuf,
    /// Overrides the format told from a single file's content.
    pub format: Option<Format>,
    /// Events per second; 0 sends as fast as the broker takes them.
    pub rate: f64,
    /// Stop after this many records in all.
    pub limit: Option<u64>,
    /// Stream files even when their content was imported before.
    pub force: bool,
    /// What an export archive may hold.
    pub archive_limits: ArchiveLimits,
    /// An import from the page: its listens carry their place in it, so
    /// that it can be resumed exactly (see [`crate::event::ImportPosition`]).
    pub id: Option<ImportId>,
}

/// Remembers which file contents a person imported, so a repeat is refused
/// instead of counted twice.
pub trait ImportRegistry: Sync {
    /// Why the registry could not answer.
    type Error: std::fmt::Display + Send;

    /// The earlier import of content with this hash, if there was one.
    fn earlier_import(
        &self,
        content_hash: u128,
    ) -> impl Future<Output = Result<Option<EarlierImport>, Self::Error>> + Send;

    /// Notes that a file with this content was streamed in full (by the
    /// import from the page `import`, if it was one).
    fn record_import(
        &self,
        content_hash: u128,
        file: &FileSummary,
        import: Option<&ImportId>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Hears how an import goes while it runs (the producer draws its progress
/// bar from it). Called from the thread that reads the files: keep it quick.
pub trait ImportObserver: Send + Sync {
    /// The history files found hold this many bytes in all.
    fn started(&self, _total_bytes: u64) {}
    /// `bytes` more of the input were read.
    fn read_bytes(&self, _bytes: u64) {}
    /// A file's figures so far (every thousand records).
    fn file_progress(&self, _file: &FileSummary) {}
    /// A file was read to its end; its records wait for the broker's acknowledgement.
    fn acknowledging(&self, _file: &FileSummary) {}
    /// The import is over, whatever its outcome.
    fn finished(&self) {}
    /// Whether the import is to stop now (its person deleted their data):
    /// asked before each record.
    fn stopping(&self) -> bool {
        false
    }
}

/// An import nobody watches.
pub struct Unobserved;

impl ImportObserver for Unobserved {}
