//! Importing one's own Spotify export end to end: a generated
//! `my_spotify_data.zip` with extended history of both generations, account
//! data, podcasts and a video file goes through the real producer, Kafka,
//! consumer and MongoDB; every figure is checked against counts computed here.

mod common;

use std::io::Write;

use common::{read_topic, summary_figure, Expected, Scenario};
use serde_json::{json, Value};

const EXTENDED: &str = "Spotify Extended Streaming History";
const ACCOUNT: &str = "Spotify Account Data";

/// One listen of the generated export, as the test counts it.
struct Listen {
    key: String,
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    time: String,
    ms: i64,
    skipped: bool,
    track: String,
    artist: String,
    album: String,
}

/// A generated export and what it should produce.
struct Export {
    files: Vec<(String, Vec<u8>)>,
    expected: Expected,
    listens: Vec<Listen>,
    not_music: u64,
    /// `(file, record number)` of the one record that cannot be a listen.
    rejected: (String, u64),
}

fn time(hour: u32) -> (String, String) {
    let at = chrono::DateTime::from_timestamp(1_577_836_800 + i64::from(hour) * 3600 + 17, 0)
        .expect("a time");
    (
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        at.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn local_uri(artist: &str, track: &str) -> String {
    let encode = |part: &str| form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    format!("spotify:local:{}::{}:", encode(artist), encode(track))
}

fn generate_export() -> Export {
    let mut listens = Vec::new();
    let mut not_music = 0;
    let mut files = Vec::new();

    // Two extended-history files: the newer generation, then an older one
    // (username, decrypted addresses, `skipped` null).
    for (file_index, name) in ["Streaming_History_Audio_2020_0.json", "endsong_1.json"]
        .into_iter()
        .enumerate()
    {
        let mut records = Vec::new();
        for i in 0..240u32 {
            let hour = file_index as u32 * 1000 + i * 3;
            let (iso, plain) = time(hour);
            if i % 10 == 9 {
                not_music += 1;
                records.push(json!({"ts": iso, "ms_played": 60000, "platform": "ios",
                    "master_metadata_track_name": null, "master_metadata_album_artist_name": null,
                    "master_metadata_album_album_name": null, "spotify_track_uri": null,
                    "episode_name": format!("Episode {i}"), "episode_show_name": "The Show",
                    "spotify_episode_uri": "spotify:episode:0Q86acNRm6V9GYx55SXKwf",
                    "reason_start": "clickrow", "reason_end": "endplay", "shuffle": false, "skipped": null}));
                continue;
            }
            let (artist, song) = (i % 7, i % 23);
            let (track, artist_name, album) = (
                format!("Song {song} of {artist}"),
                format!("Artist {artist}"),
                format!("Album {}", song % 4),
            );
            let uri = format!("spotify:track:t{song}a{artist}");
            let ms = 1000 * (i64::from(i) % 200 + 1);
            let skipped = match i % 5 {
                0 => json!(true),
                1 => Value::Null,
                _ => json!(false),
            };
            let mut record = json!({"ts": iso, "platform": "android", "ms_played": ms,
                "conn_country": "SE", "master_metadata_track_name": track,
                "master_metadata_album_artist_name": artist_name,
                "master_metadata_album_album_name": album, "spotify_track_uri": uri,
                "episode_name": null, "episode_show_name": null, "spotify_episode_uri": null,
                "reason_start": "trackdone", "reason_end": "trackdone",
                "shuffle": i % 2 == 0, "skipped": skipped, "offline": false,
                "offline_timestamp": 0, "incognito_mode": false});
            if file_index == 0 {
                record["ip_addr"] = json!("10.0.0.1");
                record["audiobook_title"] = Value::Null;
            } else {
                record["username"] = json!("listener");
                record["ip_addr_decrypted"] = json!("10.0.0.2");
                record["user_agent_decrypted"] = json!("unknown");
            }
            listens.push(Listen {
                key: uri,
                time: plain,
                ms,
                skipped: i % 5 == 0,
                track,
                artist: artist_name,
                album,
            });
            records.push(record);
        }
        files.push((format!("{EXTENDED}/{name}"), to_json(&records)));
    }
    // One record without an artist: rejected, with its record number.
    let rejected_file = format!("{EXTENDED}/Streaming_History_Audio_2020_0.json");
    let mut first: Vec<Value> = serde_json::from_slice(&files[0].1).expect("generated JSON");
    first.push(json!({"ts": "2020-03-01T00:00:00Z", "ms_played": 5,
        "master_metadata_track_name": "Lonely", "master_metadata_album_artist_name": null}));
    // An exact repeat of the first record: counted once.
    first.push(first[0].clone());
    let rejected = (rejected_file, first.len() as u64 - 1);
    files[0].1 = to_json(&first);

    // Account data: minute precision, songs known by artist and track name.
    let mut account = Vec::new();
    for i in 0..60u32 {
        let (_, plain) = time(5000 + i * 5);
        let minute = &plain[..16];
        let (track, artist) = (format!("Tune {}", i % 9), format!("Artist {}", i % 4));
        let ms = 2000 * i64::from(i);
        account.push(
            json!({"endTime": minute, "artistName": artist, "trackName": track, "msPlayed": ms}),
        );
        listens.push(Listen {
            key: local_uri(&artist, &track),
            time: format!("{minute}:00"),
            ms,
            skipped: false,
            track,
            artist,
            album: String::new(),
        });
    }
    files.push((
        format!("{ACCOUNT}/StreamingHistory_music_0.json"),
        to_json(&account),
    ));
    let podcasts: Vec<Value> = (0..5)
        .map(|i| json!({"endTime": "2021-01-01 10:00", "podcastName": "P", "episodeName": format!("E{i}"), "msPlayed": 1000}))
        .collect();
    not_music += 5;
    files.push((
        format!("{ACCOUNT}/StreamingHistory_podcast_0.json"),
        to_json(&podcasts),
    ));
    files.push((
        format!("{EXTENDED}/Streaming_History_Video_2020.json"),
        to_json(&[json!({"ts": "2020-01-01T00:00:00Z", "ms_played": 1})]),
    ));
    files.push((
        format!("{EXTENDED}/ReadMeFirst_ExtendedStreamingHistory.pdf"),
        b"%PDF-1.4".to_vec(),
    ));
    let mut expected = expected_between(&listens, "0000", "9999");
    expected.duplicates = 1;
    expected.rejected = 1;
    Export {
        files,
        expected,
        listens,
        not_music,
        rejected,
    }
}

/// What the listens of days `[from, to)` add up to.
fn expected_between(listens: &[Listen], from: &str, to: &str) -> Expected {
    let mut expected = Expected::default();
    for listen in listens
        .iter()
        .filter(|l| l.time.as_str() >= from && l.time.as_str() < to)
    {
        expected.count_listen(
            &listen.key,
            &listen.time,
            listen.ms,
            listen.skipped,
            (&listen.track, &listen.artist, &listen.album),
        );
    }
    expected.finish();
    expected
}

/// The expected top albums of days `[from, to)`: plays, then time, then album, then artist.
fn top_albums_between(listens: &[Listen], from: &str, to: &str) -> Vec<Value> {
    let mut albums: std::collections::HashMap<(String, String), (i64, i64, i64)> =
        Default::default();
    for listen in listens
        .iter()
        .filter(|l| l.time.as_str() >= from && l.time.as_str() < to && !l.album.is_empty())
    {
        let entry = albums
            .entry((listen.album.clone(), listen.artist.clone()))
            .or_default();
        entry.0 += 1;
        entry.1 += listen.ms;
        entry.2 += i64::from(listen.skipped);
    }
    let mut rows: Vec<_> = albums.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1 .0
            .cmp(&a.1 .0)
            .then(b.1 .1.cmp(&a.1 .1))
            .then_with(|| a.0.cmp(&b.0))
    });
    rows.iter()
        .take(100)
        .enumerate()
        .map(|(index, ((album, artist), (plays, ms, skips)))| {
            json!({"rank": index + 1, "album_name": album, "artist_name": artist,
                   "plays": plays, "ms_played": ms, "skips": skips})
        })
        .collect()
}

