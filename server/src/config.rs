//! Configuration, read from flags and environment variables, with defaults
//! that work on a developer machine with `scripts/stack.sh up`.

use std::time::Duration;

use clap::{Args, Parser};

/// Where the listening events flow.
#[derive(Args, Debug, Clone)]
pub struct KafkaSettings {
    /// Kafka bootstrap servers, comma-separated.
    #[arg(
        long = "brokers",
        env = "KAFKA_BROKERS",
        default_value = "127.0.0.1:9092"
    )]
    pub brokers: String,
    /// Topic of listening events; rejected records go to `<topic>_dlq`.
    #[arg(long = "topic", env = "KAFKA_TOPIC", default_value = "spotify_streams")]
    pub topic: String,
    /// Partitions of the topics when this system creates them: at most this
    /// many server instances share the counting.
    #[arg(
        long = "partitions",
        env = "KAFKA_TOPIC_PARTITIONS",
        default_value_t = 4,
        value_parser = clap::value_parser!(i32).range(1..=1000)
    )]
    pub partitions: i32,
}

impl KafkaSettings {
    /// Where records that cannot be events are set aside, with the reason.
    pub fn dead_letter_topic(&self) -> String {
        format!("{}_dlq", self.topic)
    }
}

/// Where the aggregates are stored.
#[derive(Args, Debug, Clone)]
pub struct MongoSettings {
    /// MongoDB connection string (FerretDB works too).
    #[arg(
        long = "mongodb-uri",
        env = "MONGODB_URI",
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub uri: String,
    /// Database holding the aggregates.
    #[arg(
        long = "mongodb-db",
        env = "MONGODB_DB",
        default_value = "spotify_analytics"
    )]
    pub database: String,
}

/// The web server and its consumer task. The listen address comes from
/// Leptos' own `LEPTOS_SITE_ADDR` (default `127.0.0.1:3000`).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "server",
    version,
    about = "Serves the live listening dashboard and folds Kafka events into MongoDB"
)]
pub struct ServerConfig {
    #[command(flatten)]
    pub kafka: KafkaSettings,
    /// Kafka consumer group shared by all server instances.
    #[arg(
        long = "group-id",
        env = "KAFKA_GROUP_ID",
        default_value = "spotify-analytics"
    )]
    pub group_id: String,
    /// Static membership: an instance restarted with the same id (a pod name,
    /// say) gets its partitions back at once instead of after a rebalance.
    #[arg(long = "group-instance-id", env = "KAFKA_GROUP_INSTANCE_ID")]
    pub group_instance_id: Option<String>,
    #[command(flatten)]
    pub mongo: MongoSettings,
    #[command(flatten)]
    pub batching: BatchSettings,
}

/// How the consumer groups events into micro-batches.
#[derive(Args, Debug, Clone)]
pub struct BatchSettings {
    /// Most events folded into one batch.
    #[arg(long = "batch-max-events", env = "BATCH_MAX_EVENTS", default_value_t = 5000,
          value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub max_events: u32,
    /// Most message bytes read into one batch, so memory stays bounded
    /// whatever the size of the messages.
    #[arg(long = "batch-max-bytes", env = "BATCH_MAX_BYTES", default_value_t = 8 << 20,
          value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    pub max_bytes: u64,
    /// Longest a batch waits for more events after its first, in milliseconds.
    #[arg(long = "batch-max-wait-ms", env = "BATCH_MAX_WAIT_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub max_wait_ms: u64,
}

impl BatchSettings {
    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.max_wait_ms)
    }
}

impl ServerConfig {
    /// One line per setting, printed at start so a person sees what runs.
    pub fn describe(&self, site_addr: &str) -> String {
        format!(
            "listen address: http://{site_addr} (LEPTOS_SITE_ADDR)\n\
             kafka brokers:  {} (KAFKA_BROKERS)\n\
             kafka topic:    {} (KAFKA_TOPIC), dead letters to {}\n\
             consumer group: {} (KAFKA_GROUP_ID)\n\
             mongodb:        {} (MONGODB_URI), database {} (MONGODB_DB)\n\
             batches:        up to {} events, {} bytes or {} ms (BATCH_MAX_EVENTS, BATCH_MAX_BYTES, BATCH_MAX_WAIT_MS)",
            self.kafka.brokers,
            self.kafka.topic,
            self.kafka.dead_letter_topic(),
            self.group_id,
            redact_password(&self.mongo.uri),
            self.mongo.database,
            self.batching.max_events,
            self.batching.max_bytes,
            self.batching.max_wait_ms,
        )
    }
}

/// Hides the password of a connection string before it is printed.
pub fn redact_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => uri.to_string(),
        },
        None => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_suit_a_developer_machine() {
        let config = ServerConfig::try_parse_from(["server"]).unwrap();
        assert_eq!(config.kafka.brokers, "127.0.0.1:9092");
        assert_eq!(config.kafka.topic, "spotify_streams");
        assert_eq!(config.kafka.dead_letter_topic(), "spotify_streams_dlq");
        assert_eq!(config.group_id, "spotify-analytics");
        assert_eq!(config.mongo.uri, "mongodb://127.0.0.1:27017");
        assert_eq!(config.mongo.database, "spotify_analytics");
        assert_eq!(config.batching.max_wait(), Duration::from_millis(250));
    }

    #[test]
    fn refuses_a_batch_size_of_zero() {
        assert!(ServerConfig::try_parse_from(["server", "--batch-max-events", "0"]).is_err());
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact_password("mongodb://ann:secret@db.example:27017/x?y=1"),
            "mongodb://ann:***@db.example:27017/x?y=1"
        );
        assert_eq!(
            redact_password("mongodb://127.0.0.1:27017"),
            "mongodb://127.0.0.1:27017"
        );
    }
}
