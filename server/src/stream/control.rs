//! Control events on the listens topic: a person's figures forgotten, or
//! something they leave out of them (or put back). Sent
//! with the person as key, so it lands on the partition of their listens and
//! takes effect exactly between the listens before it and those after it,
//! on every server, after any restart.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};

use super::{describe, ensure_topics, keyed_producer_config, KafkaUnreachable};
use crate::accounts::PersonId;
use crate::config::KafkaSettings;
use crate::event::{CleanUp, Forget, ForgetScope, TopicMessage};
use app::cleanup::CleanUpChange;

/// How long the broker may take to acknowledge a control event.
const ACKNOWLEDGE_WITHIN: Duration = Duration::from_secs(15);

/// Sends the event that forgets a person's figures; returns once the broker
/// has it.
pub async fn forget(
    kafka: &KafkaSettings,
    person: &PersonId,
    scope: ForgetScope,
) -> Result<(), KafkaUnreachable> {
    let message = TopicMessage::Forget(Forget {
        person: person.clone(),
        scope,
        requested_at: chrono::Utc::now(),
    });
    send(kafka, &message, &[]).await
}

/// Sends a person's clean-up; returns once the broker has it. It goes to
/// the partition of their key and, when their listens are in several
/// (`holding`: partitions were added to the topic), to each of those, so
/// that each partition's figures leave out the same plays. (A partition
/// taking the same change twice changes nothing.)
pub async fn clean_up(
    kafka: &KafkaSettings,
    person: &PersonId,
    change: CleanUpChange,
    holding: &[i32],
) -> Result<(), KafkaUnreachable> {
    let message = TopicMessage::CleanUp(CleanUp {
        person: person.clone(),
        change,
        requested_at: chrono::Utc::now(),
    });
    let also = if holding.len() > 1 { holding } else { &[] };
    send(kafka, &message, also).await
}

/// Sends a control event keyed by its person where the key leads, and to
/// each partition of `also`, through one producer.
async fn send(
    kafka: &KafkaSettings,
    message: &TopicMessage,
    also: &[i32],
) -> Result<(), KafkaUnreachable> {
    let unreachable = |detail: String| KafkaUnreachable {
        brokers: kafka.brokers.clone(),
        detail,
    };
    ensure_topics(kafka).await?;
    let producer: FutureProducer = keyed_producer_config(kafka)
        .set(
            "message.timeout.ms",
            ACKNOWLEDGE_WITHIN.as_millis().to_string(),
        )
        .create()
        .map_err(|error| unreachable(describe(&error)))?;
    let payload = serde_json::to_vec(message).map_err(|error| unreachable(error.to_string()))?;
    let record = || {
        FutureRecord::to(&kafka.topic)
            .key(message.key())
            .payload(&payload)
    };
    let records = std::iter::once(record())
        .chain(also.iter().map(|&partition| record().partition(partition)));
    for record in records {
        producer
            .send(record, ACKNOWLEDGE_WITHIN)
            .await
            .map_err(|(error, _)| unreachable(describe(&error)))?;
    }
    Ok(())
}
