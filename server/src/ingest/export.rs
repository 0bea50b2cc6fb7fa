//! Finds the listening-history files of what the producer is given: one
//! file (format told by content), a folder, or Spotify's export archive
//! (`my_spotify_data.zip`), whose history files are known by name and read
//! straight out of the archive, one record at a time.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;
use zip::ZipArchive;

use super::{each_record, in_background, read, Format, IngestError, Records};

/// One listening-history file to stream.
#[derive(Debug, Clone)]
pub struct Source {
    /// How the summary names it: the path given, or the path inside the folder or archive.
    pub name: String,
    /// Where it is, in full, for dead letters: `export.zip!/folder/file.json` inside an archive.
    pub origin: String,
    pub format: Format,
    /// Bytes to read (uncompressed inside an archive), for the progress bar.
    pub size: u64,
    location: Location,
}

#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    ZipEntry { archive: PathBuf, index: usize },
}

/// The history files found, and the names of the files passed over.
#[derive(Debug, Default)]
pub struct Export {
    pub sources: Vec<Source>,
    /// Files of a folder or archive that are not listening history (videos, PDFs, …).
    pub ignored: Vec<String>,
}

/// Lists the history files of `path`. `forced` overrides the format told
/// from a single file's content; inside folders and archives names decide.
pub fn discover(path: &Path, forced: Option<Format>) -> Result<Export, IngestError> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_dir() {
        return discover_folder(path);
    }
    let mut head = Vec::with_capacity(4096);
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") {
        return discover_archive(path);
    }
    let name = path.display().to_string();
    Ok(Export {
        sources: vec![Source {
            origin: name.clone(),
            name,
            format: forced.unwrap_or_else(|| Format::sniff(&head)),
            size: metadata.len(),
            location: Location::File(path.to_path_buf()),
        }],
        ignored: Vec::new(),
    })
}

fn discover_folder(folder: &Path) -> Result<Export, IngestError> {
    let mut export = Export::default();
    let walk = walkdir::WalkDir::new(folder).sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|error| IngestError::Io(error.into()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(folder).unwrap_or(entry.path());
        let name = relative.display().to_string();
        match Format::of_export_file(&name) {
            Some(format) => export.sources.push(Source {
                origin: entry.path().display().to_string(),
                name,
                format,
                size: entry.metadata().map(|m| m.len()).unwrap_or(0),
                location: Location::File(entry.path().to_path_buf()),
            }),
            None => export.ignored.push(name),
        }
    }
    Ok(export)
}

fn discover_archive(path: &Path) -> Result<Export, IngestError> {
    let mut archive = open_archive(path)?;
    let mut export = Export::default();
    let mut found = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(zip_error)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        match Format::of_export_file(&name) {
            Some(format) => found.push((name, format, entry.size(), index)),
            None => export.ignored.push(name),
        }
    }
    found.sort();
    export.sources = found
        .into_iter()
        .map(|(name, format, size, index)| Source {
            origin: format!("{}!/{name}", path.display()),
            name,
            format,
            size,
            location: Location::ZipEntry {
                archive: path.to_path_buf(),
                index,
            },
        })
        .collect();
    export.ignored.sort();
    Ok(export)
}

fn open_archive(path: &Path) -> Result<ZipArchive<BufReader<File>>, IngestError> {
    ZipArchive::new(BufReader::new(File::open(path)?)).map_err(zip_error)
}

fn zip_error(error: zip::result::ZipError) -> IngestError {
    match error {
        zip::result::ZipError::Io(io) => IngestError::Io(io),
        other => IngestError::Zip(other.to_string()),
    }
}

impl Source {
    /// Streams the file's records; `observe` hears of every chunk of bytes read.
    pub fn open(&self, observe: impl FnMut(u64) + Send + 'static) -> Result<Records, IngestError> {
        match &self.location {
            Location::File(path) => read(
                Observed {
                    inner: File::open(path)?,
                    observe,
                },
                self.format,
            ),
            Location::ZipEntry { archive, index } => {
                let (archive, index, format) = (archive.clone(), *index, self.format);
                Ok(in_background(move |sink| {
                    let mut archive = match open_archive(&archive) {
                        Ok(archive) => archive,
                        Err(error) => {
                            sink(Err(error));
                            return;
                        }
                    };
                    match archive.by_index(index) {
                        Ok(entry) => each_record(
                            Observed {
                                inner: entry,
                                observe,
                            },
                            format,
                            sink,
                        ),
                        Err(error) => {
                            sink(Err(zip_error(error)));
                        }
                    };
                }))
            }
        }
    }

