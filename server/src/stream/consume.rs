//! The consumer task: reads listen events in a Kafka consumer group and folds
//! them into the aggregates in micro-batches, exactly once.
//!
//! The messages come decoded from a thread beside this task (see
//! [`super::decode`]); which of them count, and where a batch ends, is
//! decided here.
//!
//! Several servers may share the topic's partitions through the consumer
//! group. Each partition's aggregates are loaded as soon as it is assigned
//! (and handed to the server's range index), and dropped when it is revoked
//! (with what was read of it and not yet journaled: its next owner reads that
//! again). A batch ends after `BATCH_MAX_EVENTS` messages (more while the
//! consumer is behind, see [`BatchLimit`]) or `BATCH_MAX_BYTES` of them, or
//! `BATCH_MAX_WAIT_MS` after its first message. While a batch is journaled the
//! next one is read, and no further (Kafka keeps the rest), so memory stays
//! bounded however far behind the consumer is. Each partition's part of a
//! batch goes through these steps, each retried with backoff until it succeeds:
//! dead letters sent → batch journaled (the moment it counts, see
//! [`crate::store::journal`]; in the background) → folded into the partition's
//! aggregates → offset committed to Kafka → the partition's leaderboards
//! published (in the background, see [`super::publisher`]; at most twice a
//! second while the consumer is behind, see [`super::progress::Unpublished`]). From
//! time to time a partition's checkpoint is written. MongoDB's journal, not
//! Kafka's committed offset, says where a partition resumes; Kafka's offset
//! follows it for lag tools.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, Instant};
use tracing::{debug, info, warn};

use super::backoff::Backoff;
use super::batch::{Admitted, Batch, BatchLimit, Rejected};
use super::consumer_events::{ConsumerEvents, Reassigned};
use super::cursor::{Cursor, Step};
use super::decode::Decoding;
use super::progress::{Pace, Progress};
use super::publisher::{Publication, Publisher};
use super::{client_config, describe, ensure_topics};
use crate::accounts::PersonId;
use crate::config::{BatchSettings, KafkaSettings};
use crate::metrics::METRICS;
use crate::rollup::held::Held;
use crate::status::PipelineStatus;
use crate::store::journal::JournalEntry;
use crate::store::leaderboard::Leaderboards;
use crate::store::{StoreError, TopicStore};

/// How long the task waits for a first message before checking on the broker.
const IDLE_CHECK_EVERY: Duration = Duration::from_secs(5);
/// Messages taken one after the other without looking at anything else
/// (a journal write ended, shutdown): a short run, so neither waits long.
const TAKEN_AT_ONCE: u32 = 256;

/// Everything the consumer task needs; [`ConsumerTask::run`] runs until shutdown.
pub struct ConsumerTask {
    pub kafka: KafkaSettings,
    pub group_id: String,
    pub group_instance_id: Option<String>,
    pub batching: BatchSettings,
    pub store: TopicStore,
    pub status: PipelineStatus,
    /// Becomes `true` when the server is asked to stop.
    pub shutdown: watch::Receiver<bool>,
    /// The partitions this server answers from: each partition owned is
    /// held there as it is counted (one state, no copy for readers).
    pub held: Held,
    /// Writes the leaderboards readers see while counting goes on.
    pub leaderboards: Publisher,
}

/// The task was asked to stop while waiting.
#[derive(Debug)]
struct Stopping;

