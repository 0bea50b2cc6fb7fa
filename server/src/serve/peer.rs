//! How servers sharing a topic answer each other about the people of the
//! partitions each owns: an endpoint on `PEER_ADDR` (inside the
//! deployment, never the public address) that answers a person's question
//! from the partition this server's consumer counts, or hands over the
//! person's aggregates when their listens span partitions. Every request
//! carries the deployment's peer key (see [`crate::store::owners`]); one
//! without it is refused before anything is read.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::owners::Instance;
use crate::accounts::PersonId;
use crate::aggregate::Aggregates;
use crate::rollup::held::{Freshness, Held, HeldPartition, Keeper, RECENT_ANSWER};
use crate::rollup::question::{Answer, Asked, Refusal};
use crate::status::PipelineStatus;
use crate::store::owners::Owner;

/// Largest question a peer may send.
const MOST_QUESTION_BYTES: usize = 64 << 10;
/// Longest a peer's answer may take: answers take milliseconds, so one
/// that takes longer is from a server in trouble, and the asker moves on.
const ANSWER_PATIENCE: Duration = Duration::from_secs(3);

/// A person's question, for the partition the asked server is believed to own.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerQuestion {
    pub person: PersonId,
    pub partition: i32,
    /// The run of the server believed to own it: another run (restarted
    /// since) does not answer for it.
    pub instance: String,
    pub question: Option<Asked>,
    #[serde(default)]
    pub freshness: Freshness,
    /// For a person's aggregates: the version the asker holds, which the
    /// owner does not send again (`304 Not Modified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<u64>,
}

/// The header carrying the version of a person's aggregates sent (see
/// [`Aggregates::version`]: a version of the sending server's run).
const VERSION_HEADER: &str = "x-figures-version";

/// A person's aggregates as a peer holds them.
#[derive(Debug)]
pub enum PeerFigures {
    /// Still the version the asker knows.
    Unchanged { version: u64 },
    /// Sent: another version than the asker knows, or none was known.
    Now {
        version: u64,
        aggregates: Box<Aggregates>,
    },
}

/// An owner's answer, and why it may not be current.
#[derive(Debug, Serialize, Deserialize)]
pub struct PeerAnswer {
    pub answer: Result<Answer, Refusal>,
    pub stale: Option<String>,
}

/// The deployment's peer key, once read from MongoDB (until then no peer
/// request is made or answered); cloning shares it.
#[derive(Clone, Default)]
pub struct PeerKey(Arc<OnceLock<PeerSecret>>);

struct PeerSecret {
    text: String,
    hash: [u8; 32],
}

impl PeerKey {
    /// Reads (or makes) the key in the background, retrying until MongoDB answers.
    pub fn fetch(store: crate::store::Store) -> Self {
        let key = Self::default();
        let filled = key.clone();
        tokio::spawn(async move {
            let mut backoff = crate::stream::backoff::Backoff::default();
            loop {
                match store.peer_key().await {
                    Ok(text) => {
                        filled.set(&text);
                        return;
                    }
                    Err(error) => {
                        tracing::debug!(%error, "reading the peer key failed, retrying");
                        tokio::time::sleep(backoff.next_delay()).await;
                    }
                }
            }
        });
        key
    }

    pub fn set(&self, text: &str) {
        let _ = self.0.set(PeerSecret {
            text: text.to_string(),
            hash: Sha256::digest(text.as_bytes()).into(),
        });
    }

    fn text(&self) -> Option<&str> {
        self.0.get().map(|secret| secret.text.as_str())
    }

    /// Whether `presented` is the key. Digests are compared, not keys, so
    /// the time taken tells nothing of the key.
    fn admits(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.0.get().is_some_and(|secret| secret.hash == presented)
    }
}

/// What the peer endpoint needs.
#[derive(Clone)]
pub struct PeerState {
    pub held: Held,
    pub me: Instance,
    pub status: PipelineStatus,
    pub key: PeerKey,
}

/// The peer endpoint's routes.
pub fn routes(state: PeerState) -> Router {
    Router::new()
        .route("/peer/ask", post(ask))
        .route("/peer/person", post(person))
        .layer(DefaultBodyLimit::max(MOST_QUESTION_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            check_key,
        ))
        .with_state(state)
}

/// Refuses a request without the deployment's peer key.
async fn check_key(State(state): State<PeerState>, request: Request, next: Next) -> Response {
    let admitted = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|key| state.key.admits(key));
    if !admitted {
        return (StatusCode::UNAUTHORIZED, "the peer key is missing or wrong").into_response();
    }
    next.run(request).await
}

