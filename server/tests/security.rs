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

/// Opens a live stream with `token`; answers the connection and its status line.
fn open_live(server: &common::Server, token: &str) -> (TcpStream, String) {
    let host = address(&server.url);
    let mut stream = TcpStream::connect(&host).unwrap();
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
}

#[test]
fn live_streams_beyond_the_limits_are_refused_until_one_closes() {
    let scenario = Scenario::new("live_cap");
    let server = scenario.server_with(&[
        ("MAX_LIVE_STREAMS", "3"),
        ("MAX_LIVE_STREAMS_PER_PERSON", "2"),
    ]);
    let other = common::new_person(&scenario.database, "other");
    let (first, status) = open_live(&server, &server.token);
    assert_eq!(status, "HTTP/1.1 200");
    let (_second, status) = open_live(&server, &server.token);
    assert_eq!(status, "HTTP/1.1 200");
    let (_third, status) = open_live(&server, &server.token);
    assert_eq!(
        status, "HTTP/1.1 429",
        "one person's third stream is one too many"
    );
    let (_others, status) = open_live(&server, &other);
    assert_eq!(status, "HTTP/1.1 200", "another person still gets one");
    let (_others_second, status) = open_live(&server, &other);
    assert_eq!(status, "HTTP/1.1 503", "the server's three are all open");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_again, status) = open_live(&server, &server.token);
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

