//! What the integration tests share: a topic, consumer group and database of
//! their own on the real Kafka broker and FerretDB started by
//! `scripts/stack.sh up`, the real server and producer binaries, and counts
//! computed straight from the input files, independently of the pipeline.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::NaiveDateTime;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Longest wait for the pipeline to catch up; generous, as tests must not fail on a slow machine.
pub const CATCH_UP: Duration = Duration::from_secs(240);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn sample_file() -> PathBuf {
    repo_root().join("data/spotify_history.csv")
}

fn brokers() -> String {
    std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// One test's own topic, consumer group and database, on the brokers it uses.
pub struct Scenario {
    pub topic: String,
    pub group: String,
    pub database: String,
    pub brokers: String,
    scratch: tempfile::TempDir,
}

impl Scenario {
    pub fn new(label: &str) -> Self {
        Self::on_brokers(label, &brokers())
    }

    /// A scenario whose servers and producers use `brokers`.
    pub fn on_brokers(label: &str, brokers: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let id = format!(
            "test_{label}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000
        );
        Self {
            topic: id.clone(),
            group: id.clone(),
            database: id,
            brokers: brokers.to_string(),
            scratch: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// A path for a file this test writes.
    pub fn scratch_file(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    pub fn server(&self) -> Server {
        self.server_with(&[])
    }

    /// Starts the server binary on a free port, with extra environment variables.
    pub fn server_with(&self, extra: &[(&str, &str)]) -> Server {
        let mut command = self.server_command(extra);
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = command.spawn().expect("the server binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            let mut metrics_url = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("metrics on ") {
                    metrics_url = url.trim().to_string();
                }
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = found.send((url.trim().to_string(), metrics_url.clone()));
                }
            }
        });
        let (url, metrics_url) = address
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens within a minute");
        let database = extra
            .iter()
            .find(|(key, _)| *key == "MONGODB_DB")
            .map_or(self.database.as_str(), |(_, value)| *value);
        let token = test_person_token(database);
        Server {
            child,
            url,
            metrics_url,
            token,
        }
    }

    /// The server binary with this scenario's settings, on a free port.
    pub fn server_command(&self, extra: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env("KAFKA_BROKERS", &self.brokers)
            .env("KAFKA_TOPIC", &self.topic)
            .env("KAFKA_GROUP_ID", &self.group)
            .env("MONGODB_DB", &self.database)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("METRICS_ADDR", "127.0.0.1:0")
            .env("LEPTOS_OUTPUT_NAME", "spotify-analytics")
            .env("LEPTOS_SITE_ROOT", repo_root().join("target/site"))
            // Each scenario's own: a server deletes leftovers of its folder at start.
            .env("UPLOAD_DIR", self.scratch.path().join("uploads"))
            .env("RUST_LOG", "warn");
        for (key, value) in extra {
            command.env(key, value);
        }
        command
    }

    /// Runs the producer binary on a file, into this scenario's topic.
    pub fn produce(&self, file: &Path, extra_args: &[&str]) -> Output {
        self.produce_via(&self.brokers, file, extra_args)
    }

    /// Runs the producer binary against the given brokers, as the test person.
    pub fn produce_via(&self, brokers: &str, file: &Path, extra_args: &[&str]) -> Output {
        ensure_test_person(&self.database);
        let mut args = vec!["--person", TEST_PERSON];
        args.extend_from_slice(extra_args);
        self.produce_as_via(brokers, file, &args)
    }

    /// Runs the producer binary on a file as another person (`--person` in `args`).
    pub fn produce_as(&self, person: &str, file: &Path) -> Output {
        self.produce_as_via(&self.brokers, file, &["--person", person])
    }

    fn produce_as_via(&self, brokers: &str, file: &Path, extra_args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_producer"))
            .arg("--file")
            .arg(file)
            .args(["--topic", &self.topic, "--brokers", brokers])
            .env("MONGODB_DB", &self.database)
            .args(extra_args)
            .output()
            .expect("the producer binary runs")
    }

    pub fn produce_in_background(&self, file: &Path, extra_args: &[&str]) -> Child {
        ensure_test_person(&self.database);
        let mut args = vec!["--person", TEST_PERSON];
        args.extend_from_slice(extra_args);
        self.produce_in_background_as(file, &args)
    }

    /// Starts the producer on a file; `args` names the person (`--person`).
    pub fn produce_in_background_as(&self, file: &Path, extra_args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_producer"))
            .arg("--file")
            .arg(file)
            .args(["--topic", &self.topic, "--brokers", &self.brokers])
            .env("MONGODB_DB", &self.database)
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the producer binary starts")
    }

    /// Writes a generated history file with the sample generator binary.
    pub fn generate(&self, name: &str, rows: u64, seed: u64) -> PathBuf {
        let path = self.scratch_file(name);
        let status = Command::new(env!("CARGO_BIN_EXE_generate-sample"))
            .args([
                "--rows",
                &rows.to_string(),
                "--seed",
                &seed.to_string(),
                "--out",
            ])
            .arg(&path)
            .status()
            .expect("the generator runs");
        assert!(status.success(), "the generator failed");
        path
    }
}

