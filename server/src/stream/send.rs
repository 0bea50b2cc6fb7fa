//! Sends a person's listens, and the records set aside, to Kafka, counting
//! the broker's acknowledgements so an import knows what arrived. Sending
//! never blocks on the network; waiting for acknowledgements does, so an
//! import calls [`ListenSender::flush`] from a blocking thread.
//!
//! The acknowledgements are taken in by the thread that sends, as it sends
//! and while it flushes, not by a thread of their own: rdkafka's polling
//! thread ends every 100 ms wait spinning on the clock for its last
//! millisecond. With 100 imports at once on two cores, those threads took
//! a twelfth of the machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::ToBytes;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};

use super::dead_letter::DeadLetter;
use super::{
    check_reachable, describe, ensure_topics, keyed_producer_config, KafkaUnreachable, Topics,
};
use crate::config::KafkaSettings;
use crate::event::TopicMessage;

/// Longest wait for the broker to acknowledge what is queued before giving up.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(150);
/// Longest wait for the cluster's first answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// Kafka cannot take an import.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Unreachable(#[from] KafkaUnreachable),
    #[error(
        "Kafka at {brokers} refused this client: {reason}. Check KAFKA_SECURITY_PROTOCOL, \
         KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password (KAFKA_SASL_PASSWORD_FILE)."
    )]
    Refused { brokers: String, reason: String },
}

/// What the broker has acknowledged, or failed to, since the sender started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acknowledged {
    pub listens: u64,
    pub dead_letters: u64,
    /// Listens or dead letters the broker never acknowledged.
    pub failed: u64,
}

impl Acknowledged {
    /// What was acknowledged after `earlier`.
    pub fn since(self, earlier: Acknowledged) -> Acknowledged {
        Acknowledged {
            listens: self.listens - earlier.listens,
            dead_letters: self.dead_letters - earlier.dead_letters,
            failed: self.failed - earlier.failed,
        }
    }
}

/// Which topic a delivery report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Listen,
    DeadLetter,
}

impl Delivery {
    /// The number carried with a message to its delivery report.
    fn opaque(self) -> usize {
        self as usize
    }

    fn of(opaque: usize) -> Self {
        if opaque == Self::DeadLetter as usize {
            Self::DeadLetter
        } else {
            Self::Listen
        }
    }
}

/// Counts acknowledgements as the broker sends them.
#[derive(Default)]
struct Deliveries {
    listens: AtomicU64,
    dead_letters: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
    /// Why the brokers refused the client (authentication), if they did.
    refusal: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication) {
            if let Ok(mut refusal) = self.refusal.lock() {
                refusal.get_or_insert_with(|| reason.to_string());
            }
        }
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        let counter = match (result, Delivery::of(opaque)) {
            (Ok(_), Delivery::Listen) => &self.listens,
            (Ok(_), Delivery::DeadLetter) => &self.dead_letters,
            (Err((error, _)), _) => {
                self.note_failure(&describe(error));
                &self.failed
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Deliveries {
    fn note_failure(&self, reason: &str) {
        if let Ok(mut first) = self.first_failure.lock() {
            first.get_or_insert_with(|| reason.to_string());
        }
    }
}

/// A producer of the listens topic and its dead-letter topic.
/// How long a record may wait for the broker before it counts as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageTimeout {
    /// Two minutes: the summary then reports what the broker did not take.
    Bounded,
    /// Never. The records of an import from the page are numbered, and a
    /// resumed import skips what was counted up to the highest number: a
    /// record that timed out while later ones got through would be lost.
    /// Waiting keeps what reaches the broker a prefix of what was sent.
    Unbounded,
}

impl MessageTimeout {
    fn millis(self) -> &'static str {
        match self {
            Self::Bounded => "120000",
            Self::Unbounded => "0",
        }
    }
}

pub struct ListenSender {
    producer: BaseProducer<Deliveries>,
    topic: String,
    dead_letter_topic: String,
    /// Set once the client's queue stayed full past [`FLUSH_TIMEOUT`] (the
    /// broker is gone): every later record fails at once, none is queued,
    /// so what reaches the broker stays a prefix of what was sent.
    stalled: std::sync::atomic::AtomicBool,
}

/// A sender whose cluster answered, and what it said of the topics.
struct Reached {
    sender: ListenSender,
    topics: Topics,
}

impl ListenSender {
    /// Creates the producer, checks that the cluster answers (and accepts
    /// this client), and creates the topics when they are missing. Topics
    /// found are left as they are: the server keeps their settings, the
    /// dead-letter topic's retention among them, each time it starts. An
    /// administration client's round for topics that exist took Kafka
    /// about as much work as the listens of a 10,000-listen import.
    pub async fn connect(
        kafka: &KafkaSettings,
        timeout: MessageTimeout,
    ) -> Result<Self, SendError> {
        let settings = kafka.clone();
        let reached = tokio::task::spawn_blocking(move || Self::reach(&settings, timeout))
            .await
            .map_err(|error| KafkaUnreachable {
                brokers: kafka.brokers.clone(),
                detail: format!("the connection attempt stopped: {error}"),
            })??;
        if reached.topics == Topics::Missing {
            ensure_topics(kafka).await?;
        }
        Ok(reached.sender)
    }

