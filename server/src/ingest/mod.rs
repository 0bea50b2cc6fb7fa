//! Readers of listening-history files: each turns its format's records into
//! [`ListenEvent`]s, records that are not music, or rejections that say why
//! and where. [`export`] finds the history files of a Spotify export.

pub mod account_data;
pub mod classic_csv;
pub mod export;
pub mod extended_history;
mod json_array;
mod lines;

use std::collections::HashSet;
use std::io::Read;
use std::sync::{mpsc, LazyLock};

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, Utc};

use crate::event::{quoted_value, InvalidEvent, ListenEvent};

/// Longest record read as a possible listen; real ones are a few hundred bytes.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most bytes of a rejected record kept for the dead-letter topic.
pub const MAX_DEAD_LETTER_BYTES: usize = 64 * 1024;

/// The formats of listening history the producer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    /// The classic `spotify_history.csv` dataset.
    Csv,
    /// Spotify's extended streaming history (`Streaming_History_Audio_*.json`, `endsong_*.json`).
    Extended,
    /// Spotify's account data (`StreamingHistory_music_*.json`, `StreamingHistory*.json`).
    Account,
    /// Account-data podcast history (`StreamingHistory_podcast_*.json`): not music.
    AccountPodcasts,
}

impl Format {
    /// What a record's position counts: lines of a CSV file, records of a JSON array.
    pub fn position_unit(self) -> PositionUnit {
        match self {
            Self::Csv => PositionUnit::Line,
            _ => PositionUnit::Record,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Csv => "classic CSV",
            Self::Extended => "extended streaming history",
            Self::Account => "account data",
            Self::AccountPodcasts => "account data, podcasts",
        }
    }

    /// Tells the format from a file's first bytes: a JSON array is one of
    /// Spotify's exports, told apart by the field names of its first record.
    pub fn sniff(head: &[u8]) -> Self {
        let text = String::from_utf8_lossy(head);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if !text.starts_with('[') {
            return Self::Csv;
        }
        if text.contains("\"podcastName\"") {
            Self::AccountPodcasts
        } else if text.contains("\"msPlayed\"") || text.contains("\"endTime\"") {
            Self::Account
        } else {
            Self::Extended
        }
    }

    /// The format of a file of a Spotify export, from its name; `None` for
    /// everything that is not listening history (videos, PDFs, playlists…).
    pub fn of_export_file(name: &str) -> Option<Self> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let stem = base.strip_suffix(".json");
        let csv = base.to_ascii_lowercase().ends_with(".csv");
        match stem {
            _ if csv => Some(Self::Csv),
            None => None,
            Some(stem) if stem.starts_with("Streaming_History_Audio") => Some(Self::Extended),
            Some(stem) if stem == "endsong" || stem.starts_with("endsong_") => Some(Self::Extended),
            Some(stem) if stem.starts_with("StreamingHistory_music") => Some(Self::Account),
            Some(stem) if stem.starts_with("StreamingHistory_podcast") => {
                Some(Self::AccountPodcasts)
            }
            Some(stem) => stem
                .strip_prefix("StreamingHistory")
                .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                .map(|_| Self::Account),
        }
    }
}

/// What the positions of a file's records count, as reports name them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PositionUnit {
    /// Lines of a CSV file (1 is the header).
    Line,
    /// Records of a JSON array, from 1.
    #[default]
    Record,
}

impl PositionUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Line => "line",
            Self::Record => "record",
        }
    }
}

