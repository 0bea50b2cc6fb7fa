//! Bad input never stops the pipeline: rejected rows and malformed messages
//! are set aside on the dead-letter topic with their reason, and every good
//! record around them is counted.

mod common;

use std::io::Write;

use common::{read_topic, send_raw, summary_figure, Expected, Scenario};

const HEADER: &str = "spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped";

#[test]
fn rejected_rows_go_to_the_dead_letter_topic_and_the_rest_are_counted() {
    let scenario = Scenario::new("bad_rows");
    let server = scenario.server();
    let good = |i: u32| {
        format!(
            "id{},2020-01-{:02} 10:00:{:02},android,{},\"Song, {}\",Artist {},Album,clickrow,trackdone,FALSE,{}",
            i % 7,
            1 + i % 28,
            i % 60,
            1000 * i,
            i % 7,
            // Each song has one artist, as on Spotify.
            (i % 7) % 3,
            if i.is_multiple_of(4) { "TRUE" } else { "" }
        )
    };
    let bad = [
        (
            "id1,2020-01-01 10:00:00,android,5,Song,Artist",
            "expected 11 fields",
        ),
        (
            "id1,yesterday,android,5,Song,Artist,Album,a,b,FALSE,FALSE",
            "unparsable timestamp",
        ),
        (
            "id1,2020-01-01 10:00:00,android,five,Song,Artist,Album,a,b,FALSE,FALSE",
            "unparsable ms_played",
        ),
        (
            "id1,2020-01-01 10:00:00,android,-5,Song,Artist,Album,a,b,FALSE,FALSE",
            "negative ms_played",
        ),
        (
            ",2020-01-01 10:00:00,android,5,Song,Artist,Album,a,b,FALSE,FALSE",
            "missing track URI",
        ),
        (
            "id1,2020-01-01 10:00:00,android,5,,Artist,Album,a,b,FALSE,FALSE",
            "missing track name",
        ),
        (
            "id1,2020-01-01 10:00:00,android,5,Song,,Album,a,b,FALSE,FALSE",
            "missing artist name",
        ),
        (
            "id1,2020-01-01 10:00:00,android,5,Song,Artist,Album,a,b,maybe,FALSE",
            "shuffle must be",
        ),
    ];
    let path = scenario.scratch_file("bad_rows.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{HEADER}").unwrap();
    let mut bad_lines = Vec::new();
    let mut line = 1;
    for i in 0..120u32 {
        writeln!(file, "{}", good(i)).unwrap();
        line += 1;
        if i % 15 == 7 {
            let (row, reason) = bad[bad_lines.len()];
            writeln!(file, "{row}").unwrap();
            line += 1;
            bad_lines.push((line, reason));
        }
    }
    // An exact repeat is counted once, not rejected.
    writeln!(file, "{}", good(3)).unwrap();
    drop(file);
    assert_eq!(bad_lines.len(), bad.len());

    let expected = Expected::from_csv(&path);
    assert_eq!(expected.events, 120);
    assert_eq!(expected.rejected, bad.len() as u64);
    assert_eq!(expected.duplicates, 1);

    let output = scenario.produce(&path, &[]);
    assert!(
        output.status.success(),
        "bad rows must not fail the run: {output:?}"
    );
    assert_eq!(summary_figure(&output, "sent"), 120);
    assert_eq!(summary_figure(&output, "rejected"), bad.len() as u64);
    assert_eq!(summary_figure(&output, "duplicates"), 1);
    let report = String::from_utf8_lossy(&output.stdout);
    for (line, reason) in &bad_lines {
        assert!(
            report.contains(&format!("line {line}: ")),
            "line {line} missing from:\n{report}"
        );
        assert!(report.contains(reason), "{reason} missing from:\n{report}");
    }

    server.wait_for_events(120);
    expected.assert_served_by(&server);

    let letters = read_topic(&format!("{}_dlq", scenario.topic), bad.len());
    assert_eq!(letters.len(), bad.len());
    let mut lines: Vec<u64> = letters
        .iter()
        .map(|(_, headers)| headers["dlq.line"].parse().unwrap())
        .collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        bad_lines.iter().map(|(line, _)| *line).collect::<Vec<_>>()
    );
    for (value, headers) in &letters {
        let line: u64 = headers["dlq.line"].parse().unwrap();
        let (_, reason) = bad_lines.iter().find(|(l, _)| *l == line).unwrap();
        assert!(headers["dlq.reason"].contains(reason), "{headers:?}");
        assert_eq!(headers["dlq.source"], "producer");
        assert!(headers["dlq.file"].ends_with("bad_rows.csv"));
        assert!(!value.is_empty(), "the dead letter keeps the record");
    }
}

