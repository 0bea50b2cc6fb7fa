//! The consumer's Kafka callbacks: errors become pipeline status, statistics
//! become lag metrics, and a partition assignment starts where the journal
//! says counting resumes when the consumer knows it, else at the partition's
//! beginning (the consumer then loads the partition's position and seeks there).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{Offset, Statistics, TopicPartitionList};
use tracing::{info, warn};

use super::describe;
use super::moves::Moves;
use crate::metrics::METRICS;
use crate::status::PipelineStatus;

/// A partition the group gave this consumer, or took from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reassigned {
    Assigned(i32),
    Revoked(i32),
}

/// Receives Kafka's callbacks: on the decoding thread, which polls the
/// consumer (see [`super::decode`]), and on the counting thread as the
/// consumer closes.
pub struct ConsumerEvents {
    status: PipelineStatus,
    /// Per owned partition, where counting resumes: assignments start fetching there.
    resume_at: Mutex<BTreeMap<i32, i64>>,
    /// Partitions assigned or revoked since last asked, in order.
    reassigned: Mutex<Vec<Reassigned>>,
    /// Whether an assignment (perhaps of no partition) came since last asked.
    assignment_seen: AtomicBool,
    /// Each assignment and revocation moves its partitions' fetching.
    moves: Moves,
}

impl ConsumerEvents {
    pub fn new(status: PipelineStatus) -> Self {
        Self {
            status,
            resume_at: Mutex::default(),
            reassigned: Mutex::default(),
            assignment_seen: AtomicBool::new(false),
            moves: Moves::default(),
        }
    }

    /// The moves of the fetching, which every seek goes through.
    pub fn moves(&self) -> &Moves {
        &self.moves
    }

    pub fn take_assignment_seen(&self) -> bool {
        self.assignment_seen.swap(false, Ordering::Relaxed)
    }

    pub fn take_reassigned(&self) -> Vec<Reassigned> {
        self.reassigned
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }

    pub fn set_resume_positions(&self, positions: &BTreeMap<i32, i64>) {
        if let Ok(mut resume_at) = self.resume_at.lock() {
            resume_at.clone_from(positions);
        }
    }

    fn note_reassigned(&self, partitions: &TopicPartitionList, change: fn(i32) -> Reassigned) {
        let moved: Vec<i32> = partitions
            .elements()
            .iter()
            .map(|p| p.partition())
            .collect();
        self.moves.reassigned(&moved);
        let changes: Vec<Reassigned> = moved.into_iter().map(change).collect();
        info!(?changes, "partitions reassigned");
        if let Ok(mut list) = self.reassigned.lock() {
            list.extend(changes);
        }
    }
}

impl ClientContext for ConsumerEvents {
    fn stats(&self, statistics: Statistics) {
        for topic in statistics.topics.values() {
            for (number, partition) in &topic.partitions {
                if *number >= 0 && partition.consumer_lag >= 0 {
                    METRICS
                        .partition_lag
                        .with_label_values(&[number.to_string().as_str()])
                        .set(partition.consumer_lag);
                }
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        warn!("Kafka: {reason}");
        self.status
            .kafka_trouble(format!("{} ({reason})", describe(&error)));
    }
}

impl ConsumerContext for ConsumerEvents {
    /// Starts each assigned partition where the journal says counting
    /// resumes when that is known here, else at its beginning, whatever
    /// offset the group committed (it may lag behind, or belong to data that
    /// a new database has not counted); the consumer then loads the
    /// partition and moves the fetching to the journal's position.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Ok(resume_at) = self.resume_at.lock() {
                    let assigned: Vec<(String, i32)> = partitions
                        .elements()
                        .iter()
                        .map(|p| (p.topic().to_string(), p.partition()))
                        .collect();
                    for (topic, partition) in assigned {
                        let start = resume_at
                            .get(&partition)
                            .map_or(Offset::Beginning, |position| Offset::Offset(*position));
                        let _ = partitions.set_partition_offset(&topic, partition, start);
                    }
                }
                self.note_reassigned(partitions, Reassigned::Assigned);
                self.assignment_seen.store(true, Ordering::Relaxed);
                if cooperative {
                    consumer.incremental_assign(partitions)
                } else {
                    consumer.assign(partitions)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.note_reassigned(partitions, Reassigned::Revoked);
                if cooperative {
                    consumer.incremental_unassign(partitions)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                warn!(
                    "Kafka rebalance failed: {:?}",
                    RDKafkaErrorCode::from(other)
                );
                consumer.unassign()
            }
        };
        if let Err(error) = result {
            warn!("applying a Kafka rebalance failed: {}", describe(&error));
        }
    }
}
