//! A person whose listens lie in two partitions, as when partitions are
//! added to the topic (the person's key then hashes to another one): every
//! figure, and a clean-up made and undone, must read as if all their
//! listens were in one. Two servers on the real Kafka and FerretDB, the
//! same listens sent to both: one topic holds them in two partitions, the
//! other in one; every endpoint of the first must answer what the second
//! does, which the other tests check against counts of their files.

mod common;

use std::time::{Duration, Instant};

use common::{partitions_of, person_id, send_raw_to_partition, Scenario, Server, TEST_PERSON};
use serde_json::Value;

const LISTENS: usize = 600;
/// Listens sent once the figures were read.
const LATER: usize = 40;

/// A listen as the producer sends it: a song among 40 (played unevenly) of 8 artists, every
/// 19 hours or so from November 2022, some skipped.
fn listen(person: &str, i: usize) -> String {
    let song = (i * i / 7 + i) % 40;
    let at = chrono::DateTime::parse_from_rfc3339("2022-11-03T08:00:00Z").expect("an instant")
        + chrono::Duration::minutes((i * 1140 + (i * 37) % 300) as i64);
    let skipped = i.is_multiple_of(5);
    format!(
        r#"{{"kind":"listen","person":"{person}","listen":{{"track_uri":"spotify:track:s{song}","ts":"{}","ms_played":{},"track_name":"Song {song}","artist_name":"Artist {}","album_name":"Album {}","platform":"{}","reason_start":"clickrow","reason_end":"{}","shuffle":false,"skipped":{skipped}}}}}"#,
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        1000 * (5 + (i * 13) % 240),
        song % 8,
        song % 11,
        if i.is_multiple_of(3) {
            "iOS"
        } else {
            "android"
        },
        if skipped { "fwdbtn" } else { "trackdone" },
    )
}