/// The expected most skipped songs of days `[from, to)` with at least `min_plays`
/// plays: most skips, then the higher skip rate, then track name, then URI.
fn most_skipped_between(
    listens: &[Listen],
    from: &str,
    to: &str,
    min_plays: i64,
) -> Vec<(String, i64, i64)> {
    let expected = expected_between(listens, from, to);
    let mut rows: Vec<(&String, &common::SongCount)> = expected
        .songs
        .iter()
        .filter(|(_, song)| song.count.plays >= min_plays && song.count.skips > 0)
        .collect();
    rows.sort_by(|a, b| {
        let (a_count, b_count) = (&a.1.count, &b.1.count);
        b_count
            .skips
            .cmp(&a_count.skips)
            .then((b_count.skips * a_count.plays).cmp(&(a_count.skips * b_count.plays)))
            .then_with(|| a.1.latest.1.cmp(&b.1.latest.1))
            .then_with(|| a.0.cmp(b.0))
    });
    rows.into_iter()
        .take(100)
        .map(|(uri, song)| (uri.clone(), song.count.plays, song.count.skips))
        .collect()
}

fn to_json(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec_pretty(records).expect("JSON")
}

fn write_zip(path: &std::path::Path, files: &[(String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("the zip is created"));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).expect("an entry");
        zip.write_all(bytes).expect("entry written");
    }
    zip.finish().expect("the zip is finished");
}

