//! Streams a listening-history file into Kafka: each listen becomes a JSON
//! event keyed by artist; each rejected record goes to the dead-letter
//! topic with its line and reason; exact duplicates are counted once.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use super::dead_letter::{DeadLetter, Origin};
use super::{check_reachable, client_config, describe, ensure_topics, KafkaUnreachable};
use crate::config::KafkaSettings;
use crate::ingest::{self, Deduplicator, IngestError, Record};

/// How many rejected records the summary lists by line.
const REJECTIONS_LISTED: usize = 20;
/// Longest wait for the broker to acknowledge what is queued before giving up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(150);

#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub path: PathBuf,
    /// Events per second; 0 sends as fast as the broker takes them.
    pub rate: f64,
    /// Stop after this many records of the file.
    pub limit: Option<u64>,
    /// Draw a progress bar (only shown on a terminal).
    pub progress: bool,
}

/// What happened to every record read.
#[derive(Debug, Default, Clone)]
pub struct PublishSummary {
    pub read: u64,
    /// Listens the broker acknowledged.
    pub sent: u64,
    /// Exact repeats of a record already read, counted once.
    pub duplicates: u64,
    /// Records that cannot be listens; each went to the dead-letter topic.
    pub rejected: u64,
    pub rejected_by_kind: BTreeMap<&'static str, u64>,
    /// The first rejections, by line: `(line, reason)`.
    pub rejections: Vec<(u64, String)>,
    /// Listens or dead letters the broker never acknowledged.
    pub failed: u64,
    pub first_failure: Option<String>,
    /// Why reading stopped before the end of the file, if it did.
    pub stopped_early: Option<String>,
    pub elapsed: Duration,
}