/// A server whose topic has `partitions`, holding the test person's
/// listens: the `i`-th in partition `i % partitions`.
fn server_with_listens(label: &str, partitions: usize) -> (Scenario, Server) {
    let scenario = Scenario::new(label);
    let server = scenario.server_with(&[("KAFKA_TOPIC_PARTITIONS", &partitions.to_string())]);
    // The server makes its topic as it starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while partitions_of(&scenario.brokers, &scenario.topic) != partitions as i32 {
        assert!(
            Instant::now() < deadline,
            "the server made no topic of {partitions} partitions"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let person = person_id(&scenario.database, TEST_PERSON);
    let listens: Vec<String> = (0..LISTENS).map(|i| listen(&person, i)).collect();
    for partition in 0..partitions {
        let theirs: Vec<(&str, &[u8])> = (listens.iter().enumerate())
            .filter(|(i, _)| i % partitions == partition)
            .map(|(_, listen)| (person.as_str(), listen.as_bytes()))
            .collect();
        send_raw_to_partition(&scenario.topic, partition as i32, &theirs);
    }
    server.wait_for_events(LISTENS as i64);
    (scenario, server)
}

/// What the person is shown: every figure the API answers.
const ENDPOINTS: [&str; 22] = [
    "/api/top-songs?limit=100",
    "/api/top-artists?limit=100",
    "/api/top-songs?preset=all-time&limit=100",
    "/api/top-songs?from=2023-03-01&to=2023-09-15&limit=100",
    "/api/top-artists?preset=all-time&by=time",
    "/api/top-albums?preset=all-time",
    "/api/most-skipped?preset=all-time&min_plays=2",
    "/api/listening-clock?preset=all-time",
    "/api/over-time?preset=all-time&bucket=week",
    "/api/shares?preset=all-time",
    "/api/skips?preset=all-time",
    "/api/sessions?preset=all-time",
    "/api/range?from=2023-01-01&to=2024-01-01",
    "/api/calendar?year=2023",
    "/api/discoveries",
    "/api/review?period=2023",
    "/api/review?period=2023-06",
    "/api/review?period=2024",
    "/api/artists/Artist%203",
    "/api/songs/spotify:track:s7",
    "/api/songs/spotify:track:s12?from=2023-01-01",
    "/api/summary",
];

/// Each endpoint's answer; the summary without when its figures last changed.
fn figures(server: &Server) -> Vec<(&'static str, Value)> {
    ENDPOINTS
        .iter()
        .map(|&endpoint| {
            let mut answer: Value = server.get_ok(endpoint);
            if let Some(summary) = answer.as_object_mut() {
                summary.remove("updated_at");
            }
            (endpoint, answer)
        })
        .collect()
}

/// Waits (a clean-up takes effect within moments) until both servers
/// answer alike, then asserts they do.
fn assert_alike(split: &Server, whole: &Server, when: &str) -> Vec<(&'static str, Value)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (theirs, expected) = (figures(split), figures(whole));
        if theirs == expected || Instant::now() > deadline {
            for ((endpoint, answer), (_, wanted)) in theirs.iter().zip(&expected) {
                assert_eq!(answer, wanted, "{endpoint} {when}");
            }
            return expected;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Makes or undoes the exclusion of an artist, as the settings' form does.
fn clean_up(server: &Server, action: &str, artist: &str) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/rpc/account/clean_up", server.url))
        .bearer_auth(&server.token)
        .header("origin", &server.url)
        .form(&[("action", action), ("kind", "artist"), ("artist", artist)])
        .send()
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200, "{action} {artist}");
}

/// The plays of `artist` among the top artists, 0 when not among them.
fn plays_of(top_artists: &Value, artist: &str) -> i64 {
    (top_artists.as_array().expect("a list").iter())
        .filter(|row| row["artist_name"] == artist)
        .map(|row| row["plays"].as_i64().unwrap_or_default())
        .sum()
}

/// Waits until `server` shows `artist` with `plays` plays.
fn wait_for_plays(server: &Server, artist: &str, plays: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = plays_of(&server.get_ok("/api/top-artists?limit=100"), artist);
        if shown == plays {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{artist} shows {shown} plays, not {plays}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_person_whose_listens_lie_in_two_partitions_is_shown_them_as_one() {
    let (split_scenario, split) = server_with_listens("split_person", 2);
    let (whole_scenario, whole) = server_with_listens("whole_person", 1);

    let before = assert_alike(&split, &whole, "with listens in two partitions");
    let artist = "Artist 3";
    let plays = plays_of(&whole.get_ok("/api/top-artists?limit=100"), artist);
    assert!(plays > 0, "{artist} has plays to leave out");

    // Sent to the person's own partition, the clean-up must reach their
    // listens in the other one too.
    for server in [&split, &whole] {
        clean_up(server, "exclude", artist);
        wait_for_plays(server, artist, 0);
    }
    let excluded = assert_alike(&split, &whole, "with an artist left out");
    assert_ne!(excluded, before, "the artist's plays left out");

    for server in [&split, &whole] {
        clean_up(server, "include", artist);
        wait_for_plays(server, artist, plays);
    }
    let after = assert_alike(&split, &whole, "with the artist put back");
    assert_eq!(after, before, "put back as they were");

    // The split person's figures are added up once and kept: listens that
    // come to one of their partitions must show all the same.
    for (scenario, partition) in [(&split_scenario, 1), (&whole_scenario, 0)] {
        let person = person_id(&scenario.database, TEST_PERSON);
        let later: Vec<String> = (LISTENS..LISTENS + LATER)
            .map(|i| listen(&person, i))
            .collect();
        let later: Vec<(&str, &[u8])> = (later.iter())
            .map(|listen| (person.as_str(), listen.as_bytes()))
            .collect();
        send_raw_to_partition(&scenario.topic, partition, &later);
    }
    for server in [&split, &whole] {
        server.wait_for_events((LISTENS + LATER) as i64);
    }
    let grown = assert_alike(&split, &whole, "with listens come to one partition since");
    assert_ne!(grown, after, "the listens since are shown");
}
