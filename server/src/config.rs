//! Configuration, read from flags and environment variables, with defaults
//! that work on a developer machine with `scripts/stack.sh up`.

use std::time::Duration;

use clap::{Args, Parser};

use crate::ingest::export::ArchiveLimits;

/// What an export archive may hold: past these it is refused before
/// anything is read from it (see [`ArchiveLimits`]).
#[derive(Args, Debug, Clone)]
pub struct ArchiveSettings {
    /// Entries an archive may hold.
    #[arg(long = "max-archive-entries", env = "MAX_ARCHIVE_ENTRIES", value_name = "COUNT",
          default_value_t = ArchiveLimits::default().max_entries)]
    pub max_entries: usize,
    /// Uncompressed bytes of one history file of an archive.
    #[arg(long = "max-entry-bytes", env = "MAX_ENTRY_BYTES", value_name = "BYTES",
          default_value_t = ArchiveLimits::default().max_entry_bytes)]
    pub max_entry_bytes: u64,
    /// How many times over a history file of an archive may inflate (files
    /// of a megabyte or more).
    #[arg(long = "max-compression-ratio", env = "MAX_COMPRESSION_RATIO", value_name = "TIMES",
          default_value_t = ArchiveLimits::default().max_ratio)]
    pub max_ratio: u64,
}

impl ArchiveSettings {
    pub fn limits(&self) -> ArchiveLimits {
        ArchiveLimits {
            max_entries: self.max_entries,
            max_entry_bytes: self.max_entry_bytes,
            max_ratio: self.max_ratio,
        }
    }
}

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
    /// Days the dead-letter topic keeps a record set aside (its retention
    /// when this system creates it, and from each start of the server).
    #[arg(long = "dead-letter-retention-days", env = "KAFKA_DLQ_RETENTION_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub dead_letter_retention_days: u32,
    #[command(flatten)]
    pub security: KafkaSecurity,
}

impl KafkaSettings {
    /// Where records that cannot be events are set aside, with the reason.
    pub fn dead_letter_topic(&self) -> String {
        format!("{}_dlq", self.topic)
    }

    /// Reads the SASL password from its file, if one is named; call once at start.
    pub fn load_secrets(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.security.sasl_password_file {
            let text = std::fs::read_to_string(path).map_err(|error| {
                ConfigError(format!(
                    "cannot read the Kafka password from {} (KAFKA_SASL_PASSWORD_FILE): {error}",
                    path.display()
                ))
            })?;
            self.security.sasl_password = Some(KafkaPassword(
                text.trim_end_matches(['\n', '\r']).to_string(),
            ));
        }
        let sasl = matches!(
            self.security.protocol,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        );
        if sasl && (self.security.sasl_username.is_none() || self.security.sasl_password.is_none())
        {
            return Err(ConfigError(
                "KAFKA_SECURITY_PROTOCOL asks for SASL: set KAFKA_SASL_USERNAME and \
                 KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A setting that cannot be used; the message says which and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// How Kafka clients authenticate and encrypt; passed to librdkafka as is.
#[derive(Args, Debug, Clone, Default)]
pub struct KafkaSecurity {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    #[arg(long = "kafka-security-protocol", env = "KAFKA_SECURITY_PROTOCOL", value_enum,
          ignore_case = true, default_value_t = SecurityProtocol::Plaintext)]
    pub protocol: SecurityProtocol,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    #[arg(
        long = "kafka-sasl-mechanism",
        env = "KAFKA_SASL_MECHANISM",
        value_enum,
        ignore_case = true
    )]
    pub sasl_mechanism: Option<SaslMechanism>,
    #[arg(long = "kafka-sasl-username", env = "KAFKA_SASL_USERNAME")]
    pub sasl_username: Option<String>,
    /// Prefer KAFKA_SASL_PASSWORD_FILE: a flag's value shows in process lists.
    #[arg(
        long = "kafka-sasl-password",
        env = "KAFKA_SASL_PASSWORD",
        hide_env_values = true
    )]
    pub sasl_password: Option<KafkaPassword>,
    /// A file holding the SASL password (a trailing newline is ignored).
    #[arg(long = "kafka-sasl-password-file", env = "KAFKA_SASL_PASSWORD_FILE")]
    pub sasl_password_file: Option<std::path::PathBuf>,
    /// CA certificates to verify the brokers with (ssl, sasl_ssl).
    #[arg(long = "kafka-ssl-ca-location", env = "KAFKA_SSL_CA_LOCATION")]
    pub ssl_ca_location: Option<std::path::PathBuf>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecurityProtocol {
    #[default]
    #[value(name = "plaintext")]
    Plaintext,
    #[value(name = "ssl")]
    Ssl,
    #[value(name = "sasl_plaintext")]
    SaslPlaintext,
    #[value(name = "sasl_ssl")]
    SaslSsl,
}

