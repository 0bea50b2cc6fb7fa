//! Cleaning one's figures end to end: exclusions sent from the settings'
//! server function travel as control events among the listens, through the
//! real Kafka, FerretDB and server, made and undone while listens stream
//! and across a SIGKILL; the figures must equal a count of the file that
//! leaves those plays out (then puts them back).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use common::{summary_figure, Expected, FileListen, Scenario, Server};
use serde_json::Value;

/// Restarted, the server keeps its identity in the group (as a pod of a
/// stateful set does), so its partitions come back to it at once.
const SETTINGS: [(&str, &str); 1] = [("KAFKA_GROUP_INSTANCE_ID", "cleanup")];

/// What the test leaves out, as the file names it.
#[derive(Debug, Clone, PartialEq)]
enum Left {
    Artist(String),
    Album(String, String),
    Song(String),
    /// A song's plays that ended in `[from, to)` (milliseconds).
    Plays(String, i64, i64),
}

impl Left {
    /// Whether it leaves `listen` out, read from the file's own fields.
    fn leaves_out(&self, listen: &FileListen) -> bool {
        match self {
            Left::Artist(artist) => &listen.artist == artist,
            Left::Album(artist, album) => &listen.artist == artist && &listen.album == album,
            Left::Song(uri) => &listen.uri == uri,
            Left::Plays(uri, from, to) => &listen.uri == uri && (*from..*to).contains(&listen.at),
        }
    }

    /// The form fields of the clean-up server function that make (or undo) it.
    fn fields(&self, action: &str) -> Vec<(&'static str, String)> {
        let instant = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .expect("an instant")
                .to_rfc3339()
        };
        let mut fields = vec![("action", action.to_string())];
        match self {
            Left::Artist(artist) => {
                fields.extend([("kind", "artist".into()), ("artist", artist.clone())]);
            }
            Left::Album(artist, album) => fields.extend([
                ("kind", "album".into()),
                ("artist", artist.clone()),
                ("album", album.clone()),
            ]),
            Left::Song(uri) => fields.extend([("kind", "song".into()), ("track_uri", uri.clone())]),
            Left::Plays(uri, from, to) => fields.extend([
                ("kind", "plays".into()),
                ("track_uri", uri.clone()),
                ("from", instant(*from)),
                ("to", instant(*to)),
            ]),
        }
        fields
    }
}

/// Calls one of the settings' server functions as the page's form does.
fn call(server: &Server, endpoint: &str, fields: &[(&str, String)]) -> (u16, String) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/rpc/account/{endpoint}", server.url))
        .bearer_auth(&server.token)
        .header("origin", &server.url)
        .form(fields)
        .send()
        .expect("an answer");
    (
        response.status().as_u16(),
        response.text().unwrap_or_default(),
    )
}

fn change(server: &Server, left: &Left, action: &str) {
    let (status, body) = call(server, "clean_up", &left.fields(action));
    assert_eq!(status, 200, "{action} {left:?}: {body}");
}

