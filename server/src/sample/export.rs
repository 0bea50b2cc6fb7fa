//! A history in the classic CSV format written as Spotify's own data
//! export: `my_spotify_data.zip` holding extended streaming history files
//! (`Spotify Extended Streaming History/Streaming_History_Audio_<years>_<n>.json`,
//! by default at most [`RECORDS_PER_FILE`] records each, as Spotify splits them). Every
//! row becomes one record with the same listen, so importing the export
//! counts exactly what importing the CSV file counts (an exact repeat stays
//! one), and tests and benchmarks can compare the two.

use std::io::{Read, Seek, Write};

use serde_json::{json, Value};
use zip::write::SimpleFileOptions;

use crate::event::TRACK_URI_PREFIX;
use crate::ingest::classic_csv::COLUMNS;

/// Records per history file, unless told otherwise.
pub const RECORDS_PER_FILE: usize = 20_000;
/// The folder of the history files in the archive.
pub const FOLDER: &str = "Spotify Extended Streaming History";

/// Why the export cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the CSV file cannot be read: {0}")]
    Csv(#[from] csv::Error),
    #[error("row {row} is not in the generated format: {what}")]
    Row { row: u64, what: &'static str },
    #[error("the archive cannot be written: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("the archive cannot be written: {0}")]
    Io(#[from] std::io::Error),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportWritten {
    pub records: u64,
    pub files: usize,
}

/// Writes the rows of `csv` (with the header of [`COLUMNS`]) as an export
/// archive of history files of `records_per_file` records (at least one).
pub fn write_export(
    csv: impl Read,
    out: impl Write + Seek,
    records_per_file: usize,
) -> Result<ExportWritten, ExportError> {
    let records_per_file = records_per_file.max(1);
    let mut reader = csv::Reader::from_reader(csv);
    let header = reader.headers()?.clone();
    let column = |name: &str| header.iter().position(|field| field == name);
    let positions: Vec<usize> = COLUMNS
        .iter()
        .map(|name| column(name))
        .collect::<Option<_>>()
        .ok_or(ExportError::Row {
            row: 0,
            what: "the header lacks a column",
        })?;
    let mut zip = zip::ZipWriter::new(out);
    let mut written = ExportWritten {
        records: 0,
        files: 0,
    };
    let mut pending: Vec<(i32, Value)> = Vec::with_capacity(records_per_file.min(RECORDS_PER_FILE));
    for (row, fields) in reader.records().enumerate() {
        let fields = fields?;
        let field = |index: usize| fields.get(positions[index]).unwrap_or_default();
        let record = to_record(row as u64 + 1, field)?;
        pending.push(record);
        if pending.len() == records_per_file {
            write_file(&mut zip, &mut written, &mut pending)?;
        }
    }
    if !pending.is_empty() || written.files == 0 {
        write_file(&mut zip, &mut written, &mut pending)?;
    }
    zip.finish()?;
    Ok(written)
}

/// One CSV row (its fields in the order of [`COLUMNS`]) as an extended
/// history record, with the year it was played in.
fn to_record<'a>(row: u64, field: impl Fn(usize) -> &'a str) -> Result<(i32, Value), ExportError> {
    let bad = |what| ExportError::Row { row, what };
    let ts = chrono::NaiveDateTime::parse_from_str(field(1), "%Y-%m-%d %H:%M:%S")
        .map_err(|_| bad("its time is not YYYY-MM-DD HH:MM:SS"))?;
    let ms_played: u64 = field(3)
        .parse()
        .map_err(|_| bad("ms_played is not a number"))?;
    let flag = |text: &str| match text {
        "TRUE" => Some(true),
        "FALSE" => Some(false),
        _ => None,
    };
    let record = json!({
        "ts": ts.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "platform": field(2),
        "ms_played": ms_played,
        "conn_country": "SE",
        "ip_addr": null,
        "master_metadata_track_name": field(4),
        "master_metadata_album_artist_name": field(5),
        "master_metadata_album_album_name": field(6),
        "spotify_track_uri": format!("{TRACK_URI_PREFIX}{}", field(0)),
        "episode_name": null,
        "episode_show_name": null,
        "spotify_episode_uri": null,
        "audiobook_title": null,
        "audiobook_uri": null,
        "audiobook_chapter_uri": null,
        "audiobook_chapter_title": null,
        "reason_start": field(7),
        "reason_end": field(8),
        "shuffle": flag(field(9)).unwrap_or(false),
        "skipped": flag(field(10)),
        "offline": false,
        "offline_timestamp": null,
        "incognito_mode": false,
    });
    Ok((chrono::Datelike::year(&ts), record))
}

/// Writes the pending records as the next history file, named by the years it spans.
fn write_file<W: Write + Seek>(
    zip: &mut zip::ZipWriter<W>,
    written: &mut ExportWritten,
    pending: &mut Vec<(i32, Value)>,
) -> Result<(), ExportError> {
    let first = pending.first().map_or(0, |(year, _)| *year);
    let last = pending.last().map_or(first, |(year, _)| *year);
    let years = if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    };
    let name = format!(
        "{FOLDER}/Streaming_History_Audio_{years}_{}.json",
        written.files
    );
    zip.start_file(name, SimpleFileOptions::default())?;
    zip.write_all(b"[\n")?;
    for (index, (_, record)) in pending.iter().enumerate() {
        if index > 0 {
            zip.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *zip, record).map_err(std::io::Error::from)?;
    }
    zip.write_all(b"\n]\n")?;
    written.records += pending.len() as u64;
    written.files += 1;
    pending.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::export::{discover, ArchiveLimits};
    use crate::ingest::Record;
    use crate::sample::{write_sample, SampleSpec};

    /// Every listen of a file, as its reader gives them.
    fn listens(source: &crate::ingest::export::Source) -> Vec<crate::event::ListenEvent> {
        source
            .open(|_| {})
            .expect("it opens")
            .map(|record| match record.expect("a record") {
                Record::Listen { event, .. } => event,
                other => panic!("not a listen: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_export_holds_the_listens_of_the_csv_file_record_for_record() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("spotify_history.csv");
        let rows = (RECORDS_PER_FILE + 1234) as u64;
        write_sample(
            SampleSpec { rows, seed: 5 },
            std::fs::File::create(&csv_path).unwrap(),
        )
        .unwrap();
        let zip_path = dir.path().join("my_spotify_data.zip");
        let written = write_export(
            std::fs::File::open(&csv_path).unwrap(),
            std::fs::File::create(&zip_path).unwrap(),
            RECORDS_PER_FILE,
        )
        .unwrap();
        assert_eq!(
            written,
            ExportWritten {
                records: rows,
                files: 2
            }
        );

        let from_csv = discover(&csv_path, None, &ArchiveLimits::default()).unwrap();
        let from_zip = discover(&zip_path, None, &ArchiveLimits::default()).unwrap();
        assert_eq!(from_zip.sources.len(), 2);
        assert!(from_zip.ignored.is_empty());
        let zipped: Vec<_> = from_zip.sources.iter().flat_map(listens).collect();
        assert_eq!(zipped, listens(&from_csv.sources[0]));
    }

    #[test]
    fn a_row_not_in_the_generated_format_is_named() {
        let csv = format!(
            "{}\nabc,yesterday,android,1,T,A,B,x,y,FALSE,\n",
            COLUMNS.join(",")
        );
        let error = write_export(csv.as_bytes(), std::io::Cursor::new(Vec::new()), 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "row 1 is not in the generated format: its time is not YYYY-MM-DD HH:MM:SS"
        );
    }
}