impl SecurityProtocol {
    /// librdkafka's `security.protocol`.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    #[value(name = "PLAIN")]
    Plain,
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    /// librdkafka's `sasl.mechanism`.
    pub fn as_librdkafka(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// A Kafka password; its debug form never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaPassword(pub String);

impl std::str::FromStr for KafkaPassword {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_string()))
    }
}

impl std::fmt::Debug for KafkaPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KafkaPassword(***)")
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
    #[command(flatten)]
    pub http: HttpSettings,
    #[command(flatten)]
    pub peers: PeerSettings,
    #[command(flatten)]
    pub uploads: UploadSettings,
    #[command(flatten)]
    pub archive: ArchiveSettings,
    /// Days a session lasts without being used.
    #[arg(long = "session-idle-days", env = "SESSION_IDLE_DAYS", default_value_t = 14,
          value_parser = clap::value_parser!(u32).range(1..=365))]
    pub session_idle_days: u32,
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

/// What the server binary does besides serving.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ServerCommand {
    /// Manage accounts from a shell (the same database as the server).
    #[command(subcommand)]
    Accounts(AccountsCommand),
}

/// `server accounts …`: passwords are read from `--password-file`, from
/// standard input when it is not a terminal, or asked for (not echoed).
#[derive(clap::Subcommand, Debug, Clone)]
pub enum AccountsCommand {
    /// Creates an account.
    Add {
        name: String,
        /// The account may invite, disable and remove people.
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Lists the accounts: name, role, state, when created.
    List,
    /// Removes an account, its sessions, tokens and share link, and all its figures.
    Remove { name: String },
    /// Sets a new password and ends the account's sessions.
    ResetPassword {
        name: String,
        #[arg(long)]
        password_file: Option<std::path::PathBuf>,
    },
    /// Prints a new personal API token of the account (shown once).
    Token {
        name: String,
        #[arg(long, default_value = "made in a shell")]
        label: String,
    },
    /// Prints a link that signs the account in, once, within an hour.
    SignInLink { name: String },
}

/// How the server faces the network.
#[derive(Args, Debug, Clone)]
pub struct HttpSettings {
    /// Where people reach the server (`https://music.example.org`): the only
    /// host name it answers to besides the loopback names, the origin
    /// state-changing requests must come from, and the base of the links it
    /// hands out. Cookies are `Secure` when it is https.
    #[arg(long = "public-url", env = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<axum::http::Uri>,
    /// Where `/metrics` and the detailed `/readyz` are served: an address for
    /// monitoring only, not the public one.
    #[arg(
        long = "metrics-addr",
        env = "METRICS_ADDR",
        default_value = "127.0.0.1:9464"
    )]
    pub metrics_addr: std::net::SocketAddr,
    /// Most connections open at once; more wait until one closes.
    #[arg(long = "max-connections", env = "MAX_CONNECTIONS", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub max_connections: u32,
    /// Longest a client may take to send a request's headers, and longest
    /// an idle keep-alive connection stays open, in seconds.
    #[arg(long = "header-read-timeout-secs", env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_read_timeout_secs: u64,
    /// Longest the server works on one request before answering 408, in
    /// seconds (live streams run as long as the page stays open).
    #[arg(long = "request-timeout-secs", env = "REQUEST_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,
    /// Most live streams (`/api/live`) open at once.
    #[arg(long = "max-live-streams", env = "MAX_LIVE_STREAMS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_live_streams: u32,
    /// Most live streams one person may hold open.
    #[arg(long = "max-live-streams-per-person", env = "MAX_LIVE_STREAMS_PER_PERSON", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_live_streams_per_person: u32,
    /// The reverse proxy in front of the server: requests from it are
    /// throttled by the client address it appends to `X-Forwarded-For`.
    #[arg(long = "trusted-proxy", env = "TRUSTED_PROXY")]
    pub trusted_proxy: Option<std::net::IpAddr>,
}

