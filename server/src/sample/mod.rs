//! A deterministic generator of realistic listening history in the classic
//! `spotify_history.csv` format: the committed sample and benchmark files.
//!
//! Realistic means: a few artists and songs take most plays (Zipf), listens
//! come in sessions over several years, platforms and start/end reasons vary,
//! short plays are usually skips, names carry commas, quotes and accents, and
//! about one row in 120 is an exact duplicate, as in the public dataset.
//! [`export`] writes the same history as Spotify's own data export.

pub mod export;

use std::io::Write;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Zipf};

use crate::ingest::classic_csv::COLUMNS;

/// Seed of the committed sample file.
pub const SAMPLE_SEED: u64 = 2013;
/// Rows of the committed sample file.
pub const SAMPLE_ROWS: u64 = 20_000;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SampleSpec {
    pub rows: u64,
    pub seed: u64,
}

struct Song {
    id: String,
    title: String,
    album: usize,
    duration_ms: u64,
}

struct Artist {
    name: String,
    albums: Vec<String>,
    songs: Vec<Song>,
    song_popularity: Zipf<f64>,
}

/// Writes `spec.rows` data rows (plus the header) as CSV.
pub fn write_sample(spec: SampleSpec, out: impl Write) -> csv::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let artists = make_catalogue(&mut rng, spec.rows);
    let artist_popularity =
        Zipf::new(artists.len() as f64, 0.85).expect("a catalogue has at least one artist");
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;

    let start = Utc
        .with_ymd_and_hms(2013, 7, 8, 2, 44, 34)
        .single()
        .unwrap_or_default();
    let span_secs = 11.4 * 365.0 * 86_400.0;
    // Most listens follow the previous one; the rest open a session after a break
    // long enough that the whole file spans about eleven years.
    let in_session = 0.8;
    let mean_gap = span_secs / spec.rows.max(1) as f64;
    let break_mean = ((mean_gap - in_session * 200.0) / (1.0 - in_session)).max(600.0);
    let session_break = Exp::new(1.0 / break_mean).expect("a positive rate");

    let mut ts = start;
    let mut previous: Option<Vec<String>> = None;
    for _ in 0..spec.rows {
        if let Some(row) = previous.as_ref().filter(|_| rng.random_bool(1.0 / 120.0)) {
            writer.write_record(row)?;
            continue;
        }
        let artist = &artists[zipf_index(&artist_popularity, &mut rng)];
        let song = &artist.songs[zipf_index(&artist.song_popularity, &mut rng)];
        let listen = make_listen(&mut rng, song.duration_ms);
        ts = if rng.random_bool(in_session) {
            ts + Duration::milliseconds(listen.ms_played as i64 + rng.random_range(0..4000))
        } else {
            ts + Duration::seconds(session_break.sample(&mut rng) as i64 + 60)
        };
        let row = vec![
            song.id.clone(),
            format_ts(ts),
            listen.platform.to_string(),
            listen.ms_played.to_string(),
            song.title.clone(),
            artist.name.clone(),
            artist.albums[song.album].clone(),
            listen.reason_start.to_string(),
            listen.reason_end.to_string(),
            bool_text(listen.shuffle).to_string(),
            listen.skipped.map_or("", bool_text).to_string(),
        ];
        writer.write_record(&row)?;
        previous = Some(row);
    }
    writer.flush()?;
    Ok(())
}

struct Listen {
    platform: &'static str,
    ms_played: u64,
    reason_start: &'static str,
    reason_end: &'static str,
    shuffle: bool,
    skipped: Option<bool>,
}

