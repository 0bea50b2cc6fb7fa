//! Reader of the classic `spotify_history.csv` dataset format.
//!
//! Columns are found by header name, so reordered files still read. Each data
//! row becomes a [`Record`]: a listen, or a rejection with its line number and
//! reason. Only an unreadable file or a file of another format stops reading.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use xxhash_rust::xxh3::Xxh3;

use super::lines::{LineCounted, Lines};
use super::{
    parse_timestamp, IngestError, Record, RejectReason, MAX_DEAD_LETTER_BYTES, MAX_RECORD_BYTES,
};
use crate::event::{normalize_track_uri, quoted_value, ListenEvent};

/// The columns of the classic format, in the order the dataset has them.
pub const COLUMNS: [&str; 11] = [
    "spotify_track_uri",
    "ts",
    "platform",
    "ms_played",
    "track_name",
    "artist_name",
    "album_name",
    "reason_start",
    "reason_end",
    "shuffle",
    "skipped",
];

/// Streams the records of one classic CSV file.
pub struct ClassicCsvReader<R: Read> {
    reader: csv::Reader<LineCounted<R>>,
    lines: Rc<RefCell<Lines>>,
    /// For each of [`COLUMNS`], its index in the file.
    positions: [usize; 11],
    width: usize,
    row: csv::ByteRecord,
}

impl<R: Read> ClassicCsvReader<R> {
    /// Reads the header and checks that every classic column is present.
    pub fn new(input: R) -> Result<Self, IngestError> {
        // Split on LF alone and drop the CR that ends the last field: with
        // CRLF terminators the csv crate's positions are off by one.
        let (input, lines) = LineCounted::new(input);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input);
        let header = reader.byte_headers().map_err(csv_error)?.clone();
        let names: Vec<String> = header
            .iter()
            .map(|name| {
                String::from_utf8_lossy(name)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let mut positions = [0; 11];
        let mut missing = Vec::new();
        for (slot, column) in positions.iter_mut().zip(COLUMNS) {
            match names.iter().position(|name| name == column) {
                Some(index) => *slot = index,
                None => missing.push(column),
            }
        }
        if !missing.is_empty() {
            return Err(IngestError::NotClassicCsv {
                missing: missing.join(", "),
            });
        }
        Ok(Self {
            reader,
            lines,
            positions,
            width: names.len(),
            row: csv::ByteRecord::new(),
        })
    }

    fn field(&self, column: usize) -> &[u8] {
        &self.row[self.positions[column]]
    }

    fn text(&self, column: usize) -> Result<&str, RejectReason> {
        std::str::from_utf8(self.field(column)).map_err(|_| RejectReason::InvalidUtf8 {
            column: COLUMNS[column],
        })
    }

    fn parse_row(&self) -> Result<ListenEvent, RejectReason> {
        if self.row.len() != self.width {
            return Err(RejectReason::WrongColumnCount {
                expected: self.width,
                found: self.row.len(),
            });
        }
        let event = ListenEvent {
            track_uri: normalize_track_uri(self.text(0)?)?,
            ts: parse_timestamp(self.text(1)?)?,
            platform: self.text(2)?.trim().to_string(),
            ms_played: parse_ms_played(self.text(3)?)?,
            track_name: self.text(4)?.to_string(),
            artist_name: self.text(5)?.to_string(),
            album_name: self.text(6)?.to_string(),
            reason_start: self.text(7)?.trim().to_string(),
            reason_end: self.text(8)?.trim().to_string(),
            shuffle: parse_bool("shuffle", self.text(9)?)?,
            skipped: parse_bool("skipped", self.text(10)?)?,
        };
        event.validate()?;
        Ok(event)
    }

    /// What the record said, for the dead-letter topic: its fields re-encoded as CSV.
    fn raw_row(&self) -> Vec<u8> {
        let mut writer = csv::WriterBuilder::new()
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = writer.write_byte_record(&self.row);
        let mut raw = writer.into_inner().unwrap_or_default();
        if raw.last() == Some(&b'\n') {
            raw.pop();
        }
        raw
    }

    /// Identifies the row by every field, so exact duplicates can be recognised.
    fn fingerprint(&self) -> u128 {
        let mut hasher = Xxh3::new();
        for field in self.row.iter() {
            hasher.update(&(field.len() as u64).to_le_bytes());
            hasher.update(field);
        }
        hasher.digest128()
    }
}

impl<R: Read> Iterator for ClassicCsvReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut row = std::mem::take(&mut self.row);
            let read = self.reader.read_byte_record(&mut row);
            self.row = without_trailing_cr(row);
            match read {
                Ok(false) => return None,
                Err(error) => return Some(Err(csv_error(error))),
                // A blank CRLF line: nothing to read, nothing to reject.
                Ok(true) if self.row.len() == 1 && self.row[0].is_empty() => continue,
                Ok(true) => return Some(Ok(self.record())),
            }
        }
    }
}

