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
    // Restarted instances keep their identity, as pods of a stateful set do.
    let settings = [SMALL_BATCHES, ("KAFKA_GROUP_INSTANCE_ID", "chaos-kill")];
    let mut server = scenario.server_with(&settings);
    // Listens keep arriving through every kill and restart (about five
    // seconds each): a backlog read at once could be counted before the last.
    let producer = produce_over(&scenario, &file, 5 * kills as u64);
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
    finished_producer(producer, &expected);
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

/// The 3-broker cluster of `scripts/stack.sh cluster`.
const CLUSTER: &str = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094";

/// Stops the cluster when the scenario ends, however it ends: it is not
/// needed by the rest of the suite.
struct ClusterDown;

impl Drop for ClusterDown {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/stack.sh"))
            .args(["cluster", "down"])
            .stdout(Stdio::null())
            .status();
    }
}

/// The broker (node id) leading most of `topic`'s partitions.
fn leading_broker(topic: &str) -> i32 {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let client: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", CLUSTER)
        .create()
        .expect("a Kafka client");
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("the topic's metadata");
    let mut led = std::collections::BTreeMap::<i32, usize>::new();
    for partition in metadata.topics()[0].partitions() {
        assert_eq!(
            partition.replicas().len(),
            3,
            "replicated on all three brokers"
        );
        *led.entry(partition.leader()).or_default() += 1;
    }
    led.into_iter()
        .max_by_key(|(_, partitions)| *partitions)
        .map(|(broker, _)| broker)
        .expect("a leader")
}