fn exclusions(server: &Server) -> Vec<Value> {
    let (status, body) = call(server, "exclusions", &[]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("a list of exclusions")
}

/// The figures of `listens` without those any of `left` leaves out,
/// counted from nothing.
fn recount(listens: &[FileListen], left: &[Left]) -> Expected {
    let mut expected = Expected::default();
    for listen in listens {
        if left.iter().any(|left| left.leaves_out(listen)) {
            continue;
        }
        expected.count_listen(
            &listen.uri,
            &listen.time,
            listen.ms_played,
            listen.skipped,
            (&listen.track, &listen.artist, &listen.album),
        );
    }
    expected.finish();
    expected
}

/// Writes the records of `file` from `from` to `to` as a file of their own.
fn part_of(scenario: &Scenario, file: &Path, name: &str, from: usize, to: usize) -> PathBuf {
    let mut reader = csv::Reader::from_path(file).expect("the file opens");
    let path = scenario.scratch_file(name);
    let mut writer = csv::Writer::from_path(&path).expect("the part is written");
    writer
        .write_record(reader.headers().expect("a header"))
        .unwrap();
    for record in reader.records().skip(from).take(to - from) {
        writer.write_record(&record.expect("a record")).unwrap();
    }
    writer.flush().unwrap();
    path
}

/// The key of `listens` with the most plays (`key` gives `None` for a listen not to count).
fn most_played<'a>(
    listens: &'a [FileListen],
    key: impl Fn(&'a FileListen) -> Option<(String, String)>,
) -> (String, String) {
    let mut plays: HashMap<(String, String), i64> = HashMap::new();
    for listen in listens {
        if let Some(key) = key(listen) {
            *plays.entry(key).or_default() += 1;
        }
    }
    let mut ranked: Vec<_> = plays.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.into_iter().next().expect("a listen to choose").0
}

fn wait_until_counted_past(server: &Server, events: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.events() <= events {
        assert!(Instant::now() < deadline, "counting stalled at {events}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILLs the server while the producer still sends.
fn kill_while_streaming(server: Server, producer: &mut Child) {
    let running = producer.try_wait().expect("the producer's state").is_none();
    assert!(running, "the stream ended before the kill: lower the rate");
    server.kill();
}

fn finished(producer: Child, sent: usize) {
    let output = producer.wait_with_output().expect("the producer ran");
    assert!(output.status.success(), "producer failed: {output:?}");
    assert_eq!(summary_figure(&output, "sent"), sent as u64);
}

/// The figures equal `expected`, and the list of exclusions says what each sets aside now.
fn assert_figures(server: &Server, expected: &Expected, listens: &[FileListen], left: &[Left]) {
    server.wait_for_events(expected.events);
    expected.assert_served_by(server);
    let listed = exclusions(server);
    assert_eq!(listed.len(), left.len(), "{listed:?}");
    for left in left {
        let plays = listens.iter().filter(|l| left.leaves_out(l)).count();
        assert!(plays > 0, "{left:?} leaves something out");
        let view = listed
            .iter()
            .find(|view| {
                let exclusion = &view["exclusion"];
                match left {
                    Left::Artist(artist) => exclusion["artist"]["artist"] == artist.as_str(),
                    Left::Album(_, album) => exclusion["album"]["album"] == album.as_str(),
                    Left::Song(uri) => exclusion["song"]["track_uri"] == uri.as_str(),
                    Left::Plays(uri, ..) => exclusion["plays"]["track_uri"] == uri.as_str(),
                }
            })
            .unwrap_or_else(|| panic!("{left:?} not listed in {listed:?}"));
        assert_eq!(view["plays"], plays as i64, "{left:?}");
    }
}

#[test]
fn exclusions_made_and_undone_while_listens_stream_and_across_a_sigkill_equal_a_recount() {
    let scenario = Scenario::new("cleanup");
    let file = scenario.generate("history.csv", 24_000, 47);
    let first_file = part_of(&scenario, &file, "first.csv", 0, 12_000);
    let second_file = part_of(&scenario, &file, "second.csv", 12_000, 24_000);
    // Each part is its own import: repeats are counted once within one.
    let first = Expected::from_csv(&first_file).listens;
    let second = Expected::from_csv(&second_file).listens;
    let all: Vec<FileListen> = first.iter().chain(&second).cloned().collect();

    // The most played artist; then, of other artists, the most played
    // album, song, and a song whose plays in the middle half of its time are removed.
    let artist = most_played(&all, |l| Some((l.artist.clone(), String::new()))).0;
    let others: Vec<FileListen> = all.iter().filter(|l| l.artist != artist).cloned().collect();
    let (album_artist, album) = most_played(&others, |l| {
        (!l.album.is_empty()).then(|| (l.artist.clone(), l.album.clone()))
    });
    let album_left = Left::Album(album_artist.clone(), album.clone());
    let rest: Vec<FileListen> = others
        .iter()
        .filter(|l| !album_left.leaves_out(l))
        .cloned()
        .collect();
    let song = most_played(&rest, |l| Some((l.uri.clone(), String::new()))).0;
    let looped = most_played(&rest, |l| {
        (l.uri != song).then(|| (l.uri.clone(), String::new()))
    })
    .0;
    let mut times: Vec<i64> = all
        .iter()
        .filter(|l| l.uri == looped)
        .map(|l| l.at)
        .collect();
    times.sort_unstable();
    let window = Left::Plays(
        looped.clone(),
        times[times.len() / 4],
        times[times.len() * 3 / 4],
    );
    let (artist_left, song_left) = (Left::Artist(artist), Left::Song(song.clone()));
    let everything = [
        artist_left.clone(),
        album_left.clone(),
        song_left.clone(),
        window.clone(),
    ];

    // Made while the first part streams; the server killed before it ends.
    let mut server = scenario.server_with(&SETTINGS);
    let mut producer = scenario.produce_in_background(&first_file, &["--rate", "1500"]);
    wait_until_counted_past(&server, 3_000);
    for left in &everything {
        change(&server, left, "exclude");
    }
    let counted = server.events();
    wait_until_counted_past(&server, counted);
    kill_while_streaming(server, &mut producer);
    server = scenario.server_with(&SETTINGS);
    finished(producer, first.len());
    assert_figures(&server, &recount(&first, &everything), &first, &everything);
    // The figures themselves: nothing of the artist, nor of the song.
    let (status, _) = server.get(&format!("/api/songs/{}", urlencode(&song)));
    assert_eq!(status, 404, "a song left out has no page of figures");
    // Once idle it writes a checkpoint: the exclusions and the plays they
    // set aside come back from it after a crash.
    std::thread::sleep(Duration::from_secs(8));
    server.kill();
    server = scenario.server_with(&SETTINGS);
    assert_figures(&server, &recount(&first, &everything), &first, &everything);

    // Two put back while the second part streams, the server killed again.
    let mut producer = scenario.produce_in_background(&second_file, &["--rate", "1500"]);
    let counted = server.events();
    wait_until_counted_past(&server, counted + 3_000);
    change(&server, &artist_left, "include");
    change(&server, &window, "include");
    let counted = server.events();
    wait_until_counted_past(&server, counted);
    kill_while_streaming(server, &mut producer);
    server = scenario.server_with(&SETTINGS);
    finished(producer, second.len());
    let still = [album_left.clone(), song_left.clone()];
    assert_figures(&server, &recount(&all, &still), &all, &still);

    // Refused changes change nothing, and say why.
    let mut backwards = window.fields("exclude");
    backwards.swap(3, 4);
    backwards[3].0 = "from";
    backwards[4].0 = "to";
    // Their status says whose to mend: the request's (400), or a clash with what is (409).
    for (fields, why, wanted) in [
        (backwards, "ends before it begins", 400),
        (artist_left.fields("include"), "not left out", 409),
        (
            vec![
                ("action", "exclude".into()),
                ("kind", "album".into()),
                ("artist", "Somebody".into()),
            ],
            "name the artist",
            400,
        ),
    ] {
        let (status, body) = call(&server, "clean_up", &fields);
        assert_eq!(status, wanted, "{fields:?}: {body}");
        assert!(body.contains(why), "{fields:?}: {body}");
    }
    let (status, body) = call(
        &server,
        "clean_up",
        &[("action", "exclude".into()), ("kind", "everything".into())],
    );
    assert_eq!(status, 400, "an unknown kind: {body}");

    // Everything put back: the figures are the whole file's again, after a restart too.
    for left in &still {
        change(&server, left, "include");
    }
    let whole = recount(&all, &[]);
    assert_figures(&server, &whole, &all, &[]);
    server.kill();
    let server = scenario.server_with(&SETTINGS);
    assert_figures(&server, &whole, &all, &[]);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
