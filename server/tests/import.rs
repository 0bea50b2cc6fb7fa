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

/// A generated export and what it should produce.
struct Export {
    files: Vec<(String, Vec<u8>)>,
    expected: Expected,
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
    let mut expected = Expected::default();
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
            expected.count_listen(&uri, &plain, ms, i % 5 == 0, (&track, &artist_name, &album));
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
        expected.count_listen(
            &local_uri(&artist, &track),
            &format!("{minute}:00"),
            ms,
            false,
            (&track, &artist, ""),
        );
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
    expected.duplicates = 1;
    expected.rejected = 1;
    expected.finish();
    Export {
        files,
        expected,
        not_music,
        rejected,
    }
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
    assert!(String::from_utf8_lossy(raw).contains("\"Lonely\""));

    server.wait_for_events(expected.events);
    expected.assert_every_total_stored(&scenario);
    expected.assert_served_by(&server);

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