impl ConsumerTask {
    /// Consumes until shutdown; never returns early because of a fault.
    pub async fn run(mut self) {
        if self.start().await.is_err() {
            return;
        }
        let mut owned: HashMap<i32, Progress> = HashMap::new();
        let consumer = match self.subscribe() {
            Ok(consumer) => Arc::new(consumer),
            Err(error) => {
                // Only an invalid setting gets here; nothing to retry.
                self.status.kafka_trouble(error.clone());
                tracing::error!("the consumer cannot start: {error}");
                return;
            }
        };
        let dead_letters = match self.dead_letter_producer() {
            Ok(producer) => producer,
            Err(error) => {
                self.status.kafka_trouble(error.clone());
                tracing::error!("the dead-letter producer cannot start: {error}");
                return;
            }
        };
        let mut decoding = match Decoding::start(Arc::clone(&consumer), self.kafka.topic.clone()) {
            Ok(decoding) => decoding,
            Err(error) => {
                self.status
                    .kafka_trouble(format!("the consumer cannot start a thread: {error}"));
                tracing::error!("the consumer cannot start its decoding thread: {error}");
                return;
            }
        };
        let mut cursors: HashMap<i32, Cursor> = HashMap::new();
        let mut limit = BatchLimit::new(self.batching.max_events as usize);
        // The batch being journaled while the next one is read.
        let mut journaling: Option<Journaling> = None;
        while !*self.shutdown.borrow() {
            let batch = match self
                .collect(
                    &consumer,
                    &mut decoding,
                    limit,
                    &mut journaling,
                    &mut owned,
                    &mut cursors,
                )
                .await
            {
                Ok(batch) => batch,
                Err(Stopping) => break,
            };
            limit.after(&batch);
            let mut batch = batch;
            if let Some(mut pending) = journaling.take() {
                let written = pending.attempts().await;
                match self
                    .finish(&consumer, pending, written, &mut owned, &mut cursors)
                    .await
                {
                    Ok(reloaded) => reloaded.into_iter().for_each(|p| batch.abandon(p)),
                    Err(Stopping) => break,
                }
            }
            let step = if batch.is_empty() {
                self.maintain(&mut owned, Pace::Idle).await
            } else {
                self.begin(&dead_letters, batch, &owned)
                    .await
                    .map(|pending| journaling = Some(pending))
            };
            if step.is_err() {
                break;
            }
        }
        if let Some(mut pending) = journaling.take() {
            // Lets a write under way end; what it wrote counts at the next start.
            pending.attempts().await;
        }
        decoding.stop();
        info!("consumer stopped");
    }

    /// Prepares the database and the topics.
    async fn start(&mut self) -> Result<(), Stopping> {
        let store = self.store.clone();
        self.retry(Service::MongoDb, "preparing MongoDB", || async {
            store.store().prepare().await?;
            store.check_layout().await
        })
        .await?;
        let kafka = self.kafka.clone();
        self.retry(Service::Kafka, "creating the topics", || {
            ensure_topics(&kafka)
        })
        .await?;
        Ok(())
    }

    /// Loads what was counted of a partition this consumer was assigned.
    async fn load_progress(&mut self, partition: i32) -> Result<Progress, Stopping> {
        self.held.claim(partition);
        let store = self.store.clone();
        let progress = self
            .retry(
                Service::MongoDb,
                "loading a partition's checkpoint and journal",
                || Progress::load(&store, partition),
            )
            .await?;
        self.loaded(partition, &progress);
        Ok(progress)
    }

    /// Loads several partitions at once (each waits on MongoDB for most of
    /// its load; one after the other, a restart took as long as all of them).
    /// The caller hands over those still assigned ([`Self::loaded`]).
    async fn load_all(&mut self, partitions: &[i32]) -> Result<Vec<Progress>, Stopping> {
        let store = self.store.clone();
        let loaded = self
            .retry(
                Service::MongoDb,
                "loading the partitions' checkpoints and journals",
                || {
                    futures::future::try_join_all(
                        partitions
                            .iter()
                            .map(|&partition| Progress::load(&store, partition)),
                    )
                },
            )
            .await?;
        Ok(loaded)
    }

    /// Publishes a partition just loaded and hands it to the readers.
    fn loaded(&mut self, partition: i32, progress: &Progress) {
        {
            let figures = progress.held.read();
            info!(
                partition,
                events = figures.aggregates.events(),
                people = figures.aggregates.people.len(),
                resumes_at = ?figures.position,
                "partition loaded; counting resumes where it stopped"
            );
        }
        if progress.position().is_some() {
            self.publish(progress, None, &[]);
        }
        // Readers read the very state counted into, from now on.
        self.held.insert(partition, progress.held.clone());
    }

    /// Publishes the leaderboards readers see of the people of a partition
    /// in `changed` (everyone when `None`), and removes those of the people
    /// forgotten.
    fn publish(&self, progress: &Progress, changed: Option<&[PersonId]>, forgotten: &[PersonId]) {
        let figures = progress.held.read();
        let people = &figures.aggregates.people;
        let changed: Vec<(PersonId, Leaderboards)> = match changed {
            Some(changed) => changed
                .iter()
                .filter_map(|person| Some((person.clone(), Leaderboards::of(people.get(person)?))))
                .collect(),
            None => people
                .iter()
                .map(|(person, aggregates)| (person.clone(), Leaderboards::of(aggregates)))
                .collect(),
        };
        drop(figures);
        self.leaderboards.publish(Publication {
            partition: progress.partition,
            changed,
            forgotten: forgotten.to_vec(),
            heads: progress.heads.clone(),
        });
    }

