//! The producer fails only when the file cannot be read or Kafka cannot be
//! reached, and then says which and what to do.

mod common;

use common::{sample_file, Scenario};

#[test]
fn a_missing_file_fails_with_a_message_naming_it() {
    let scenario = Scenario::new("missing_file");
    let missing = scenario.scratch_file("no-such-history.csv");
    let output = scenario.produce(&missing, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read") && stderr.contains("no-such-history.csv"),
        "{stderr}"
    );
}

#[test]
fn a_file_of_another_format_fails_with_the_missing_columns() {
    let scenario = Scenario::new("foreign_file");
    let foreign = scenario.scratch_file("other.csv");
    std::fs::write(&foreign, "name,age\nann,3\n").unwrap();
    let output = scenario.produce(&foreign, &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("spotify_track_uri"), "{stderr}");
}

#[test]
fn an_unreachable_broker_fails_with_what_to_do() {
    let scenario = Scenario::new("no_broker");
    let output = scenario.produce_via("127.0.0.1:1", &sample_file(), &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot reach Kafka at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/stack.sh up"), "{stderr}");
}

#[test]
fn a_limit_stops_after_that_many_records() {
    let scenario = Scenario::new("limit");
    let output = scenario.produce(&sample_file(), &["--limit", "250"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(common::summary_figure(&output, "read"), 250);
    let sent = common::summary_figure(&output, "sent");
    let duplicates = common::summary_figure(&output, "duplicates");
    assert_eq!(sent + duplicates, 250);
}