impl<R: Read> ClassicCsvReader<R> {
    /// The row just read, as a listen or a rejection.
    fn record(&self) -> Record {
        let byte = self.row.position().map_or(0, |p| p.byte());
        let line = self.lines.borrow_mut().line_of(byte);
        let bytes = self.row.as_slice().len();
        let parsed = if bytes > MAX_RECORD_BYTES {
            Err(RejectReason::TooLong { bytes })
        } else {
            self.parse_row()
        };
        match parsed {
            Ok(event) => Record::Listen {
                position: line,
                event,
                fingerprint: self.fingerprint(),
            },
            Err(reason) => {
                let mut raw = self.raw_row();
                raw.truncate(MAX_DEAD_LETTER_BYTES);
                Record::Rejected {
                    position: line,
                    reason,
                    raw,
                }
            }
        }
    }
}

fn without_trailing_cr(row: csv::ByteRecord) -> csv::ByteRecord {
    let Some(last) = row.len().checked_sub(1) else {
        return row;
    };
    if !row.get(last).is_some_and(|field| field.ends_with(b"\r")) {
        return row;
    }
    let mut fixed = csv::ByteRecord::with_capacity(row.as_slice().len(), row.len());
    for (index, field) in row.iter().enumerate() {
        fixed.push_field(if index == last {
            &field[..field.len() - 1]
        } else {
            field
        });
    }
    fixed.set_position(row.position().cloned());
    fixed
}

fn csv_error(error: csv::Error) -> IngestError {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => IngestError::Io(io),
        other => IngestError::Unreadable(format!("{other:?}")),
    }
}

pub fn parse_ms_played(raw: &str) -> Result<u64, RejectReason> {
    let raw = raw.trim();
    match raw.parse::<i64>() {
        Ok(ms) if ms < 0 => Err(RejectReason::NegativeMsPlayed(ms)),
        Ok(ms) => Ok(ms as u64),
        Err(_) => Err(RejectReason::BadMsPlayed(quoted_value(raw))),
    }
}

