//! The fault-injection suite: against the real broker, the real FerretDB and
//! the real server and producer processes, each scenario streams a generated
//! file, injects its fault, and ends by comparing every song's and artist's
//! stored totals (and the API's figures) with the counts computed from the file.
//!
//! `scripts/chaos.sh` runs it at full size and prints a table; `scripts/test.sh`
//! runs a shorter form. Sizes come from the environment: `CHAOS_LISTENS`
//! (rows per file), `CHAOS_KILLS` (server crashes), `CHAOS_OUTAGE_SECS`
//! (FerretDB outage); `CHAOS_REPORT` names a file each passing scenario adds
//! its row of the table to. Scenarios stop and start the shared services, so
//! they run one at a time, and always leave the services running.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{read_topic, repo_root, summary_figure, Expected, Scenario, Server, CATCH_UP};

/// Scenarios stop shared services: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn listens() -> u64 {
    setting("CHAOS_LISTENS", 30_000)
}

/// Small batches make consumption long enough to be interrupted many times;
/// bounded by bytes (about 120 listens), so they stay small while the
/// consumer is behind, when the bound on events grows.
const SMALL_BATCHES: (&str, &str) = ("BATCH_MAX_BYTES", "40000");

fn jitter_ms(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    u64::from(nanos) % bound.max(1)
}

/// Runs `scripts/stack.sh` to start, stop or kill one local service; it
/// refuses a service it does not run (a cluster of the user's own).
fn stack(action: &str, service: &str) {
    let status = Command::new(repo_root().join("scripts/stack.sh"))
        .args([action, service])
        .stdout(Stdio::null())
        .status()
        .expect("scripts/stack.sh runs");
    assert!(
        status.success(),
        "scripts/stack.sh {action} {service} failed"
    );
}

/// Starts both services again when a scenario ends, however it ends.
struct ServicesBack;