impl std::fmt::Display for PositionUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record of an input file, as the producer sees it. Its `position` is
/// a line for CSV (1 is the header), a record number for JSON (from 1).
#[derive(Debug)]
pub enum Record {
    Listen {
        position: u64,
        event: ListenEvent,
        /// Hash of every field as written, to recognise exact duplicates.
        fingerprint: u128,
    },
    /// A podcast episode or an audiobook: read and accounted for, not counted.
    NotMusic { position: u64 },
    Rejected {
        position: u64,
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
    #[error("unparsable timestamp {0:?} (expected UTC such as 2020-04-11 00:27:53, 2020-04-11T00:27:53Z or 2020-04-11 00:27)")]
    BadTimestamp(String),
    #[error("not a listening record: {0}")]
    WrongShape(String),
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
            Self::WrongShape(_) => "wrong_shape",
            Self::BadMsPlayed(_) => "bad_ms_played",
            Self::NegativeMsPlayed(_) => "negative_ms_played",
            Self::BadBoolean { .. } => "bad_boolean",
            Self::Invalid(invalid) => invalid.kind(),
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
    #[error("not a JSON array of listening records: {0}")]
    NotJsonArray(String),
    #[error("cannot read the zip archive: {0}")]
    Zip(String),
    #[error(transparent)]
    Archive(#[from] export::ArchiveRefusal),
}

/// The records of a listening-history file, one at a time.
pub type Records = Box<dyn Iterator<Item = Result<Record, IngestError>>>;

/// Streams the records of listening history in `format` read from `input`.
pub fn read(input: impl Read + Send + 'static, format: Format) -> Result<Records, IngestError> {
    match format {
        Format::Csv => Ok(Box::new(classic_csv::ClassicCsvReader::new(input)?)),
        _ => Ok(in_background(move |sink| each_record(input, format, sink))),
    }
}

/// Hands each record read from `input` to `sink` until it answers false.
fn each_record(
    input: impl Read,
    format: Format,
    sink: &mut dyn FnMut(Result<Record, IngestError>) -> bool,
) {
    let outcome = match format {
        Format::Csv => match classic_csv::ClassicCsvReader::new(input) {
            Ok(reader) => {
                for record in reader {
                    if !sink(record) {
                        break;
                    }
                }
                Ok(())
            }
            Err(error) => Err(error),
        },
        Format::Extended => json_array::each_element(input, &mut |position, raw| {
            sink(Ok(extended_history::record(position, raw)))
        }),
        Format::Account => json_array::each_element(input, &mut |position, raw| {
            sink(Ok(account_data::record(position, raw)))
        }),
        Format::AccountPodcasts => json_array::each_element(input, &mut |position, _| {
            sink(Ok(Record::NotMusic { position }))
        }),
    };
    if let Err(error) = outcome {
        sink(Err(error));
    }
}

/// Records read on a thread of their own, so parsing a large JSON file
/// overlaps with sending; at most a few thousand wait in between.
fn in_background(
    read: impl FnOnce(&mut dyn FnMut(Result<Record, IngestError>) -> bool) + Send + 'static,
) -> Records {
    let (sender, receiver) = mpsc::sync_channel(4096);
    std::thread::spawn(move || read(&mut |record| sender.send(record).is_ok()));
    Box::new(receiver.into_iter())
}

/// A record's content for the dead-letter topic: its first [`MAX_DEAD_LETTER_BYTES`].
fn dead_letter_bytes(raw: &[u8]) -> Vec<u8> {
    raw[..raw.len().min(MAX_DEAD_LETTER_BYTES)].to_vec()
}

/// Accepts the CSV dataset's `2013-07-08 02:44:34`, ISO-8601 `2013-07-08T02:44:34Z`
/// (extended history) and `2013-07-08 02:44` (account data), all UTC.
pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, RejectReason> {
    // The formats' items, read once: `parse_from_str` reads its format
    // string again for every value (a twentieth of the producer's time).
    static FORMATS: LazyLock<[Vec<Item<'static>>; 2]> = LazyLock::new(|| {
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"].map(|format| {
            StrftimeItems::new(format)
                .parse()
                .expect("the timestamp formats are valid")
        })
    });
    let raw = raw.trim();
    for items in FORMATS.iter() {
        let mut parsed = Parsed::new();
        if chrono::format::parse(&mut parsed, raw, items.iter()).is_ok() {
            if let Ok(naive) = parsed.to_naive_datetime_with_offset(0) {
                return Ok(naive.and_utc());
            }
        }
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|ts| ts.with_timezone(&Utc))
        .map_err(|_| RejectReason::BadTimestamp(quoted_value(raw)))
}

/// A count of milliseconds as read, refused when negative.
fn checked_ms_played(ms: i64) -> Result<u64, RejectReason> {
    u64::try_from(ms).map_err(|_| RejectReason::NegativeMsPlayed(ms))
}

/// Remembers the records already read from one input, so an exact repeat is counted once.
#[derive(Default)]
pub struct Deduplicator {
    /// Split by the fingerprint's first bits: a set doubles when full, and
    /// while it does it holds the old table and the new one. One set of a
    /// million fingerprints held 51 MiB then, the largest part of a server
    /// importing a million-listen upload (its heap's peak 123 MiB, 112 MiB
    /// split); a sixteenth growing at a time holds little more than the
    /// tables themselves.
    ///
    /// Keyed with random keys (fingerprints come from people's files);
    /// aHash rather than std's SipHash, a twentieth of the producer's time.
    seen: [HashSet<u128, ahash::RandomState>; Deduplicator::SHARDS],
}

impl Deduplicator {
    const SHARDS: usize = 16;

    /// True when a record with this fingerprint was seen before.
    pub fn is_repeat(&mut self, fingerprint: u128) -> bool {
        // Fingerprints are hashes: their first bits spread them evenly.
        let shard = (fingerprint >> (u128::BITS - Self::SHARDS.ilog2())) as usize;
        !self.seen[shard].insert(fingerprint)
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
        // Fingerprints whose first bits differ, and the largest one.
        let spread: Vec<u128> = (0..64u128)
            .map(|i| (i << 122) | 9)
            .chain([u128::MAX])
            .collect();
        assert!(spread
            .iter()
            .all(|&fingerprint| !dedup.is_repeat(fingerprint)));
        assert!(spread
            .iter()
            .all(|&fingerprint| dedup.is_repeat(fingerprint)));
        assert!(
            dedup.seen.iter().all(|shard| !shard.is_empty()),
            "every shard used"
        );
    }

