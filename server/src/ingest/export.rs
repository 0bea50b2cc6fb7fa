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

/// What an archive may hold before it is refused unread: a zip of a few
/// kilobytes can inflate to terabytes. Spotify's export holds a few dozen
/// files of at most tens of megabytes, its JSON deflated about 10:1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Entries of any kind in the archive.
    pub max_entries: usize,
    /// Uncompressed bytes of one history file.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes for each compressed byte of a history file past
    /// [`RATIO_CHECKED_FROM`] bytes.
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_entry_bytes: 1 << 30,
            max_ratio: 100,
        }
    }
}

/// Entries smaller than this are not held to the compression ratio: a
/// small file of blanks deflates far, and cannot be a bomb.
pub const RATIO_CHECKED_FROM: u64 = 1 << 20;

/// Why an archive is refused before anything is read from it; each names
/// its limit, its value and the setting that changes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveRefusal {
    #[error(
        "the archive holds {entries} entries, over the limit of {limit} \
         (--max-archive-entries, MAX_ARCHIVE_ENTRIES); a Spotify export holds a few dozen"
    )]
    TooManyEntries { entries: usize, limit: usize },
    #[error(
        "{name} inflates to {bytes} bytes, over the limit of {limit} bytes a file \
         (--max-entry-bytes, MAX_ENTRY_BYTES)"
    )]
    EntryTooLarge {
        name: String,
        bytes: u64,
        limit: u64,
    },
    #[error(
        "{name} inflates {ratio} times over from its compressed bytes, over the limit of \
         {limit} (--max-compression-ratio, MAX_COMPRESSION_RATIO): not an export, or a zip bomb"
    )]
    CompressionRatio {
        name: String,
        ratio: u64,
        limit: u64,
    },
    #[error(
        "{name} inflates past the {declared} bytes its archive declares: \
         the archive is damaged or forged, and is not read further"
    )]
    LargerThanDeclared { name: String, declared: u64 },
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
pub fn discover(
    path: &Path,
    forced: Option<Format>,
    limits: &ArchiveLimits,
) -> Result<Export, IngestError> {
    let metadata = std::fs::metadata(path)?;
    if metadata.is_dir() {
        return discover_folder(path);
    }
    let mut head = Vec::with_capacity(4096);
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") {
        return discover_archive(path, limits);
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

fn discover_archive(path: &Path, limits: &ArchiveLimits) -> Result<Export, IngestError> {
    let mut archive = open_archive(path)?;
    if archive.len() > limits.max_entries {
        return Err(ArchiveRefusal::TooManyEntries {
            entries: archive.len(),
            limit: limits.max_entries,
        }
        .into());
    }
    let mut export = Export::default();
    let mut found = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(zip_error)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        match Format::of_export_file(&name) {
            Some(format) => {
                within_limits(&name, entry.size(), entry.compressed_size(), limits)?;
                found.push((name, format, entry.size(), index));
            }
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

/// Refuses a history file of an archive whose declared sizes pass the limits.
fn within_limits(
    name: &str,
    bytes: u64,
    compressed: u64,
    limits: &ArchiveLimits,
) -> Result<(), ArchiveRefusal> {
    if bytes > limits.max_entry_bytes {
        return Err(ArchiveRefusal::EntryTooLarge {
            name: name.to_string(),
            bytes,
            limit: limits.max_entry_bytes,
        });
    }
    let ratio = bytes / compressed.max(1);
    if bytes >= RATIO_CHECKED_FROM && ratio > limits.max_ratio {
        return Err(ArchiveRefusal::CompressionRatio {
            name: name.to_string(),
            ratio,
            limit: limits.max_ratio,
        });
    }
    Ok(())
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
                                inner: Declared::of(entry),
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
                let entry = archive.by_index(*index).map_err(zip_error)?;
                hash_all(&mut Declared::of(entry), &mut hasher)?;
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

/// An archive's entry read no further than the size it declares (which
/// the limits were checked against): a forged header declaring little
/// must not inflate to more.
struct Declared<R> {
    inner: R,
    name: String,
    declared: u64,
    left: u64,
}

impl<'a, R: Read> Declared<zip::read::ZipFile<'a, R>> {
    fn of(entry: zip::read::ZipFile<'a, R>) -> Self {
        let (name, declared) = (entry.name().to_string(), entry.size());
        Self::new(entry, name, declared)
    }
}

impl<R> Declared<R> {
    fn new(inner: R, name: String, declared: u64) -> Self {
        Self {
            inner,
            name,
            declared,
            left: declared,
        }
    }
}

impl<R: Read> Read for Declared<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte past what is left tells a longer entry from one that ends.
        let most = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..most])?;
        if n as u64 > self.left {
            let refusal = ArchiveRefusal::LargerThanDeclared {
                name: self.name.clone(),
                declared: self.declared,
            };
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                refusal,
            ));
        }
        self.left -= n as u64;
        Ok(n)
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

        let export = discover(&path, None, &ArchiveLimits::default()).unwrap();
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

    fn zip_of(path: &Path, files: &[(&str, Vec<u8>)]) {
        let mut zip = zip::ZipWriter::new(File::create(path).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn an_archive_past_a_limit_is_refused_naming_the_limit_and_its_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my_spotify_data.zip");
        let files: Vec<(&str, Vec<u8>)> = FILES
            .iter()
            .map(|(name, content)| (*name, content.as_bytes().to_vec()))
            .collect();
        zip_of(&path, &files);
        let refusal = |limits: ArchiveLimits| match discover(&path, None, &limits) {
            Err(IngestError::Archive(refusal)) => refusal,
            other => panic!("refused for a limit, not {other:?}"),
        };
        let few = ArchiveLimits {
            max_entries: 4,
            ..ArchiveLimits::default()
        };
        assert_eq!(
            refusal(few),
            ArchiveRefusal::TooManyEntries {
                entries: 5,
                limit: 4
            }
        );
        assert!(refusal(few)
            .to_string()
            .contains("limit of 4 (--max-archive-entries"));
        let small = ArchiveLimits {
            max_entry_bytes: 10,
            ..ArchiveLimits::default()
        };
        let too_large = refusal(small);
        assert!(
            matches!(&too_large, ArchiveRefusal::EntryTooLarge { name, bytes, limit: 10 }
                if name.ends_with("Streaming_History_Audio_2020_1.json") && *bytes == EXTENDED.len() as u64),
            "{too_large:?}"
        );
        assert!(discover(&path, None, &ArchiveLimits::default()).is_ok());
    }

    #[test]
    fn a_history_file_that_inflates_too_far_is_refused_unread_and_a_small_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.zip");
        let mut blank = b"[".to_vec();
        blank.resize(4 << 20, b' ');
        blank.push(b']');
        let name = "Spotify Extended Streaming History/Streaming_History_Audio_2020.json";
        zip_of(&path, &[(name, blank.clone())]);
        match discover(&path, None, &ArchiveLimits::default()) {
            Err(IngestError::Archive(ArchiveRefusal::CompressionRatio {
                ratio, limit, ..
            })) => {
                assert!(ratio > 100 && limit == 100, "{ratio}")
            }
            other => panic!("a bomb is refused, not {other:?}"),
        }
        // The same blanks under a megabyte are read (and hold no listens).
        blank.truncate(1000);
        blank.push(b']');
        zip_of(&path, &[(name, blank)]);
        let export = discover(&path, None, &ArchiveLimits::default()).unwrap();
        assert!(kinds(export.sources[0].open(|_| {}).unwrap()).is_empty());
    }

    #[test]
    fn an_entry_is_read_no_further_than_the_size_it_declares() {
        let read_all = |declared: u64| {
            let mut out = Vec::new();
            Declared::new(&b"abcdef"[..], "entry.json".to_string(), declared)
                .read_to_end(&mut out)
                .map(|_| out)
        };
        assert_eq!(read_all(6).unwrap(), b"abcdef");
        let error = read_all(4).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert!(
            error
                .to_string()
                .contains("entry.json inflates past the 4 bytes"),
            "{error}"
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
        let export = discover(dir.path(), None, &ArchiveLimits::default()).unwrap();
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
            discover(&path, None, &ArchiveLimits::default())
                .unwrap()
                .sources[0]
                .format,
            Format::Extended
        );
        assert_eq!(
            discover(&path, Some(Format::Account), &ArchiveLimits::default())
                .unwrap()
                .sources[0]
                .format,
            Format::Account
        );
    }
}