impl Drop for ServicesBack {
    fn drop(&mut self) {
        for service in ["kafka", "ferretdb"] {
            let _ = Command::new(repo_root().join("scripts/stack.sh"))
                .args(["start", service])
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// Adds a row to the suite's table.
fn report(scenario: &str, trials: usize, events: i64, recovery: &str) {
    let row = format!("{scenario}\t{trials}\t{events}\texact\t{recovery}");
    eprintln!("chaos: {}", row.replace('\t', " | "));
    if let Some(path) = std::env::var_os("CHAOS_REPORT").map(PathBuf::from) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("the report file opens");
        writeln!(file, "{row}").expect("the report is written");
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn spread(mut durations: Vec<Duration>) -> String {
    durations.sort();
    match (durations.get(durations.len() / 2), durations.last()) {
        (Some(median), Some(max)) => format!("median {}, max {}", seconds(*median), seconds(*max)),
        _ => "-".into(),
    }
}

/// Waits until the server counts more than `counted` listens; answers how long that took.
fn until_counting_past(server: &Server, counted: i64, total: i64) -> Duration {
    let started = Instant::now();
    loop {
        let now = server.events();
        if now > counted || now >= total {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < CATCH_UP,
            "counting did not resume within {CATCH_UP:?} (stuck at {now})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Checks the end state: the API's figures and every stored total equal the file's.
fn assert_exact(expected: &Expected, scenario: &Scenario, server: &Server) {
    server.wait_for_events(expected.events);
    expected.assert_served_by(server);
    let (songs, artists) = expected.assert_every_total_stored(scenario);
    eprintln!("every total exact: {songs} songs, {artists} artists");
}

/// A producer streaming the whole file in about `seconds` seconds.
fn produce_over(scenario: &Scenario, file: &std::path::Path, seconds: u64) -> std::process::Child {
    let rate = (listens() / seconds.max(1)).max(1).to_string();
    scenario.produce_in_background(file, &["--rate", &rate])
}

fn finished_producer(producer: std::process::Child, expected: &Expected) {
    let output = producer.wait_with_output().expect("the producer ran");
    assert!(output.status.success(), "producer failed: {output:?}");
    assert_eq!(summary_figure(&output, "sent"), expected.events as u64);
}

#[test]
fn server_killed_at_random_moments_ends_with_exact_totals() {
    let _serial = one_at_a_time();
    let kills = setting("CHAOS_KILLS", 4) as usize;
    let scenario = Scenario::new("chaos_kill");
    let file = scenario.generate("history.csv", listens(), 101);
    let expected = Expected::from_csv(&file);
    let output = scenario.produce(&file, &[]);
    assert!(output.status.success(), "producer failed: {output:?}");
    assert_eq!(summary_figure(&output, "sent"), expected.events as u64);

    // Restarted instances keep their identity, as pods of a stateful set do.
    let settings = [SMALL_BATCHES, ("KAFKA_GROUP_INSTANCE_ID", "chaos-kill")];
    let mut server = scenario.server_with(&settings);
    let mut recoveries = Vec::new();
    while recoveries.len() < kills {
        let before = server.events();
        until_counting_past(&server, before, expected.events);
        std::thread::sleep(Duration::from_millis(jitter_ms(250)));
        assert!(
            server.events() < expected.events,
            "consumption ended after {} of {kills} kills; use a larger CHAOS_LISTENS",
            recoveries.len()
        );
        server.kill();
        let killed = Instant::now();
        server = scenario.server_with(&settings);
        let counted_before_the_kill = server.events();
        until_counting_past(&server, counted_before_the_kill, expected.events);
        recoveries.push(killed.elapsed());
    }
    assert_exact(&expected, &scenario, &server);
    report(
        "server SIGKILLed at random moments, restarted",
        kills,
        expected.events,
        &format!("counting again after the kill: {}", spread(recoveries)),
    );
}

#[test]
fn broker_killed_mid_stream_loses_and_duplicates_nothing() {
    let _serial = one_at_a_time();
    let _back = ServicesBack;
    let scenario = Scenario::new("chaos_broker");
    let file = scenario.generate("history.csv", listens(), 202);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    let producer = produce_over(&scenario, &file, 20);
    until_counting_past(&server, 0, expected.events);

    stack("kill", "kafka");
    std::thread::sleep(Duration::from_secs(3));
    let back = Instant::now();
    stack("start", "kafka");

    finished_producer(producer, &expected);
    let stream_ended = back.elapsed();
    assert_exact(&expected, &scenario, &server);
    report(
        "Kafka broker SIGKILLed mid-stream, restarted",
        1,
        expected.events,
        &format!(
            "producer finished {} and every listen was counted {} after the broker was started again",
            seconds(stream_ended),
            seconds(back.elapsed())
        ),
    );
}

#[test]
fn ferretdb_outage_is_waited_out_while_the_api_serves_the_last_figures() {
    let _serial = one_at_a_time();
    let _back = ServicesBack;
    let outage = Duration::from_secs(setting("CHAOS_OUTAGE_SECS", 10));
    let scenario = Scenario::new("chaos_db");
    let file = scenario.generate("history.csv", listens(), 303);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    let producer = produce_over(&scenario, &file, 10 + 2 * outage.as_secs());
    until_counting_past(&server, 0, expected.events);

    stack("stop", "ferretdb");
    let stopped = Instant::now();
    let (status, ready) = server.monitoring("/readyz");
    assert_eq!(status, 503, "/readyz while FerretDB is down: {ready}");
    assert!(ready.contains("MongoDB"), "/readyz says why: {ready}");
    let (status, public) = server.get("/readyz");
    assert_eq!(status, 503, "public /readyz: {public}");
    assert_eq!(public, serde_json::json!({"status": "unavailable"}));
    let (status, headers, songs) = server.send(reqwest::Method::GET, "/api/top-songs", Vec::new());
    assert_eq!(status, 200, "the API serves the last figures: {songs}");
    assert!(songs.as_array().is_some_and(|rows| !rows.is_empty()));
    let stale = headers
        .get("x-data-stale")
        .expect("the figures are flagged as not current");
    eprintln!("while FerretDB is down: X-Data-Stale: {stale:?}");
    let (status, page) = server.page("/");
    assert_eq!(status, 200, "the page shows the last figures");
    assert!(
        page.contains("Data may be stale"),
        "no stale notice in:\n{page}"
    );
    std::thread::sleep(outage.saturating_sub(stopped.elapsed()));

    let counted_before_the_outage = counted_here(&server);
    let back = Instant::now();
    stack("start", "ferretdb");
    while server.get("/readyz").0 != 200 {
        assert!(
            back.elapsed() < CATCH_UP,
            "/readyz stays 503 after FerretDB is back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ready_after = back.elapsed();
    while counted_here(&server) == counted_before_the_outage {
        assert!(
            back.elapsed() < CATCH_UP,
            "counting does not resume after FerretDB is back"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let counting_after = back.elapsed();
    finished_producer(producer, &expected);
    assert_exact(&expected, &scenario, &server);
    let (_, headers, _) = server.send(reqwest::Method::GET, "/api/top-songs", Vec::new());
    assert!(
        headers.get("x-data-stale").is_none(),
        "figures current again"
    );
    report(
        &format!("FerretDB stopped for {} s mid-stream", outage.as_secs()),
        1,
        expected.events,
        &format!(
            "ready {} and counting {} after FerretDB was started again",
            seconds(ready_after),
            seconds(counting_after)
        ),
    );
}

#[test]
fn sigterm_finishes_the_batch_in_flight_and_exits_within_five_seconds() {
    let _serial = one_at_a_time();
    let trials = 3;
    let scenario = Scenario::new("chaos_term");
    let file = scenario.generate("history.csv", listens(), 404);
    let expected = Expected::from_csv(&file);
    assert!(scenario.produce(&file, &[]).status.success());

    let mut exits = Vec::new();
    for _ in 0..trials {
        let server = scenario.server_with(&[SMALL_BATCHES]);
        let before = server.events();
        until_counting_past(&server, before, expected.events);
        std::thread::sleep(Duration::from_millis(jitter_ms(250)));
        assert!(
            server.events() < expected.events,
            "use a larger CHAOS_LISTENS"
        );
        let (took, status) = server
            .terminate(Duration::from_secs(60))
            .expect("the server exits after SIGTERM");
        assert!(status.success(), "exit status {status}");
        assert!(took <= Duration::from_secs(5), "took {took:?} to exit");
        exits.push(took);
    }
    let server = scenario.server();
    assert_exact(&expected, &scenario, &server);
    report(
        "SIGTERM to the server mid-stream",
        trials,
        expected.events,
        &format!("exited cleanly: {}", spread(exits)),
    );
}

#[test]
fn unreadable_input_fails_clearly_and_sends_nothing() {
    let _serial = one_at_a_time();
    let scenario = Scenario::new("chaos_input");
    let file = scenario.generate("history.csv", 1_000, 505);

    // Permission denied: as an unprivileged user when run as root.
    let locked = scenario.scratch_file("locked.csv");
    std::fs::copy(&file, &locked).expect("copied");
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut command = if as_root {
        let mut runuser = Command::new("runuser");
        runuser.args(["-u", "nobody", "--"]);
        runuser.arg(env!("CARGO_BIN_EXE_producer"));
        runuser
    } else {
        Command::new(env!("CARGO_BIN_EXE_producer"))
    };
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("permissions set");
    common::ensure_test_person(&scenario.database);
    let output = command
        .arg("--file")
        .arg(&locked)
        .args(["--topic", &scenario.topic, "--person", common::TEST_PERSON])
        .env("MONGODB_DB", &scenario.database)
        .output()
        .expect("the producer runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a locked file must fail: {stderr}"
    );
    assert!(stderr.contains("ermission denied"), "says why: {stderr}");

    // A folder (an export is one) without any history file in it.
    let folder = scenario.scratch_file("not-an-export");
    std::fs::create_dir_all(folder.join("Spotify Account Data")).expect("folder made");
    std::fs::write(folder.join("Spotify Account Data/Userdata.json"), "{}").expect("written");
    let output = scenario.produce(&folder, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a folder without history must fail: {stderr}"
    );
    assert!(
        stderr.contains("holds no listening history") && stderr.contains("Userdata.json"),
        "says why: {stderr}"
    );

    assert!(
        read_topic(&scenario.topic, 0).is_empty(),
        "nothing may be sent from unreadable input"
    );
    report(
        "producer input unreadable (permission denied, a folder without history)",
        2,
        0,
        "non-zero exit with the reason; nothing sent",
    );
}

/// People who stream at once in the scale scenario: listens are keyed by
/// person, so several are needed for the partitions (and the instances) to
/// share the work; with 12 the chance that all land on one instance's two
/// partitions is 1 in 2,000.
const PEOPLE: usize = 12;

#[test]
fn two_instances_share_the_partitions_and_one_takes_over_when_the_other_dies() {
    let _serial = one_at_a_time();
    let scenario = Scenario::new("chaos_scale");
    let rows = (listens().max(20_000) / PEOPLE as u64).max(1);
    let people: Vec<(String, PathBuf, Expected)> = (0..PEOPLE)
        .map(|i| {
            let name = format!("listener{i}");
            let file = scenario.generate(&format!("{name}.csv"), rows, 606 + i as u64);
            let expected = Expected::from_csv(&file);
            (name, file, expected)
        })
        .collect();
    let total: i64 = people.iter().map(|(_, _, expected)| expected.events).sum();
    let tokens: Vec<String> = people
        .iter()
        .map(|(name, _, _)| common::new_person(&scenario.database, name))
        .collect();
    let mut first = scenario.server();
    let rate = (rows / 30).max(1).to_string();
    let producers: Vec<_> = people
        .iter()
        .map(|(name, file, _)| {
            scenario.produce_in_background_as(file, &["--person", name, "--rate", &rate])
        })
        .collect();
    let second = scenario.server();

    // Both count their share of the partitions before one of them dies.
    let share = total as u64 / 10;
    let deadline = Instant::now() + CATCH_UP;
    while counted_here(&first) < share || counted_here(&second) < share {
        assert!(
            Instant::now() < deadline,
            "the instances did not share the work"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        (counted_here(&first) + counted_here(&second)) < total as u64,
        "use a larger CHAOS_LISTENS"
    );
    let counted_by_second = counted_here(&second);
    second.kill();
    let killed = Instant::now();

    for (producer, (_, _, expected)) in producers.into_iter().zip(&people) {
        finished_producer(producer, expected);
    }
    let stream_ended = killed.elapsed();
    for ((name, _, expected), token) in people.iter().zip(&tokens) {
        first.token = token.clone();
        first.wait_for_events(expected.events);
        expected.assert_served_by(&first);
        let person = common::person_id(&scenario.database, name);
        expected.assert_every_total_stored_of(&scenario, &person);
    }
    let took_over = killed.elapsed();
    // Another instance serves the same figures from the shared database.
    let mut third = scenario.server();
    for ((_, _, expected), token) in people.iter().zip(&tokens) {
        third.token = token.clone();
        expected.assert_served_by(&third);
    }
    report(
        &format!(
            "2 instances share 4 partitions, {PEOPLE} people stream; one SIGKILLed mid-stream"
        ),
        1,
        total,
        &format!(
            "the other counted everything {} after the kill, the stream having ended after {} \
             (the dead one had counted {counted_by_second})",
            seconds(took_over),
            seconds(stream_ended)
        ),
    );
}

/// Listens counted by this process (not by the other instances).
fn counted_here(server: &Server) -> u64 {
    let text = server.monitoring("/metrics").1;
    text.lines()
        .find_map(|line| {
            line.strip_prefix("spotify_analytics_events_counted_total ")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0, |value| value as u64)
}