    /// Publishes the leaderboards and writes the checkpoints that are due.
    async fn maintain(
        &mut self,
        owned: &mut HashMap<i32, Progress>,
        pace: Pace,
    ) -> Result<(), Stopping> {
        let now = std::time::Instant::now();
        for progress in owned.values_mut() {
            if let Some(publishing) = progress.unpublished.take_due(pace, now) {
                self.publish(progress, Some(&publishing.changed), &publishing.forgotten);
            }
            if progress.checkpoint_due(pace) {
                self.checkpoint(progress).await?;
            }
        }
        Ok(())
    }

    async fn checkpoint(&mut self, progress: &mut Progress) -> Result<(), Stopping> {
        let started = Instant::now();
        let store = self.store.clone();
        let unchanged: &Progress = progress;
        let written = self
            .retry(Service::MongoDb, "writing a checkpoint", || {
                unchanged.write_checkpoint(&store)
            })
            .await?;
        if let Some(written) = written {
            progress.checkpointed(written, &store);
        }
        let figures = progress.held.read();
        info!(
            partition = progress.partition,
            generation = figures.generation,
            took = ?started.elapsed(),
            people = figures.aggregates.people.len(),
            listens = figures.aggregates.keys(),
            "checkpoint written"
        );
        Ok(())
    }