    #[test]
    fn formats_are_told_apart_by_content() {
        assert_eq!(
            Format::sniff(b"spotify_track_uri,ts,platform\n"),
            Format::Csv
        );
        assert_eq!(
            Format::sniff(b"\xef\xbb\xbf [\n {\"ts\": \"2020-04-11T00:27:53Z\", \"ms_played\": 1"),
            Format::Extended
        );
        assert_eq!(Format::sniff(b"[]"), Format::Extended);
        assert_eq!(
            Format::sniff(b"[{\"endTime\" : \"2020-04-11 00:27\", \"artistName\": \"A\""),
            Format::Account
        );
        assert_eq!(
            Format::sniff(b"[{\"endTime\":\"2020-04-11 00:27\",\"podcastName\":\"P\""),
            Format::AccountPodcasts
        );
    }

    #[test]
    fn export_files_are_recognised_by_name() {
        let cases = [
            (
                "Spotify Extended Streaming History/Streaming_History_Audio_2014-2016_0.json",
                Some(Format::Extended),
            ),
            ("MyData/endsong_3.json", Some(Format::Extended)),
            ("MyData/endsong.json", Some(Format::Extended)),
            (
                "Spotify Account Data/StreamingHistory_music_0.json",
                Some(Format::Account),
            ),
            ("MyData/StreamingHistory12.json", Some(Format::Account)),
            (
                "Spotify Account Data/StreamingHistory_podcast_0.json",
                Some(Format::AccountPodcasts),
            ),
            (
                "Spotify Extended Streaming History/Streaming_History_Video_2019-2024.json",
                None,
            ),
            ("ReadMeFirst_ExtendedStreamingHistory.pdf", None),
            ("Spotify Account Data/Playlist1.json", None),
            ("Spotify Account Data/StreamingHistoryX.json", None),
            ("old/spotify_history.CSV", Some(Format::Csv)),
        ];
        for (name, expected) in cases {
            assert_eq!(Format::of_export_file(name), expected, "{name}");
        }
    }

    #[test]
    fn timestamps_of_every_format_are_read_as_utc() {
        let expected = "2020-04-11T00:27:53Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_timestamp("2020-04-11 00:27:53"), Ok(expected));
        assert_eq!(parse_timestamp("2020-04-11T00:27:53Z"), Ok(expected));
        assert_eq!(
            parse_timestamp("2020-04-11 00:27"),
            Ok("2020-04-11T00:27:00Z".parse().unwrap())
        );
        assert_eq!(
            parse_timestamp("2020-04-11T02:27:53+02:00"),
            Ok(expected),
            "an offset is turned into UTC"
        );
        assert!(parse_timestamp("yesterday").is_err());
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Reads `bytes` as `format` on this thread; every listen must be valid.
        fn read_all(bytes: &[u8], format: Format) -> Result<(), TestCaseError> {
            let mut outcome = Ok(());
            each_record(bytes, format, &mut |record| {
                if let Ok(Record::Listen { event, .. }) = record {
                    if let Err(error) = event.validate() {
                        outcome = Err(TestCaseError::fail(error.to_string()));
                    }
                }
                true
            });
            outcome
        }

        proptest! {
            #[test]
            fn reading_arbitrary_bytes_as_spotify_json_never_panics(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
                let mut file = b"[".to_vec();
                file.extend_from_slice(&body);
                read_all(&file, Format::Extended)?;
                read_all(&file, Format::Account)?;
            }

            #[test]
            fn arbitrary_json_records_are_read_or_rejected_without_panic(
                ts in "\\PC{0,30}",
                ms in any::<i64>(),
                track in proptest::option::of("\\PC{0,20}"),
                artist in proptest::option::of("\\PC{0,20}"),
                uri in proptest::option::of("\\PC{0,30}"),
                skipped in proptest::option::of(any::<bool>()),
            ) {
                let extended = serde_json::json!([{"ts": ts, "ms_played": ms,
                    "master_metadata_track_name": track, "master_metadata_album_artist_name": artist,
                    "spotify_track_uri": uri, "skipped": skipped}]);
                read_all(extended.to_string().as_bytes(), Format::Extended)?;
                let account = serde_json::json!([{"endTime": ts, "msPlayed": ms, "trackName": track, "artistName": artist}]);
                read_all(account.to_string().as_bytes(), Format::Account)?;
            }
        }
    }
}
