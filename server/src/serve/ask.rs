//! Where a person's question is answered. A server holds the partitions
//! its consumer owns; a person's listens are in one partition (keyed by
//! person), so their question is answered here when this server owns it,
//! or by the server that does (found in the [`Directory`], asked over the
//! [`PeerClient`]), the way Kafka Streams' interactive queries route to
//! the instance hosting a key. A partition nobody live owns (its server
//! died, and the group has not moved it yet) is loaded here from its
//! checkpoint and journal and followed, and answered from with a stale
//! flag, so answers stay exact as of the last batch counted.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::merged::{Holder, MergedPeople, PartState};
use super::owners::Directory;
use super::peer::{PeerClient, PeerFigures};
use crate::accounts::PersonId;
use crate::aggregate::Aggregates;
use crate::rollup::held::{Answering, Freshness, Held, HeldPartition, Keeper, RECENT_ANSWER};
use crate::rollup::question::{answer, Asked};
use crate::store::owners::Owner;
use crate::store::{StoreError, TopicStore};

/// Why an answer may not be current, when it came from a partition followed here.
const FOLLOWED: &str = "the server counting these listens is not answering; \
                        figures as of its last batch, until another server takes over";

/// An answer and why it may not be current.
#[derive(Debug)]
pub struct Answered {
    pub answer: Arc<Answering>,
    pub stale: Option<String>,
}

/// Routes questions; cloning shares it.
#[derive(Clone)]
pub struct Asker(Arc<AskerParts>);

struct AskerParts {
    held: Held,
    directory: Directory,
    peers: PeerClient,
    store: TopicStore,
    /// One load of an unowned partition at a time.
    loading: tokio::sync::Mutex<()>,
    /// People split across partitions, their figures added up.
    merged: MergedPeople,
}

/// Where a partition's part of a person's figures is read when merged.
enum Piece {
    Here(Arc<HeldPartition>),
    /// Sent by the partition's owner.
    Fetched(Box<Aggregates>),
    /// The owner holds what was merged last; asked for it if merged again.
    Unchanged(Owner),
}

/// Who answers for one partition.
enum Source {
    /// This server: counted here, or followed here (loaded if need be).
    Here,
    /// The server that owns it.
    There(Owner),
}

impl Asker {
    pub fn new(held: Held, directory: Directory, peers: PeerClient, store: TopicStore) -> Self {
        Self(Arc::new(AskerParts {
            held,
            directory,
            peers,
            store,
            loading: tokio::sync::Mutex::new(()),
            merged: MergedPeople::default(),
        }))
    }

    pub fn held(&self) -> &Held {
        &self.0.held
    }

    /// Answers `question` about `person`, whose figures the leaderboards
    /// place in `partitions` (and any partition held here holding them).
    pub async fn ask(
        &self,
        person: &PersonId,
        partitions: &[i32],
        question: &Asked,
        freshness: Freshness,
    ) -> Result<Answered, StoreError> {
        let mut theirs: BTreeSet<i32> = partitions.iter().copied().collect();
        theirs.extend(self.0.held.holding(person));
        match theirs.len() {
            0 => Ok(Answered {
                answer: Arc::new(answer(&Aggregates::default(), question)),
                stale: None,
            }),
            1 => {
                let partition = theirs.into_iter().next().unwrap_or_default();
                self.ask_one(person, partition, question, freshness).await
            }
            _ => self.ask_across(person, &theirs, question).await,
        }
    }

    async fn ask_one(
        &self,
        person: &PersonId,
        partition: i32,
        question: &Asked,
        freshness: Freshness,
    ) -> Result<Answered, StoreError> {
        if let Source::There(owner) = self.source(partition) {
            match self.0.peers.ask(&owner, person, question, freshness).await {
                Ok(answered) => {
                    return Ok(Answered {
                        answer: Arc::new(answered.answer),
                        stale: answered.stale,
                    })
                }
                Err(error) => {
                    tracing::info!(partition, %error, "asking a partition's owner failed; following it here");
                    self.0.directory.unreachable(&owner);
                }
            }
        }
        let held = self.here(partition).await?;
        let given = held.answer(person, question, freshness).await;
        let stale = if held.keeper == Keeper::Follower {
            Some(FOLLOWED.to_string())
        } else {
            (!given.current).then(|| RECENT_ANSWER.to_string())
        };
        Ok(Answered {
            answer: given.answer,
            stale,
        })
    }