fn make_listen(rng: &mut ChaCha8Rng, duration_ms: u64) -> Listen {
    let platform = weighted(
        rng,
        &[
            ("android", 45),
            ("iOS", 25),
            ("windows", 12),
            ("mac", 8),
            ("web player", 5),
            ("cast to device", 3),
            ("linux", 2),
        ],
    );
    let reason_start = weighted(
        rng,
        &[
            ("trackdone", 50),
            ("clickrow", 18),
            ("fwdbtn", 15),
            ("playbtn", 7),
            ("backbtn", 5),
            ("appload", 3),
            ("remote", 2),
        ],
    );
    let finished = rng.random_bool(0.62);
    let (ms_played, reason_end) = if finished {
        (duration_ms, "trackdone")
    } else {
        let reason = weighted(
            rng,
            &[
                ("fwdbtn", 70),
                ("endplay", 12),
                ("backbtn", 10),
                ("unexpected-exit", 5),
                ("logout", 3),
            ],
        );
        let heard = if matches!(reason, "fwdbtn" | "backbtn") {
            rng.random_range(300..30_000)
        } else {
            rng.random_range(1_000..duration_ms.max(2_000))
        };
        (heard, reason)
    };
    let skipped = if rng.random_bool(0.08) {
        None // older rows of the dataset leave it blank
    } else {
        Some(!finished && matches!(reason_end, "fwdbtn" | "backbtn") && rng.random_bool(0.9))
    };
    Listen {
        platform,
        ms_played,
        reason_start,
        reason_end,
        shuffle: rng.random_bool(0.4),
        skipped,
    }
}

fn make_catalogue(rng: &mut ChaCha8Rng, rows: u64) -> Vec<Artist> {
    let artist_count = (rows / 40).clamp(40, 20_000) as usize;
    let mut used_names = std::collections::HashSet::new();
    let mut artists = Vec::with_capacity(artist_count);
    while artists.len() < artist_count {
        let name = artist_name(rng);
        if !used_names.insert(name.clone()) {
            continue;
        }
        let album_count = rng.random_range(1..=4);
        let albums = (0..album_count)
            .map(|_| title(rng, true))
            .collect::<Vec<_>>();
        let song_count = rng.random_range(3..=24);
        let songs = (0..song_count)
            .map(|_| Song {
                id: track_id(rng),
                title: title(rng, false),
                album: rng.random_range(0..album_count),
                duration_ms: rng.random_range(95_000..420_000),
            })
            .collect();
        artists.push(Artist {
            name,
            albums,
            songs,
            song_popularity: Zipf::new(f64::from(song_count), 0.8).expect("at least one song"),
        });
    }
    artists
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "ven", "do", "sa", "tor", "el", "na", "ri", "mon", "bel", "zu", "fa",
    "qui", "ro", "li", "san", "ta", "mar", "ko", "du", "ne", "vi", "lu", "go", "pe", "ha", "jo",
];
const ACCENTED: &[&str] = &["é", "ö", "ñ", "ø", "å", "í", "ü", "ç", "ã", "ł"];
const WORDS: &[&str] = &[
    "Night", "Summer", "Heart", "River", "Neon", "Gold", "Echo", "Fire", "Rain", "Dream", "Wild",
    "Blue", "Stone", "Ghost", "Light", "Ocean", "City", "Velvet", "Silver", "Paper", "Electric",
    "Midnight", "Honey", "Thunder", "Glass", "Shadow", "Sun", "Moon", "Road", "Home", "Lonely",
    "Golden", "Broken", "Young", "Forever", "Slow", "Fast", "Sweet", "Cold", "Burning",
];

fn word(rng: &mut ChaCha8Rng) -> String {
    let mut name = String::new();
    for _ in 0..rng.random_range(2..=3) {
        name.push_str(SYLLABLES.choose(rng).unwrap_or(&"la"));
    }
    if rng.random_bool(0.15) {
        let at = name.len() / 2;
        // Syllables are ASCII, so any byte index is a character boundary.
        name.replace_range(at..at + 1, ACCENTED.choose(rng).unwrap_or(&"é"));
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name,
    }
}

fn artist_name(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..100) {
        0..=34 => word(rng),
        35..=59 => format!("{} {}", word(rng), word(rng)),
        60..=71 => format!("The {}s", WORDS.choose(rng).unwrap_or(&"Echo")),
        72..=79 => format!(
            "{} & the {}s",
            word(rng),
            WORDS.choose(rng).unwrap_or(&"Echo")
        ),
        80..=86 => format!("{}, {} and {}", word(rng), word(rng), word(rng)),
        87..=92 => format!("DJ {}", word(rng)),
        _ => format!(
            "{} \"{}\" {}",
            word(rng),
            WORDS.choose(rng).unwrap_or(&"Echo"),
            word(rng)
        ),
    }
}