#[test]
fn an_export_zip_is_imported_end_to_end_and_a_repeat_is_refused() {
    let scenario = Scenario::new("import_zip");
    let server = scenario.server();
    let export = generate_export();
    let zip_path = scenario.scratch_file("my_spotify_data.zip");
    write_zip(&zip_path, &export.files);

    let output = scenario.produce(&zip_path, &[]);
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = &export.expected;
    let read = summary_figure(&output, "read");
    let sent = summary_figure(&output, "sent");
    let not_music = summary_figure(&output, "not music");
    let rejected = summary_figure(&output, "rejected");
    let duplicates = summary_figure(&output, "duplicates");
    assert_eq!(sent, expected.events as u64, "{report}");
    assert_eq!(not_music, export.not_music);
    assert_eq!(rejected, 1);
    assert_eq!(duplicates, 1);
    assert_eq!(read, sent + duplicates + not_music + rejected);
    assert!(
        report.contains("(4 history files, 2 other files ignored)"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "Streaming_History_Audio_2020_0.json record {}: missing artist name",
            export.rejected.1
        )),
        "{report}"
    );

    let letters = read_topic(&format!("{}_dlq", scenario.topic), 1);
    let (raw, headers) = &letters[0];
    assert_eq!(headers["dlq.record"], export.rejected.1.to_string());
    assert!(headers["dlq.file"].ends_with(&format!("my_spotify_data.zip!/{}", export.rejected.0)));
    assert_eq!(headers["dlq.reason_kind"], "missing_artist_name");
    let kept = String::from_utf8_lossy(raw);
    assert!(kept.contains("\"Lonely\""), "{kept}");
    // What an export says about its person stays out of the dead-letter topic.
    for private in ["ip_addr", "username", "conn_country", "10.0.0."] {
        assert!(!kept.contains(private), "{private} in {kept}");
    }

    server.wait_for_events(expected.events);
    expected.assert_every_total_stored(&scenario);
    expected.assert_served_by(&server);

    // Time ranges: inclusive from, exclusive to, UTC days.
    let mut ranked_skips = 0;
    for (from, to) in [
        ("2020-01-10", "2020-02-15"),
        ("2020-02-01", "2020-08-01"),
        ("2020-01-01", "2020-01-02"),
    ] {
        let in_range = expected_between(&export.listens, from, to);
        assert!(in_range.events > 0, "{from}..{to} has listens");
        let query = format!("from={from}&to={to}&limit=100");
        let songs: Vec<Value> = server.get_ok(&format!("/api/top-songs?{query}"));
        assert_eq!(songs, in_range.top_songs(100), "top songs {from}..{to}");
        // The overview's totals of the range.
        let bounds: Value = server.get_ok(&format!("/api/range?from={from}&to={to}"));
        assert_eq!(
            bounds["totals"],
            json!({
                "plays": in_range.events,
                "ms_played": in_range.ms_played,
                "songs": in_range.songs.len(),
                "artists": in_range.artists.len(),
            }),
            "totals {from}..{to}"
        );
        let artists: Vec<Value> = server.get_ok(&format!("/api/top-artists?{query}"));
        assert_eq!(
            artists,
            in_range.top_artists(100),
            "top artists {from}..{to}"
        );
        let albums: Vec<Value> = server.get_ok(&format!("/api/top-albums?{query}"));
        assert_eq!(
            albums,
            top_albums_between(&export.listens, from, to),
            "top albums {from}..{to}"
        );
        let clock: Vec<Value> = server.get_ok(&format!("/api/listening-clock?from={from}&to={to}"));
        let clock_plays: i64 = clock
            .iter()
            .map(|cell| cell["plays"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(clock_plays, in_range.events, "clock {from}..{to}");
        let months: Vec<Value> =
            server.get_ok(&format!("/api/over-time?bucket=month&from={from}&to={to}"));
        let hours: i64 = months
            .iter()
            .map(|m| m["ms_played"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(
            hours, in_range.ms_played,
            "listening time over time {from}..{to}"
        );
        let skipped: Vec<Value> = server.get_ok(&format!("/api/most-skipped?{query}&min_plays=2"));
        let skipped: Vec<(String, i64, i64)> = skipped
            .iter()
            .map(|row| {
                (
                    row["track_uri"].as_str().unwrap_or_default().to_string(),
                    row["plays"].as_i64().unwrap_or(0),
                    row["skips"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            skipped,
            most_skipped_between(&export.listens, from, to, 2),
            "most skipped {from}..{to}"
        );
        ranked_skips += skipped.len();
        let shares: Value = server.get_ok(&format!("/api/shares?from={from}&to={to}"));
        assert_eq!(shares["plays"], in_range.events, "shares {from}..{to}");
    }
    assert!(ranked_skips > 0, "some range has songs ranked by skips");
    let artist: Value = server.get_ok("/api/artists/Artist%203");
    assert_eq!(artist["plays"], expected.artists["Artist 3"].plays);
    let (status, error) = server.get("/api/over-time?bucket=day&from=1900-01-01&to=2100-01-01");
    assert_eq!(status, 400, "73,000 daily steps are refused: {error}");
    let (status, error) = server.get("/api/top-songs?from=2020-02-01&to=2020-01-01");
    assert_eq!(status, 400);
    assert!(
        error["error"]
            .as_str()
            .unwrap_or_default()
            .contains("must be before"),
        "{error}"
    );

    let again = scenario.produce(&zip_path, &[]);
    let report = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{report}");
    assert_eq!(summary_figure(&again, "sent"), 0, "{report}");
    assert!(
        report.contains("Nothing new to stream: every file was imported before."),
        "{report}"
    );
    assert!(
        report.contains(
            "already imported (as Spotify Account Data/StreamingHistory_music_0.json on "
        ),
        "{report}"
    );

    // The same account-data file on its own is recognised by content too.
    let single = scenario.scratch_file("StreamingHistory_music_0.json");
    std::fs::write(&single, &export.files[2].1).expect("file written");
    let alone = scenario.produce(&single, &[]);
    assert_eq!(summary_figure(&alone, "sent"), 0);
    // Forced, it streams again and is counted again.
    let forced = scenario.produce(&single, &["--force"]);
    assert_eq!(summary_figure(&forced, "sent"), 60);
    server.wait_for_events(expected.events + 60);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        server.events(),
        expected.events + 60,
        "nothing else was counted"
    );
}

#[test]
fn a_folder_of_an_export_is_imported_file_by_file() {
    let scenario = Scenario::new("import_folder");
    let server = scenario.server();
    let export = generate_export();
    let folder = scenario.scratch_file("my_spotify_data");
    for (name, bytes) in &export.files {
        let path = folder.join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(path, bytes).expect("file written");
    }
    let output = scenario.produce(&folder, &[]);
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{report}");
    assert_eq!(
        summary_figure(&output, "sent"),
        export.expected.events as u64
    );
    for (name, _) in &export.files[..4] {
        assert!(
            report.contains(name.as_str()),
            "{name} missing from\n{report}"
        );
    }
    server.wait_for_events(export.expected.events);
    export.expected.assert_served_by(&server);
}

#[test]
fn a_zip_bomb_is_refused_unread_naming_the_limit_and_a_raised_limit_reads_it() {
    let scenario = Scenario::new("import_bomb");
    let mut blank = b"[".to_vec();
    blank.resize(8 << 20, b' ');
    blank.push(b']');
    let name = "Spotify Extended Streaming History/Streaming_History_Audio_2024.json";
    let zip_path = scenario.scratch_file("bomb.zip");
    write_zip(&zip_path, &[(name.to_string(), blank)]);
    assert!(std::fs::metadata(&zip_path).expect("the zip").len() < 64 << 10);

    let refused = scenario.produce(&zip_path, &[]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("is refused unread"), "{said}");
    assert!(said.contains(name), "{said}");
    assert!(
        said.contains("over the limit of 100 (--max-compression-ratio, MAX_COMPRESSION_RATIO)"),
        "{said}"
    );

    let raised = scenario.produce(&zip_path, &["--max-compression-ratio", "100000"]);
    let report = String::from_utf8_lossy(&raised.stdout).to_string();
    assert!(raised.status.success(), "{report}");
    assert_eq!(summary_figure(&raised, "sent"), 0);
}

/// Uploads `bytes` as the file `name` from the Import page; the status and the answer.
fn upload(server: &common::Server, name: &str, bytes: Vec<u8>, again: bool) -> (u16, Value) {
    let path = format!(
        "/api/imports?name={}{}",
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>(),
        if again { "&again=true" } else { "" }
    );
    let (status, _, answer) = server.send(reqwest::Method::POST, &path, bytes);
    (status, answer)
}

/// Waits until no import of the test person runs; their last import, `id`.
fn finished_import(server: &common::Server, id: &str) -> Value {
    let report = finished_import_of(server, id);
    let (_, imports) = server.get("/api/imports");
    assert_eq!(imports["history"][0]["id"], id, "{imports}");
    report
}

/// Waits until no import of the test person runs; their import `id`.
fn finished_import_of(server: &common::Server, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (status, imports) = server.get("/api/imports");
        assert_eq!(status, 200, "{imports}");
        if imports["running"].is_null() {
            let history = imports["history"].as_array().expect("a history");
            let report = history.iter().find(|report| report["id"] == id);
            return report
                .cloned()
                .unwrap_or_else(|| panic!("no import {id}: {imports}"));
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import never ended: {imports}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn file_total(report: &Value, count: &str) -> u64 {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|file| file[count].as_u64().expect("a count"))
        .sum()
}

#[test]
fn an_export_uploaded_from_the_page_is_imported_once_and_bad_uploads_are_refused() {
    let scenario = Scenario::new("web_import");
    let export = generate_export();
    let zip_path = scenario.scratch_file("my_spotify_data.zip");
    write_zip(&zip_path, &export.files);
    let zip = std::fs::read(&zip_path).expect("the zip");
    let mut blank = b"[".to_vec();
    blank.resize(8 << 20, b' ');
    blank.push(b']');
    let bomb_path = scenario.scratch_file("bomb.zip");
    let bomb_entry = "Spotify Extended Streaming History/Streaming_History_Audio_2024.json";
    write_zip(&bomb_path, &[(bomb_entry.to_string(), blank)]);
    let bomb = std::fs::read(&bomb_path).expect("the bomb");
    let limit = zip.len().max(bomb.len()) + 100;
    let spool = scenario.scratch_file("uploads");
    let server = scenario.server_with(&[
        ("MAX_UPLOAD_BYTES", &limit.to_string()),
        ("UPLOADS_PER_HOUR", "5"),
        ("UPLOAD_DIR", spool.to_str().expect("a path")),
    ]);

    // 1: the export, imported whole.
    let (status, started) = upload(&server, "my_spotify_data.zip", zip.clone(), false);
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["state"], "Running", "{started}");
    let report = finished_import(&server, started["id"].as_str().expect("an id"));
    assert_eq!(report["state"], "Complete", "{report}");
    assert_eq!(report["upload"], "my_spotify_data.zip");
    assert_eq!(report["bytes"], zip.len() as u64);
    assert_eq!(
        report["files"].as_array().expect("files").len(),
        4,
        "{report}"
    );
    let where_kept = spool.to_string_lossy().to_string();
    assert!(
        !report.to_string().contains(&where_kept),
        "no server path shown: {report}"
    );
    assert_eq!(
        file_total(&report, "sent"),
        export.expected.events as u64,
        "{report}"
    );
    assert_eq!(file_total(&report, "not_music"), export.not_music);
    assert_eq!(file_total(&report, "rejected"), 1);
    assert_eq!(file_total(&report, "duplicates"), 1);
    assert_eq!(file_total(&report, "failed"), 0);
    assert_eq!(
        file_total(&report, "read"),
        ["sent", "not_music", "rejected", "duplicates"]
            .iter()
            .map(|count| file_total(&report, count))
            .sum::<u64>()
    );
    server.wait_for_events(export.expected.events);
    export.expected.assert_served_by(&server);
    let left = common::uploads_left(&spool);
    assert!(left.is_empty(), "an imported upload is deleted: {left:?}");

    // 2: the same export again: every file skipped, nothing sent.
    let (status, again) = upload(&server, "my_spotify_data (1).zip", zip.clone(), false);
    assert_eq!(status, 202, "{again}");
    let report = finished_import(&server, again["id"].as_str().expect("an id"));
    assert_eq!(file_total(&report, "sent"), 0, "{report}");
    for file in report["files"].as_array().expect("files") {
        let earlier = &file["outcome"]["ImportedBefore"];
        assert_eq!(earlier["file"], file["name"], "{report}");
        assert!(earlier["at"].is_string(), "{report}");
        assert!(earlier["sent"].as_u64().is_some(), "{report}");
    }

    // 3: not an export: refused with what was expected, nothing sent.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (status, refused) = upload(&server, "holiday.png", png.clone(), false);
    assert_eq!(status, 422, "{refused}");
    let error = refused["error"].as_str().expect("an error");
    assert!(error.contains("holiday.png"), "{error}");
    assert!(error.contains("Upload my_spotify_data.zip"), "{error}");

    // 4: a zip bomb: refused unread, naming the limit.
    let (status, refused) = upload(&server, "bomb.zip", bomb, false);
    assert_eq!(status, 422, "{refused}");
    let error = refused["error"].as_str().expect("an error");
    assert!(error.contains("is refused unread"), "{error}");
    assert!(error.contains("MAX_COMPRESSION_RATIO"), "{error}");

    // Too large: refused before it is taken (and not counted as an upload).
    let (status, refused) = upload(&server, "big.zip", vec![b'x'; limit + 1], false);
    assert_eq!(status, 413, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("MAX_UPLOAD_BYTES")),
        "{refused}"
    );

    // From another site: refused.
    let foreign = reqwest::blocking::Client::new()
        .post(format!("{}/api/imports?name=a.csv", server.url))
        .bearer_auth(&server.token)
        .header("origin", "https://evil.example")
        .body(png.clone())
        .send()
        .expect("an answer");
    assert_eq!(foreign.status().as_u16(), 403);

    // 5 uploads within the hour, then throttled.
    let (status, _) = upload(&server, "holiday.png", png.clone(), false);
    assert_eq!(status, 422);
    let (status, throttled) = upload(&server, "holiday.png", png, false);
    assert_eq!(status, 429, "{throttled}");
    assert!(
        throttled["error"]
            .as_str()
            .is_some_and(|e| e.contains("5 uploads within the hour")),
        "{throttled}"
    );

    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert_eq!(
        server.events(),
        export.expected.events,
        "nothing else was counted"
    );
    let left = common::uploads_left(&spool);
    assert!(left.is_empty(), "refused uploads are deleted: {left:?}");
}

/// A zip of one history file of `bytes` blanks inside a JSON array: a few
/// hundred kilobytes that inflate a thousand times over.
fn write_bomb(path: &std::path::Path, name: &str, bytes: usize) {
    let file = std::fs::File::create(path).expect("the zip");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(name, options).expect("an entry");
    zip.write_all(b"[").expect("written");
    let blanks = vec![b' '; 1 << 20];
    for _ in 0..bytes >> 20 {
        zip.write_all(&blanks).expect("written");
    }
    zip.write_all(b"]").expect("written");
    zip.finish().expect("the zip is finished");
}

#[test]
fn an_uploaded_zip_bomb_is_refused_in_bounded_memory_and_one_let_through_streams() {
    let scenario = Scenario::new("web_bomb");
    let bomb = scenario.scratch_file("bomb.zip");
    let name = "Spotify Extended Streaming History/Streaming_History_Audio_2024.json";
    write_bomb(&bomb, name, 512 << 20);
    let bytes = std::fs::read(&bomb).expect("the bomb");
    assert!(bytes.len() < 4 << 20, "{} bytes", bytes.len());

    // Refused unread, by its compression ratio.
    let server = scenario.server();
    let before = server.rss_mib();
    let (status, refused) = upload(&server, "bomb.zip", bytes.clone(), false);
    assert_eq!(status, 422, "{refused}");
    let error = refused["error"].as_str().expect("an error");
    assert!(error.contains("is refused unread"), "{error}");
    assert!(error.contains(name), "{error}");
    let grown = server.rss_mib().saturating_sub(before);
    eprintln!("peak memory before {before} MiB, grown by {grown} MiB refusing a 512 MiB bomb");
    assert!(grown < 64, "refusing the bomb took {grown} MiB more");
    drop(server);

    // Let through (a raised ratio), its 512 MiB are read as they inflate, never held.
    let server = scenario.server_with(&[("MAX_COMPRESSION_RATIO", "1000000")]);
    let before = server.rss_mib();
    let (status, started) = upload(&server, "bomb.zip", bytes, false);
    assert_eq!(status, 202, "{started}");
    let report = finished_import(&server, started["id"].as_str().expect("an id"));
    assert_eq!(report["state"], "Complete", "{report}");
    assert_eq!(file_total(&report, "read"), 0);
    assert_eq!(report["bytes_read"], report["total_bytes"], "{report}");
    assert!(
        report["total_bytes"]
            .as_u64()
            .is_some_and(|total| total > 512 << 20),
        "{report}"
    );
    let grown = server.rss_mib().saturating_sub(before);
    eprintln!("grown by {grown} MiB reading the 512 MiB entry");
    assert!(grown < 64, "reading the entry took {grown} MiB more");
}

#[test]
fn deleting_my_data_during_an_import_stops_it_first_so_nothing_of_it_stays() {
    let scenario = Scenario::new("web_import_delete");
    let file = scenario.generate("spotify_history.csv", 200_000, 57);
    let server = scenario.server();
    let (status, started) = upload(
        &server,
        "spotify_history.csv",
        std::fs::read(&file).expect("the file"),
        false,
    );
    assert_eq!(status, 202, "{started}");
    // A little of it read and sent...
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, imports) = server.get("/api/imports");
        let running = &imports["running"];
        assert!(
            !running.is_null(),
            "the import ended before the deletion: {imports}"
        );
        let read = running["bytes_read"].as_f64().unwrap_or(0.0);
        if read > 0.1 * running["total_bytes"].as_f64().unwrap_or(f64::MAX) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // ...when the person deletes their data.
    let deleted = reqwest::blocking::Client::new()
        .post(format!("{}/rpc/account/delete_data", server.url))
        .bearer_auth(&server.token)
        .header("origin", &server.url)
        .form(&[("confirm", common::TEST_PERSON)])
        .send()
        .expect("an answer");
    assert_eq!(deleted.status().as_u16(), 200, "{:?}", deleted.text());

    let (_, imports) = server.get("/api/imports");
    assert!(
        imports["running"].is_null(),
        "the import stopped first: {imports}"
    );
    assert_eq!(imports["history"], json!([]), "its history is deleted too");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.events() != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the figures never went"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        server.events(),
        0,
        "nothing of the import counted after the deletion"
    );
}

#[test]
fn uploads_that_are_not_a_whole_export_are_refused_and_nothing_of_them_is_kept() {
    use std::io::{Read, Write as _};
    let scenario = Scenario::new("web_bad_uploads");
    let spool = scenario.scratch_file("uploads");
    let server = scenario.server_with(&[("UPLOAD_DIR", spool.to_str().expect("a path"))]);
    let expected_shape = "Upload my_spotify_data.zip as Spotify sent it";
    // Refused (422), saying what an export looks like.
    let not_an_export = |status: u16, refused: &Value| {
        assert_eq!(status, 422, "{refused}");
        let error = refused["error"].as_str().unwrap_or_default();
        assert!(error.contains(expected_shape), "{refused}");
    };

    // A zip of other things.
    let other = scenario.scratch_file("photos.zip");
    write_zip(
        &other,
        &[
            (
                "holiday/beach.jpg".to_string(),
                vec![0xff, 0xd8, 0xff, 0xe0],
            ),
            ("notes.txt".to_string(), b"not music".to_vec()),
        ],
    );
    let (status, refused) = upload(&server, "photos.zip", std::fs::read(&other).unwrap(), false);
    assert_eq!(status, 422, "{refused}");
    let error = refused["error"].as_str().expect("an error");
    assert!(
        error.contains("photos.zip holds no listening history"),
        "{error}"
    );
    assert!(error.contains("notes.txt"), "{error}");
    assert!(error.contains(expected_shape), "{error}");

    // An export cut in half.
    let export = generate_export();
    let zip_path = scenario.scratch_file("my_spotify_data.zip");
    write_zip(&zip_path, &export.files);
    let mut zip = std::fs::read(&zip_path).unwrap();
    zip.truncate(zip.len() / 2);
    let (status, refused) = upload(&server, "my_spotify_data.zip", zip, false);
    not_an_export(status, &refused);

    // JSON of another shape.
    let (status, refused) = upload(
        &server,
        "Playlist1.json",
        br#"{"playlists": []}"#.to_vec(),
        false,
    );
    not_an_export(status, &refused);

    // The browser closed mid-upload: a tenth of what it announced arrived.
    let address = server.url.trim_start_matches("http://").to_string();
    let mut connection = std::net::TcpStream::connect(&address).expect("a connection");
    write!(
        connection,
        "POST /api/imports?name=spotify_history.csv HTTP/1.1\r\nHost: {address}\r\n\
         Authorization: Bearer {}\r\nOrigin: {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 10000\r\n\r\n",
        server.token, server.url
    )
    .unwrap();
    let csv = std::fs::read(common::sample_file()).unwrap();
    connection.write_all(&csv[..1000]).unwrap();
    connection.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = connection.read_to_string(&mut answer);
    assert!(!answer.starts_with("HTTP/1.1 202"), "{answer}");

    let (_, imports) = server.get("/api/imports");
    assert!(imports["running"].is_null(), "{imports}");
    assert_eq!(imports["history"], json!([]), "nothing was imported");
    let left = common::uploads_left(&spool);
    assert!(left.is_empty(), "nothing of them is kept: {left:?}");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert_eq!(server.events(), 0);
}

/// The test person's imports as `server` lists them.
fn imports_on(server: &common::Server) -> Value {
    let (status, imports) = server.get("/api/imports");
    assert_eq!(status, 200, "{imports}");
    imports
}

#[test]
fn a_second_import_of_a_person_waits_for_the_first_on_every_server_until_its_server_is_gone() {
    let scenario = Scenario::new("one_import");
    let file = scenario.generate("spotify_history.csv", 200_000, 19);
    let other = scenario.generate("other.csv", 3_000, 23);
    // What both files add up to: the second's rows after the first's.
    let both = scenario.scratch_file("both.csv");
    let mut text = std::fs::read_to_string(&file).expect("the file");
    let other_text = std::fs::read_to_string(&other).expect("the other file");
    text.push_str(other_text.split_once('\n').expect("a header").1);
    std::fs::write(&both, text).expect("both files");
    let expected = Expected::from_csv(&both);
    let folder = |name: &str| {
        scenario
            .scratch_file(name)
            .to_str()
            .expect("a path")
            .to_string()
    };
    let first_settings = [("UPLOAD_DIR", folder("uploads-first"))];
    let first_settings: Vec<(&str, &str)> = first_settings
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let first = scenario.server_with(&first_settings);
    let second = scenario.server_with(&[("UPLOAD_DIR", &folder("uploads-second"))]);

    let history = std::fs::read(&file).expect("the file");
    let (status, started) = upload(&first, "spotify_history.csv", history, false);
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().expect("an id").to_string();

    // While it runs, neither this server nor another takes a second one.
    let small = std::fs::read(&other).expect("the other file");
    for server in [&first, &second] {
        let (status, refused) = upload(server, "other.csv", small.clone(), false);
        assert_eq!(status, 409, "{refused}");
        let error = refused["error"].as_str().expect("an error");
        assert!(
            error.contains("spotify_history.csv") && error.contains("still running"),
            "{error}"
        );
    }
    let imports = imports_on(&second);
    assert_eq!(imports["history"][0]["id"], id.as_str(), "{imports}");
    assert_eq!(imports["history"][0]["state"], "Running", "{imports}");

    // Its server dies during it: once its beat is 30 s old, the other
    // server shows it stopped and takes the person's next upload.
    assert!(
        !imports_on(&first)["running"].is_null(),
        "the import ended before its server could be killed"
    );
    first.kill();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let stopped = loop {
        let imports = imports_on(&second);
        let last = imports["history"][0].clone();
        if last["state"] != "Running" {
            break last;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never shown stopped: {imports}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let reason = stopped["state"]["Incomplete"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("the server running it stopped"),
        "{stopped}"
    );
    let (status, again) = upload(&second, "other.csv", small, false);
    assert_eq!(status, 202, "{again}");
    let again = finished_import(&second, again["id"].as_str().expect("an id"));
    assert_eq!(again["state"], "Complete", "{again}");

    // The first server comes back and resumes its import: both end exact.
    let first = scenario.server_with(&first_settings);
    let resumed = finished_import_of(&first, &id);
    assert_eq!(resumed["state"], "Complete", "{resumed}");
    first.wait_for_events(expected.events);
    expected.assert_served_by(&first);
    // The other server reads the totals the partition's owner wrote, a moment later.
    second.wait_for_events(expected.events);
    expected.assert_served_by(&second);
}
