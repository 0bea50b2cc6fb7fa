//! Exactly-once totals across crashes: the server is killed with SIGKILL at
//! moments of its consumption and started again, and ends with exactly the
//! counts of the file; so it does after restarting from a checkpoint.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{summary_figure, Expected, Scenario, CATCH_UP};

/// Small batches make consumption long enough to be interrupted many times;
/// bounded by bytes (about 50 listens), so they stay small while the
/// consumer is behind, when the bound on events grows. (At about 200
/// listens a batch, a server counted the 60,000 listens between two kills.)
const SMALL_BATCHES: [(&str, &str); 1] = [("BATCH_MAX_BYTES", "16384")];

fn jitter_ms(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    u64::from(nanos) % bound
}

#[test]
fn killing_the_server_mid_stream_ends_with_exact_totals() {
    let scenario = Scenario::new("crash");
    let file = scenario.generate("history.csv", 60_000, 77);
    let expected = Expected::from_csv(&file);

    let output = scenario.produce(&file, &[]);
    assert!(output.status.success(), "producer failed: {output:?}");
    assert_eq!(summary_figure(&output, "sent"), expected.events as u64);

    let mut server = scenario.server_with(&SMALL_BATCHES);
    let mut kills = 0;
    let mut counted_at_kills = Vec::new();
    let deadline = Instant::now() + CATCH_UP;
    while kills < 4 && Instant::now() < deadline {
        // Let some batches through, then crash at an arbitrary moment.
        let before = server.events();
        while server.events() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(20 + jitter_ms(200)));
        let counted = server.events();
        if counted >= expected.events {
            break;
        }
        server.kill();
        kills += 1;
        counted_at_kills.push(counted);
        server = scenario.server_with(&SMALL_BATCHES);
    }
    assert!(
        kills >= 2,
        "the server finished before it could be killed twice ({counted_at_kills:?})"
    );

    server.wait_for_events(expected.events);
    expected.assert_served_by(&server);

    // Once idle it writes a checkpoint; a crash after it restarts from there.
    std::thread::sleep(Duration::from_secs(8));
    server.kill();
    let server = scenario.server();
    server.wait_for_events(expected.events);
    expected.assert_served_by(&server);
    eprintln!(
        "killed at {counted_at_kills:?} of {} listens; totals exact",
        expected.events
    );
}

#[test]
fn restarting_a_stopped_server_counts_what_arrived_meanwhile() {
    let scenario = Scenario::new("restart");
    let first = scenario.generate("first.csv", 3_000, 5);
    let second = scenario.generate("second.csv", 2_000, 6);
    let server = scenario.server();
    assert!(scenario.produce(&first, &[]).status.success());
    let first_expected = Expected::from_csv(&first);
    server.wait_for_events(first_expected.events);
    server.kill();

    let output = scenario.produce(&second, &[]);
    assert!(output.status.success());
    let server = scenario.server();
    let total = first_expected.events + summary_figure(&output, "sent") as i64;
    server.wait_for_events(total);
}

#[test]
fn a_new_database_counts_the_topic_from_its_beginning() {
    let scenario = Scenario::new("new_db");
    let file = scenario.generate("history.csv", 8_000, 11);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    assert!(scenario.produce(&file, &[]).status.success());
    server.wait_for_events(expected.events);
    server.kill();

    // Same topic and consumer group, whose offsets Kafka has committed, but
    // a database with nothing counted: only the accounts, restored from a backup.
    let fresh_database = format!("{}_again", scenario.database);
    let mut people = Vec::new();
    common::with_database(&scenario.database, |db| {
        let people = &mut people;
        async move {
            use futures::TryStreamExt;
            *people = db
                .collection::<mongodb::bson::Document>("people")
                .find(mongodb::bson::doc! {})
                .await?
                .try_collect()
                .await?;
            Ok(())
        }
    });
    common::with_database(&fresh_database, |db| async move {
        db.collection::<mongodb::bson::Document>("people")
            .insert_many(people)
            .await
            .map(|_| ())
    });
    let server = scenario.server_with(&[("MONGODB_DB", fresh_database.as_str())]);
    server.wait_for_events(expected.events);
    expected.assert_served_by(&server);
}