/// `TRUE`/`FALSE` in any case; blank means false.
pub fn parse_bool(column: &'static str, raw: &str) -> Result<bool, RejectReason> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("false") {
        Ok(false)
    } else if raw.eq_ignore_ascii_case("true") {
        Ok(true)
    } else {
        Err(RejectReason::BadBoolean {
            column,
            value: quoted_value(raw),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::InvalidEvent;

    const HEADER: &str = "spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped\n";

    fn read(body: &str) -> Vec<Record> {
        ClassicCsvReader::new(format!("{HEADER}{body}").as_bytes())
            .unwrap()
            .map(|record| record.unwrap())
            .collect()
    }

    fn only_listen(body: &str) -> ListenEvent {
        match read(body).pop() {
            Some(Record::Listen { event, .. }) => event,
            other => panic!("expected a listen, got {other:?}"),
        }
    }

    fn only_rejection(body: &str) -> (u64, RejectReason) {
        match read(body).pop() {
            Some(Record::Rejected {
                position: line,
                reason,
                ..
            }) => (line, reason),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn reads_every_field_of_a_dataset_row() {
        let event = only_listen(
            "2J3n32GeLmMjwuAzyhcSNe,2013-07-08 02:44:34,web player,3185,\"Say It, Just Say It\",The Mowgli's,Waiting For The Dawn,autoplay,clickrow,FALSE,TRUE\n",
        );
        assert_eq!(event.track_uri, "spotify:track:2J3n32GeLmMjwuAzyhcSNe");
        assert_eq!(event.ts.to_rfc3339(), "2013-07-08T02:44:34+00:00");
        assert_eq!(event.platform, "web player");
        assert_eq!(event.ms_played, 3185);
        assert_eq!(event.track_name, "Say It, Just Say It");
        assert_eq!(event.artist_name, "The Mowgli's");
        assert_eq!(event.album_name, "Waiting For The Dawn");
        assert_eq!(event.reason_start, "autoplay");
        assert_eq!(event.reason_end, "clickrow");
        assert!(!event.shuffle);
        assert!(event.skipped);
    }

    #[test]
    fn blank_skipped_means_not_skipped() {
        let event = only_listen("a1,2013-07-08 02:44:34,android,1,T,A,B,fwdbtn,fwdbtn,TRUE,\n");
        assert!(event.shuffle);
        assert!(!event.skipped);
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_accents() {
        let event = only_listen(
            "a1,2013-07-08 02:44:34,iOS,1,\"She Said \"\"Hi\"\", Twice\",Sigur Rós,\"Ágætis, byrjun\",clickrow,trackdone,FALSE,FALSE\n",
        );
        assert_eq!(event.track_name, "She Said \"Hi\", Twice");
        assert_eq!(event.artist_name, "Sigur Rós");
        assert_eq!(event.album_name, "Ágætis, byrjun");
    }

    #[test]
    fn accepts_a_byte_order_mark_and_crlf_line_ends() {
        let file = format!(
            "\u{feff}{}a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\r\na2,2014-01-01 00:00:00,iOS,2,T2,A,B,x,y,FALSE,FALSE\r\n",
            HEADER.replace('\n', "\r\n")
        );
        let records: Vec<Record> = ClassicCsvReader::new(file.as_bytes())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 2);
        match &records[1] {
            Record::Listen {
                event,
                position: line,
                ..
            } => {
                assert_eq!(*line, 3);
                assert_eq!(event.reason_end, "y");
                assert_eq!(event.ms_played, 2);
                assert!(!event.skipped);
            }
            other => panic!("expected a listen, got {other:?}"),
        }
    }

    #[test]
    fn a_quoted_last_field_before_crlf_keeps_its_content() {
        let file = "ts,artist_name,track_name,spotify_track_uri,ms_played,platform,reason_start,reason_end,shuffle,skipped,album_name\r\n2015-05-05 05:05:05,Art,Song,id9,99,mac,a,b,false,true,\"Live, Loud\"\r\n";
        match ClassicCsvReader::new(file.as_bytes()).unwrap().next() {
            Some(Ok(Record::Listen {
                event,
                position: line,
                ..
            })) => {
                assert_eq!(event.album_name, "Live, Loud");
                assert_eq!(line, 2);
            }
            other => panic!("expected a listen, got {other:?}"),
        }
    }

    #[test]
    fn blank_lines_are_skipped_and_counted_in_line_numbers() {
        let file =
            format!("{HEADER}\na1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n\r\n\nbad\r\n");
        let records: Vec<Record> = ClassicCsvReader::new(file.as_bytes())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 2, "{records:?}");
        assert!(matches!(records[0], Record::Listen { position: 3, .. }));
        assert!(matches!(records[1], Record::Rejected { position: 6, .. }));
    }

    #[test]
    fn finds_columns_by_name_in_any_order() {
        let file = "ts,artist_name,track_name,album_name,spotify_track_uri,ms_played,platform,reason_start,reason_end,shuffle,skipped\n2015-05-05 05:05:05,Art,Song,Alb,id9,99,mac,a,b,false,true\n";
        let records: Vec<Record> = ClassicCsvReader::new(file.as_bytes())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        match &records[0] {
            Record::Listen { event, .. } => {
                assert_eq!(event.track_uri, "spotify:track:id9");
                assert_eq!(event.artist_name, "Art");
                assert_eq!(event.ms_played, 99);
            }
            other => panic!("expected a listen, got {other:?}"),
        }
    }

    #[test]
    fn a_file_without_the_classic_columns_is_not_read() {
        let error = ClassicCsvReader::new("a,b,c\n1,2,3\n".as_bytes())
            .err()
            .expect("a foreign header must be refused");
        assert!(error.to_string().contains("spotify_track_uri"));
    }

    #[test]
    fn rejects_row_with_wrong_column_count() {
        let (line, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,1,T,A\n");
        assert_eq!(line, 2);
        assert_eq!(
            reason,
            RejectReason::WrongColumnCount {
                expected: 11,
                found: 6
            }
        );
    }

    #[test]
    fn rejects_row_with_unparsable_timestamp() {
        let (_, reason) = only_rejection("a1,yesterday,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(reason, RejectReason::BadTimestamp("yesterday".into()));
    }

    #[test]
    fn accepts_iso_timestamps_too() {
        let event = only_listen("a1,2020-04-11T00:27:53Z,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(event.ts.to_rfc3339(), "2020-04-11T00:27:53+00:00");
    }

    #[test]
    fn rejects_row_with_unparsable_ms_played() {
        let (_, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,12.5,T,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(reason, RejectReason::BadMsPlayed("12.5".into()));
    }

    #[test]
    fn rejects_row_with_negative_ms_played() {
        let (_, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,-5,T,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(reason, RejectReason::NegativeMsPlayed(-5));
    }

    #[test]
    fn rejects_row_with_missing_uri_track_or_artist() {
        let (_, reason) = only_rejection(",2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(reason, RejectReason::Invalid(InvalidEvent::MissingTrackUri));
        let (_, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,1,,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(
            reason,
            RejectReason::Invalid(InvalidEvent::MissingTrackName)
        );
        let (_, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,1,T,  ,B,x,y,FALSE,FALSE\n");
        assert_eq!(
            reason,
            RejectReason::Invalid(InvalidEvent::MissingArtistName)
        );
    }

    #[test]
    fn rejects_row_with_unknown_boolean() {
        let (_, reason) = only_rejection("a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,maybe,FALSE\n");
        assert_eq!(
            reason,
            RejectReason::BadBoolean {
                column: "shuffle",
                value: "maybe".into()
            }
        );
    }

    #[test]
    fn rejects_row_with_invalid_utf8_and_keeps_reading() {
        let mut file = HEADER.as_bytes().to_vec();
        file.extend_from_slice(b"a1,2013-07-08 02:44:34,iOS,1,T\xff,A,B,x,y,FALSE,FALSE\n");
        file.extend_from_slice(b"a2,2013-07-08 02:44:35,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
        let records: Vec<Record> = ClassicCsvReader::new(&file[..])
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(matches!(
            &records[0],
            Record::Rejected {
                reason: RejectReason::InvalidUtf8 {
                    column: "track_name"
                },
                ..
            }
        ));
        assert!(matches!(&records[1], Record::Listen { .. }));
    }

    #[test]
    fn rejected_rows_carry_their_fields_for_the_dead_letter_topic() {
        match read("a1,never,iOS,1,\"T, x\",A,B,x,y,FALSE,FALSE\n").pop() {
            Some(Record::Rejected { raw, .. }) => assert_eq!(
                String::from_utf8(raw).unwrap(),
                "a1,never,iOS,1,\"T, x\",A,B,x,y,FALSE,FALSE"
            ),
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn identical_rows_share_a_fingerprint_and_others_do_not() {
        let row = "a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n";
        let other = "a1,2013-07-08 02:44:34,iOS,2,T,A,B,x,y,FALSE,FALSE\n";
        let prints: Vec<u128> = read(&format!("{row}{row}{other}"))
            .into_iter()
            .map(|record| match record {
                Record::Listen { fingerprint, .. } => fingerprint,
                other => panic!("expected a listen, got {other:?}"),
            })
            .collect();
        assert_eq!(prints[0], prints[1]);
        assert_ne!(prints[0], prints[2]);
    }

    /// Reads a file of `HEADER`, then a good row, then `hostile`, then a good
    /// row; answers the listens' lines and the rejections.
    fn around(hostile: &[u8]) -> (Vec<u64>, Vec<(u64, RejectReason, usize)>) {
        let good = b"a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n";
        let mut file = HEADER.as_bytes().to_vec();
        file.extend_from_slice(good);
        file.extend_from_slice(hostile);
        file.extend_from_slice(good);
        let mut listens = Vec::new();
        let mut rejections = Vec::new();
        for record in ClassicCsvReader::new(&file[..]).unwrap() {
            match record.unwrap() {
                Record::Listen { position: line, .. } => listens.push(line),
                Record::Rejected {
                    position: line,
                    reason,
                    raw,
                } => rejections.push((line, reason, raw.len())),
                Record::NotMusic { .. } => panic!("a CSV row is never a podcast"),
            }
        }
        (listens, rejections)
    }

    #[test]
    fn a_row_of_invalid_utf8_is_rejected_and_its_neighbours_read() {
        let (listens, rejections) =
            around(b"a2,2013-07-08 02:44:34,iOS,1,T\xff\xfe,A,B,x,y,FALSE,FALSE\n");
        assert_eq!(listens, vec![2, 4]);
        assert_eq!(rejections.len(), 1);
        assert_eq!(
            rejections[0].1,
            RejectReason::InvalidUtf8 {
                column: "track_name"
            }
        );
    }

    #[test]
    fn a_ten_megabyte_field_is_rejected_and_kept_in_part() {
        let mut row = b"a2,2013-07-08 02:44:34,iOS,1,".to_vec();
        row.extend(std::iter::repeat_n(b'x', 10 << 20));
        row.extend_from_slice(b",A,B,x,y,FALSE,FALSE\n");
        let (listens, rejections) = around(&row);
        assert_eq!(listens, vec![2, 4]);
        assert!(matches!(rejections[0].1, RejectReason::TooLong { bytes } if bytes > 10 << 20));
        assert_eq!(rejections[0].2, MAX_DEAD_LETTER_BYTES);
    }

    #[test]
    fn a_line_of_a_million_columns_is_rejected() {
        let mut row = vec![b','; 999_999];
        row.push(b'\n');
        let (listens, rejections) = around(&row);
        assert_eq!(listens, vec![2, 4]);
        assert_eq!(
            rejections[0].1,
            RejectReason::WrongColumnCount {
                expected: 11,
                found: 1_000_000
            }
        );
        assert!(rejections[0].2 <= MAX_DEAD_LETTER_BYTES);
    }

    #[test]
    fn a_file_cut_short_rejects_only_its_last_partial_row() {
        for cut in [
            &b"a2,2013-07-08 02:4"[..],
            b"a2,2013-07-08 02:44:34,iOS,1,\"Unfinished",
        ] {
            let mut file = HEADER.as_bytes().to_vec();
            file.extend_from_slice(b"a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
            file.extend_from_slice(cut);
            let records: Vec<Record> = ClassicCsvReader::new(&file[..])
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(matches!(records[0], Record::Listen { position: 2, .. }));
            assert!(
                matches!(
                    records[1],
                    Record::Rejected {
                        position: 3,
                        reason: RejectReason::WrongColumnCount { .. },
                        ..
                    }
                ),
                "{:?}",
                records[1]
            );
            assert_eq!(records.len(), 2);
        }
    }

    #[test]
    fn a_binary_file_given_as_csv_is_refused_with_the_reason() {
        let binary: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        match ClassicCsvReader::new(&binary[..]) {
            Err(IngestError::NotClassicCsv { missing }) => assert!(missing.contains("ts")),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("a binary file was taken for CSV"),
        }
    }

    /// Input whose device fails after the first `good` bytes.
    struct FailingDisk {
        good: std::io::Cursor<Vec<u8>>,
    }

    impl Read for FailingDisk {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.good.read(buf)? {
                0 => Err(std::io::Error::other("input/output error")),
                read => Ok(read),
            }
        }
    }

    #[test]
    fn a_read_error_mid_file_ends_the_records_with_the_error() {
        let file = format!("{HEADER}a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE\n");
        let reader = ClassicCsvReader::new(FailingDisk {
            good: std::io::Cursor::new(file.into_bytes()),
        })
        .unwrap();
        let records: Vec<Result<Record, IngestError>> = reader.take(3).collect();
        assert!(matches!(records[0], Ok(Record::Listen { position: 2, .. })));
        assert!(
            matches!(&records[1], Err(IngestError::Io(error)) if error.to_string().contains("input/output"))
        );
    }

    #[test]
    fn a_reason_quotes_at_most_eighty_characters_of_a_value() {
        let huge = "9".repeat(100_000);
        let reason = parse_timestamp(&huge).unwrap_err().to_string();
        assert!(reason.len() < 200, "{} characters", reason.len());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const GOOD_ROW: &str = "a1,2013-07-08 02:44:34,iOS,1,T,A,B,x,y,FALSE,FALSE";

        proptest! {
            #[test]
            fn reading_arbitrary_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
                let mut file = HEADER.as_bytes().to_vec();
                file.extend_from_slice(&body);
                if let Ok(reader) = ClassicCsvReader::new(&file[..]) {
                    for record in reader {
                        if let Ok(Record::Listen { event, .. }) = record {
                            prop_assert!(event.validate().is_ok());
                        }
                    }
                }
            }

            #[test]
            fn an_arbitrary_header_is_read_or_refused_without_panic(file in proptest::collection::vec(any::<u8>(), 0..2048)) {
                if let Ok(reader) = ClassicCsvReader::new(&file[..]) {
                    reader.take(100).for_each(drop);
                }
            }

            #[test]
            fn good_rows_around_garbage_lines_are_still_read(garbage in "[^\"\r\n]{0,300}") {
                let file = format!("{HEADER}{GOOD_ROW}\n{garbage}\n{GOOD_ROW}\n");
                let records: Vec<Record> = ClassicCsvReader::new(file.as_bytes())
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let listens = records.iter().filter(|r| matches!(r, Record::Listen { .. })).count();
                prop_assert!(listens >= 2, "{records:?}");
                let last_line = match records.last() {
                    Some(Record::Listen { position: line, .. }) => *line,
                    _ => 0,
                };
                prop_assert_eq!(last_line, 4);
            }
        }
    }
}