    /// A hash of the file's content, to recognise a file imported before
    /// whatever its name or place.
    pub fn content_hash(&self) -> Result<u128, IngestError> {
        let mut hasher = Xxh3::new();
        match &self.location {
            Location::File(path) => hash_all(&mut File::open(path)?, &mut hasher)?,
            Location::ZipEntry { archive, index } => {
                let mut archive = open_archive(archive)?;
                let mut entry = archive.by_index(*index).map_err(zip_error)?;
                hash_all(&mut entry, &mut hasher)?;
            }
        }
        Ok(hasher.digest128())
    }
}

fn hash_all(input: &mut dyn Read, hasher: &mut Xxh3) -> std::io::Result<()> {
    let mut buffer = vec![0; 1 << 16];
    loop {
        match input.read(&mut buffer)? {
            0 => return Ok(()),
            n => hasher.update(&buffer[..n]),
        }
    }
}

/// A reader that reports how many bytes pass through it.
struct Observed<R, F> {
    inner: R,
    observe: F,
}

impl<R: Read, F: FnMut(u64)> Read for Observed<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.observe)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::ingest::Record;

    const EXTENDED: &str = r#"[{"ts": "2020-04-11T00:27:53Z", "ms_played": 5, "master_metadata_track_name": "T",
        "master_metadata_album_artist_name": "A", "spotify_track_uri": "spotify:track:abc"},
        {"ts": "2020-04-11T00:30:00Z", "ms_played": 5, "master_metadata_track_name": null,
        "episode_name": "E", "spotify_episode_uri": "spotify:episode:x"}]"#;
    const FILES: [(&str, &str); 5] = [
        (
            "Spotify Extended Streaming History/Streaming_History_Audio_2020_1.json",
            EXTENDED,
        ),
        (
            "Spotify Extended Streaming History/Streaming_History_Audio_2019_0.json",
            "[]",
        ),
        (
            "Spotify Extended Streaming History/Streaming_History_Video_2020.json",
            "[]",
        ),
        (
            "Spotify Account Data/StreamingHistory_music_0.json",
            r#"[{"endTime": "2020-04-11 00:27", "artistName": "A", "trackName": "T", "msPlayed": 1}]"#,
        ),
        ("Spotify Account Data/Userdata.json", "{}"),
    ];

    fn names_and_formats(export: &Export) -> Vec<(&str, Format)> {
        export
            .sources
            .iter()
            .map(|source| (source.name.as_str(), source.format))
            .collect()
    }

    fn kinds(records: Records) -> Vec<&'static str> {
        records
            .map(|record| match record.expect("readable") {
                Record::Listen { .. } => "listen",
                Record::NotMusic { .. } => "not music",
                Record::Rejected { .. } => "rejected",
            })
            .collect()
    }

    const EXPECTED: [(&str, Format); 3] = [
        (
            "Spotify Account Data/StreamingHistory_music_0.json",
            Format::Account,
        ),
        (
            "Spotify Extended Streaming History/Streaming_History_Audio_2019_0.json",
            Format::Extended,
        ),
        (
            "Spotify Extended Streaming History/Streaming_History_Audio_2020_1.json",
            Format::Extended,
        ),
    ];

    #[test]
    fn an_export_archive_yields_its_history_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my_spotify_data.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        for (name, content) in FILES {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap();

        let export = discover(&path, None).unwrap();
        assert_eq!(names_and_formats(&export), EXPECTED);
        assert_eq!(
            export.ignored,
            vec![
                "Spotify Account Data/Userdata.json",
                "Spotify Extended Streaming History/Streaming_History_Video_2020.json"
            ]
        );
        let newest = &export.sources[2];
        assert!(newest.origin.ends_with("my_spotify_data.zip!/Spotify Extended Streaming History/Streaming_History_Audio_2020_1.json"));
        assert_eq!(newest.size, EXTENDED.len() as u64);
        assert_eq!(kinds(newest.open(|_| {}).unwrap()), ["listen", "not music"]);
        assert_eq!(
            newest.content_hash().unwrap(),
            xxhash_rust::xxh3::xxh3_128(EXTENDED.as_bytes())
        );
    }

    #[test]
    fn a_folder_yields_its_history_files_at_any_depth() {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in FILES {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let export = discover(dir.path(), None).unwrap();
        assert_eq!(names_and_formats(&export), EXPECTED);
        assert_eq!(export.ignored.len(), 2);
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let observer = seen.clone();
        let records = export.sources[0]
            .open(move |bytes| {
                observer.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        assert_eq!(kinds(records), ["listen"]);
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::Relaxed),
            export.sources[0].size,
            "every byte read is reported, for the progress bar"
        );
    }

    #[test]
    fn a_single_file_is_told_by_content_or_by_the_format_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.json");
        std::fs::write(&path, EXTENDED).unwrap();
        assert_eq!(
            discover(&path, None).unwrap().sources[0].format,
            Format::Extended
        );
        assert_eq!(
            discover(&path, Some(Format::Account)).unwrap().sources[0].format,
            Format::Account
        );
    }
}