fn title(rng: &mut ChaCha8Rng, album: bool) -> String {
    let mut words: Vec<String> = (0..rng.random_range(1..=4))
        .map(|_| WORDS.choose(rng).unwrap_or(&"Song").to_string())
        .collect();
    if rng.random_bool(0.2) {
        words.push(word(rng));
    }
    let mut text = words.join(" ");
    match rng.random_range(0..100) {
        0..=6 => text = format!("{text}, Pt. {}", rng.random_range(1..=3)),
        7..=11 => text = format!("{text} (feat. {})", word(rng)),
        12..=15 if !album => text = format!("\"{text}\""),
        16..=19 => text = format!("{text} - Remastered {}", rng.random_range(1995..=2022)),
        20..=22 if album => text = format!("{text} (Deluxe Edition)"),
        _ => {}
    }
    text
}

fn track_id(rng: &mut ChaCha8Rng) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..22)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

fn zipf_index(zipf: &Zipf<f64>, rng: &mut ChaCha8Rng) -> usize {
    (zipf.sample(rng) as usize).saturating_sub(1)
}

fn weighted(rng: &mut ChaCha8Rng, choices: &[(&'static str, u32)]) -> &'static str {
    choices
        .choose_weighted(rng, |choice| choice.1)
        .map(|choice| choice.0)
        .unwrap_or(choices[0].0)
}

fn format_ts(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn bool_text(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{self, Deduplicator, Record};
    use std::collections::HashSet;

    fn generate(rows: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_sample(SampleSpec { rows, seed }, &mut out).unwrap();
        out
    }

    #[test]
    fn the_same_seed_gives_the_same_file() {
        assert_eq!(generate(2000, 7), generate(2000, 7));
        assert_ne!(generate(2000, 7), generate(2000, 8));
    }

    #[test]
    fn the_committed_sample_is_what_the_generator_writes() {
        let committed = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/spotify_history.csv"),
        )
        .expect("data/spotify_history.csv is committed");
        let generated = generate(SAMPLE_ROWS, SAMPLE_SEED);
        assert!(
            committed == generated,
            "data/spotify_history.csv differs from the generator's output; regenerate it with \
             `cargo run --release --bin generate-sample -- --out data/spotify_history.csv`"
        );
    }

    #[test]
    fn every_generated_row_reads_back_as_a_listen() {
        let bytes = generate(5000, 1);
        let records: Vec<Record> = ingest::read(std::io::Cursor::new(bytes), ingest::Format::Csv)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(records.len(), 5000);
        let mut dedup = Deduplicator::default();
        let mut duplicates = 0;
        let mut artists = HashSet::new();
        let mut skipped = 0;
        for record in &records {
            match record {
                Record::Listen {
                    event, fingerprint, ..
                } => {
                    duplicates += usize::from(dedup.is_repeat(*fingerprint));
                    artists.insert(event.artist_name.clone());
                    skipped += usize::from(event.skipped);
                }
                Record::Rejected {
                    position, reason, ..
                } => panic!("line {position}: {reason}"),
                Record::NotMusic { position } => panic!("line {position} is not music"),
            }
        }
        assert!((10..100).contains(&duplicates), "{duplicates} duplicates");
        assert!(artists.len() > 40);
        assert!(skipped > 500, "{skipped} skips");
    }

    #[test]
    fn names_carry_commas_quotes_and_accents() {
        let text = String::from_utf8(generate(5000, 3)).unwrap();
        assert!(text.contains("\"\""), "no quoted quotes");
        assert!(text
            .lines()
            .any(|line| line.matches('"').count() >= 2 && line.contains(", ")));
        assert!(!text.is_ascii());
    }

    #[test]
    fn popularity_is_skewed() {
        let bytes = generate(20_000, 5);
        let mut plays: std::collections::HashMap<String, u32> = Default::default();
        for record in ingest::read(std::io::Cursor::new(bytes), ingest::Format::Csv).unwrap() {
            if let Ok(Record::Listen { event, .. }) = record {
                *plays.entry(event.artist_name).or_default() += 1;
            }
        }
        let mut counts: Vec<u32> = plays.into_values().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_ten: u32 = counts.iter().take(10).sum();
        assert!(
            top_ten * 5 > 20_000,
            "top ten artists have only {top_ten} plays"
        );
    }
}