impl HttpSettings {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// Imports uploaded from the page.
#[derive(Args, Debug, Clone)]
pub struct UploadSettings {
    /// Largest upload (an export's .zip, a JSON file of it, a CSV file).
    #[arg(long = "max-upload-bytes", env = "MAX_UPLOAD_BYTES", value_name = "BYTES",
          default_value_t = 1 << 30)]
    pub max_upload_bytes: u64,
    /// Uploads one person may start per hour.
    #[arg(long = "uploads-per-hour", env = "UPLOADS_PER_HOUR", value_name = "COUNT", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub uploads_per_hour: u32,
    /// Where uploads wait until imported (deleted once they are); the
    /// system's temporary folder when not set.
    #[arg(long = "upload-dir", env = "UPLOAD_DIR", value_name = "DIR")]
    pub upload_dir: Option<std::path::PathBuf>,
}

impl UploadSettings {
    pub fn dir(&self) -> std::path::PathBuf {
        self.upload_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("spotify-analytics-uploads"))
    }
}

/// How servers sharing the topic reach each other: each answers the
/// others about the people of the partitions its consumer owns.
#[derive(Args, Debug, Clone)]
pub struct PeerSettings {
    /// Where this server answers the others: an address inside the
    /// deployment, never the public one (port 0: any free port).
    #[arg(long = "peer-addr", env = "PEER_ADDR", default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// How the others reach that address, when it is not the address bound
    /// (bound to 0.0.0.0, or behind a proxy): `http://10.0.0.5:7100`.
    #[arg(long = "peer-url", env = "PEER_URL", value_parser = parse_peer_url)]
    pub url: Option<String>,
}

/// Reads `PEER_URL`: an `http://host:port` address, nothing after it.
fn parse_peer_url(raw: &str) -> Result<String, String> {
    let uri: axum::http::Uri = raw
        .trim()
        .parse()
        .map_err(|_| format!("{raw:?} is not a URL like http://10.0.0.5:7100"))?;
    match (uri.scheme_str(), uri.authority(), uri.path()) {
        (Some("http"), Some(authority), "" | "/")
            if authority.port().is_some() && uri.query().is_none() =>
        {
            Ok(format!("http://{authority}"))
        }
        _ => Err(format!(
            "{raw:?} must be http://host:port (the servers' peer address), nothing after it"
        )),
    }
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
    #[arg(long = "batch-max-wait-ms", env = "BATCH_MAX_WAIT_MS", default_value_t = 100,
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
             batches:        up to {} events, {} bytes or {} ms (BATCH_MAX_EVENTS, BATCH_MAX_BYTES, BATCH_MAX_WAIT_MS)\n\
             metrics:        http://{}/metrics (METRICS_ADDR)\n\
             peers:          {}{} (PEER_ADDR, PEER_URL)\n\
             connections:    at most {}, headers within {} s, answers within {} s, {} live streams, {} per person \
             (MAX_CONNECTIONS, HEADER_READ_TIMEOUT_SECS, REQUEST_TIMEOUT_SECS, MAX_LIVE_STREAMS, MAX_LIVE_STREAMS_PER_PERSON)\n\
             reverse proxy:  {} (TRUSTED_PROXY)\n\
             uploads:        at most {} bytes, {} per person per hour, kept in {} until imported \
             (MAX_UPLOAD_BYTES, UPLOADS_PER_HOUR, UPLOAD_DIR)",
            self.kafka.brokers,
            self.kafka.topic,
            self.kafka.dead_letter_topic(),
            self.group_id,
            redact_password(&self.mongo.uri),
            self.mongo.database,
            self.batching.max_events,
            self.batching.max_bytes,
            self.batching.max_wait_ms,
            self.http.metrics_addr,
            self.peers.addr,
            self.peers
                .url
                .as_ref()
                .map_or_else(String::new, |url| format!(", reached at {url}")),
            self.http.max_connections,
            self.http.header_read_timeout_secs,
            self.http.request_timeout_secs,
            self.http.max_live_streams,
            self.http.max_live_streams_per_person,
            self.http.trusted_proxy.map_or_else(
                || "none: clients are throttled by their own address".to_string(),
                |proxy| format!("{proxy}, whose X-Forwarded-For names the client"),
            ),
            self.uploads.max_upload_bytes,
            self.uploads.uploads_per_hour,
            self.uploads.dir().display(),
        )
    }
}

