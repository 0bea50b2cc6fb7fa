//! What an import did with every file and record: read = sent + duplicates +
//! not music + rejected (+ failed, when the broker did not acknowledge), and
//! the report the `producer` prints at the end of a run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::config::KafkaSettings;
use crate::event::ImportId;
use crate::ingest::PositionUnit;

/// How many rejected records the summary lists by position.
pub(super) const REJECTIONS_LISTED: usize = 20;

/// One record that cannot be a listen, where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub position: u64,
    pub reason: String,
}

/// An earlier import of the same content, as the registry remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierImport {
    /// The file's name then.
    pub file: String,
    /// When, as RFC 3339.
    pub imported_at: String,
    /// Listens it sent.
    pub sent: u64,
    /// The import from the page it was part of, if it was.
    pub import: Option<ImportId>,
}

impl fmt::Display for EarlierImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "as {} on {}, {} listens sent",
            self.file, self.imported_at, self.sent
        )
    }
}

/// What happened to every record of one file: read = sent + duplicates +
/// not music + rejected (+ failed, when the broker did not acknowledge).
#[derive(Debug, Default, Clone)]
pub struct FileSummary {
    pub name: String,
    /// What positions in this file count.
    pub unit: PositionUnit,
    pub read: u64,
    /// Listens the broker acknowledged.
    pub sent: u64,
    /// Exact repeats of a record already read, counted once.
    pub duplicates: u64,
    /// Podcast episodes and audiobooks.
    pub not_music: u64,
    /// Records that cannot be listens; each went to the dead-letter topic.
    pub rejected: u64,
    pub rejected_by_kind: BTreeMap<&'static str, u64>,
    /// The first rejections.
    pub rejections: Vec<Rejection>,
    /// Listens or dead letters the broker never acknowledged.
    pub failed: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub stopped_early: Option<String>,
    /// Set when the file was not streamed: its content was imported before.
    pub already_imported: Option<EarlierImport>,
}

impl FileSummary {
    fn add(&mut self, other: &FileSummary) {
        self.read += other.read;
        self.sent += other.sent;
        self.duplicates += other.duplicates;
        self.not_music += other.not_music;
        self.rejected += other.rejected;
        self.failed += other.failed;
        for (kind, count) in &other.rejected_by_kind {
            *self.rejected_by_kind.entry(kind).or_default() += count;
        }
    }
}

/// What happened to every file and record of one run.
#[derive(Debug, Default, Clone)]
pub struct ImportSummary {
    pub files: Vec<FileSummary>,
    /// Files of a folder or archive that are not listening history.
    pub ignored: Vec<String>,
    pub first_failure: Option<String>,
    /// Why the registry of imports could not be written, if it could not.
    pub registry_problem: Option<String>,
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Every file's figures added up.
    pub fn total(&self) -> FileSummary {
        let mut total = FileSummary::default();
        for file in &self.files {
            total.add(file);
        }
        total
    }

    /// True when every record read is accounted for and nothing failed.
    pub fn is_complete(&self) -> bool {
        self.files
            .iter()
            .all(|file| file.failed == 0 && file.stopped_early.is_none())
    }