    fn subscribe(&self) -> Result<StreamConsumer<ConsumerEvents>, String> {
        let events = ConsumerEvents::new(self.status.clone());
        let mut config = client_config(&self.kafka);
        if let Some(instance) = &self.group_instance_id {
            config.set("group.instance.id", instance);
        }
        let consumer: StreamConsumer<ConsumerEvents> = config
            .set("group.id", &self.group_id)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // A crashed instance's partitions move on within seconds.
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "2000")
            // Bounds what librdkafka prefetches (64 MiB by default; at
            // 16 MiB, prefetched messages and their decompressed batches
            // were 90 MiB of the server's peak while catching up, and at 4
            // MiB still 19.5 MB of 100 people's). It bounds each fetch too:
            // a MiB is about 5,000 listens, 20 ms of counting.
            .set("queued.max.messages.kbytes", "1024")
            // A full prefetch queue postpones fetching by 1 s by default; a
            // seek (after a restart, a reload) would wait that long too, and
            // at 50 ms the consumer waited for a queue it had emptied (the
            // million-row file took 15% longer).
            .set("fetch.queue.backoff.ms", "5")
            // The broker holds a fetch with nothing new this long (500 ms by
            // default): a listen arriving meanwhile waited for it.
            .set("fetch.wait.max.ms", "100")
            // Statistics carry the per-partition lag for the metrics.
            .set("statistics.interval.ms", "5000")
            .create_with_context(events)
            .map_err(|error| describe(&error))?;
        consumer
            .subscribe(&[&self.kafka.topic])
            .map_err(|error| describe(&error))?;
        info!(
            topic = %self.kafka.topic,
            brokers = %self.kafka.brokers,
            group = %self.group_id,
            "consuming"
        );
        Ok(consumer)
    }

    fn dead_letter_producer(&self) -> Result<FutureProducer, String> {
        client_config(&self.kafka)
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(|error| describe(&error))
    }

    /// Reads one micro-batch: waits for a first message, then takes more until
    /// the batch is full or its time is up.
    /// An empty batch means nothing arrived for a while.
    async fn collect(
        &mut self,
        consumer: &StreamConsumer<ConsumerEvents>,
        decoding: &mut Decoding,
        limit: BatchLimit,
        journaling: &mut Option<Journaling>,
        owned: &mut HashMap<i32, Progress>,
        cursors: &mut HashMap<i32, Cursor>,
    ) -> Result<Batch, Stopping> {
        let mut batch = Batch::default();
        let mut deadline: Option<Instant> = None;
        let mut taken_at_once = 0;
        loop {
            if batch.messages >= limit.events() || batch.bytes >= self.batching.max_bytes as usize {
                batch.filled = true;
                return Ok(batch);
            }
            // Behind, the next message is most often there already: it is
            // taken as is, for a bounded run, without arming a timer and
            // racing the other branches (a twentieth of the counting thread),
            // nor reading the clock.
            let ready = match deadline {
                Some(_) if taken_at_once < TAKEN_AT_ONCE => decoding.ready(),
                _ => None,
            };
            taken_at_once = if ready.is_some() {
                taken_at_once + 1
            } else {
                0
            };
            let received = match ready {
                Some(message) => Ok(message),
                None => {
                    let wait = match deadline {
                        // Past its time while the previous batch is still being
                        // written: reading on costs nothing (this batch is written
                        // only after it), and the batches grow to what the writes
                        // take. Under load, they ended at their time and waited.
                        Some(deadline) if journaling.is_some() && deadline <= Instant::now() => {
                            IDLE_CHECK_EVERY
                        }
                        Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                        None => IDLE_CHECK_EVERY,
                    };
                    tokio::select! {
                        received = timeout(wait, decoding.next()) => match received {
                            Ok(Some(read)) => Ok(read),
                            Ok(None) => {
                                tracing::error!("the decoding thread stopped; the consumer stops");
                                self.status.kafka_trouble("the consumer's decoding thread stopped: restart the server");
                                return Err(Stopping);
                            }
                            Err(elapsed) => Err(elapsed),
                        },
                        written = Journaling::written(journaling) => {
                            // The previous batch is journaled: it counts from now on,
                            // not only once this batch is read.
                            if let Some(pending) = journaling.take() {
                                for partition in self.finish(consumer, pending, written, owned, cursors).await? {
                                    batch.abandon(partition);
                                }
                            }
                            continue;
                        }
                        _ = self.shutdown.changed() => return if batch.is_empty() { Err(Stopping) } else { Ok(batch) },
                    }
                }
            };
            self.follow_assignment(consumer, &mut batch, owned, cursors)
                .await?;
            let message = match received {
                Err(_elapsed) if deadline.is_some() => {
                    batch.filled = more_waiting(consumer, &self.kafka.topic, &batch);
                    return Ok(batch);
                }
                Err(_elapsed) => {
                    self.check_broker(consumer).await;
                    return Ok(batch);
                }
                Ok(Err(error)) => {
                    warn!(error = %describe(&error), "reading from Kafka failed");
                    self.status.kafka_trouble(describe(&error));
                    sleep(Duration::from_millis(500)).await;
                    continue;
                }
                Ok(Ok(message)) => message,
            };
            self.status.kafka_ok();
            let (partition, offset) = (message.partition, message.offset);
            if consumer
                .context()
                .moves()
                .is_stale(partition, message.taken)
            {
                debug!(
                    partition,
                    offset, "taken before its partition's fetching moved"
                );
                continue;
            }
            if let Entry::Vacant(slot) = owned.entry(partition) {
                if !self.assigned(consumer, partition) {
                    debug!(partition, offset, "message after the partition was revoked");
                    continue;
                }
                slot.insert(self.load_progress(partition).await?);
                cursors.remove(&partition);
                consumer.context().set_resume_positions(&positions(owned));
            }
            let cursor = match cursors.get(&partition) {
                Some(cursor) => *cursor,
                None => owned[&partition]
                    .position()
                    .map_or(Cursor::Fresh, Cursor::At),
            };
            let (step, next) = cursor.step(offset);
            cursors.insert(partition, next);
            match step {
                Step::Skip => debug!(partition, offset, "already counted"),
                Step::Rewind(to) => {
                    debug!(partition, offset, ?to, "ahead of the journal; rewinding");
                    self.fetch_from(consumer, partition, to, cursors);
                }
                Step::SkipTo(to) => {
                    debug!(
                        partition,
                        offset,
                        ?to,
                        "already counted; fetching further on"
                    );
                    self.fetch_from(consumer, partition, to, cursors);
                }
                Step::Accept { expected } => {
                    deadline.get_or_insert_with(|| Instant::now() + self.batching.max_wait());
                    let Some(progress) = owned.get_mut(&partition) else {
                        continue;
                    };
                    match batch.admit(message, expected, &mut progress.imports_read) {
                        Admitted::Forget(scope) => {
                            info!(partition, offset, ?scope, "forgetting a person");
                            return Ok(batch);
                        }
                        Admitted::CleanUp => {
                            info!(partition, offset, "a person's clean-up");
                            return Ok(batch);
                        }
                        Admitted::CountedBefore => {
                            debug!(
                                partition,
                                offset, "a resumed import's listen, counted before"
                            )
                        }
                        Admitted::Listen | Admitted::SetAside => {}
                    }
                }
            }
        }
    }

    /// Starts writing a batch through: its dead letters are sent, then its
    /// journal entries are written in the background while the next batch is
    /// read; [`Self::finish`] counts them. See the module documentation.
    async fn begin(
        &mut self,
        dead_letters: &FutureProducer,
        batch: Batch,
        owned: &HashMap<i32, Progress>,
    ) -> Result<Journaling, Stopping> {
        let started = Instant::now();
        METRICS.batch_events.observe(batch.messages as f64);
        let pace = if batch.filled {
            Pace::Behind
        } else {
            Pace::CaughtUp
        };
        let mut entries = Vec::with_capacity(batch.partitions.len());
        for (partition, part) in batch.partitions {
            let Some(progress) = owned.get(&partition) else {
                continue;
            };
            self.send_dead_letters(dead_letters, &part.dead_letters)
                .await?;
            let mut delta = part.delta;
            delta.leave_out(&progress.held.read().aggregates.removed);
            delta.forgotten.extend(part.forget);
            delta.cleaned.extend(part.clean_up);
            entries.push(JournalEntry {
                topic: self.kafka.topic.clone(),
                partition,
                from: part.from,
                to: part.to,
                delta,
                dead_lettered: part.dead_letters.len() as i64,
                written_at: chrono::Utc::now(),
            });
        }
        Ok(Journaling::start(
            self.store.clone(),
            entries,
            started,
            pace,
        ))
    }

    /// Counts a batch whose journal writes ended: each partition's entry is
    /// written again until it is journaled (or found to conflict), then
    /// folded into the partition's aggregates and handed to the readers, its
    /// offset committed and its leaderboards left to publish. Returns the
    /// partitions reloaded after a conflict: what was read of them since
    /// does not follow what is counted, so it is dropped and read again.
    async fn finish(
        &mut self,
        consumer: &StreamConsumer<ConsumerEvents>,
        journaling: Journaling,
        written: Vec<Attempt>,
        owned: &mut HashMap<i32, Progress>,
        cursors: &mut HashMap<i32, Cursor>,
    ) -> Result<Vec<i32>, Stopping> {
        let mut counted = 0;
        let mut reloaded = Vec::new();
        for (entry, first_attempt) in journaling.entries.iter().zip(written) {
            let partition = entry.partition;
            // Revoked while it was written: its next owner reads it from the journal.
            let Some(mut progress) = owned.remove(&partition) else {
                continue;
            };
            let journaled = match first_attempt {
                Attempt::Written => Journaled::Yes,
                Attempt::Conflict => Journaled::Conflict,
                Attempt::Failed(error) => {
                    warn!(partition, %error, "journaling a batch failed, retrying");
                    let store = self.store.clone();
                    self.retry(Service::MongoDb, "journaling a batch", || async {
                        match store.journal(entry).await {
                            Ok(()) => Ok(Journaled::Yes),
                            Err(StoreError::JournalConflict(_)) => Ok(Journaled::Conflict),
                            Err(error) => Err(error),
                        }
                    })
                    .await?
                }
            };
            // Counting moved while it was written (the partition was reloaded
            // meanwhile): the batch does not follow what is counted here.
            let out_of_step = progress
                .position()
                .is_some_and(|position| entry.from != position && entry.to > position);
            if matches!(journaled, Journaled::Conflict) || out_of_step {
                warn!(
                    partition,
                    from = entry.from,
                    "the batch does not follow what this consumer counted (another \
                     consumer journaled first); reloading what was counted"
                );
                let reloaded_progress = self.load_progress(partition).await?;
                let resume = reloaded_progress
                    .position()
                    .map_or(Offset::Beginning, Offset::Offset);
                owned.insert(partition, reloaded_progress);
                cursors.remove(&partition);
                if let Err(error) = self.seek(consumer, partition, resume) {
                    // No longer ours, most likely; its owner reads it.
                    debug!(partition, ?resume, error = %describe(&error), "reading again failed");
                }
                reloaded.push(partition);
                continue;
            }
            // Skipped when a reload while it was written already has it.
            progress.fold(entry);
            counted += entry.delta.events();
            let mut offsets = TopicPartitionList::new();
            if offsets
                .add_partition_offset(&self.kafka.topic, partition, Offset::Offset(entry.to))
                .is_ok()
            {
                if let Err(error) = consumer.commit(&offsets, CommitMode::Async) {
                    debug!(
                        partition,
                        offset = entry.to,
                        error = %describe(&error),
                        "committing an offset to Kafka failed"
                    );
                }
            }
            debug!(
                partition,
                from = entry.from,
                to = entry.to,
                events = entry.delta.events(),
                dead_letters = entry.dead_lettered,
                "batch counted"
            );
            let forgotten: Vec<PersonId> = entry
                .delta
                .forgotten
                .iter()
                .map(|forget| forget.person.clone())
                .collect();
            progress.unpublished.note(entry.delta.changed(), forgotten);
            owned.insert(partition, progress);
        }
        consumer.context().set_resume_positions(&positions(owned));
        self.status.batch_applied(counted as u64);
        METRICS.events_counted.inc_by(counted as u64);
        METRICS
            .flush_seconds
            .observe(journaling.started.elapsed().as_secs_f64());
        debug!(events = counted, took = ?journaling.started.elapsed(), "batch counted");
        self.maintain(owned, journaling.pace).await?;
        Ok(reloaded)
    }

    /// Takes in what the group assigned and revoked since last asked. A
    /// partition is loaded as soon as it is assigned, not at its first
    /// message, so counting and its ranges are ready at once, even for a
    /// partition with nothing new; the fetching then moves to its position
    /// (it started at the partition's beginning, the position unknown).
    async fn follow_assignment(
        &mut self,
        consumer: &StreamConsumer<ConsumerEvents>,
        batch: &mut Batch,
        owned: &mut HashMap<i32, Progress>,
        cursors: &mut HashMap<i32, Cursor>,
    ) -> Result<(), Stopping> {
        if consumer.context().take_assignment_seen() {
            self.held.note_assignment();
        }
        let reassigned = consumer.context().take_reassigned();
        if reassigned.is_empty() {
            return Ok(());
        }
        for change in &reassigned {
            match *change {
                Reassigned::Assigned(partition) => {
                    cursors.remove(&partition);
                }
                Reassigned::Revoked(partition) => {
                    cursors.remove(&partition);
                    batch.abandon(partition);
                    self.leaderboards.revoked(partition);
                    let released = owned.remove(&partition);
                    self.held
                        .release(partition, released.as_ref().map(|progress| &progress.held));
                }
            }
        }
        // What the group assigns now: a partition assigned and revoked again
        // since last asked is not loaded (its new owner counts it).
        let mut to_load: Vec<i32> = reassigned
            .iter()
            .filter_map(|change| match *change {
                Reassigned::Assigned(partition) => Some(partition),
                Reassigned::Revoked(_) => None,
            })
            .filter(|partition| {
                !owned.contains_key(partition) && self.assigned(consumer, *partition)
            })
            .collect();
        to_load.sort_unstable();
        to_load.dedup();
        // Claimed at once, all of them, so that the follower loads none of
        // them while the first are loaded here.
        for &partition in &to_load {
            self.held.claim(partition);
        }
        let loaded = self.load_all(&to_load).await?;
        for (partition, progress) in to_load.into_iter().zip(loaded) {
            // Revoked during the load: the next call hears of it, and its
            // new owner publishes it (figures from here could be older).
            if !self.assigned(consumer, partition) {
                self.held.release(partition, None);
                continue;
            }
            self.loaded(partition, &progress);
            if let Some(position) = progress.position() {
                // Its cursor stays `At(position)`: if the seek fails, the
                // first message fetched moves the fetching again.
                if let Err(error) = self.seek(consumer, partition, Offset::Offset(position)) {
                    debug!(
                        partition,
                        position,
                        error = %describe(&error),
                        "moving the fetching failed; the first message fetched moves it"
                    );
                }
            }
            owned.insert(partition, progress);
        }
        consumer.context().set_resume_positions(&positions(owned));
        Ok(())
    }

    /// Moves the fetching of `partition` to `to`, where its cursor expects
    /// the next message. If Kafka refuses (or did not say in time), the
    /// cursor still expects exactly that one: the batches being read and
    /// written may hold the messages before it, so starting again from
    /// what is folded would count them twice.
    fn fetch_from(
        &self,
        consumer: &StreamConsumer<ConsumerEvents>,
        partition: i32,
        to: Offset,
        cursors: &mut HashMap<i32, Cursor>,
    ) {
        if let Err(error) = self.seek(consumer, partition, to) {
            warn!(partition, ?to, error = %describe(&error), "moving the fetching failed; will resync");
            match to {
                Offset::Offset(next) => cursors.insert(partition, Cursor::At(next)),
                _ => cursors.remove(&partition),
            };
        }
    }

    /// Moves the fetching of `partition`: what was taken from the consumer
    /// before is dropped when it reaches [`Self::collect`].
    fn seek(
        &self,
        consumer: &StreamConsumer<ConsumerEvents>,
        partition: i32,
        to: Offset,
    ) -> Result<(), KafkaError> {
        consumer.context().moves().seek(partition, || {
            consumer.seek(&self.kafka.topic, partition, to, Duration::from_secs(10))
        })
    }

    /// Whether the group currently assigns `partition` to this consumer.
    fn assigned(&self, consumer: &StreamConsumer<ConsumerEvents>, partition: i32) -> bool {
        consumer.assignment().is_ok_and(|assignment| {
            assignment
                .find_partition(&self.kafka.topic, partition)
                .is_some()
        })
    }

    async fn send_dead_letters(
        &mut self,
        producer: &FutureProducer,
        rejected: &[Rejected],
    ) -> Result<(), Stopping> {
        let topic = self.kafka.dead_letter_topic();
        for item in rejected {
            warn!(reason = %item.letter.reason, origin = ?item.letter.origin, "dead letter");
            self.retry(Service::Kafka, "sending a dead letter", || async {
                let mut record = FutureRecord::<[u8], [u8]>::to(&topic)
                    .payload(&item.payload)
                    .headers(item.letter.headers());
                if let Some(key) = &item.key {
                    record = record.key(key);
                }
                producer
                    .send(record, Duration::from_secs(30))
                    .await
                    .map(|_| ())
                    .map_err(|(error, _)| describe(&error))
            })
            .await?;
            METRICS
                .dead_letters
                .with_label_values(&[item.letter.reason_kind])
                .inc();
        }
        Ok(())
    }

    /// Confirms the broker answers while no messages arrive, so the dashboard
    /// can say when it does not.
    async fn check_broker(&self, consumer: &StreamConsumer<ConsumerEvents>) {
        let result = tokio::task::block_in_place(|| {
            consumer
                .client()
                .fetch_metadata(Some(&self.kafka.topic), Duration::from_secs(3))
        });
        match result {
            Ok(_) => self.status.kafka_ok(),
            Err(error) => self.status.kafka_trouble(describe(&error)),
        }
    }

    /// Runs a step until it succeeds, backing off and saying why, on the
    /// status page too; stops waiting when the server stops.
    async fn retry<T, E, F, Fut>(
        &mut self,
        service: Service,
        what: &str,
        mut step: F,
    ) -> Result<T, Stopping>
    where
        E: std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut backoff = Backoff::default();
        loop {
            match step().await {
                Ok(value) => {
                    // Kafka is known to work again from the messages read,
                    // not from the producer of dead letters or the admin client.
                    if let Service::MongoDb = service {
                        self.status.store_ok();
                    }
                    return Ok(value);
                }
                Err(error) => {
                    let delay = backoff.next_delay();
                    warn!(?delay, %error, "{what} failed, retrying");
                    match service {
                        Service::MongoDb => self.status.store_trouble(error.to_string()),
                        Service::Kafka => self.status.kafka_trouble(error.to_string()),
                    }
                    self.pause(delay).await?;
                }
            }
        }
    }

    async fn pause(&mut self, delay: Duration) -> Result<(), Stopping> {
        if *self.shutdown.borrow() {
            return Err(Stopping);
        }
        tokio::select! {
            _ = sleep(delay) => Ok(()),
            _ = self.shutdown.changed() => Err(Stopping),
        }
    }
}