#[test]
fn leader_of_a_three_broker_cluster_killed_mid_stream_loses_and_duplicates_nothing() {
    let _serial = one_at_a_time();
    let status = Command::new(repo_root().join("scripts/stack.sh"))
        .args(["cluster", "up"])
        .stdout(Stdio::null())
        .status()
        .expect("scripts/stack.sh runs");
    assert!(status.success(), "scripts/stack.sh cluster up failed");
    let _down = ClusterDown;
    let scenario = Scenario::on_brokers("chaos_cluster", CLUSTER);
    let file = scenario.generate("history.csv", listens(), 303);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    let producer = produce_over(&scenario, &file, 20);
    until_counting_past(&server, listens() as i64 / 10, expected.events);

    let leader = leading_broker(&scenario.topic);
    let status = Command::new(repo_root().join("scripts/stack.sh"))
        .args(["cluster", "kill", &leader.to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("scripts/stack.sh runs");
    assert!(status.success(), "killing broker {leader} failed");
    let killed = Instant::now();
    assert!(
        server.events() < expected.events,
        "the stream ended before the kill; use a larger CHAOS_LISTENS"
    );

    // Two of three replicas remain, as many as min.insync.replicas asks:
    // producing and counting go on without the dead broker.
    finished_producer(producer, &expected);
    let stream_ended = killed.elapsed();
    assert_exact(&expected, &scenario, &server);
    assert_ne!(leading_broker(&scenario.topic), leader, "leadership moved");
    report(
        "Kafka cluster of 3 (replication 3, min.insync.replicas 2): the partitions' leader SIGKILLed mid-stream",
        1,
        expected.events,
        &format!(
            "the producer finished {} after the kill and every listen was counted {} after it, without the dead broker",
            seconds(stream_ended),
            seconds(killed.elapsed())
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
        // A server counts a backlog fast (8,000 listens in 250 ms, seen):
        // stopped within 100 ms of its first count, three fit in one file.
        std::thread::sleep(Duration::from_millis(jitter_ms(100)));
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

/// People, partitions and instances of the scale scenario: listens are
/// keyed by person, so people spread over the partitions, and the group
/// gives each instance a third of the partitions.
const PEOPLE: usize = 100;
const PARTITIONS: &str = "12";
const INSTANCES: usize = 3;

#[test]
fn three_instances_each_hold_a_third_and_answer_for_everyone_through_a_kill() {
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
    let settings = [("KAFKA_TOPIC_PARTITIONS", PARTITIONS)];
    let mut servers: Vec<Server> = (0..INSTANCES)
        .map(|_| scenario.server_with(&settings))
        .collect();
    let rate = (rows / 25).max(1).to_string();
    let producers: Vec<_> = people
        .iter()
        .map(|(name, file, _)| {
            scenario.produce_in_background_as(
                file,
                &[
                    "--person",
                    name,
                    "--rate",
                    &rate,
                    "--partitions",
                    PARTITIONS,
                ],
            )
        })
        .collect();

    // Each instance counts its share, and holds only that: no copies of the others'.
    let deadline = Instant::now() + CATCH_UP;
    while servers
        .iter()
        .any(|server| counted_here(server) < total as u64 / 20)
    {
        assert!(
            Instant::now() < deadline,
            "the instances did not share the work"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let held: Vec<(i64, i64)> = servers.iter().map(listens_held).collect();
    let counted: i64 = held.iter().map(|(counted, _)| counted).sum();
    assert!(counted < total, "use a larger CHAOS_LISTENS");
    for (index, (counted_here, followed)) in held.iter().enumerate() {
        assert_eq!(
            *followed, 0,
            "instance {index} holds copies of others' partitions: {held:?}"
        );
        let share = *counted_here as f64 / counted as f64;
        assert!(
            (0.1..0.6).contains(&share),
            "instance {index} holds {share:.2} of what is counted, not about a third: {held:?}"
        );
    }
    let memory: Vec<u64> = servers.iter().map(Server::rss_mib).collect();

    let dead = servers.remove(INSTANCES - 1);
    let counted_by_dead = counted_here(&dead);
    dead.kill();
    let killed = Instant::now();
    // Right away, every person is still answered, those of the dead
    // instance from its last journaled batch, flagged as stale.
    let survivor = &mut servers[0];
    let mut flagged = 0;
    for token in &tokens {
        survivor.token = token.clone();
        let (status, headers, body) = survivor.send(
            reqwest::Method::GET,
            "/api/shares?preset=all-time",
            Vec::new(),
        );
        assert_eq!(
            status, 200,
            "a person's ranges right after the kill: {body}"
        );
        flagged += usize::from(headers.contains_key("x-data-stale"));
    }
    assert!(
        flagged > 0,
        "answers from the dead instance's partitions say they may be stale"
    );
    let answered_after_kill = killed.elapsed();

    for (producer, (_, _, expected)) in producers.into_iter().zip(&people) {
        finished_producer(producer, expected);
    }
    for server in &mut servers {
        for ((_, file, expected), token) in people.iter().zip(&tokens) {
            server.token = token.clone();
            server.wait_for_events(expected.events);
            expected.assert_served_by(server);
            assert_ranges_served(expected, file, server);
        }
    }
    let took_over = killed.elapsed();
    let (counted, followed): (Vec<i64>, Vec<i64>) = servers.iter().map(listens_held).unzip();
    assert_eq!(
        counted.iter().sum::<i64>(),
        total,
        "the survivors count every partition between them; followed: {followed:?}"
    );
    report(
        &format!(
            "{INSTANCES} instances, {PARTITIONS} partitions, {PEOPLE} people stream; one SIGKILLed mid-stream"
        ),
        1,
        total,
        &format!(
            "every person answered {} after the kill ({flagged} flagged stale), all exact on both \
             survivors {} after it; each held a third (RSS {memory:?} MiB; the dead one had counted {counted_by_dead})",
            seconds(answered_after_kill),
            seconds(took_over)
        ),
    );
}

/// Asserts every range endpoint answers the file's figures for the person
/// `server` acts for, wherever their listens are held.
fn assert_ranges_served(expected: &Expected, file: &std::path::Path, server: &Server) {
    let shares: serde_json::Value = server.get_ok("/api/shares?preset=all-time");
    assert_eq!(shares["plays"], expected.events, "plays of all time");
    let months: Vec<serde_json::Value> =
        server.get_ok("/api/over-time?preset=all-time&bucket=month");
    let plays = |rows: &[serde_json::Value]| {
        rows.iter()
            .filter_map(|row| row["plays"].as_i64())
            .sum::<i64>()
    };
    assert_eq!(plays(&months), expected.events, "plays month by month");
    let clock: Vec<serde_json::Value> = server.get_ok("/api/listening-clock?preset=all-time");
    assert_eq!(plays(&clock), expected.events, "plays hour by hour");
    let bounds: serde_json::Value = server.get_ok("/api/range");
    assert_eq!(
        bounds["last_day"].as_str(),
        expected.last_listen.get(..10),
        "the last day with listens"
    );
    // A range of their history's middle, against a count of the file's rows in it.
    let first = bounds["first_day"].as_str().unwrap_or_default().to_string();
    let last = bounds["last_day"].as_str().unwrap_or_default().to_string();
    let (from, to) = (middle(&first, &last, 1), middle(&first, &last, 2));
    let between = Expected::from_csv_between(file, &from, &to);
    let ranked: Vec<serde_json::Value> =
        server.get_ok(&format!("/api/top-songs?from={from}&to={to}&limit=100"));
    assert_eq!(
        ranked,
        between.top_songs(100),
        "top songs from {from} to {to}"
    );
    if let Some(top) = expected.top_artists(1).first() {
        let name = top["artist_name"].as_str().unwrap_or_default();
        let detail: serde_json::Value = server.get_ok(&format!(
            "/api/artists/{}",
            // A path segment: `+` is a plus there, so spaces go as `%20`.
            form_urlencoded::byte_serialize(name.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        ));
        assert_eq!(detail["plays"], top["plays"], "the top artist's page");
    }
}

/// The day `part` thirds of the way from `first` to `last` (ISO dates).
fn middle(first: &str, last: &str, part: i64) -> String {
    let day = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default();
    let (first, last) = (day(first), day(last));
    (first + (last - first) * part as i32 / 3).to_string()
}

/// Listens held by an instance: of partitions it counts, of partitions it follows.
fn listens_held(server: &Server) -> (i64, i64) {
    let text = server.monitoring("/metrics").1;
    let gauge = |keeper: &str| {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(&format!(
                    "spotify_analytics_listens_held{{keeper=\"{keeper}\"}} "
                ))?
                .trim()
                .parse::<f64>()
                .ok()
            })
            .map_or(0, |value| value as i64)
    };
    (gauge("counted"), gauge("followed"))
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
