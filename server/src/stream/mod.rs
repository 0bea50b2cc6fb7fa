//! The Kafka side: publishing listens from files, consuming them into the
//! store, and the dead-letter topic where records that cannot be events go.

mod backoff;
mod batch;
pub mod consume;
mod consumer_events;
mod cursor;
pub mod dead_letter;
pub mod progress;
pub mod publish;

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// Kafka cannot be reached, or would not do what was asked.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach Kafka at {brokers}: {detail}. Start the local broker with \
     `./scripts/stack.sh up`, or point KAFKA_BROKERS (--brokers) at your cluster."
)]
pub struct KafkaUnreachable {
    pub brokers: String,
    pub detail: String,
}

/// Settings every client of this system shares.
pub fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", "spotify-analytics")
        // Fail connection attempts quickly and say so, rather than hang.
        .set("socket.connection.setup.timeout.ms", "5000")
        .set("reconnect.backoff.max.ms", "2000");
    config
}

/// Checks that the cluster answers a metadata request; blocks up to `timeout`.
pub fn check_reachable<C: ClientContext>(
    client: &Client<C>,
    brokers: &str,
    timeout: Duration,
) -> Result<(), KafkaUnreachable> {
    client
        .fetch_metadata(None, timeout)
        .map(|_| ())
        .map_err(|error| KafkaUnreachable {
            brokers: brokers.to_string(),
            detail: describe(&error),
        })
}

/// Creates the topics that are missing, with `partitions` partitions and the
/// cluster's default replication.
pub async fn ensure_topics(
    brokers: &str,
    topics: &[&str],
    partitions: i32,
) -> Result<(), KafkaUnreachable> {
    let unreachable = |detail: String| KafkaUnreachable {
        brokers: brokers.to_string(),
        detail,
    };
    let admin: AdminClient<DefaultClientContext> = client_config(brokers)
        .create()
        .map_err(|error| unreachable(describe(&error)))?;
    let new_topics: Vec<NewTopic> = topics
        .iter()
        .map(|topic| NewTopic::new(topic, partitions, TopicReplication::Fixed(-1)))
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|error| unreachable(describe(&error)))?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(unreachable(format!(
                    "could not create topic {topic}: {code}"
                )))
            }
        }
    }
    Ok(())
}

/// A Kafka error in words for a person.
pub fn describe(error: &KafkaError) -> String {
    match error.rdkafka_error_code() {
        Some(RDKafkaErrorCode::BrokerTransportFailure)
        | Some(RDKafkaErrorCode::AllBrokersDown)
        | Some(RDKafkaErrorCode::OperationTimedOut) => {
            format!("no broker answered ({error})")
        }
        _ => error.to_string(),
    }
}