#[test]
fn hostile_rows_are_dead_lettered_in_part_and_the_good_ones_around_them_counted() {
    let scenario = Scenario::new("hostile_rows");
    let good = "id1,2020-01-01 10:00:00,android,5,Song,Artist,Album,a,b,FALSE,FALSE\n";
    let mut file = format!("{HEADER}\n{good}").into_bytes();
    // Invalid UTF-8, a 10 MB field, a million columns, then a row cut short by the end of the file.
    file.extend_from_slice(
        b"id2,2020-01-01 10:00:00,android,5,So\xffng,Artist,Album,a,b,FALSE,FALSE\n",
    );
    file.extend_from_slice(good.replace("id1", "id3").as_bytes());
    file.extend_from_slice(b"id4,2020-01-01 10:00:00,android,5,");
    file.extend(std::iter::repeat_n(b'x', 10 << 20));
    file.extend_from_slice(b",Artist,Album,a,b,FALSE,FALSE\n");
    file.extend_from_slice(good.replace("id1", "id5").as_bytes());
    file.extend(std::iter::repeat_n(b',', 999_999));
    file.push(b'\n');
    file.extend_from_slice(good.replace("id1", "id6").as_bytes());
    file.extend_from_slice(b"id7,2020-01-01 10:00:00,andr");
    let path = scenario.scratch_file("hostile.csv");
    std::fs::write(&path, &file).unwrap();

    let output = scenario.produce(&path, &[]);
    assert!(
        output.status.success(),
        "hostile rows must not fail the run: {output:?}"
    );
    assert_eq!(summary_figure(&output, "sent"), 4);
    assert_eq!(summary_figure(&output, "rejected"), 4);

    let letters = read_topic(&format!("{}_dlq", scenario.topic), 4);
    let mut reasons: Vec<(u64, String, usize)> = letters
        .iter()
        .map(|(value, headers)| {
            (
                headers["dlq.line"].parse().unwrap(),
                headers["dlq.reason_kind"].clone(),
                value.len(),
            )
        })
        .collect();
    reasons.sort();
    let kinds: Vec<(u64, &str)> = reasons.iter().map(|(l, k, _)| (*l, k.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (3, "invalid_utf8"),
            (5, "record_too_long"),
            (7, "wrong_column_count"),
            (9, "wrong_column_count")
        ]
    );
    assert!(reasons
        .iter()
        .all(|(_, _, bytes)| *bytes <= 64 * 1024 && *bytes > 0));

    let server = scenario.server();
    server.wait_for_events(4);
}

#[test]
fn malformed_messages_are_dead_lettered_and_the_rest_are_counted() {
    let scenario = Scenario::new("bad_messages");
    let server = scenario.server();
    let person = common::person_id(&scenario.database, common::TEST_PERSON);
    let good = |i: u32| {
        format!(
            r#"{{"kind":"listen","person":"{person}","listen":{{"track_uri":"spotify:track:m{}","ts":"2021-03-0{}T12:00:00Z","ms_played":{},"track_name":"T{}","artist_name":"A","album_name":"B","platform":"iOS","reason_start":"clickrow","reason_end":"trackdone","shuffle":false,"skipped":{}}}}}"#,
            i % 2,
            1 + i % 9,
            100 + i,
            i % 2,
            i.is_multiple_of(2)
        )
    };
    let goods: Vec<String> = (0..10).map(good).collect();
    let unknown_field = goods[0].replace("\"shuffle\"", "\"mood\":\"happy\",\"shuffle\"");
    let malformed: Vec<(&str, Vec<u8>, &str)> = vec![
        ("k1", b"not json at all".to_vec(), "not_json"),
        (
            "k2",
            br#"{"track_uri":"spotify:track:x"}"#.to_vec(),
            "wrong_schema",
        ),
        ("k3", unknown_field.into_bytes(), "wrong_schema"),
        (
            "k4",
            goods[1].replace("\"A\"", "\"\"").into_bytes(),
            "missing_artist_name",
        ),
        ("k5", vec![0xff, 0xfe, 0x00], "not_json"),
    ];
    let mut messages: Vec<(&str, &[u8])> = Vec::new();
    for (i, good) in goods.iter().enumerate() {
        messages.push((person.as_str(), good.as_bytes()));
        if let Some((key, value, _)) = malformed.get(i) {
            messages.push((key, value));
        }
    }
    send_raw(&scenario.topic, &messages);

    server.wait_for_events(10);
    let summary: serde_json::Value = server.get_ok("/api/summary");
    assert_eq!(summary["ms_played"], (100..110).sum::<i64>());
    assert_eq!(summary["songs"], 2);
    let artists: serde_json::Value = server.get_ok("/api/top-artists");
    assert_eq!(artists[0]["plays"], 10);
    assert_eq!(artists[0]["skips"], 5);

    let letters = read_topic(&format!("{}_dlq", scenario.topic), malformed.len());
    assert_eq!(letters.len(), malformed.len());
    for (_, value, kind) in &malformed {
        let letter = letters
            .iter()
            .find(|(bytes, _)| bytes == value)
            .unwrap_or_else(|| {
                panic!("no dead letter with the original bytes of a {kind} message")
            });
        assert_eq!(letter.1["dlq.reason_kind"], *kind);
        assert_eq!(letter.1["dlq.source"], "consumer");
        assert!(letter.1.contains_key("dlq.offset"));
    }

    // The metrics count them by reason.
    let metrics = server.monitoring("/metrics").1;
    for (kind, expected) in [
        ("not_json", 2),
        ("wrong_schema", 2),
        ("missing_artist_name", 1),
    ] {
        let line = format!("spotify_analytics_dead_letters_total{{reason=\"{kind}\"}} {expected}");
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in the metrics:\n{metrics}"
        );
    }
    let journal_writes = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(r#"spotify_analytics_mongodb_write_seconds_count{operation="journal"} "#)
        })
        .and_then(|count| count.parse::<u64>().ok());
    assert!(
        journal_writes.is_some_and(|count| count > 0),
        "journal writes are timed:\n{metrics}"
    );
}
