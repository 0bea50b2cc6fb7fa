//! The Kafka side: sending listens, consuming them into the store, control
//! events that forget a person, and the dead-letter topic where records that
//! cannot be events go.

pub mod backoff;
mod batch;
pub mod consume;
mod consumer_events;
pub mod control;
mod cursor;
pub mod dead_letter;
mod decode;
mod moves;
pub mod progress;
pub mod publisher;
pub mod send;

use std::time::Duration;

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{Client, ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::KafkaSettings;

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

/// Settings every client of this system shares, with the security settings
/// (protocol, SASL, CA) passed through as given.
pub fn client_config(kafka: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &kafka.brokers)
        .set("client.id", "spotify-analytics")
        // Fail connection attempts quickly and say so, rather than hang.
        .set("socket.connection.setup.timeout.ms", "5000")
        .set("reconnect.backoff.max.ms", "2000");
    let security = &kafka.security;
    config.set("security.protocol", security.protocol.as_librdkafka());
    if let Some(mechanism) = security.sasl_mechanism {
        config.set("sasl.mechanism", mechanism.as_librdkafka());
    }
    if let Some(user) = &security.sasl_username {
        config.set("sasl.username", user);
    }
    if let Some(password) = &security.sasl_password {
        config.set("sasl.password", &password.0);
    }
    if let Some(ca) = &security.ssl_ca_location {
        config.set("ssl.ca.location", ca.to_string_lossy());
    }
    config
}

/// Settings of every producer of the listens topic: retries never duplicate
/// or reorder a message, and a person's key always picks the same partition
/// (the partitioner of Java clients), whichever client sends it, so their
/// listens and control events stay in order.
pub fn keyed_producer_config(kafka: &KafkaSettings) -> ClientConfig {
    let mut config = client_config(kafka);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random");
    config
}

/// Checks that the cluster answers a metadata request; blocks up to
/// `timeout`. Its answer names the cluster's topics: all of them, since
/// asking for one by name would have a broker that creates topics on
/// demand create it with its own defaults.
pub fn check_reachable<C: ClientContext>(
    client: &Client<C>,
    brokers: &str,
    timeout: Duration,
) -> Result<Metadata, KafkaUnreachable> {
    client
        .fetch_metadata(None, timeout)
        .map_err(|error| KafkaUnreachable {
            brokers: brokers.to_string(),
            detail: describe(&error),
        })
}

/// Whether the cluster has the listens topic and its dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Topics {
    Present,
    /// One of them, or both, is still to be created.
    Missing,
}

impl Topics {
    /// What `metadata` (of every topic) says of this system's two.
    pub(super) fn in_metadata(metadata: &Metadata, kafka: &KafkaSettings) -> Self {
        let dead_letters = kafka.dead_letter_topic();
        let present = |name: &str| {
            metadata.topics().iter().any(|topic| {
                topic.name() == name && topic.error().is_none() && !topic.partitions().is_empty()
            })
        };
        if present(&kafka.topic) && present(&dead_letters) {
            Self::Present
        } else {
            Self::Missing
        }
    }
}

/// Creates the listens topic and its dead-letter topic if missing, with
/// `partitions` partitions and the cluster's default replication, and gives
/// the dead-letter topic its retention (also when it exists already: the
/// server calls this at each start, so a changed retention takes effect).
pub async fn ensure_topics(kafka: &KafkaSettings) -> Result<(), KafkaUnreachable> {
    let unreachable = |detail: String| KafkaUnreachable {
        brokers: kafka.brokers.clone(),
        detail,
    };
    let admin: AdminClient<DefaultClientContext> = client_config(kafka)
        .create()
        .map_err(|error| unreachable(describe(&error)))?;
    let dead_letters = kafka.dead_letter_topic();
    let retention = (u64::from(kafka.dead_letter_retention_days) * 24 * 3600 * 1000).to_string();
    let new_topics = [
        NewTopic::new(&kafka.topic, kafka.partitions, TopicReplication::Fixed(-1)),
        NewTopic::new(&dead_letters, kafka.partitions, TopicReplication::Fixed(-1))
            .set("retention.ms", &retention),
    ];
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
    let retention_config =
        AlterConfig::new(ResourceSpecifier::Topic(&dead_letters)).set("retention.ms", &retention);
    let altered = admin
        .alter_configs(&[retention_config], &options)
        .await
        .map_err(|error| unreachable(describe(&error)))?;
    for result in altered {
        if let Err((_, code)) = result {
            return Err(unreachable(format!(
                "could not set the retention of {dead_letters}: {code}"
            )));
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
