//! A server on a network against clients that do not play fair: idle and
//! slow connections, and more live streams than it allows. Each test prints
//! its figures.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::Scenario;

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
        write!(
            stream,
            "GET /api/live HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
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