impl Drop for Scenario {
    /// Deletes the test's topics and database, unless the test failed: then
    /// they stay for a look.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        use rdkafka::admin::{AdminClient, AdminOptions};
        use rdkafka::client::DefaultClientContext;
        use rdkafka::config::ClientConfig;

        let dead_letters = format!("{}_dlq", self.topic);
        if let Ok(admin) = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .create::<AdminClient<DefaultClientContext>>()
        {
            let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
            let _ = futures::executor::block_on(
                admin.delete_topics(&[self.topic.as_str(), dead_letters.as_str()], &options),
            );
        }
        let uri =
            std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _ = runtime.block_on(async {
                let client = mongodb::Client::with_uri_str(&uri).await?;
                client.database(&self.database).drop().await
            });
        }
    }
}

/// Runs `work` on a test's database, for tests that look at or change what is stored.
pub fn with_database<F, Fut>(database: &str, work: F)
where
    F: FnOnce(mongodb::Database) -> Fut,
    Fut: std::future::Future<Output = mongodb::error::Result<()>>,
{
    let uri = std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime
        .block_on(async {
            let client = mongodb::Client::with_uri_str(&uri).await?;
            work(client.database(database)).await
        })
        .expect("the database answers");
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    /// The monitoring address: `/metrics` and the detailed `/readyz`.
    pub metrics_url: String,
    /// An API token of the test person ([`TEST_PERSON`]), sent with every request.
    pub token: String,
}

/// The account tests read figures as.
pub const TEST_PERSON: &str = "tester";
/// Its password.
pub const TEST_PASSWORD: &str = "a password for tests";

/// Runs `server accounts …` on a database; `input` goes to its standard input.
pub fn accounts_command(database: &str, args: &[&str], input: &str) -> Output {
    accounts_command_with(database, &[], args, input)
}

/// Runs `server accounts …` with more settings (`KAFKA_TOPIC` for a removal, say).
pub fn accounts_command_with(
    database: &str,
    settings: &[(&str, &str)],
    args: &[&str],
    input: &str,
) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("accounts")
        .args(args)
        .env("MONGODB_DB", database)
        .envs(settings.iter().copied())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary runs");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().expect("the accounts command ends")
}

/// Creates the test person in `database` unless they exist.
pub fn ensure_test_person(database: &str) {
    let added = accounts_command(
        database,
        &["add", TEST_PERSON],
        &format!("{TEST_PASSWORD}\n"),
    );
    let said = String::from_utf8_lossy(&added.stderr);
    assert!(
        added.status.success() || said.contains("is taken"),
        "cannot create the test person: {said}"
    );
}

/// The person id of the account `name` in `database`: what their listens carry.
pub fn person_id(database: &str, name: &str) -> String {
    let found = std::sync::Mutex::new(String::new());
    let found_ref = &found;
    with_database(database, |db| async move {
        let person = db
            .collection::<mongodb::bson::Document>("people")
            .find_one(mongodb::bson::doc! { "_id": name.to_ascii_lowercase() })
            .await?
            .expect("the account exists");
        *found_ref.lock().unwrap() = person.get_str("id").expect("a person id").to_string();
        Ok(())
    });
    found.into_inner().unwrap()
}

/// Creates the test person in `database` if needed; answers a new API token of theirs.
pub fn test_person_token(database: &str) -> String {
    ensure_test_person(database);
    let token = accounts_command(database, &["token", TEST_PERSON], "");
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    String::from_utf8_lossy(&token.stdout).trim().to_string()
}

