//! Kafka settings: the clients' security settings pass through from the
//! environment (proven against the local broker's SASL/PLAIN listener on
//! 127.0.0.1:9094, user `analytics`, password made by `scripts/stack.sh`),
//! and the dead-letter topic keeps records only for its retention.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{repo_root, summary_figure, Scenario};

const SASL_BROKERS: &str = "127.0.0.1:9094";

fn password_file() -> PathBuf {
    let stack = std::env::var_os("STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".stack"));
    let file = stack.join("kafka/sasl-password");
    assert!(
        file.is_file(),
        "{} is missing: start the broker with ./scripts/stack.sh up",
        file.display()
    );
    file
}

/// The settings a client needs for the SASL listener, with this password file.
fn sasl_settings(password_file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KAFKA_BROKERS", SASL_BROKERS.into()),
        ("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT".into()),
        ("KAFKA_SASL_MECHANISM", "PLAIN".into()),
        ("KAFKA_SASL_USERNAME", "analytics".into()),
        ("KAFKA_SASL_PASSWORD_FILE", password_file.into()),
    ]
}

fn produce(scenario: &Scenario, file: &std::path::Path, settings: &[(&str, String)]) -> Output {
    common::ensure_test_person(&scenario.database);
    Command::new(env!("CARGO_BIN_EXE_producer"))
        .arg("--file")
        .arg(file)
        .args(["--topic", &scenario.topic, "--person", common::TEST_PERSON])
        .env("MONGODB_DB", &scenario.database)
        .envs(settings.iter().map(|(key, value)| (*key, value.as_str())))
        .output()
        .expect("the producer binary runs")
}

#[test]
fn producer_and_server_count_listens_through_a_sasl_listener() {
    let scenario = Scenario::new("sasl");
    let file = scenario.generate("history.csv", 300, 41);
    let password = password_file();
    let settings = sasl_settings(&password.to_string_lossy());
    let borrowed: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = scenario.server_with(&borrowed);

    let output = produce(&scenario, &file, &settings);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent = summary_figure(&output, "sent");
    assert!(sent > 250, "sent {sent}");
    server.wait_for_events(sent as i64);
}

#[test]
fn a_wrong_password_is_refused_with_a_message_that_does_not_repeat_it() {
    let scenario = Scenario::new("sasl_wrong");
    let file = scenario.generate("history.csv", 10, 42);
    let wrong = scenario.scratch_file("wrong-password");
    std::fs::write(&wrong, "not-the-password-1234\n").unwrap();
    let mut settings = sasl_settings(&wrong.to_string_lossy());
    settings.push(("RUST_LOG", "warn".into()));

    let output = produce(&scenario, &file, &settings);
    assert!(!output.status.success(), "a wrong password was accepted");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("refused this client"), "{said}");
    assert!(
        said.contains("KAFKA_SASL_USERNAME"),
        "says what to check: {said}"
    );
    assert!(!said.contains("not-the-password-1234"), "{said}");
}

type Admin = rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>;

fn admin(brokers: &str) -> Admin {
    rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap()
}

/// A topic's `retention.ms`, if the broker describes it.
fn retention(admin: &Admin, topic: &str) -> Option<String> {
    use rdkafka::admin::{AdminOptions, ResourceSpecifier};
    let described = futures::executor::block_on(
        admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &AdminOptions::new()),
    )
    .unwrap();
    let resource = described.into_iter().next()?.ok()?;
    resource.get("retention.ms")?.value.clone()
}

/// The dead-letter topic's retention by default: 7 days, in ms.
const SEVEN_DAYS: &str = "604800000";

fn dead_letters_of(scenario: &Scenario) -> String {
    format!("{}_dlq", scenario.topic)
}

/// A topic as someone other than this system would make it.
fn made_elsewhere(name: &str) -> rdkafka::admin::NewTopic<'_> {
    rdkafka::admin::NewTopic::new(name, 2, rdkafka::admin::TopicReplication::Fixed(1))
}

/// Creates topics as someone other than this system would.
fn create_topics(admin: &Admin, topics: &[rdkafka::admin::NewTopic]) {
    let made = futures::executor::block_on(
        admin.create_topics(topics, &rdkafka::admin::AdminOptions::new()),
    )
    .unwrap();
    assert!(made.iter().all(Result::is_ok), "{made:?}");
}

/// Streams five listens of the test person; checks that all were sent.
fn produce_five(scenario: &Scenario, seed: u64) {
    let file = scenario.generate("history.csv", 5, seed);
    let output = scenario.produce(&file, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(summary_figure(&output, "sent"), 5);
}

#[test]
fn the_dead_letter_topic_keeps_records_for_its_retention_only() {
    let scenario = Scenario::new("dlq_retention");
    produce_five(&scenario, 43);
    let admin = admin(&scenario.brokers);
    assert_eq!(
        retention(&admin, &dead_letters_of(&scenario)).as_deref(),
        Some(SEVEN_DAYS),
        "7 days"
    );
    assert_ne!(
        retention(&admin, &scenario.topic).as_deref(),
        Some(SEVEN_DAYS),
        "the listens topic keeps the cluster's retention"
    );
}

/// The producer creates the topic it does not find: here the listens
/// topic was made elsewhere, and its dead-letter topic is missing.
#[test]
fn a_missing_dead_letter_topic_is_created_beside_a_listens_topic_found() {
    let scenario = Scenario::new("dlq_missing");
    let admin = admin(&scenario.brokers);
    create_topics(&admin, &[made_elsewhere(&scenario.topic)]);
    produce_five(&scenario, 44);
    assert_eq!(
        retention(&admin, &dead_letters_of(&scenario)).as_deref(),
        Some(SEVEN_DAYS),
        "created, with its retention"
    );
}

/// The producer leaves topics it finds as they are: their settings are
/// the server's to keep (it sets the dead-letter retention as it starts).
#[test]
fn topics_found_are_left_as_they_are() {
    let scenario = Scenario::new("topics_found");
    let admin = admin(&scenario.brokers);
    let dead_letters = dead_letters_of(&scenario);
    let one_day = "86400000";
    create_topics(
        &admin,
        &[
            made_elsewhere(&scenario.topic),
            made_elsewhere(&dead_letters).set("retention.ms", one_day),
        ],
    );
    produce_five(&scenario, 45);
    assert_eq!(
        retention(&admin, &dead_letters).as_deref(),
        Some(one_day),
        "the producer's 7 days did not replace it"
    );
}
