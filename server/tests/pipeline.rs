//! The whole pipeline on the real broker and FerretDB: the sample file is
//! streamed by the producer, folded by the server's consumer, and the JSON API
//! serves exactly the counts computed from the file here.

mod common;

use common::{sample_file, summary_figure, Expected, Scenario};
use serde_json::Value;

#[test]
fn streaming_the_sample_serves_exactly_the_counts_of_the_file() {
    let scenario = Scenario::new("sample");
    let server = scenario.server();
    let expected = Expected::from_csv(&sample_file());
    assert!(
        expected.events > 19_000 && expected.duplicates > 50,
        "the sample is realistic"
    );

    let output = scenario.produce(&sample_file(), &[]);
    assert!(output.status.success(), "producer failed: {output:?}");
    assert_eq!(summary_figure(&output, "read"), 20_000);
    assert_eq!(summary_figure(&output, "sent"), expected.events as u64);
    assert_eq!(summary_figure(&output, "duplicates"), expected.duplicates);
    assert_eq!(summary_figure(&output, "rejected"), 0);

    server.wait_for_events(expected.events);
    expected.assert_served_by(&server);

    let default_songs: Vec<Value> = server.get_ok("/api/top-songs");
    assert_eq!(
        default_songs,
        expected.top_songs(10),
        "limit defaults to 10"
    );
    let three_artists: Vec<Value> = server.get_ok("/api/top-artists?limit=3");
    assert_eq!(three_artists, expected.top_artists(3));

    let (status, metrics) = server.monitoring("/metrics");
    assert_eq!(status, 200);
    assert_eq!(server.page("/metrics").0, 404, "metrics are not public");
    let counted = metrics
        .lines()
        .find_map(|line| line.strip_prefix("spotify_analytics_events_counted_total "))
        .unwrap_or_else(|| panic!("no events counter in:\n{metrics}"));
    assert_eq!(counted.trim().parse::<i64>().ok(), Some(expected.events));
    assert!(
        metrics.contains(r#"http_requests_total{route="/api/summary",status="200"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("spotify_analytics_batch_flush_seconds_count"),
        "{metrics}"
    );
}

#[test]
fn the_api_answers_bad_limits_with_a_json_error() {
    let scenario = Scenario::new("limits");
    let server = scenario.server();
    for path in [
        "/api/top-songs?limit=0",
        "/api/top-songs?limit=101",
        "/api/top-artists?limit=ten",
        "/api/top-artists?limit=-3",
        "/api/top-songs?limit=%FF%FE",
    ] {
        let (status, body) = server.get(path);
        assert_eq!(status, 400, "{path}");
        let error = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {body}"));
        assert!(!error.is_empty(), "{path}");
    }
    let (status, body) = server.get("/api/top-songs?limit=100");
    assert_eq!(
        (status, body),
        (200, Value::Array(vec![])),
        "an empty store ranks nothing"
    );
    let (status, summary) = server.get("/api/summary");
    assert_eq!(status, 200);
    assert_eq!(summary["events"], 0);
    assert!(summary["last_listen"].is_null());
    let (status, page) = server.page("/");
    assert_eq!(status, 200);
    assert!(
        page.contains("No listens counted yet"),
        "no empty state in:\n{page}"
    );
    assert!(!page.contains("Data may be stale"));
}

#[test]
fn health_and_readiness_report_the_services() {
    let scenario = Scenario::new("health");
    let server = scenario.server();
    let (status, body) = server.get("/healthz");
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = server.get("/readyz");
    assert_eq!(
        (status, body),
        (200, serde_json::json!({"status": "ready"}))
    );
    let (status, body) = server.monitoring("/readyz");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kafka"], "ok");
    assert_eq!(body["mongodb"], "ok");

    // A server pointed at a database that does not answer is up but not ready.
    let unreachable = scenario.server_with(&[("MONGODB_URI", "mongodb://127.0.0.1:1")]);
    let (status, _) = unreachable.get("/healthz");
    assert_eq!(status, 200);
    let (status, body) = unreachable.get("/readyz");
    // Publicly only whether it is ready: the reasons name hosts.
    assert_eq!(
        (status, body),
        (503, serde_json::json!({"status": "unavailable"}))
    );
    let (status, body) = unreachable.monitoring("/readyz");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["kafka"], "ok");
    assert!(
        body["mongodb"]
            .as_str()
            .is_some_and(|reason| reason != "ok"),
        "{body}"
    );
    let (status, body) = unreachable.get("/api/summary");
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().is_some());
    // Nobody can be signed in while the accounts cannot be read.
    let (status, page) = unreachable.page("/");
    assert_eq!(status, 503, "{page}");
    // What people see says what is wrong, never where the database is.
    for public in [body.to_string(), page] {
        assert!(!public.contains("mongodb://"), "{public}");
        assert!(!public.contains("127.0.0.1:1"), "{public}");
    }
}

#[test]
fn hostile_requests_get_a_json_client_error_and_every_response_security_headers() {
    let scenario = Scenario::new("hostile");
    let server = scenario.server();
    let long_query = format!("/api/top-songs?limit=1&pad={}", "x".repeat(10_000));
    let cases: Vec<(reqwest::Method, String, Vec<u8>, u16)> = vec![
        (reqwest::Method::GET, long_query, vec![], 414),
        (
            reqwest::Method::GET,
            "/api/top-songs?limit=1%27%3B%20DROP%20TABLE".into(),
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/top-songs?limit=1e309".into(),
            vec![],
            400,
        ),
        (
            reqwest::Method::GET,
            "/api/top-songs/extra".into(),
            vec![],
            404,
        ),
        (
            reqwest::Method::GET,
            "/api/no-such-endpoint".into(),
            vec![],
            404,
        ),
        (
            reqwest::Method::POST,
            "/api/top-songs".into(),
            b"{}".to_vec(),
            405,
        ),
        (reqwest::Method::DELETE, "/api/summary".into(), vec![], 405),
        (
            reqwest::Method::POST,
            "/rpc/dashboard".into(),
            // Just over the 64 KiB limit: small enough for the socket to take it
            // whole, so the server's early 413 cannot reset the request mid-send.
            vec![b'a'; (64 << 10) + 1024],
            413,
        ),
        (
            reqwest::Method::POST,
            "/rpc/dashboard".into(),
            b"rows=%ff%fe&limit=-1".to_vec(),
            400,
        ),
    ];
    for (method, path, body, expected) in cases {
        let shown = format!("{method} {}", &path[..path.len().min(60)]);
        let (status, headers, json) = server.send(method, &path, body);
        assert_eq!(status, expected, "{shown}: {json}");
        if !path.starts_with("/rpc/") || expected == 413 {
            assert!(
                json["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{shown}: {json}"
            );
        }
        assert_eq!(headers["x-content-type-options"], "nosniff", "{shown}");
    }
    for path in [
        "/",
        "/api/summary",
        "/healthz",
        "/pkg/spotify-analytics.css",
    ] {
        let (_, headers, _) = server.send(reqwest::Method::GET, path, vec![]);
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers.contains_key("content-security-policy"), "{path}");
    }
}
