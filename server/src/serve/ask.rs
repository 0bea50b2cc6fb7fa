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
use super::peer::{PeerClient, PeerError, PeerFigures};
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

/// Where a partition's part of a person's figures is read when added up.
enum PartFigures {
    Here(Arc<HeldPartition>),
    /// Sent by the partition's owner.
    Fetched(Box<Aggregates>),
    /// The owner still holds the part kept; asked for it if added up anew.
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
                Err(error) => self.owner_failed(&owner, &error),
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
        let mut stale = None;
        let kept = self.0.merged.parts(person);
        // Owners are asked whether their part changed only while every part
        // read so far is as kept: otherwise the sum is made anew whatever
        // they say, and they are asked for their part at once.
        let mut as_kept = kept.is_some();
        let mut parts = Vec::with_capacity(partitions.len());
        let mut figures = Vec::with_capacity(partitions.len());
        for &partition in partitions {
            let known = (kept.as_ref().filter(|_| as_kept))
                .and_then(|kept| kept.iter().find(|part| part.partition == partition))
                .map(|part| (part.holder.clone(), part.version));
            let (part, read) = self.part(person, partition, known, &mut stale).await?;
            as_kept &= kept.as_ref().is_some_and(|kept| kept.contains(&part));
            parts.push(part);
            figures.push(read);
        }
        if let Some(merged) = self.0.merged.get(person, &parts) {
            return Ok(Answered {
                answer: Arc::new(answer(&merged, question)),
                stale,
            });
        }
        let mut merged = Aggregates::default();
        for (part, read) in parts.iter_mut().zip(figures) {
            let read = match read {
                // Its part, unchanged, is wanted after all: sent, or followed here.
                PartFigures::Unchanged(owner) => {
                    let (fetched, read) =
                        self.part(person, owner.partition, None, &mut stale).await?;
                    *part = fetched;
                    read
                }
                read => read,
            };
            match read {
                PartFigures::Here(held) => {
                    let held = held.read();
                    if let Some(theirs) = held.aggregates.people.get(person) {
                        merged.merge(theirs);
                    }
                    part.version = held.aggregates.version_of(person);
                }
                PartFigures::Fetched(theirs) => merged.merge(&theirs),
                // Never so: an owner asked without a version sends its part
                // or fails (`PeerClient::person`), and then it is followed here.
                PartFigures::Unchanged(owner) => {
                    return Err(StoreError::Corrupt(format!(
                        "the owner of partition {} sent no figures",
                        owner.partition
                    )))
                }
            }
        }
        let merged = Arc::new(merged);
        self.0.merged.keep(person, parts, Arc::clone(&merged));
        Ok(Answered {
            answer: Arc::new(answer(&merged, question)),
            stale,
        })
    }

    /// Which state of the person's figures `partition` holds, and where to
    /// read them. A partition counted elsewhere is asked of its owner, who
    /// sends its part unless it is still the version `known` (read from the
    /// same holder); one whose owner does not answer is followed here
    /// (noted in `stale`).
    async fn part(
        &self,
        person: &PersonId,
        partition: i32,
        known: Option<(Holder, u64)>,
        stale: &mut Option<String>,
    ) -> Result<(PartState, PartFigures), StoreError> {
        if let Source::There(owner) = self.source(partition) {
            let holder = Holder::Peer {
                instance: owner.instance.clone(),
            };
            let known = known.and_then(|(from, version)| (from == holder).then_some(version));
            match self.0.peers.person(&owner, person, known).await {
                Ok(figures) => {
                    let (version, read) = match figures {
                        PeerFigures::Now {
                            version,
                            aggregates,
                        } => (version, PartFigures::Fetched(aggregates)),
                        PeerFigures::Unchanged { version } => {
                            (version, PartFigures::Unchanged(owner))
                        }
                    };
                    let part = PartState {
                        partition,
                        holder,
                        version,
                    };
                    return Ok((part, read));
                }
                Err(error) => self.owner_failed(&owner, &error),
            }
        }
        let held = self.here(partition).await?;
        if held.keeper == Keeper::Follower {
            *stale = Some(FOLLOWED.to_string());
        }
        let part = PartState {
            partition,
            holder: Holder::Here,
            version: held.read().aggregates.version_of(person),
        };
        Ok((part, PartFigures::Here(held)))
    }

    /// Notes that a partition's owner did not answer: its partition is
    /// followed here until it registers again.
    fn owner_failed(&self, owner: &Owner, error: &PeerError) {
        let partition = owner.partition;
        tracing::info!(partition, %error, "asking a partition's owner failed; following it here");
        self.0.directory.unreachable(owner);
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