#[test]
fn a_server_whose_log_reader_is_gone_still_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let scenario = Scenario::new("lost_logs");
    let mut server = scenario
        .server_command(&[("RUST_LOG", "info")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    let mut stdout = BufReader::new(server.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    while !line.starts_with("listening on ") {
        line.clear();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
    }
    // Whoever read the logs is gone: writing them fails from now on.
    drop(stdout);
    drop(server.stderr.take());
    std::thread::sleep(Duration::from_secs(3));

    let asked = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let mut exit = None;
    while exit.is_none() && asked.elapsed() < Duration::from_secs(10) {
        exit = server.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        line.starts_with("listening on "),
        "the server did not start"
    );
    let status = exit.expect("the server stops within 10 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
}

/// Where the test person's import from the page stands: `Some(report)`
/// while one runs, `None` once none does.
fn running_import(server: &common::Server) -> Option<serde_json::Value> {
    let (status, imports) = server.get("/api/imports");
    assert_eq!(status, 200, "{imports}");
    Some(imports["running"].clone()).filter(|running| !running.is_null())
}

#[test]
fn killing_or_stopping_the_server_during_an_import_from_the_page_resumes_it_exactly() {
    let scenario = Scenario::new("crash_import");
    let file = scenario.generate("spotify_history.csv", 200_000, 91);
    let expected = Expected::from_csv(&file);
    let spool = scenario.scratch_file("uploads");
    let settings = [("UPLOAD_DIR", spool.to_str().expect("a path"))];
    let mut server = scenario.server_with(&settings);

    let (status, _, started) = server.send(
        reqwest::Method::POST,
        "/api/imports?name=spotify_history.csv",
        std::fs::read(&file).expect("the file"),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().expect("an id").to_string();

    // Kill it at arbitrary moments while the import runs, and start it again.
    let mut kills_while_importing = Vec::new();
    let deadline = Instant::now() + CATCH_UP;
    for trial in 0..3 {
        let Some(running) = running_import(&server) else {
            break;
        };
        assert_eq!(running["id"], id.as_str(), "the same import goes on");
        // At an arbitrary point of the file: a fifth to nine tenths of it read.
        let point = 0.2 + jitter_ms(700) as f64 / 1000.0;
        let mut importing = true;
        loop {
            let Some(running) = running_import(&server) else {
                importing = false;
                break;
            };
            let read = running["bytes_read"].as_f64().unwrap_or(0.0);
            let total = running["total_bytes"].as_f64().unwrap_or(0.0);
            if total > 0.0 && read >= point * total {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let counted = server.events();
        if trial == 1 {
            // Stopped as an operator would: it ends at once, the import left to resume.
            let stopped = server.terminate(Duration::from_secs(15));
            assert!(
                stopped.is_some_and(|(_, status)| status.success()),
                "{stopped:?}"
            );
        } else {
            server.kill();
        }
        if importing {
            kills_while_importing.push(counted);
        }
        server = scenario.server_with(&settings);
        // The restarted server resumes it by itself.
        while running_import(&server).is_none() && Instant::now() < deadline {
            let (_, imports) = server.get("/api/imports");
            if imports["history"][0]["state"] != "Running" {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(
        kills_while_importing.len() >= 2,
        "the import ended before the server could be killed twice during it \
         (counted at the kills: {kills_while_importing:?})"
    );

    while running_import(&server).is_some() {
        assert!(Instant::now() < deadline, "the resumed import never ended");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, imports) = server.get("/api/imports");
    let report = &imports["history"][0];
    assert_eq!(report["id"], id.as_str(), "{imports}");
    assert_eq!(report["state"], "Complete", "{report}");
    assert_eq!(report["files"][0]["sent"], expected.events, "{report}");
    // Named as the person knows it, not where the server keeps it.
    assert_eq!(
        report["files"][0]["name"], "spotify_history.csv",
        "{report}"
    );

    server.wait_for_events(expected.events);
    expected.assert_served_by(&server);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.events(), expected.events, "nothing counted twice");
    let left = common::uploads_left(&spool);
    assert!(
        left.is_empty(),
        "the upload is deleted once imported: {left:?}"
    );
    eprintln!(
        "killed during the import at {kills_while_importing:?} of {} listens; totals exact",
        expected.events
    );
}
