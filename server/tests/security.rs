//! A server on a network against clients that do not play fair: idle and
//! slow connections, more live streams than it allows, requests without a
//! session or from another site, guessed passwords, planted and stale
//! sessions. Each test prints its figures.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Scenario, TEST_PASSWORD, TEST_PERSON};

fn address(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

#[test]
fn a_thousand_idle_connections_do_not_keep_a_request_waiting() {
    let scenario = Scenario::new("idle_connections");
    let server = scenario.server_with(&[("MAX_CONNECTIONS", "1200")]);
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(address(&server.url)).expect("a connection"))
        .collect();
    let started = Instant::now();
    let (status, _) = server.get("/healthz");
    let took = started.elapsed();
    eprintln!(
        "with {} idle connections open, GET /healthz answered in {took:?}",
        idle.len()
    );
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn a_client_too_slow_to_send_its_headers_is_cut_off() {
    let scenario = Scenario::new("slow_headers");
    let server = scenario.server_with(&[("HEADER_READ_TIMEOUT_SECS", "2")]);
    let mut slow = TcpStream::connect(address(&server.url)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // The server closes the connection (perhaps after a 408) instead of waiting forever.
    let _ = slow.read_to_end(&mut answer);
    let took = started.elapsed();
    eprintln!("a client that never finished its headers was cut off after {took:?}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    assert!(
        answer.is_empty() || String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[test]
fn live_streams_beyond_the_limit_are_refused_until_one_closes() {
    let scenario = Scenario::new("live_cap");
    let server = scenario.server_with(&[("MAX_LIVE_STREAMS", "2")]);
    let open = |server: &common::Server| {
        let mut stream = TcpStream::connect(address(&server.url)).unwrap();
        let host = address(&server.url);
        let token = &server.token;
        write!(
            stream,
            "GET /api/live HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Accept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        (stream, String::from_utf8_lossy(&head).into_owned())
    };
    let (first, status) = open(&server);
    assert_eq!(status, "HTTP/1.1 200");
    let (_second, status) = open(&server);
    assert_eq!(status, "HTTP/1.1 200");
    let (_third, status) = open(&server);
    assert_eq!(status, "HTTP/1.1 503", "the third stream is one too many");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_again, status) = open(&server);
        if status == "HTTP/1.1 200" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a closed stream's place is not given back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A client that keeps cookies and does not follow redirects, as a browser's form posts see them.
fn browser() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn sign_in(
    client: &reqwest::blocking::Client,
    url: &str,
    name: &str,
    password: &str,
) -> reqwest::blocking::Response {
    client
        .post(format!("{url}/sign-in"))
        .header("origin", url)
        .form(&[("name", name), ("password", password), ("next", "/")])
        .send()
        .unwrap()
}

fn location(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn session_cookie(response: &reqwest::blocking::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("sa_session=sas_"))
        .map(|value| value.split(';').next().unwrap().to_string())
}

#[test]
fn signing_in_starts_a_new_session_and_signing_out_ends_it() {
    let scenario = Scenario::new("sign_in");
    let server = scenario.server();
    let client = browser();
    // Nobody signed in: pages lead to the sign-in page, the rest is refused.
    let page = client.get(format!("{}/", server.url)).send().unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(location(&page), "/sign-in?next=%2F");
    let api = client
        .get(format!("{}/api/summary", server.url))
        .send()
        .unwrap();
    assert_eq!(api.status(), 401);

    // Session fixation: a session id planted before sign-in is never adopted.
    let planted = format!("sa_session=sas_{}", "ab".repeat(32));
    let signed_in = client
        .post(format!("{}/sign-in", server.url))
        .header("origin", &server.url)
        .header("cookie", &planted)
        .form(&[
            ("name", TEST_PERSON),
            ("password", TEST_PASSWORD),
            ("next", "/artists/x"),
        ])
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), "/artists/x");
    let cookie = session_cookie(&signed_in).expect("a session cookie");
    assert_ne!(cookie, planted);
    let raw = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );

    let summary = client
        .get(format!("{}/api/summary", server.url))
        .send()
        .unwrap();
    assert_eq!(summary.status(), 200);
    let signed_out = client
        .post(format!("{}/sign-out", server.url))
        .header("origin", &server.url)
        .send()
        .unwrap();
    assert_eq!(signed_out.status(), 303);
    // The old cookie, replayed, no longer works.
    let replayed = reqwest::blocking::Client::new()
        .get(format!("{}/api/summary", server.url))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(replayed.status(), 401);
}

#[test]
fn sign_in_attempts_are_throttled_and_unknown_names_answer_like_wrong_passwords() {
    let scenario = Scenario::new("throttle");
    let server = scenario.server();
    let client = browser();
    let timed = |name: &str| {
        let started = Instant::now();
        let response = sign_in(&client, &server.url, name, "not the password");
        (
            response.status().as_u16(),
            location(&response),
            started.elapsed(),
        )
    };
    let wrong = timed(TEST_PERSON);
    let unknown = timed("nobody-by-this-name");
    assert_eq!(
        (wrong.0, &wrong.1),
        (303, &"/sign-in?failed&next=%2F".to_string())
    );
    assert_eq!(
        (unknown.0, &unknown.1),
        (wrong.0, &wrong.1),
        "the same answer"
    );
    eprintln!(
        "a wrong password answered in {:?}, an unknown name in {:?}",
        wrong.2, unknown.2
    );
    let (fast, slow) = if wrong.2 < unknown.2 {
        (wrong.2, unknown.2)
    } else {
        (unknown.2, wrong.2)
    };
    assert!(
        slow < fast * 3 + Duration::from_millis(100),
        "{fast:?} vs {slow:?}"
    );

    let mut attempts = 1;
    let refused = loop {
        attempts += 1;
        let response = sign_in(&client, &server.url, TEST_PERSON, "still not it");
        if response.status() == 429 || attempts > 20 {
            break response;
        }
    };
    eprintln!("sign-in refused with 429 after {attempts} attempts on one name");
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "Retry-After: {retry}");
    // Even the right password waits now.
    assert_eq!(
        sign_in(&client, &server.url, TEST_PERSON, TEST_PASSWORD).status(),
        429
    );
}

#[test]
fn changes_from_another_site_are_refused() {
    let scenario = Scenario::new("cross_origin");
    let server = scenario.server();
    let response = browser()
        .post(format!("{}/sign-in", server.url))
        .header("origin", "https://evil.example")
        .form(&[("name", TEST_PERSON), ("password", TEST_PASSWORD)])
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(session_cookie(&response).is_none());
}

#[test]
fn a_session_idle_past_its_expiry_has_ended() {
    let scenario = Scenario::new("idle_session");
    let server = scenario.server();
    let client = browser();
    let response = sign_in(&client, &server.url, TEST_PERSON, TEST_PASSWORD);
    let cookie = session_cookie(&response).expect("a session cookie");
    let reader = reqwest::blocking::Client::new();
    let summary = |url: &str| {
        reader
            .get(format!("{url}/api/summary"))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(summary(&server.url), 200);
    // Last used 15 days ago, past the default idle expiry of 14 days.
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(15)).timestamp_millis();
    common::with_database(&scenario.database, |db| async move {
        db.collection::<mongodb::bson::Document>("sessions")
            .update_many(
                mongodb::bson::doc! { "person": TEST_PERSON },
                mongodb::bson::doc! { "$set": { "last_used": long_ago } },
            )
            .await
            .map(|_| ())
    });
    // Another server, which has not seen the session yet, looks it up.
    let other = scenario.server();
    assert_eq!(summary(&other.url), 401);
}