impl Server {
    pub fn get(&self, path: &str) -> (u16, Value) {
        let response = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status().as_u16();
        let body = response.json().unwrap_or(Value::Null);
        (status, body)
    }

    /// Sends any request; answers the status, the headers and the body as JSON (or null).
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        // As the site's own pages send them: state-changing requests carry its origin.
        let response = http()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("origin", &self.url)
            .body(body)
            .send()
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.json().unwrap_or(Value::Null))
    }

    /// The page at `path` as the browser first receives it, streamed parts included.
    pub fn page(&self, path: &str) -> (u16, String) {
        let response = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let status = response.status().as_u16();
        (status, response.text().unwrap_or_default())
    }

    /// The file at `path`: its status, its headers and its bytes.
    pub fn file(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap_or_else(|error| panic!("GET {path}: {error}"));
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        (
            status,
            headers,
            response.bytes().map(|b| b.to_vec()).unwrap_or_default(),
        )
    }

    /// `GET` on the monitoring address: `/metrics` (as text) or the detailed `/readyz`.
    pub fn monitoring(&self, path: &str) -> (u16, String) {
        let response = http()
            .get(format!("{}{path}", self.metrics_url))
            .send()
            .unwrap_or_else(|error| panic!("GET {path} on the monitoring address: {error}"));
        let status = response.status().as_u16();
        (status, response.text().unwrap_or_default())
    }

    /// A counter of the server's `/metrics` (`name` with its prefix); 0 when absent.
    pub fn counter(&self, name: &str) -> u64 {
        let (status, text) = self.monitoring("/metrics");
        assert_eq!(status, 200, "/metrics: {text}");
        text.lines()
            .find_map(|line| {
                line.strip_prefix(&format!("{name} "))?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0, |value| value as u64)
    }

    /// Opens `path` as a page does a stream it keeps open: the response,
    /// its body unread (the stream stays open until it is dropped).
    pub fn open_stream(&self, path: &str) -> reqwest::blocking::Response {
        reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .expect("an HTTP client")
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    pub fn get_ok<T: DeserializeOwned>(&self, path: &str) -> T {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path} answered {status}: {body}");
        serde_json::from_value(body).unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    pub fn events(&self) -> i64 {
        let (_, summary) = self.get("/api/summary");
        summary["events"].as_i64().unwrap_or(0)
    }

    /// Waits until the summary counts `events` listens; panics past [`CATCH_UP`].
    pub fn wait_for_events(&self, events: i64) {
        let deadline = Instant::now() + CATCH_UP;
        loop {
            let counted = self.events();
            if counted == events {
                return;
            }
            assert!(
                counted <= events,
                "counted {counted} listens, more than the {events} sent"
            );
            assert!(
                Instant::now() < deadline,
                "only {counted} of {events} listens counted after {CATCH_UP:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asks the process to stop (SIGTERM) and waits up to `patience` for it
    /// to exit; answers how long that took, or `None` if it did not.
    pub fn terminate(mut self, patience: Duration) -> Option<(Duration, std::process::ExitStatus)> {
        let asked = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        while asked.elapsed() < patience {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some((asked.elapsed(), status));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the process at once, as a crash would (SIGKILL).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's peak memory (resident), in MiB.
    pub fn rss_mib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|kb| kb.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            })
            .map_or(0, |kb| kb / 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client")
}

/// Counts of one song or artist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Count {
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

#[derive(Debug, Clone, Default)]
pub struct SongCount {
    pub count: Count,
    /// (timestamp, track, artist, album) of the most recent listen.
    pub latest: (String, String, String, String),
}

/// What a file should produce, computed with the csv crate alone.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    pub events: i64,
    pub ms_played: i64,
    pub duplicates: u64,
    pub rejected: u64,
    pub songs: HashMap<String, SongCount>,
    pub artists: HashMap<String, Count>,
    /// Plays and listening time by UTC day (`YYYY-MM-DD`); skips are not counted.
    pub days: BTreeMap<String, Count>,
    /// Plays and listening time by UTC month (`YYYY-MM`) and song; skips are not counted.
    pub song_months: BTreeMap<(String, String), Count>,
    pub last_listen: String,
    /// Every listen counted from a classic file, in the file's order.
    pub listens: Vec<FileListen>,
}

/// One listen of a classic file, as written there (the URI made whole).
#[derive(Debug, Clone)]
pub struct FileListen {
    /// `YYYY-MM-DD HH:MM:SS`, UTC (or on the clocks of [`Expected::in_zone`]).
    pub time: String,
    /// The instant, in milliseconds since the epoch.
    pub at: i64,
    pub uri: String,
    pub track: String,
    pub artist: String,
    pub album: String,
    pub ms_played: i64,
    pub skipped: bool,
    pub reason_end: String,
    pub platform: String,
}

impl Expected {
    /// Reads a classic-format file: rows that cannot be listens are rejected,
    /// exact repeats of a row are counted once.
    pub fn from_csv(path: &Path) -> Self {
        Self::from_csv_between(path, "", "~")
    }

    /// The same of the listens whose time (`YYYY-MM-DD HH:MM:SS`, UTC) is in
    /// `[from, to)`: dates compare as text.
    pub fn from_csv_between(path: &Path, from: &str, to: &str) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .expect("the test file opens");
        let header: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .expect("a classic column")
        };
        let reason_end = column("reason_end");
        let platform = column("platform");
        let (uri, ts, ms, track, artist, album, shuffle, skipped) = (
            column("spotify_track_uri"),
            column("ts"),
            column("ms_played"),
            column("track_name"),
            column("artist_name"),
            column("album_name"),
            column("shuffle"),
            column("skipped"),
        );
        let boolean = |text: &str| {
            let text = text.trim();
            text.is_empty()
                || text.eq_ignore_ascii_case("true")
                || text.eq_ignore_ascii_case("false")
        };
        let mut expected = Expected::default();
        let mut seen = HashSet::new();
        for row in reader.records() {
            let Ok(row) = row else {
                expected.rejected += 1;
                continue;
            };
            let fields: Vec<String> = row.iter().map(str::to_string).collect();
            let ok = fields.len() == header.len()
                && !fields[uri].trim().is_empty()
                && !fields[track].trim().is_empty()
                && !fields[artist].trim().is_empty()
                && NaiveDateTime::parse_from_str(fields[ts].trim(), "%Y-%m-%d %H:%M:%S").is_ok()
                && fields[ms].trim().parse::<i64>().is_ok_and(|ms| ms >= 0)
                && boolean(&fields[shuffle])
                && boolean(&fields[skipped]);
            if !ok {
                expected.rejected += 1;
                continue;
            }
            if !seen.insert(fields.clone()) {
                expected.duplicates += 1;
                continue;
            }
            if !(from..to).contains(&fields[ts].trim()) {
                continue;
            }
            let ms_played: i64 = fields[ms].trim().parse().unwrap_or_default();
            let id = fields[uri].trim();
            let key = if id.contains(':') {
                id.to_string()
            } else {
                format!("spotify:track:{id}")
            };
            let was_skipped = fields[skipped].trim().eq_ignore_ascii_case("true");
            expected.count_listen(
                &key,
                fields[ts].trim(),
                ms_played,
                was_skipped,
                (&fields[track], &fields[artist], &fields[album]),
            );
            let at = NaiveDateTime::parse_from_str(fields[ts].trim(), "%Y-%m-%d %H:%M:%S")
                .map(|at| at.and_utc().timestamp_millis())
                .unwrap_or_default();
            expected.listens.push(FileListen {
                time: fields[ts].trim().to_string(),
                at,
                uri: key,
                track: fields[track].clone(),
                artist: fields[artist].clone(),
                album: fields[album].clone(),
                ms_played,
                skipped: was_skipped,
                reason_end: fields[reason_end].trim().to_string(),
                platform: fields[platform].trim().to_string(),
            });
        }
        expected.finish();
        expected
    }

    /// Counts one listen of the song `key` ending at `time` (`YYYY-MM-DD HH:MM:SS`).
    pub fn count_listen(
        &mut self,
        key: &str,
        time: &str,
        ms_played: i64,
        skipped: bool,
        (track, artist, album): (&str, &str, &str),
    ) {
        let skip = i64::from(skipped);
        self.events += 1;
        self.ms_played += ms_played;
        let song = self.songs.entry(key.to_string()).or_default();
        song.count.plays += 1;
        song.count.ms_played += ms_played;
        song.count.skips += skip;
        let latest = (
            time.to_string(),
            track.to_string(),
            artist.to_string(),
            album.to_string(),
        );
        if latest > song.latest {
            song.latest = latest;
        }
        let artist_count = self.artists.entry(artist.to_string()).or_default();
        artist_count.plays += 1;
        artist_count.ms_played += ms_played;
        artist_count.skips += skip;
        let day = self
            .days
            .entry(time.get(..10).unwrap_or(time).to_string())
            .or_default();
        day.plays += 1;
        day.ms_played += ms_played;
        let month = time.get(..7).unwrap_or(time).to_string();
        let song_month = self
            .song_months
            .entry((month, key.to_string()))
            .or_default();
        song_month.plays += 1;
        song_month.ms_played += ms_played;
        if time > self.last_listen.as_str() {
            self.last_listen = time.to_string();
        }
    }

    /// The same listens as read on the clocks of `zone`: each listen's
    /// time, and the days and months they add up in, are local.
    pub fn in_zone(&self, zone: chrono_tz::Tz) -> Expected {
        let mut local = self.clone();
        local.days.clear();
        local.song_months.clear();
        for listen in &mut local.listens {
            let at = chrono::DateTime::from_timestamp_millis(listen.at).expect("an instant");
            listen.time = at
                .with_timezone(&zone)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            let day = local.days.entry(listen.time[..10].to_string()).or_default();
            day.plays += 1;
            day.ms_played += listen.ms_played;
            let key = (listen.time[..7].to_string(), listen.uri.clone());
            let month = local.song_months.entry(key).or_default();
            month.plays += 1;
            month.ms_played += listen.ms_played;
        }
        local
    }

    /// Writes the last listen as the API does, once every listen is counted.
    pub fn finish(&mut self) {
        // `2013-07-08 02:44:34` as the API writes it: `2013-07-08T02:44:34Z`.
        if !self.last_listen.is_empty() {
            self.last_listen = format!("{}Z", self.last_listen.replace(' ', "T"));
        }
    }

    /// The expected top songs: plays, then time, then track name, then URI.
    pub fn top_songs(&self, limit: usize) -> Vec<Value> {
        let mut songs: Vec<(&String, &SongCount)> = self.songs.iter().collect();
        songs.sort_by(|a, b| {
            b.1.count
                .plays
                .cmp(&a.1.count.plays)
                .then(b.1.count.ms_played.cmp(&a.1.count.ms_played))
                .then_with(|| a.1.latest.1.cmp(&b.1.latest.1))
                .then_with(|| a.0.cmp(b.0))
        });
        songs
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(index, (uri, song))| {
                serde_json::json!({
                    "rank": index + 1,
                    "track_uri": uri,
                    "track_name": song.latest.1,
                    "artist_name": song.latest.2,
                    "album_name": song.latest.3,
                    "plays": song.count.plays,
                    "ms_played": song.count.ms_played,
                    "skips": song.count.skips,
                })
            })
            .collect()
    }

    /// The expected top artists: plays, then time, then name.
    pub fn top_artists(&self, limit: usize) -> Vec<Value> {
        let mut artists: Vec<(&String, &Count)> = self.artists.iter().collect();
        artists.sort_by(|a, b| {
            b.1.plays
                .cmp(&a.1.plays)
                .then(b.1.ms_played.cmp(&a.1.ms_played))
                .then_with(|| a.0.cmp(b.0))
        });
        artists
            .into_iter()
            .take(limit)
            .enumerate()
            .map(|(index, (name, count))| {
                serde_json::json!({
                    "rank": index + 1,
                    "artist_name": name,
                    "plays": count.plays,
                    "ms_played": count.ms_played,
                    "skips": count.skips,
                })
            })
            .collect()
    }

    /// Asserts that all three endpoints show exactly these counts.
    pub fn assert_served_by(&self, server: &Server) {
        let summary: Value = server.get_ok("/api/summary");
        assert_eq!(summary["events"], self.events, "events");
        assert_eq!(summary["ms_played"], self.ms_played, "ms_played");
        assert_eq!(summary["songs"], self.songs.len() as i64, "distinct songs");
        assert_eq!(
            summary["artists"],
            self.artists.len() as i64,
            "distinct artists"
        );
        assert_eq!(
            summary["last_listen"],
            self.last_listen.as_str(),
            "last listen"
        );
        let songs: Vec<Value> = server.get_ok("/api/top-songs?limit=100");
        assert_eq!(songs, self.top_songs(100), "top songs");
        let artists: Vec<Value> = server.get_ok("/api/top-artists?limit=100");
        assert_eq!(artists, self.top_artists(100), "top artists");
        // The same from the rollups by day, which follow the same journal
        // and checkpoints: they may lag the leaderboards by a refresh, and a
        // server still loading them may hold one partition's last batch
        // without another's, so both rankings are read until both agree.
        let mut from_rollups: (Vec<Value>, Vec<Value>) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            from_rollups = (
                server.get_ok("/api/top-songs?preset=all-time&limit=100"),
                server.get_ok("/api/top-artists?preset=all-time&limit=100"),
            );
            if from_rollups.0 == songs && from_rollups.1 == artists {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert_eq!(
            from_rollups.0, songs,
            "top songs of all time from the rollups"
        );
        assert_eq!(
            from_rollups.1, artists,
            "top artists of all time from the rollups"
        );
    }
}

/// Creates an account (password: its name and " password 1"); answers a new API token of theirs.
pub fn new_person(database: &str, name: &str) -> String {
    let added = accounts_command(database, &["add", name], &format!("{name} password 1\n"));
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = accounts_command(database, &["token", name], "");
    String::from_utf8_lossy(&token.stdout).trim().to_string()
}

/// Every song's (by URI) and every artist's figures as stored in MongoDB,
/// all partitions of the topic together: each partition's checkpoint plus
/// its journal, read with the server's own loader.
pub fn stored_totals(scenario: &Scenario) -> (HashMap<String, Count>, HashMap<String, Count>) {
    stored_totals_of(scenario, None)
}

/// The same, of one person only (their id) or of everyone (`None`).
pub fn stored_totals_of(
    scenario: &Scenario,
    person: Option<&str>,
) -> (HashMap<String, Count>, HashMap<String, Count>) {
    let mut songs: HashMap<String, Count> = HashMap::new();
    let mut artists: HashMap<String, Count> = HashMap::new();
    for (owner, aggregates) in each_partition(scenario, |store, partition| async move {
        let figures = store
            .load_partition(partition)
            .await
            .expect("the partition's aggregates load");
        figures.aggregates.people.into_iter().collect::<Vec<_>>()
    }) {
        if person.is_some_and(|person| person != owner.as_str()) {
            continue;
        }
        for (number, song) in aggregates.songs().iter().enumerate() {
            if !song.is_counted() {
                continue;
            }
            let uri = aggregates.catalog().uri(number as u32);
            add_count(songs.entry(uri.to_string()).or_default(), &song.tally);
        }
        for (name, tally) in aggregates.artists() {
            add_count(artists.entry(name.to_string()).or_default(), tally);
        }
    }
    (songs, artists)
}

/// Everyone whose listens some journal entry of the scenario's topic holds.
pub fn journaled_people(scenario: &Scenario) -> HashSet<String> {
    each_partition(scenario, |store, partition| async move {
        let entries = store
            .journal_entries(partition)
            .await
            .expect("the journal reads");
        entries
            .into_iter()
            .flat_map(|entry| entry.delta.people.into_keys().map(|person| person.0))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .collect()
}

/// What `read` finds in each partition of the scenario's topic, read with
/// the server's own store, all together.
fn each_partition<T, F, Fut>(scenario: &Scenario, read: F) -> Vec<T>
where
    F: Fn(server::store::TopicStore, i32) -> Fut,
    Fut: std::future::Future<Output = Vec<T>>,
{
    with_store(scenario, |store| async move {
        let mut found = Vec::new();
        for partition in 0..partitions_of(&scenario.brokers, &scenario.topic) {
            found.extend(read(store.for_topic(&scenario.topic), partition).await);
        }
        store.shutdown().await;
        found
    })
}

/// Runs `work` with the scenario's database, opened as the server opens it.
pub fn with_store<T, F, Fut>(scenario: &Scenario, work: F) -> T
where
    F: FnOnce(server::store::Store) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let settings = server::config::MongoSettings {
        uri: std::env::var("MONGODB_URI").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into()),
        database: scenario.database.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        let store = server::store::Store::connect(&settings)
            .await
            .expect("MongoDB settings");
        work(store).await
    })
}

fn add_count(count: &mut Count, tally: &server::aggregate::Tally) {
    count.plays += i64::from(tally.plays);
    count.ms_played += tally.ms_played;
    count.skips += i64::from(tally.skips);
}

/// How many partitions a topic has, as the brokers say.
pub fn partitions_of(brokers: &str, topic: &str) -> i32 {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("a Kafka client");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("the topic's metadata");
    metadata.topics()[0].partitions().len() as i32
}

impl Expected {
    /// Asserts that every song's and every artist's stored figures equal the
    /// file's counts; answers how many songs and artists were compared.
    pub fn assert_every_total_stored(&self, scenario: &Scenario) -> (usize, usize) {
        self.assert_totals(stored_totals(scenario))
    }

    /// The same for one person's stored figures (their id).
    pub fn assert_every_total_stored_of(
        &self,
        scenario: &Scenario,
        person: &str,
    ) -> (usize, usize) {
        self.assert_totals(stored_totals_of(scenario, Some(person)))
    }

    fn assert_totals(
        &self,
        (songs, artists): (HashMap<String, Count>, HashMap<String, Count>),
    ) -> (usize, usize) {
        let expected_songs: HashMap<String, Count> = self
            .songs
            .iter()
            .map(|(uri, song)| (uri.clone(), song.count.clone()))
            .collect();
        assert_same_counts("song", &songs, &expected_songs);
        assert_same_counts("artist", &artists, &self.artists);
        (songs.len(), artists.len())
    }
}

fn assert_same_counts(
    what: &str,
    stored: &HashMap<String, Count>,
    expected: &HashMap<String, Count>,
) {
    let mut wrong: Vec<String> = expected
        .iter()
        .filter(|(key, count)| stored.get(*key) != Some(count))
        .map(|(key, count)| format!("{key}: stored {:?}, expected {count:?}", stored.get(key)))
        .collect();
    wrong.extend(
        stored
            .keys()
            .filter(|key| !expected.contains_key(*key))
            .map(|key| format!("{key}: stored but not in the file")),
    );
    wrong.sort();
    assert!(
        wrong.is_empty(),
        "{} {what}s differ from the file's counts, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

/// Reads every message of a topic from its beginning: `(value, headers)`.
pub fn read_topic(topic: &str, expected: usize) -> Vec<(Vec<u8>, HashMap<String, String>)> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", format!("{topic}_reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("a Kafka consumer");
    consumer.subscribe(&[topic]).expect("subscribed");
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while messages.len() < expected && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(message)) => {
                let headers = message
                    .headers()
                    .map(|headers| {
                        headers
                            .iter()
                            .map(|h| {
                                (
                                    h.key.to_string(),
                                    String::from_utf8_lossy(h.value.unwrap_or_default())
                                        .into_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                messages.push((message.payload().unwrap_or_default().to_vec(), headers));
            }
            Some(Err(error)) => panic!("reading {topic}: {error}"),
            None => {}
        }
    }
    // Anything beyond what was expected would show up within a moment.
    if let Some(Ok(extra)) = consumer.poll(Duration::from_secs(2)) {
        panic!(
            "unexpected extra message on {topic}: {:?}",
            String::from_utf8_lossy(extra.payload().unwrap_or_default())
        );
    }
    messages
}

/// Sends raw message values to a topic, keyed by the given keys.
pub fn send_raw(topic: &str, messages: &[(&str, &[u8])]) {
    send_raw_records(topic, None, messages);
}

/// Sends raw message values to one partition of a topic, whatever their
/// keys (as a person's listens land after partitions were added).
pub fn send_raw_to_partition(topic: &str, partition: i32, messages: &[(&str, &[u8])]) {
    send_raw_records(topic, Some(partition), messages);
}

fn send_raw_records(topic: &str, partition: Option<i32>, messages: &[(&str, &[u8])]) {
    use rdkafka::config::ClientConfig;
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("a Kafka producer");
    for (key, value) in messages {
        let record = BaseRecord::to(topic).key(*key).payload(*value);
        let record = match partition {
            Some(partition) => record.partition(partition),
            None => record,
        };
        producer
            .send(record)
            .map_err(|(error, _)| error)
            .expect("queued");
    }
    producer.flush(Duration::from_secs(30)).expect("delivered");
}

/// The producer's printed summary line for `label` (e.g. `sent`), as a number.
pub fn summary_figure(output: &Output, label: &str) -> u64 {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(label)?.trim_start();
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no `{label}` line in the producer's summary:\n{stdout}"))
}

/// What a server's upload folder holds besides the file naming the server:
/// uploads waiting or left over.
pub fn uploads_left(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .expect("the upload folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != ".server-id")
        .collect()
}