impl PublishSummary {
    /// True when every record read is accounted for and nothing failed.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.stopped_early.is_none()
    }

    pub fn events_per_second(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The summary as printed at the end of a run.
    pub fn report(&self, file: &str, kafka: &KafkaSettings) -> String {
        let mut out = format!(
            "file        {file}\n\
             read        {} records\n\
             sent        {} listens to {}\n\
             duplicates  {} (exact repeats of an earlier record, counted once)\n\
             rejected    {} (sent to {} with the reason)\n\
             elapsed     {:.1} s ({:.0} events/s)\n",
            self.read,
            self.sent,
            kafka.topic,
            self.duplicates,
            self.rejected,
            kafka.dead_letter_topic(),
            self.elapsed.as_secs_f64(),
            self.events_per_second(),
        );
        for (kind, count) in &self.rejected_by_kind {
            out.push_str(&format!("  rejected as {kind}: {count}\n"));
        }
        for (line, reason) in &self.rejections {
            out.push_str(&format!("  line {line}: {reason}\n"));
        }
        if self.rejected as usize > self.rejections.len() {
            out.push_str(&format!(
                "  … and {} more on the dead-letter topic\n",
                self.rejected as usize - self.rejections.len()
            ));
        }
        if self.failed > 0 {
            out.push_str(&format!(
                "FAILED      {} records were not acknowledged by Kafka ({}). \
                 Check that the broker is up (./scripts/stack.sh status) and stream the file again.\n",
                self.failed,
                self.first_failure.as_deref().unwrap_or("no reason given"),
            ));
        }
        if let Some(why) = &self.stopped_early {
            out.push_str(&format!(
                "STOPPED     {why}. The records before that point were sent; fix the file and stream the rest.\n"
            ));
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(
        "cannot read {path}: {source}. Check the path and that it is a spotify_history.csv file."
    )]
    Unreadable { path: String, source: IngestError },
    #[error(transparent)]
    Kafka(#[from] KafkaUnreachable),
}

/// Counts acknowledgements as the broker sends them.
#[derive(Default)]
struct Deliveries {
    events: AtomicU64,
    dead_letters: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

/// Tells apart, in delivery reports, listens from dead letters.
const EVENT: usize = 0;
const DEAD_LETTER: usize = 1;

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, kind: usize) {
        match result {
            Ok(_) if kind == EVENT => self.events.fetch_add(1, Ordering::Relaxed),
            Ok(_) => self.dead_letters.fetch_add(1, Ordering::Relaxed),
            Err((error, _)) => {
                self.record_failure(error);
                0
            }
        };
    }
}

impl Deliveries {
    fn record_failure(&self, error: &KafkaError) {
        if let Ok(mut first) = self.first_failure.lock() {
            first.get_or_insert_with(|| describe(error));
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Streams one file into the topic; see the module documentation.
pub fn publish_file(
    kafka: &KafkaSettings,
    options: &PublishOptions,
) -> Result<PublishSummary, PublishError> {
    let path_text = options.path.display().to_string();
    let unreadable = |source: IngestError| PublishError::Unreadable {
        path: path_text.clone(),
        source,
    };
    let file = File::open(&options.path).map_err(|e| unreadable(e.into()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);

    let producer = create_producer(&kafka.brokers)?;
    check_reachable(producer.client(), &kafka.brokers, Duration::from_secs(10))?;
    let dead_letter_topic = kafka.dead_letter_topic();
    futures::executor::block_on(ensure_topics(
        &kafka.brokers,
        &[&kafka.topic, &dead_letter_topic],
        kafka.partitions,
    ))?;

    let progress = progress_bar(options.progress, size);
    let records = ingest::read(BufReader::with_capacity(1 << 16, progress.wrap_read(file)))
        .map_err(unreadable)?;

    let started = Instant::now();
    let mut summary = PublishSummary::default();
    let mut dedup = Deduplicator::default();
    let mut queued_events = 0u64;
    for record in records {
        if options.limit.is_some_and(|limit| summary.read >= limit) {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                summary.stopped_early = Some(format!(
                    "reading stopped after {} records: {error}",
                    summary.read
                ));
                break;
            }
        };
        summary.read += 1;
        match record {
            Record::Listen {
                event, fingerprint, ..
            } => {
                if dedup.is_repeat(fingerprint) {
                    summary.duplicates += 1;
                    continue;
                }
                pace(options.rate, started, queued_events);
                let payload = serde_json::to_vec(&event).unwrap_or_default();
                send(
                    &producer,
                    BaseRecord::with_opaque_to(&kafka.topic, EVENT)
                        .key(event.key())
                        .payload(&payload),
                );
                queued_events += 1;
            }
            Record::Rejected { line, reason, raw } => {
                summary.rejected += 1;
                *summary.rejected_by_kind.entry(reason.kind()).or_default() += 1;
                if summary.rejections.len() < REJECTIONS_LISTED {
                    summary.rejections.push((line, reason.to_string()));
                }
                let letter = DeadLetter {
                    reason: reason.to_string(),
                    reason_kind: reason.kind(),
                    origin: Origin::File {
                        path: path_text.clone(),
                        line,
                    },
                };
                send(
                    &producer,
                    BaseRecord::<(), [u8], usize>::with_opaque_to(&dead_letter_topic, DEAD_LETTER)
                        .payload(&raw)
                        .headers(letter.headers()),
                );
            }
        }
        if summary.read % 1000 == 0 {
            progress.set_message(format!(
                "{} listens queued, {} duplicates, {} rejected",
                queued_events, summary.duplicates, summary.rejected
            ));
        }
    }
    progress.set_message("waiting for the broker to acknowledge…");
    let flushed = producer.flush(FLUSH_TIMEOUT);
    progress.finish_and_clear();

    let deliveries = producer.context();
    summary.sent = deliveries.events.load(Ordering::Relaxed);
    summary.failed = deliveries.failed.load(Ordering::Relaxed);
    summary.first_failure = deliveries
        .first_failure
        .lock()
        .ok()
        .and_then(|first| first.clone());
    let acknowledged = summary.sent + deliveries.dead_letters.load(Ordering::Relaxed);
    let queued = queued_events + summary.rejected;
    if let Err(error) = flushed {
        let unacknowledged = queued.saturating_sub(acknowledged + summary.failed);
        summary.failed += unacknowledged;
        summary
            .first_failure
            .get_or_insert_with(|| describe(&error));
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn create_producer(brokers: &str) -> Result<ThreadedProducer<Deliveries>, KafkaUnreachable> {
    client_config(brokers)
        // Retries never duplicate or reorder a listen.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // The partitioner of Java clients, so an artist's listens land on the
        // same partition whichever of them produced it.
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "20")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "120000")
        .set("queue.buffering.max.messages", "200000")
        .create_with_context(Deliveries::default())
        .map_err(|error| KafkaUnreachable {
            brokers: brokers.to_string(),
            detail: describe(&error),
        })
}

/// Queues a record, waiting while the client's queue is full.
fn send<K, P>(producer: &ThreadedProducer<Deliveries>, mut record: BaseRecord<'_, K, P, usize>)
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                record = returned;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((error, _)) => {
                // Not retryable (e.g. a value over the broker's size limit): count it as failed.
                producer.context().record_failure(&error);
                return;
            }
        }
    }
}

/// Sleeps as needed to keep to `rate` events per second.
fn pace(rate: f64, started: Instant, sent: u64) {
    if rate <= 0.0 {
        return;
    }
    let due = started + Duration::from_secs_f64(sent as f64 / rate);
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

fn progress_bar(enabled: bool, size: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka() -> KafkaSettings {
        KafkaSettings {
            brokers: "127.0.0.1:9092".into(),
            topic: "spotify_streams".into(),
            partitions: 4,
        }
    }

    #[test]
    fn the_report_accounts_for_every_record() {
        let summary = PublishSummary {
            read: 10,
            sent: 7,
            duplicates: 2,
            rejected: 1,
            rejected_by_kind: [("negative_ms_played", 1)].into_iter().collect(),
            rejections: vec![(4, "negative ms_played -5".into())],
            elapsed: Duration::from_secs(2),
            ..Default::default()
        };
        let report = summary.report("history.csv", &kafka());
        assert!(report.contains("read        10 records"));
        assert!(report.contains("sent        7 listens to spotify_streams"));
        assert!(report.contains("duplicates  2"));
        assert!(report.contains("rejected    1 (sent to spotify_streams_dlq"));
        assert!(report.contains("line 4: negative ms_played -5"));
        assert!(report.contains("(4 events/s)"));
        assert!(summary.is_complete());
    }

    #[test]
    fn the_report_says_how_far_a_broken_run_got() {
        let summary = PublishSummary {
            read: 3,
            sent: 3,
            stopped_early: Some("reading stopped after 3 records: cannot read the file".into()),
            ..Default::default()
        };
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("STOPPED     reading stopped after 3 records"));
    }

    #[test]
    fn unacknowledged_records_fail_the_run() {
        let summary = PublishSummary {
            failed: 2,
            first_failure: Some("no broker answered".into()),
            ..Default::default()
        };
        assert!(!summary.is_complete());
        assert!(summary
            .report("f.csv", &kafka())
            .contains("2 records were not acknowledged"));
    }
}
