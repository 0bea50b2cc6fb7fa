//! The public router in process with figures held in memory (rollups folded
//! from listens written here, no database): what each person reads, what
//! they may not, and how bad questions are answered.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

use super::auth::{Access, Viewer};
use super::router_tests::router_with;
use crate::accounts::token::{Secret, SecretKind};
use crate::accounts::{PersonId, PersonName, Role};
use crate::aggregate::people::{PartitionDelta, PeopleAggregates, PersonListen};
use crate::event::{test_listen, ListenEvent};
use crate::rollup::held::{Held, HeldPartition, Keeper, PartitionFigures};

/// Two people's listens: Ann's of "Alpha", Bob's of "Beta".
fn listens() -> Vec<PersonListen> {
    let ann = PersonId("ann-id".into());
    let bob = PersonId("bob-id".into());
    let plays = [
        (&ann, "a1", "Alpha", "2024-01-05T10:00:00Z", 200_000, false),
        (&ann, "a1", "Alpha", "2024-02-10T21:30:00Z", 180_000, false),
        (&ann, "a2", "Alpha", "2024-01-06T08:00:00Z", 5_000, true),
        (&ann, "a1", "Alpha", "2024-03-01T12:00:00Z", 30_000, true),
        (&bob, "b1", "Beta", "2024-01-07T09:00:00Z", 150_000, false),
        (&bob, "b1", "Beta", "2024-01-08T09:00:00Z", 150_000, false),
    ];
    plays
        .into_iter()
        .map(|(person, track, artist, ts, ms, skipped)| PersonListen {
            person: person.clone(),
            listen: test_listen(track, artist, ts, ms, skipped),
        })
        .collect()
}

/// Plays, time and skips per song of `person`, computed from the listens.
fn expected_songs(person: &str) -> BTreeMap<String, (i64, i64, i64)> {
    let mut songs = BTreeMap::new();
    for PersonListen { listen, .. } in listens().iter().filter(|l| l.person.0 == person) {
        let ListenEvent {
            track_uri,
            ms_played,
            skipped,
            ..
        } = listen;
        let entry = songs.entry(track_uri.clone()).or_insert((0, 0, 0));
        entry.0 += 1;
        entry.1 += *ms_played as i64;
        entry.2 += i64::from(*skipped);
    }
    songs
}

/// The router with both people's figures, and an API token for each.
async fn router_and_tokens() -> (Router, Secret, Secret) {
    let held = Held::default();
    let delta = PartitionDelta::from_listens(&listens(), &BTreeSet::new());
    let mut aggregates = PeopleAggregates::default();
    aggregates.apply(&delta);
    let figures = PartitionFigures {
        aggregates,
        position: Some(6),
        generation: 1,
    };
    held.insert(0, HeldPartition::new(Keeper::Consumer, figures));
    let (router, auth) = router_with(held).await;
    let mut tokens = Vec::new();
    for (id, name) in [("ann-id", "ann"), ("bob-id", "bob")] {
        let token = Secret::generate(SecretKind::ApiToken);
        let name = PersonName::parse(name).unwrap();
        let viewer = Viewer {
            person: PersonId(id.into()),
            key: name.key(),
            name,
            role: Role::Member,
            access: Access::Owner,
            zone: crate::zone::Zone::UTC,
        };
        auth.remember(&token, viewer);
        tokens.push(token);
    }
    let bob = tokens.pop().unwrap();
    let ann = tokens.pop().unwrap();
    (router, ann, bob)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

async fn ask(router: &Router, token: &Secret, method: Method, path: &str, form: &str) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000")
        .header("origin", "http://127.0.0.1:3000")
        .header("authorization", format!("Bearer {}", token.expose()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = to_bytes(response.into_body(), 4 << 20).await.unwrap();
    Answer {
        status,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(router: &Router, token: &Secret, path: &str) -> Answer {
    ask(router, token, Method::GET, path, "").await
}

#[tokio::test]
async fn each_person_reads_exactly_their_own_figures() {
    let (router, ann, bob) = router_and_tokens().await;
    for (token, person) in [(&ann, "ann-id"), (&bob, "bob-id")] {
        let answer = get(&router, token, "/api/top-songs?preset=all-time&limit=50").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let read: BTreeMap<String, (i64, i64, i64)> = answer
            .json()
            .as_array()
            .expect("a list of songs")
            .iter()
            .map(|song| {
                (
                    song["track_uri"].as_str().unwrap().to_string(),
                    (
                        song["plays"].as_i64().unwrap(),
                        song["ms_played"].as_i64().unwrap(),
                        song["skips"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(read, expected_songs(person), "songs of {person}");
    }
    let artists = get(&router, &ann, "/api/top-artists?preset=all-time").await;
    assert_eq!(artists.json()[0]["artist_name"], "Alpha");
    assert_eq!(artists.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_persons_song_or_artist_is_not_found_like_one_that_never_was() {
    let (router, ann, bob) = router_and_tokens().await;
    let own = get(&router, &bob, "/api/artists/Beta?preset=all-time").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let theirs = get(&router, &ann, "/api/artists/Beta?preset=all-time").await;
    let never = get(&router, &ann, "/api/artists/Gamma?preset=all-time").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        theirs.body.replace("Beta", "Gamma"),
        never.body,
        "the answer must not hint that the artist exists"
    );
    let song = get(&router, &ann, "/api/songs/spotify:track:b1?preset=all-time").await;
    assert_eq!(song.status, StatusCode::NOT_FOUND, "{}", song.body);
    let own_song = get(&router, &bob, "/api/songs/spotify:track:b1?preset=all-time").await;
    assert_eq!(own_song.status, StatusCode::OK, "{}", own_song.body);
}

#[tokio::test]
async fn charts_draw_only_the_persons_own_names() {
    let (router, ann, _) = router_and_tokens().await;
    let chart = get(&router, &ann, "/charts/top-artists.svg?preset=all-time").await;
    assert_eq!(chart.status, StatusCode::OK, "{}", chart.body);
    assert_eq!(chart.content_type, "image/svg+xml");
    assert!(chart.body.contains("Alpha") && !chart.body.contains("Beta"));
}

#[tokio::test]
async fn bad_questions_get_a_json_error_saying_what_is_wrong() {
    let (router, ann, _) = router_and_tokens().await;
    for (path, says) in [
        ("/api/top-songs?preset=all-time&colour=red", "colour"),
        ("/api/top-songs?from=2024-03-01&to=2024-01-01", "before"),
        ("/api/top-songs?preset=next-century", "preset"),
        ("/api/over-time?preset=all-time&by=fortnight", "fortnight"),
        ("/charts/top-songs.svg?from=2024-13-01", "2024-13-01"),
    ] {
        let answer = get(&router, &ann, path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.body
        );
        let error = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(error.contains(says), "{path}: {error}");
    }
}

#[tokio::test]
async fn a_server_function_refuses_a_reversed_range_without_panicking() {
    let (router, ann, _) = router_and_tokens().await;
    let form = "query[from]=2024-03-01&query[to]=2024-01-01&query[metric]=Plays";
    let answer = ask(&router, &ann, Method::POST, "/rpc/range", form).await;
    assert!(answer.body.contains("must be before"), "{}", answer.body);
    assert_ne!(answer.status, StatusCode::OK);
    let form = "query[from]=2024-01-01&query[to]=2024-03-01&query[metric]=Plays";
    let answer = ask(&router, &ann, Method::POST, "/rpc/range", form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Alpha") && !answer.body.contains("Beta"));
}