enum Journaled {
    Yes,
    Conflict,
}

/// What a retried step depends on, for the status page.
#[derive(Debug, Clone, Copy)]
enum Service {
    MongoDb,
    Kafka,
}

/// Where each owned partition's counting resumes.
/// Whether the broker holds more of a partition than a batch that ended on
/// its time read of it. A batch also ends on its time while the next fetch
/// is under way: taken for caught up, it brought the batches back to their
/// smallest and wrote every partition's checkpoint in the middle of a
/// backlog (2 s of 100 people's import, counting stopped).
fn more_waiting(consumer: &StreamConsumer<ConsumerEvents>, topic: &str, batch: &Batch) -> bool {
    let Ok(topic) = std::ffi::CString::new(topic) else {
        return false;
    };
    batch.partitions.iter().any(|(&partition, part)| {
        cached_high_watermark(consumer, &topic, partition).is_some_and(|high| high > part.to)
    })
}

/// A partition's high watermark as of librdkafka's last fetch of it: read
/// from the client's cache, with no round trip to the broker (the Rust
/// client offers only the kind that asks the broker).
fn cached_high_watermark(
    consumer: &StreamConsumer<ConsumerEvents>,
    topic: &std::ffi::CStr,
    partition: i32,
) -> Option<i64> {
    let (mut low, mut high) = (-1_i64, -1_i64);
    // SAFETY: the client handle lives as long as `consumer`, which this
    // borrow keeps alive; `topic` is NUL-terminated; librdkafka only reads
    // the topic and writes the two offsets, and takes its own locks.
    let error = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (error == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

fn positions(owned: &HashMap<i32, Progress>) -> BTreeMap<i32, i64> {
    owned
        .values()
        .filter_map(|progress| Some((progress.partition, progress.position()?)))
        .collect()
}

/// A batch's journal entries being written in the background, one attempt
/// each, while the consumer reads the next batch. At most one is under way:
/// a partition's next entry must start where this one ends.
struct Journaling {
    entries: Arc<[JournalEntry]>,
    writes: JoinHandle<Vec<Attempt>>,
    started: Instant,
    /// Whether the batch was full when read: the checkpoints' pace.
    pace: Pace,
}

/// How the background write of a journal entry ended.
enum Attempt {
    Written,
    Conflict,
    Failed(String),
}

impl Journaling {
    fn start(store: TopicStore, entries: Vec<JournalEntry>, started: Instant, pace: Pace) -> Self {
        let entries: Arc<[JournalEntry]> = entries.into();
        let to_write = Arc::clone(&entries);
        // Each partition's entry is packed on a blocking thread (deflating
        // a backlog's batch took a seventh of the counting thread) and
        // written beside the others: each partition has a chain of its own.
        let writes = tokio::spawn(async move {
            let writes = (0..to_write.len()).map(|index| {
                let (store, entries) = (store.clone(), Arc::clone(&to_write));
                async move {
                    let packed = tokio::task::spawn_blocking(move || entries[index].pack()).await;
                    let written = match packed {
                        Ok(Ok(packed)) => store.journal_packed(packed).await,
                        Ok(Err(error)) => Err(error),
                        Err(error) => return Attempt::Failed(format!("packing stopped: {error}")),
                    };
                    match written {
                        Ok(()) => Attempt::Written,
                        Err(StoreError::JournalConflict(_)) => Attempt::Conflict,
                        Err(error) => Attempt::Failed(error.to_string()),
                    }
                }
            });
            futures::future::join_all(writes).await
        });
        Self {
            entries,
            writes,
            started,
            pace,
        }
    }

    /// How each entry's write ended. Awaited once: the caller then takes it.
    async fn attempts(&mut self) -> Vec<Attempt> {
        match (&mut self.writes).await {
            Ok(attempts) => attempts,
            Err(error) => self
                .entries
                .iter()
                .map(|_| Attempt::Failed(format!("the write was cut short: {error}")))
                .collect(),
        }
    }

    /// The attempts of the batch under way, if any; never ends when none is.
    async fn written(journaling: &mut Option<Journaling>) -> Vec<Attempt> {
        match journaling {
            Some(pending) => pending.attempts().await,
            None => std::future::pending().await,
        }
    }
}