    /// Blocks up to [`REACH_TIMEOUT`] for the cluster's first answer, which
    /// says whether the topics exist.
    fn reach(kafka: &KafkaSettings, timeout: MessageTimeout) -> Result<Reached, SendError> {
        let producer: BaseProducer<Deliveries> = keyed_producer_config(kafka)
            .set("linger.ms", "20")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", timeout.millis())
            .set("queue.buffering.max.messages", "200000")
            .create_with_context(Deliveries::default())
            .map_err(|error| KafkaUnreachable {
                brokers: kafka.brokers.clone(),
                detail: describe(&error),
            })?;
        let metadata = match check_reachable(producer.client(), &kafka.brokers, REACH_TIMEOUT) {
            Ok(metadata) => metadata,
            Err(unreachable) => {
                // Takes in the client's errors, a refusal among them.
                producer.poll(Duration::from_millis(100));
                let refusal = producer
                    .context()
                    .refusal
                    .lock()
                    .ok()
                    .and_then(|refusal| refusal.clone());
                return Err(match refusal {
                    Some(reason) => SendError::Refused {
                        brokers: kafka.brokers.clone(),
                        reason,
                    },
                    None => unreachable.into(),
                });
            }
        };
        Ok(Reached {
            sender: Self {
                producer,
                topic: kafka.topic.clone(),
                dead_letter_topic: kafka.dead_letter_topic(),
                stalled: Default::default(),
            },
            topics: Topics::in_metadata(&metadata, kafka),
        })
    }

    /// Queues a listen (or a control event) under its person's key.
    pub fn send_listen(&self, message: &TopicMessage) {
        // Room for a whole listen at once: `to_vec` starts at 128 bytes and
        // grows twice on the way to a listen's 300-odd.
        let mut payload = Vec::with_capacity(512);
        match serde_json::to_writer(&mut payload, message) {
            Ok(()) => self.send(
                BaseRecord::with_opaque_to(&self.topic, Delivery::Listen.opaque())
                    .key(message.key())
                    .payload(&payload),
            ),
            Err(error) => self.fail(&format!("cannot encode a listen: {error}")),
        }
    }

    /// Queues a record set aside: its bytes as read, and why, in the headers.
    pub fn set_aside(&self, raw: &[u8], letter: &DeadLetter) {
        self.send(
            BaseRecord::<(), [u8], usize>::with_opaque_to(
                &self.dead_letter_topic,
                Delivery::DeadLetter.opaque(),
            )
            .payload(raw)
            .headers(letter.headers()),
        );
    }

    /// Queues a record, waiting while the client's queue is full (up to
    /// [`FLUSH_TIMEOUT`]: then the sender is stalled).
    fn send<K, P>(&self, mut record: BaseRecord<'_, K, P, usize>)
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        let started = std::time::Instant::now();
        loop {
            if self.stalled.load(Ordering::Relaxed) {
                return self.fail("the broker took nothing for too long");
            }
            let sent = self.producer.send(record);
            // Takes in the acknowledgements that came meanwhile (one batch of
            // them at most, without waiting), which also makes room in the queue.
            self.producer.poll(Duration::ZERO);
            match sent {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    if started.elapsed() > FLUSH_TIMEOUT {
                        self.stalled.store(true, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                // Not retryable (e.g. a value over the broker's size limit): counted as failed.
                Err((error, _)) => return self.fail(&describe(&error)),
            }
        }
    }

    fn fail(&self, reason: &str) {
        let deliveries = self.producer.context();
        deliveries.note_failure(reason);
        deliveries.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Acknowledgements so far.
    pub fn acknowledged(&self) -> Acknowledged {
        let deliveries = self.producer.context();
        Acknowledged {
            listens: deliveries.listens.load(Ordering::Relaxed),
            dead_letters: deliveries.dead_letters.load(Ordering::Relaxed),
            failed: deliveries.failed.load(Ordering::Relaxed),
        }
    }

    /// Blocks until everything queued is acknowledged, or up to
    /// [`FLUSH_TIMEOUT`]; false when the broker did not answer for all of it.
    pub fn flush(&self) -> bool {
        match self.producer.flush(FLUSH_TIMEOUT) {
            Ok(()) => true,
            Err(error) => {
                self.producer.context().note_failure(&describe(&error));
                false
            }
        }
    }

    /// Why the first record that failed did.
    pub fn first_failure(&self) -> Option<String> {
        self.producer
            .context()
            .first_failure
            .lock()
            .ok()
            .and_then(|first| first.clone())
    }
}