/// The partition asked about, when this server's consumer counts it;
/// `None` when it does not (any more), or when the question is for another run.
fn owned(state: &PeerState, asked: &PeerQuestion) -> Option<Arc<HeldPartition>> {
    if asked.instance != state.me.id {
        return None;
    }
    state
        .held
        .get(asked.partition)
        .filter(|held| held.keeper == Keeper::Consumer)
}

fn not_the_owner() -> Response {
    (
        StatusCode::CONFLICT,
        "this server does not count that partition (any more)",
    )
        .into_response()
}

async fn ask(State(state): State<PeerState>, Json(asked): Json<PeerQuestion>) -> Response {
    let Some(question) = &asked.question else {
        return (StatusCode::BAD_REQUEST, "no question").into_response();
    };
    let Some(held) = owned(&state, &asked) else {
        return not_the_owner();
    };
    let given = held.answer(&asked.person, question, asked.freshness).await;
    let stale = match given.current {
        true => state.status.problem(),
        false => Some(RECENT_ANSWER.to_string()),
    };
    Json(PeerAnswer {
        answer: (*given.answer).clone(),
        stale,
    })
    .into_response()
}

async fn person(State(state): State<PeerState>, Json(asked): Json<PeerQuestion>) -> Response {
    let Some(held) = owned(&state, &asked) else {
        return not_the_owner();
    };
    let figures = held.read();
    let aggregates = figures.aggregates.people.get(&asked.person);
    let version = figures.aggregates.version_of(&asked.person);
    let version_header = [(VERSION_HEADER, version.to_string())];
    if asked.known == Some(version) {
        return (StatusCode::NOT_MODIFIED, version_header).into_response();
    }
    match crate::store::compact::pack_aggregates(aggregates.unwrap_or(&Aggregates::default())) {
        Ok(bytes) => (version_header, bytes).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

/// Why a peer gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("the server owning the partition did not answer: {0}")]
    Unreachable(String),
    #[error("the server asked does not count that partition (any more)")]
    NotTheOwner,
    /// A server of an earlier version, which reads no `known`.
    #[error("the server asked did not understand the question")]
    NotUnderstood,
}

/// Asks other servers; cloning shares its connections.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    key: PeerKey,
}

impl PeerClient {
    pub fn new(key: PeerKey) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .timeout(ANSWER_PATIENCE)
            .build()
            .unwrap_or_default();
        Self { http, key }
    }

    /// The owner's response, when it answered (`200 OK`, or `304 Not
    /// Modified` to a question with what the asker `known`).
    async fn post(
        &self,
        owner: &Owner,
        path: &str,
        asked: &PeerQuestion,
    ) -> Result<reqwest::Response, PeerError> {
        let key = self
            .key
            .text()
            .ok_or_else(|| PeerError::Unreachable("the peer key is not known yet".into()))?;
        let response = self
            .http
            .post(format!("{}{path}", owner.peer_url))
            .bearer_auth(key)
            .json(asked)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(e.to_string()))?;
        match response.status() {
            StatusCode::OK | StatusCode::NOT_MODIFIED => Ok(response),
            StatusCode::CONFLICT => Err(PeerError::NotTheOwner),
            StatusCode::UNPROCESSABLE_ENTITY => Err(PeerError::NotUnderstood),
            other => Err(PeerError::Unreachable(format!("it answered {other}"))),
        }
    }

    /// `owner`'s answer to a person's question.
    pub async fn ask(
        &self,
        owner: &Owner,
        person: &PersonId,
        question: &Asked,
        freshness: Freshness,
    ) -> Result<PeerAnswer, PeerError> {
        let asked = PeerQuestion {
            person: person.clone(),
            partition: owner.partition,
            instance: owner.instance.clone(),
            question: Some(question.clone()),
            freshness,
            known: None,
        };
        let body = body_of(self.post(owner, "/peer/ask", &asked).await?).await?;
        serde_json::from_slice(&body).map_err(|e| PeerError::Unreachable(e.to_string()))
    }

    /// A person's aggregates in `owner`'s partition, unless still the
    /// version `known`.
    pub async fn person(
        &self,
        owner: &Owner,
        person: &PersonId,
        known: Option<u64>,
    ) -> Result<PeerFigures, PeerError> {
        let asked = PeerQuestion {
            person: person.clone(),
            partition: owner.partition,
            instance: owner.instance.clone(),
            question: None,
            freshness: Freshness::Current,
            known,
        };
        let response = match self.post(owner, "/peer/person", &asked).await {
            // During an upgrade, asked again as servers before `known` are.
            Err(PeerError::NotUnderstood) if known.is_some() => {
                return Box::pin(self.person(owner, person, None)).await;
            }
            response => response?,
        };
        let version = (response.headers().get(VERSION_HEADER))
            .and_then(|value| value.to_str().ok()?.parse().ok())
            .ok_or_else(|| PeerError::Unreachable("its answer carried no version".into()))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return match known {
                Some(known) if known == version => Ok(PeerFigures::Unchanged { version }),
                _ => Err(PeerError::Unreachable(
                    "it answered \"not modified\" to another version".into(),
                )),
            };
        }
        let body = body_of(response).await?;
        let aggregates = crate::store::compact::unpack_aggregates(&body, "a peer's aggregates")
            .map_err(|e| PeerError::Unreachable(e.to_string()))?;
        Ok(PeerFigures::Now {
            version,
            aggregates: Box::new(aggregates),
        })
    }
}

