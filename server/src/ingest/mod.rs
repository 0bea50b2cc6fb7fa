//! Readers of listening-history files: each turns its format's records into
//! [`ListenEvent`]s, or rejections that say why and where.

pub mod classic_csv;
mod lines;

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::event::{InvalidEvent, ListenEvent};

/// Longest record read as a possible listen; real ones are a few hundred bytes.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most bytes of a rejected record kept for the dead-letter topic.
pub const MAX_DEAD_LETTER_BYTES: usize = 64 * 1024;

/// A value from a file as a rejection reason quotes it: at most 80 characters.
pub(crate) fn quoted_value(raw: &str) -> String {
    app::format::ellipsize(raw, 80)
}

/// One record of an input file, as the producer sees it.
#[derive(Debug)]
pub enum Record {
    Listen {
        /// Line where the record starts (1 is the header).
        line: u64,
        event: ListenEvent,
        /// Hash of every field as written, to recognise exact duplicates.
        fingerprint: u128,
    },
    Rejected {
        line: u64,
        reason: RejectReason,
        /// The record's content, for the dead-letter topic: its first
        /// [`MAX_DEAD_LETTER_BYTES`] bytes.
        raw: Vec<u8>,
    },
}

/// Why a record of an input file cannot be a listen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    #[error("record of {bytes} bytes is over the {MAX_RECORD_BYTES}-byte limit")]
    TooLong { bytes: usize },
    #[error("expected {expected} fields, found {found}")]
    WrongColumnCount { expected: usize, found: usize },
    #[error("{column} is not valid UTF-8")]
    InvalidUtf8 { column: &'static str },
    #[error("unparsable timestamp {0:?} (expected YYYY-MM-DD HH:MM:SS)")]
    BadTimestamp(String),
    #[error("unparsable ms_played {0:?} (expected a whole number)")]
    BadMsPlayed(String),
    #[error("negative ms_played {0}")]
    NegativeMsPlayed(i64),
    #[error("{column} must be TRUE, FALSE or blank, found {value:?}")]
    BadBoolean { column: &'static str, value: String },
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
}

impl RejectReason {
    /// A short stable name of the reason, for counting rejections by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "record_too_long",
            Self::WrongColumnCount { .. } => "wrong_column_count",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::BadTimestamp(_) => "bad_timestamp",
            Self::BadMsPlayed(_) => "bad_ms_played",
            Self::NegativeMsPlayed(_) => "negative_ms_played",
            Self::BadBoolean { .. } => "bad_boolean",
            Self::Invalid(InvalidEvent::MissingTrackUri) => "missing_track_uri",
            Self::Invalid(InvalidEvent::BadTrackUri(_)) => "bad_track_uri",
            Self::Invalid(InvalidEvent::MissingTrackName) => "missing_track_name",
            Self::Invalid(InvalidEvent::MissingArtistName) => "missing_artist_name",
        }
    }
}

/// Why a whole file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a spotify_history.csv file: the header lacks {missing}")]
    NotClassicCsv { missing: String },
    #[error("the file is not readable as CSV: {0}")]
    Unreadable(String),
}

/// The records of a listening-history file, one at a time.
pub type Records = Box<dyn Iterator<Item = Result<Record, IngestError>>>;

/// Opens a listening-history file for streaming.
pub fn open(path: &Path) -> Result<Records, IngestError> {
    read(BufReader::with_capacity(1 << 16, File::open(path)?))
}

/// Streams the records of listening history read from `input`.
pub fn read(input: impl Read + 'static) -> Result<Records, IngestError> {
    Ok(Box::new(classic_csv::ClassicCsvReader::new(input)?))
}

/// Remembers the records already read from one input, so an exact repeat is counted once.
#[derive(Default)]
pub struct Deduplicator {
    seen: HashSet<u128>,
}

impl Deduplicator {
    /// True when a record with this fingerprint was seen before.
    pub fn is_repeat(&mut self, fingerprint: u128) -> bool {
        !self.seen.insert(fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deduplicator_flags_only_the_second_sighting() {
        let mut dedup = Deduplicator::default();
        assert!(!dedup.is_repeat(7));
        assert!(!dedup.is_repeat(8));
        assert!(dedup.is_repeat(7));
    }

    #[test]
    fn reject_reasons_read_as_sentences() {
        assert_eq!(
            RejectReason::NegativeMsPlayed(-3).to_string(),
            "negative ms_played -3"
        );
        assert_eq!(
            RejectReason::Invalid(InvalidEvent::MissingArtistName).to_string(),
            "missing artist name"
        );
    }
}