/// `PUBLIC_URL` is not an http(s) URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PUBLIC_URL must be an http or https URL such as https://music.example.org, got {0:?}")]
pub struct BadPublicUrl(pub String);

/// Reads `PUBLIC_URL` (a flag's value parser).
pub fn parse_public_url(raw: &str) -> Result<axum::http::Uri, BadPublicUrl> {
    let uri: axum::http::Uri = raw
        .trim()
        .parse()
        .map_err(|_| BadPublicUrl(raw.to_string()))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(uri),
        _ => Err(BadPublicUrl(raw.to_string())),
    }
}

/// Hides the password of a connection string before it is printed,
/// whatever characters it holds: everything between the user name and the
/// last `@` is replaced (hosts are hidden too when a query holds an `@`,
/// which is the safe side).
pub fn redact_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let Some(at) = rest.rfind('@') else {
        return uri.to_string();
    };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
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
        assert_eq!(config.batching.max_wait(), Duration::from_millis(100));
    }

    #[test]
    fn only_http_urls_with_a_host_are_public_urls() {
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("/relative").is_err());
        assert!(parse_public_url("music.example.org").is_err());
        assert!(parse_public_url("http://192.168.1.5:3000").is_ok());
    }

    #[test]
    fn a_peer_url_is_an_http_address_with_a_port_and_nothing_else() {
        assert_eq!(
            parse_peer_url("http://10.0.0.5:7100/").unwrap(),
            "http://10.0.0.5:7100"
        );
        for refused in [
            "https://a:1",
            "http://a",
            "http://a:1/x",
            "a:1",
            "http://a:1?q",
        ] {
            assert!(parse_peer_url(refused).is_err(), "{refused}");
        }
        let config = ServerConfig::try_parse_from(["server"]).unwrap();
        assert!(
            config.peers.addr.ip().is_loopback(),
            "inside the machine by default"
        );
    }

    #[test]
    fn refuses_a_batch_size_of_zero() {
        assert!(ServerConfig::try_parse_from(["server", "--batch-max-events", "0"]).is_err());
    }

    #[test]
    fn passwords_with_any_characters_are_not_printed() {
        for password in ["p/ss", "p@ss", "p:ss", "p?ss", "p%40ss", "p#s/s@x?y"] {
            let uri = format!("mongodb://ann:{password}@db.example:27017/x?y=1");
            let shown = redact_password(&uri);
            assert!(!shown.contains(password), "{shown}");
            assert!(shown.starts_with("mongodb://ann:***@"), "{shown}");
        }
    }

    #[test]
    fn a_sasl_password_comes_from_its_file_and_sasl_needs_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("password");
        std::fs::write(&file, "s3cret:with/odd@chars\n").unwrap();
        let mut config = ServerConfig::try_parse_from([
            "server",
            "--kafka-security-protocol",
            "SASL_PLAINTEXT",
            "--kafka-sasl-mechanism",
            "PLAIN",
            "--kafka-sasl-username",
            "analytics",
        ])
        .unwrap();
        assert!(config.kafka.load_secrets().is_err(), "no password");
        config.kafka.security.sasl_password_file = Some(file);
        config.kafka.load_secrets().unwrap();
        let password = config.kafka.security.sasl_password.clone().unwrap();
        assert_eq!(password.0, "s3cret:with/odd@chars");
        assert!(!format!("{config:?}").contains("s3cret"));
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