async fn body_of(response: reqwest::Response) -> Result<Bytes, PeerError> {
    response
        .bytes()
        .await
        .map_err(|e| PeerError::Unreachable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::aggregate::people::{PartitionDelta, PeopleAggregates, PersonListen};
    use crate::event::test_listen;
    use crate::rollup::held::PartitionFigures;

    fn listens_of(person: &PersonId, times: &[&str]) -> PartitionDelta {
        let listens: Vec<PersonListen> = (times.iter())
            .map(|at| PersonListen {
                person: person.clone(),
                listen: test_listen("t1", "Artist", at, 100_000, false),
            })
            .collect();
        PartitionDelta::from_listens(&listens, &BTreeSet::new())
    }

    /// A person's aggregates asked of a peer over HTTP: sent with their
    /// version, not sent again while the asker holds that version, sent
    /// again once the owner counted more.
    #[tokio::test]
    async fn a_peer_sends_a_persons_figures_only_when_they_changed() {
        let ann = PersonId("ann".into());
        let mut aggregates = PeopleAggregates::default();
        aggregates.apply(&listens_of(&ann, &["2024-01-05T10:00:00Z"]));
        let held = Held::default();
        let figures = PartitionFigures {
            aggregates,
            position: Some(1),
            generation: 1,
        };
        held.insert(2, HeldPartition::new(Keeper::Consumer, figures));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer_url = format!("http://{}", listener.local_addr().unwrap());
        let me = Instance::new(peer_url.clone());
        let key = PeerKey::default();
        key.set("the deployment's key");
        let state = PeerState {
            held: held.clone(),
            me: me.clone(),
            status: PipelineStatus::default(),
            key: key.clone(),
        };
        tokio::spawn(async move { axum::serve(listener, routes(state)).await });
        let owner = Owner {
            partition: 2,
            instance: me.id.clone(),
            peer_url,
            beat: 1,
        };
        let client = PeerClient::new(key);

        let PeerFigures::Now {
            version,
            aggregates,
        } = client.person(&owner, &ann, None).await.unwrap()
        else {
            panic!("asked without a version, the figures are sent");
        };
        assert_eq!(aggregates.keys(), 1);
        assert!(matches!(
            client.person(&owner, &ann, Some(version)).await.unwrap(),
            PeerFigures::Unchanged { version: v } if v == version
        ));
        assert!(matches!(
            client.person(&owner, &ann, Some(version + 1)).await.unwrap(),
            PeerFigures::Now { version: v, .. } if v == version
        ));

        held.get(2).unwrap().update(|figures| {
            (figures.aggregates).apply(&listens_of(&ann, &["2024-01-06T10:00:00Z"]))
        });
        let PeerFigures::Now {
            version: newer,
            aggregates,
        } = client.person(&owner, &ann, Some(version)).await.unwrap()
        else {
            panic!("counted since: sent again");
        };
        assert_ne!(newer, version);
        assert_eq!(aggregates.keys(), 2);

        let someone_else = PersonId("bob".into());
        assert!(
            matches!(
                client.person(&owner, &someone_else, Some(0)).await.unwrap(),
                PeerFigures::Unchanged { version: 0 }
            ),
            "nobody's figures: version 0"
        );
        let another_run = Owner {
            instance: "another".into(),
            ..owner.clone()
        };
        assert!(matches!(
            client.person(&another_run, &ann, None).await,
            Err(PeerError::NotTheOwner)
        ));
        let wrong_key = PeerKey::default();
        wrong_key.set("a guess");
        assert!(matches!(
            PeerClient::new(wrong_key).person(&owner, &ann, None).await,
            Err(PeerError::Unreachable(_))
        ));
    }
}