    /// A person's listens in several partitions (the topic's partitions
    /// were added to): their aggregates, from wherever they are, added up,
    /// or the sum kept from the last time when no partition changed since.
    async fn ask_across(
        &self,
        person: &PersonId,
        partitions: &BTreeSet<i32>,
        question: &Asked,
    ) -> Result<Answered, StoreError> {
        loop {
            let mut parts = Vec::with_capacity(partitions.len());
            let mut pieces = Vec::with_capacity(partitions.len());
            let mut stale = None;
            for &partition in partitions {
                let (part, piece) = self.piece(person, partition, &mut stale).await?;
                parts.push(part);
                pieces.push(piece);
            }
            let merged = match self.0.merged.get(person, &parts) {
                Some(kept) => kept,
                None => match self.merge(person, parts, pieces).await {
                    Some(merged) => merged,
                    // An owner stopped answering in between: asked again,
                    // its partition followed here.
                    None => continue,
                },
            };
            return Ok(Answered {
                answer: Arc::new(answer(&merged, question)),
                stale,
            });
        }
    }

    /// The person's figures in `pieces` added up, and kept as made of
    /// `parts` (their versions as merged); `None` when an owner that held
    /// its part unchanged does not send it now.
    async fn merge(
        &self,
        person: &PersonId,
        mut parts: Vec<PartState>,
        pieces: Vec<Piece>,
    ) -> Option<Arc<Aggregates>> {
        let mut merged = Aggregates::default();
        for (part, piece) in parts.iter_mut().zip(pieces) {
            part.version = match piece {
                Piece::Here(held) => {
                    let figures = held.read();
                    let theirs = figures.aggregates.people.get(person);
                    theirs.inspect(|theirs| merged.merge(theirs));
                    theirs.map_or(0, Aggregates::version)
                }
                Piece::Fetched(theirs) => {
                    merged.merge(&theirs);
                    part.version
                }
                Piece::Unchanged(owner) => match self.0.peers.person(&owner, person, None).await {
                    Ok(PeerFigures::Now {
                        version,
                        aggregates,
                    }) => {
                        merged.merge(&aggregates);
                        version
                    }
                    Ok(PeerFigures::Unchanged) | Err(_) => {
                        self.0.directory.unreachable(&owner);
                        return None;
                    }
                },
            };
        }
        let merged = Arc::new(merged);
        self.0.merged.keep(person, parts, Arc::clone(&merged));
        Some(merged)
    }

    /// Which state of the person's figures `partition` holds, and where to
    /// read them if they are to be merged. A partition counted elsewhere
    /// is asked of its owner, who sends the figures only when they changed
    /// since those merged; one whose owner does not answer is followed here
    /// (noted in `stale`).
    async fn piece(
        &self,
        person: &PersonId,
        partition: i32,
        stale: &mut Option<String>,
    ) -> Result<(PartState, Piece), StoreError> {
        if let Source::There(owner) = self.source(partition) {
            let holder = Holder::Peer {
                instance: owner.instance.clone(),
            };
            let known = self.0.merged.version_from(person, partition, &holder);
            match self.0.peers.person(&owner, person, known).await {
                Ok(figures) => {
                    let (version, piece) = match figures {
                        PeerFigures::Now {
                            version,
                            aggregates,
                        } => (version, Piece::Fetched(aggregates)),
                        PeerFigures::Unchanged => {
                            (known.unwrap_or_default(), Piece::Unchanged(owner))
                        }
                    };
                    let part = PartState {
                        partition,
                        holder,
                        version,
                    };
                    return Ok((part, piece));
                }
                Err(error) => {
                    tracing::info!(partition, %error, "asking a partition's owner failed; following it here");
                    self.0.directory.unreachable(&owner);
                }
            }
        }
        let held = self.here(partition).await?;
        if held.keeper == Keeper::Follower {
            *stale = Some(FOLLOWED.to_string());
        }
        let version = (held.read().aggregates.people.get(person)).map_or(0, Aggregates::version);
        let part = PartState {
            partition,
            holder: Holder::Here,
            version,
        };
        Ok((part, Piece::Here(held)))
    }

    fn source(&self, partition: i32) -> Source {
        let counted_here = self
            .0
            .held
            .get(partition)
            .is_some_and(|held| held.keeper == Keeper::Consumer);
        match self.0.directory.owner_elsewhere(partition) {
            Some(owner) if !counted_here => Source::There(owner),
            _ => Source::Here,
        }
    }

    /// The partition as held here: loaded from MongoDB and followed when
    /// nobody here holds it yet.
    async fn here(&self, partition: i32) -> Result<Arc<HeldPartition>, StoreError> {
        if let Some(held) = self.0.held.get(partition) {
            return Ok(held);
        }
        let _one_at_a_time = self.0.loading.lock().await;
        if let Some(held) = self.0.held.get(partition) {
            return Ok(held);
        }
        let loaded = self.0.store.load_consistent(partition).await?;
        let held = HeldPartition::new(Keeper::Follower, loaded);
        self.0.held.insert_followed(partition, held.clone());
        Ok(self.0.held.get(partition).unwrap_or(held))
    }
}