    pub fn events_per_second(&self) -> f64 {
        self.total().sent as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The summary as printed at the end of a run.
    pub fn report(&self, input: &str, kafka: &KafkaSettings) -> String {
        let total = self.total();
        let skipped = self
            .files
            .iter()
            .filter(|file| file.already_imported.is_some())
            .count();
        let mut out = format!("input       {input}");
        if self.files.len() != 1 || !self.ignored.is_empty() {
            out.push_str(&format!(
                " ({} history files, {} other files ignored)",
                self.files.len(),
                self.ignored.len()
            ));
        }
        out.push_str(&format!(
            "\n\
             read        {} records\n\
             sent        {} listens to {}\n\
             duplicates  {} (exact repeats of an earlier record, counted once)\n\
             not music   {} (podcast episodes and audiobooks, not counted)\n\
             rejected    {} (sent to {} with the reason)\n\
             elapsed     {:.1} s ({:.0} events/s)\n",
            total.read,
            total.sent,
            kafka.topic,
            total.duplicates,
            total.not_music,
            total.rejected,
            kafka.dead_letter_topic(),
            self.elapsed.as_secs_f64(),
            self.events_per_second(),
        ));
        for (kind, count) in &total.rejected_by_kind {
            out.push_str(&format!("  rejected as {kind}: {count}\n"));
        }
        let several = self.files.len() > 1;
        let mut listed = 0;
        for file in &self.files {
            for Rejection { position, reason } in &file.rejections {
                let place = if several {
                    format!("{} {} {position}", file.name, file.unit)
                } else {
                    format!("{} {position}", file.unit)
                };
                out.push_str(&format!("  {place}: {reason}\n"));
                listed += 1;
            }
        }
        if total.rejected as usize > listed {
            out.push_str(&format!(
                "  … and {} more on the dead-letter topic\n",
                total.rejected as usize - listed
            ));
        }
        if several {
            out.push_str(&self.file_table());
        }
        for file in &self.files {
            if let Some(earlier) = &file.already_imported {
                out.push_str(&format!(
                    "SKIPPED     {}: already imported ({earlier}); nothing sent. \
                     Pass --force to stream it again (its listens are then counted twice).\n",
                    file.name
                ));
            }
            if let Some(why) = &file.stopped_early {
                out.push_str(&format!(
                    "STOPPED     {}: {why}. The records before that point were sent; \
                     fix the file and stream the rest.\n",
                    file.name
                ));
            }
        }
        if skipped > 0 && skipped == self.files.len() {
            out.push_str("Nothing new to stream: every file was imported before.\n");
        }
        if total.failed > 0 {
            out.push_str(&format!(
                "FAILED      {} records were not acknowledged by Kafka ({}). \
                 Check that the broker is up (./scripts/stack.sh status) and stream the file again.\n",
                total.failed,
                self.first_failure.as_deref().unwrap_or("no reason given"),
            ));
        }
        if let Some(problem) = &self.registry_problem {
            out.push_str(&format!(
                "WARNING     the import was not recorded ({problem}); \
                 a repeat of these files will not be recognised.\n"
            ));
        }
        out
    }

    /// One line per file: read = sent + duplicates + not music + rejected.
    fn file_table(&self) -> String {
        let width = self
            .files
            .iter()
            .map(|file| file.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "{:width$}  {:>8} {:>8} {:>10} {:>9} {:>8}\n",
            "file", "read", "sent", "duplicates", "not music", "rejected"
        );
        for file in &self.files {
            out.push_str(&format!(
                "{:width$}  {:>8} {:>8} {:>10} {:>9} {:>8}{}\n",
                file.name,
                file.read,
                file.sent,
                file.duplicates,
                file.not_music,
                file.rejected,
                if file.already_imported.is_some() {
                    "  (imported before, skipped)"
                } else {
                    ""
                }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka() -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:9092".into(),
            topic: "spotify_streams".into(),
            partitions: 4,
            dead_letter_retention_days: 7,
            security: Default::default(),
        }
    }

    fn one_file(file: FileSummary) -> ImportSummary {
        ImportSummary {
            files: vec![file],
            elapsed: Duration::from_secs(2),
            ..Default::default()
        }
    }

    #[test]
    fn the_report_accounts_for_every_record() {
        let summary = one_file(FileSummary {
            name: "history.csv".into(),
            unit: PositionUnit::Line,
            read: 11,
            sent: 7,
            duplicates: 2,
            not_music: 1,
            rejected: 1,
            rejected_by_kind: [("negative_ms_played", 1)].into_iter().collect(),
            rejections: vec![Rejection {
                position: 4,
                reason: "negative ms_played -5".into(),
            }],
            ..Default::default()
        });
        let report = summary.report("history.csv", &kafka());
        assert!(report.contains("read        11 records"));
        assert!(report.contains("sent        7 listens to spotify_streams"));
        assert!(report.contains("duplicates  2"));
        assert!(report.contains("not music   1"));
        assert!(report.contains("rejected    1 (sent to spotify_streams_dlq"));
        assert!(report.contains("line 4: negative ms_played -5"));
        assert!(report.contains("(4 events/s)"));
        assert!(summary.is_complete());
    }

    #[test]
    fn several_files_are_summarised_one_by_one_and_in_total() {
        let summary = ImportSummary {
            files: vec![
                FileSummary {
                    name: "Streaming_History_Audio_2020.json".into(),
                    unit: PositionUnit::Record,
                    read: 10,
                    sent: 6,
                    not_music: 3,
                    rejected: 1,
                    rejections: vec![Rejection {
                        position: 5,
                        reason: "missing artist name".into(),
                    }],
                    ..Default::default()
                },
                FileSummary {
                    name: "StreamingHistory_music_0.json".into(),
                    unit: PositionUnit::Record,
                    already_imported: Some(EarlierImport {
                        file: "StreamingHistory_music_0.json".into(),
                        imported_at: "2026-11-01T10:00:00Z".into(),
                        sent: 120,
                        import: None,
                    }),
                    ..Default::default()
                },
            ],
            ignored: vec!["Streaming_History_Video_2020.json".into()],
            ..Default::default()
        };
        let report = summary.report("my_spotify_data.zip", &kafka());
        assert!(
            report.contains("(2 history files, 1 other files ignored)"),
            "{report}"
        );
        assert!(report.contains("read        10 records"));
        assert!(report.contains("Streaming_History_Audio_2020.json record 5: missing artist name"));
        assert!(report.contains("Streaming_History_Audio_2020.json        10        6          0         3        1"), "{report}");
        assert!(report.contains(
            "SKIPPED     StreamingHistory_music_0.json: already imported \
             (as StreamingHistory_music_0.json on 2026-11-01T10:00:00Z, 120 listens sent)"
        ));
        assert!(summary.is_complete(), "a skipped file is not a failure");
    }

    #[test]
    fn the_report_says_how_far_a_broken_run_got() {
        let summary = one_file(FileSummary {
            name: "f.csv".into(),
            read: 3,
            sent: 3,
            stopped_early: Some("reading stopped after 3 records: cannot read the file".into()),
            ..Default::default()
        });
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("STOPPED     f.csv: reading stopped after 3 records"));
    }

    #[test]
    fn unacknowledged_records_fail_the_run() {
        let mut summary = one_file(FileSummary {
            failed: 2,
            ..Default::default()
        });
        summary.first_failure = Some("no broker answered".into());
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("2 records were not acknowledged"));
    }
}