/// Fails to sign in as `name` from `forwarded_for` (as a proxy would say).
fn fail_sign_in_via(url: &str, name: &str, forwarded_for: &str) -> u16 {
    browser()
        .post(format!("{url}/sign-in"))
        .header("origin", url)
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("name", name),
            ("password", "not the password"),
            ("next", "/"),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn behind_a_trusted_proxy_each_client_address_is_throttled_apart() {
    let scenario = Scenario::new("proxy");
    let server = scenario.server_with(&[("TRUSTED_PROXY", "127.0.0.1")]);
    // 50 failures from one client, on names that each stay under their own allowance.
    for attempt in 0..50 {
        let name = format!("guess-{}", attempt / 5);
        assert_eq!(fail_sign_in_via(&server.url, &name, "203.0.113.9"), 303);
    }
    assert_eq!(
        fail_sign_in_via(&server.url, "guess-fresh", "203.0.113.9"),
        429
    );
    assert_eq!(
        fail_sign_in_via(&server.url, "guess-fresh", "10.0.0.1, 203.0.113.10"),
        303,
        "another client behind the same proxy is not held back"
    );
    assert_eq!(
        fail_sign_in_via(&server.url, "guess-fresh", "203.0.113.10, 203.0.113.9"),
        429,
        "only the address the proxy appended counts"
    );

    // Without a trusted proxy the header is the client's own word: ignored.
    let scenario = Scenario::new("no_proxy");
    let server = scenario.server();
    for attempt in 0..50 {
        let forged = format!("198.51.100.{attempt}");
        fail_sign_in_via(&server.url, &format!("guess-{}", attempt / 5), &forged);
    }
    assert_eq!(
        fail_sign_in_via(&server.url, "guess-fresh", "198.51.100.200"),
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

/// Calls a server function as the page does: a form-encoded POST from the site's own origin.
fn call(
    client: &reqwest::blocking::Client,
    url: &str,
    function: &str,
    form: &[(&str, &str)],
) -> reqwest::blocking::Response {
    client
        .post(format!("{url}/rpc/{function}"))
        .header("origin", url)
        .form(form)
        .send()
        .unwrap()
}

#[test]
fn a_revoked_token_stops_working_at_once() {
    let scenario = Scenario::new("revoked_token");
    let server = scenario.server();
    let client = browser();
    sign_in(&client, &server.url, TEST_PERSON, TEST_PASSWORD);
    let created = call(
        &client,
        &server.url,
        "account/create_token",
        &[("label", "nightly export")],
    );
    assert_eq!(created.status(), 200);
    let token: String = created.json().unwrap();
    assert!(token.starts_with("sat_"), "{token}");
    let with_token = |token: &str| {
        reqwest::blocking::Client::new()
            .get(format!("{}/api/top-songs", server.url))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(with_token(&token), 200);

    let settings: serde_json::Value = call(&client, &server.url, "account/settings", &[])
        .json()
        .unwrap();
    let listed = settings["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["label"] == "nightly export")
        .expect("the new token is listed")
        .clone();
    assert!(
        !settings.to_string().contains(&token[4..]),
        "the secret is never listed"
    );
    let revoked = call(
        &client,
        &server.url,
        "account/revoke_token",
        &[("id", listed["id"].as_str().unwrap())],
    );
    assert_eq!(revoked.status(), 200);
    assert_eq!(with_token(&token), 401);
}

#[test]
fn a_share_link_shows_the_dashboard_read_only_until_sharing_stops() {
    let scenario = Scenario::new("share_link");
    let server = scenario.server();
    let owner = browser();
    sign_in(&owner, &server.url, TEST_PERSON, TEST_PASSWORD);
    let link: String = call(&owner, &server.url, "account/share", &[])
        .json()
        .unwrap();
    assert!(
        link.starts_with(&format!("{}/share/sal_", server.url)),
        "{link}"
    );

    let guest = browser();
    let opened = guest.get(&link).send().unwrap();
    assert_eq!(opened.status(), 303);
    let read = |path: &str| {
        guest
            .get(format!("{}{path}", server.url))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(read("/api/summary"), 200);
    assert_eq!(read("/"), 200);
    assert_eq!(read("/review/2024"), 200);
    assert_eq!(read("/api/review?period=2024-01"), 200);
    // A link may open a review; it leads nowhere else.
    let lands = |to: &str| {
        let opened = guest.get(format!("{link}?to={to}")).send().unwrap();
        opened.headers()["location"].to_str().unwrap().to_string()
    };
    assert_eq!(lands("/review/2024-01"), "/review/2024-01");
    assert_eq!(lands("/review"), "/review");
    for elsewhere in [
        "https://evil.example/",
        "//evil.example/review/2024",
        "/settings",
        "/review/2024/../../settings",
    ] {
        let to = form_urlencoded::byte_serialize(elsewhere.as_bytes()).collect::<String>();
        assert_eq!(lands(&to), "/", "{elsewhere}");
    }
    // Read-only: no settings, no tokens, no people.
    assert_eq!(read("/settings"), 404);
    assert_eq!(
        call(
            &guest,
            &server.url,
            "account/create_token",
            &[("label", "x")]
        )
        .status(),
        404
    );
    assert_eq!(call(&guest, &server.url, "admin/people", &[]).status(), 404);
    // Nor what the owner left out of their figures, nor leaving anything out.
    assert_eq!(
        call(&guest, &server.url, "account/exclusions", &[]).status(),
        404
    );
    let leave_out = [
        ("action", "exclude"),
        ("kind", "artist"),
        ("artist", "Anyone"),
    ];
    assert_eq!(
        call(&guest, &server.url, "account/clean_up", &leave_out).status(),
        404
    );
    assert_eq!(read("/artists"), 200, "the Artists page only reads");

    assert_eq!(
        call(&owner, &server.url, "account/stop_sharing", &[]).status(),
        200
    );
    assert_eq!(read("/api/summary"), 401);
    assert_eq!(
        guest.get(&link).send().unwrap().headers()["location"],
        "/sign-in?share-ended"
    );
}

#[test]
fn only_administrators_see_people_and_invite_them() {
    let scenario = Scenario::new("admin_only");
    let server = scenario.server();
    let member = browser();
    sign_in(&member, &server.url, TEST_PERSON, TEST_PASSWORD);
    assert_eq!(
        call(&member, &server.url, "admin/people", &[]).status(),
        404
    );
    assert_eq!(
        member
            .get(format!("{}/admin", server.url))
            .send()
            .unwrap()
            .status(),
        404
    );

    let added = common::accounts_command(
        &scenario.database,
        &["add", "boss", "--admin"],
        "boss password 1\n",
    );
    assert!(added.status.success());
    let admin = browser();
    sign_in(&admin, &server.url, "boss", "boss password 1");
    let people: serde_json::Value = call(&admin, &server.url, "admin/people", &[])
        .json()
        .unwrap();
    let names: Vec<&str> = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["boss", TEST_PERSON]);
    let link: String = call(&admin, &server.url, "admin/invite", &[("admin", "false")])
        .json()
        .unwrap();

    // The invitation creates one account and signs it in; a second use fails.
    let token = link.rsplit('/').next().unwrap().to_string();
    let joined = browser()
        .post(format!("{}/invite", server.url))
        .header("origin", &server.url)
        .form(&[
            ("token", token.as_str()),
            ("name", "newcomer"),
            ("password", "newcomer password"),
        ])
        .send()
        .unwrap();
    assert_eq!(joined.status(), 303);
    assert_eq!(location(&joined), "/");
    assert!(session_cookie(&joined).is_some());
    let again = browser()
        .post(format!("{}/invite", server.url))
        .header("origin", &server.url)
        .form(&[
            ("token", token.as_str()),
            ("name", "second"),
            ("password", "second password"),
        ])
        .send()
        .unwrap();
    assert_eq!(location(&again), "/sign-in?link-used");

    // Disabling an account ends its access.
    assert_eq!(
        call(
            &admin,
            &server.url,
            "admin/set_disabled",
            &[("name", TEST_PERSON), ("disabled", "true")]
        )
        .status(),
        200
    );
    assert_eq!(
        member
            .get(format!("{}/api/summary", server.url))
            .send()
            .unwrap()
            .status(),
        401
    );
}

#[test]
fn the_first_start_offers_a_setup_link_that_makes_one_administrator() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let scenario = Scenario::new("setup_link");
    let mut child = scenario
        .server_command(&[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    let (mut url, mut link) = (None, None);
    for line in lines {
        if let Some(found) = line.strip_prefix("listening on ") {
            url = Some(found.to_string());
        }
        if let Some(found) = line.strip_prefix("setup link: ") {
            link = Some(found.to_string());
            break;
        }
    }
    let (url, link) = (url.expect("an address"), link.expect("a setup link"));
    assert!(link.starts_with(&format!("{url}/setup/sau_")), "{link}");
    let page = browser().get(&link).send().unwrap();
    assert_eq!(page.status(), 200, "the setup page is open to anyone");

    let token = link.rsplit('/').next().unwrap().to_string();
    let set_up = |name: &str, password: &str| {
        browser()
            .post(format!("{url}/setup"))
            .header("origin", &url)
            .form(&[
                ("token", token.as_str()),
                ("name", name),
                ("password", password),
            ])
            .send()
            .unwrap()
    };
    // A weak password sends back to the form, and the link still works.
    assert_eq!(
        location(&set_up("first", "short")),
        format!("/setup/{token}?problem=password")
    );
    let made = set_up("first", "the first password");
    assert_eq!(location(&made), "/");
    assert!(session_cookie(&made).is_some());
    assert_eq!(
        location(&set_up("second", "the second password")),
        "/sign-in?set-up-already"
    );
    let listed = common::accounts_command(&scenario.database, &["list"], "");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("first") && listed.contains("admin"),
        "{listed}"
    );
    assert!(!listed.contains("second"), "{listed}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn names_that_are_attacks_are_shown_inert_on_every_page_chart_and_file() {
    let scenario = Scenario::new("hostile_names");
    let attacks = [
        "<script>alert(1)</script>",
        "</svg><svg onload=alert(2)>",
        "\"><img src=x onerror=alert(3)>",
        "Right\u{202E}fdp.exe",
    ];
    let mut csv = String::from(
        "spotify_track_uri,ts,platform,ms_played,track_name,artist_name,album_name,reason_start,reason_end,shuffle,skipped\n",
    );
    for (i, attack) in attacks.iter().enumerate() {
        let quoted = format!("\"{}\"", attack.replace('"', "\"\""));
        for play in 0..3 {
            csv.push_str(&format!(
                "attack{i},2024-01-0{} 10:00:0{play},web player,60000,{quoted},{quoted},{quoted},clickrow,trackdone,FALSE,FALSE\n",
                i + 1
            ));
        }
    }
    let path = scenario.scratch_file("attacks.csv");
    std::fs::write(&path, csv).unwrap();
    let server = scenario.server();
    assert!(scenario.produce(&path, &[]).status.success());
    server.wait_for_events(attacks.len() as i64 * 3);

    let pages = [
        "/".to_string(),
        "/?preset=all-time".to_string(),
        format!(
            "/artists/{}",
            form_urlencoded::byte_serialize(attacks[0].as_bytes()).collect::<String>()
        ),
        "/songs/spotify%3Atrack%3Aattack1".to_string(),
        "/charts/top-songs.svg?preset=all-time".to_string(),
        "/charts/top-artists.svg?preset=all-time".to_string(),
        "/charts/top-albums.svg?preset=all-time".to_string(),
        "/review/2024".to_string(),
        "/review/2024-01".to_string(),
        "/cards/2024/wide.svg".to_string(),
        "/cards/2024/story.svg".to_string(),
    ];
    for page in &pages {
        let (status, body) = server.page(page);
        assert_eq!(status, 200, "{page}");
        // As markup these would run; as text (escaped, or `\u003c` in the
        // page's serialised data) they cannot.
        for live in ["<script>alert", "<svg onload", "<img src=x"] {
            assert!(!body.contains(live), "{page} carries {live:?} as markup");
        }
        assert!(
            !body.contains('\u{202E}'),
            "{page} carries a reordering character"
        );
    }
    // The names are there, escaped: shown as text, never run.
    let (_, dashboard) = server.page("/?preset=all-time");
    assert!(
        dashboard.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name is not shown"
    );
    let (status, headers, _) = server.send(
        reqwest::Method::GET,
        "/charts/top-artists.png?preset=all-time",
        Vec::new(),
    );
    assert_eq!(status, 200, "the chart of hostile names rasterises");
    assert_eq!(headers["content-type"], "image/png");
    let (status, headers, _) =
        server.send(reqwest::Method::GET, "/cards/2024/story.png", Vec::new());
    assert_eq!(status, 200, "the card of hostile names rasterises");
    assert_eq!(headers["content-type"], "image/png");
    // API answers are JSON, never sniffed as a page.
    let (_, headers, songs) = server.send(reqwest::Method::GET, "/api/top-songs", Vec::new());
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        songs.to_string().contains("<script>alert(1)</script>"),
        "the API keeps names as written"
    );
}
