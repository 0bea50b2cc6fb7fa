//! The partitions this server holds: one state per partition, counted
//! into by whoever keeps it current (this server's consumer for the
//! partitions it owns; the follower of the journal for the others) and
//! read by every request. There is no second copy: the consumer folds each
//! batch into the state requests read, under a write lock held only as
//! long as the fold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt, Shared};

use super::question::{answer, Answer, Asked, Refusal};
use super::refresh::REFRESHER;
use crate::accounts::PersonId;
use crate::aggregate::people::PeopleAggregates;
use crate::aggregate::Aggregates;

/// What is known of a partition: everyone's aggregates, and how far they count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionFigures {
    pub aggregates: PeopleAggregates,
    /// One past the last offset counted; `None` while nothing is.
    pub position: Option<i64>,
    /// Generation of the checkpoint they were loaded from, or written as.
    pub generation: i64,
}

impl PartitionFigures {
    /// Notes the checkpoint generation the figures are at now; at a new
    /// one, the all-time figures nobody read since the last are let go
    /// (see [`Aggregates::rest`]).
    pub fn checkpointed(&mut self, generation: i64) {
        if generation != self.generation {
            self.aggregates
                .people
                .values_mut()
                .for_each(Aggregates::rest);
        }
        self.generation = generation;
    }
}

/// Who keeps a held partition current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeper {
    /// This server's consumer owns it and counts into it.
    Consumer,
    /// Owned elsewhere (or by nobody yet): followed along its journal.
    Follower,
}

/// One partition held here.
#[derive(Debug)]
pub struct HeldPartition {
    pub keeper: Keeper,
    figures: RwLock<PartitionFigures>,
    /// Each person's aggregates version as of the last change, readable
    /// without waiting for the figures' lock (which a fold holds).
    versions: Mutex<HashMap<PersonId, u64>>,
    /// Answers given, with the version of the person's aggregates they
    /// were computed from: the same question is computed once per change
    /// of their figures, however often it is asked.
    answers: Mutex<KeptAnswers>,
    /// Answers being computed, by whose and what question: asked again
    /// meanwhile, they are waited for, not computed twice.
    computing: Mutex<Flights>,
}

/// Answers being computed, by whose and what question, and whether they
/// are to be kept ([`Freshness::Current`]) or not ([`Freshness::Ahead`]).
type Flights = HashMap<(PersonId, Asked, Freshness), Arc<Flight>>;

/// An answer being computed, from the figures of one version of the
/// person's aggregates or newer.
struct Flight {
    version: u64,
    answer: Shared<BoxFuture<'static, Arc<Answering>>>,
}

impl std::fmt::Debug for Flight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flight")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// An answer kept: what it was computed from, and when.
#[derive(Debug)]
struct Kept {
    version: u64,
    answer: Arc<Answering>,
    computed: Instant,
    /// Whether it is being computed again for newer figures.
    refreshing: bool,
}

/// Answers by whose and what question.
type KeptAnswers = HashMap<(PersonId, Asked), Kept>;

/// An answer, or why there is none.
pub type Answering = Result<Answer, Refusal>;

/// Answers kept per partition; past this many they are all dropped
/// (a crude bound, enough for what people keep asking).
const ANSWERS_KEPT: usize = 512;

/// How old an answer may be and still be given while the newer one is
/// computed: while listens stream in, figures change every batch, and
/// without it every other request waited for a computation.
pub const MOST_STALE_ANSWER: Duration = Duration::from_secs(1);

/// How often an answer asked for as [`Freshness::Recent`] is computed again
/// while the figures change.
const RECENT_REFRESH: Duration = Duration::from_millis(250);

/// How current an answer must be.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Freshness {
    /// From the person's figures as they are now: a page showing the
    /// figures just pushed to it asks so.
    #[default]
    Current,
    /// From their figures of at most [`MOST_STALE_ANSWER`] ago while the
    /// current answer is computed: clients asking again and again (the
    /// JSON API) are answered at once, and told so.
    Recent,
    /// From their current figures, not kept among the answers: worked out
    /// ahead of a visit, what the figures keep themselves (a person's
    /// reviews), where it does not crowd out the answers people asked for.
    Ahead,
}

/// What an answer not from the current figures says of itself (as `X-Data-Stale`).
pub const RECENT_ANSWER: &str =
    "figures of less than a second ago; the current ones are being added up";

/// An answer given, and whether it is from the person's current figures.
#[derive(Debug, Clone)]
pub struct Given {
    pub answer: Arc<Answering>,
    pub current: bool,
}

/// What is kept of the answer to a question.
enum Lookup {
    /// Computed from the person's current figures.
    Current(Arc<Answering>),
    /// Computed within [`MOST_STALE_ANSWER`] from earlier figures; `refresh`
    /// is true for the one caller who is to compute the current one.
    Previous {
        answer: Arc<Answering>,
        refresh: bool,
    },
    /// To be computed from the figures of this version (or newer).
    Missing(u64),
}

impl HeldPartition {
    pub fn new(keeper: Keeper, figures: PartitionFigures) -> Arc<Self> {
        let held = Self {
            keeper,
            figures: RwLock::new(figures),
            versions: Mutex::new(HashMap::new()),
            answers: Mutex::new(HashMap::new()),
            computing: Mutex::new(HashMap::new()),
        };
        held.note_versions(&held.read());
        Arc::new(held)
    }

    /// Answers `question` about `person`'s listens here: as computed
    /// before if their figures have not changed since; while they change,
    /// for [`Freshness::Recent`], the answer of at most
    /// [`MOST_STALE_ANSWER`] ago as the current one is computed; otherwise
    /// computed now. Computing (milliseconds) is done off the threads
    /// serving requests; computing again in the background, by the
    /// [`REFRESHER`].
    pub async fn answer(
        self: &Arc<Self>,
        person: &PersonId,
        question: &Asked,
        freshness: Freshness,
    ) -> Given {
        match self.lookup(person, question, freshness) {
            Lookup::Current(answer) => Given {
                answer,
                current: true,
            },
            Lookup::Previous { answer, refresh } => {
                if refresh {
                    self.refresh(person, question);
                }
                Given {
                    answer,
                    current: false,
                }
            }
            Lookup::Missing(version) => Given {
                answer: self.work_out(person, question, freshness, version).await,
                current: true,
            },
        }
    }

    /// Computes the answer off the threads serving requests; a request for
    /// the same answer arriving meanwhile (as of the same figures) waits
    /// for this computation rather than starting its own. The computation
    /// runs to its end even if every request waiting for it is gone.
    async fn work_out(
        self: &Arc<Self>,
        person: &PersonId,
        question: &Asked,
        freshness: Freshness,
        version: u64,
    ) -> Arc<Answering> {
        // Asked ahead, an answer is not kept: it is computed apart.
        let kept = if freshness == Freshness::Ahead {
            Freshness::Ahead
        } else {
            Freshness::Current
        };
        let key = (person.clone(), question.clone(), kept);
        let flight = {
            let mut computing = locked(&self.computing);
            if computing.len() >= ANSWERS_KEPT {
                // Those nobody waits for any more.
                computing.retain(|_, flight| Arc::strong_count(flight) > 1);
            }
            match computing.get(&key) {
                Some(flight) if flight.version == version => flight.clone(),
                _ => {
                    let (held, person, question) = (self.clone(), person.clone(), question.clone());
                    let computed = tokio::task::spawn_blocking(move || {
                        held.compute(&person, &question, freshness)
                    });
                    let flight = Arc::new(Flight {
                        version,
                        answer: computed
                            .map(|computed| {
                                computed.unwrap_or_else(|error| {
                                    Arc::new(Err(Refusal::Unanswered(error.to_string())))
                                })
                            })
                            .boxed()
                            .shared(),
                    });
                    computing.insert(key.clone(), flight.clone());
                    flight
                }
            }
        };
        let answer = flight.answer.clone().await;
        let mut computing = locked(&self.computing);
        if computing
            .get(&key)
            .is_some_and(|landed| Arc::ptr_eq(landed, &flight))
        {
            computing.remove(&key);
        }
        answer
    }

    /// Computes the answer again in the background (see [`REFRESHER`]),
    /// unless it was computed from the current figures meanwhile.
    fn refresh(self: &Arc<Self>, person: &PersonId, question: &Asked) {
        let (held, person, question) = (self.clone(), person.clone(), question.clone());
        REFRESHER.refresh(move || {
            let version = held.version_of(&person);
            let current = held
                .kept()
                .get(&(person.clone(), question.clone()))
                .is_some_and(|known| known.version == version);
            if !current {
                held.compute(&person, &question, Freshness::Recent);
            }
        });
    }

    fn lookup(&self, person: &PersonId, question: &Asked, freshness: Freshness) -> Lookup {
        let version = self.version_of(person);
        let mut kept = self.kept();
        let Some(known) = kept.get_mut(&(person.clone(), question.clone())) else {
            return Lookup::Missing(version);
        };
        if known.version == version {
            return Lookup::Current(known.answer.clone());
        }
        if freshness != Freshness::Recent || known.computed.elapsed() > MOST_STALE_ANSWER {
            return Lookup::Missing(version);
        }
        // Computed again at most every [`RECENT_REFRESH`]: while listens
        // stream in, figures change with every batch.
        let refresh = !known.refreshing && known.computed.elapsed() >= RECENT_REFRESH;
        known.refreshing |= refresh;
        Lookup::Previous {
            answer: known.answer.clone(),
            refresh,
        }
    }

    /// Computes the answer from the current figures, and keeps it (unless
    /// asked [`Freshness::Ahead`]).
    fn compute(&self, person: &PersonId, question: &Asked, freshness: Freshness) -> Arc<Answering> {
        let figures = self.read();
        let aggregates = figures.aggregates.people.get(person).unwrap_or(&NOBODY);
        let version = aggregates.version();
        let answer = Arc::new(answer(aggregates, question));
        drop(figures);
        if freshness == Freshness::Ahead {
            return answer;
        }
        let mut kept = self.kept();
        if kept.len() >= ANSWERS_KEPT {
            kept.clear();
        }
        kept.insert(
            (person.clone(), question.clone()),
            Kept {
                version,
                answer: answer.clone(),
                computed: Instant::now(),
                refreshing: false,
            },
        );
        answer
    }

    /// Whether the partition holds figures of `person`.
    pub fn holds(&self, person: &PersonId) -> bool {
        locked(&self.versions).contains_key(person)
    }

    fn version_of(&self, person: &PersonId) -> u64 {
        locked(&self.versions)
            .get(person)
            .copied()
            .unwrap_or_default()
    }

    fn note_versions(&self, figures: &PartitionFigures) {
        let versions = figures
            .aggregates
            .people
            .iter()
            .map(|(person, aggregates)| (person.clone(), aggregates.version()))
            .collect();
        *locked(&self.versions) = versions;
    }

    fn kept(&self) -> MutexGuard<'_, KeptAnswers> {
        locked(&self.answers)
    }

    pub fn read(&self) -> RwLockReadGuard<'_, PartitionFigures> {
        self.figures
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Changes the figures (the lock held only as long as `change`), then
    /// notes each person's new version.
    pub fn update<T>(&self, change: impl FnOnce(&mut PartitionFigures) -> T) -> T {
        let mut figures = self
            .figures
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed = change(&mut figures);
        self.note_versions(&figures);
        changed
    }
}

/// `mutex` locked, whether or not a thread panicked holding it: what it
/// guards is replaced whole, never left half changed.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The aggregates of someone with no listens.
static NOBODY: LazyLock<Aggregates> = LazyLock::new(Aggregates::default);

/// The partitions held here, by number; cloning shares them.
#[derive(Clone, Default)]
pub struct Held(Arc<HeldState>);

#[derive(Default)]
struct HeldState {
    partitions: RwLock<BTreeMap<i32, Arc<HeldPartition>>>,
    /// Partitions this server's consumer was assigned and loads itself:
    /// the follower leaves them alone.
    claimed: Mutex<BTreeSet<i32>>,
    /// Whether the consumer's group assigned it partitions yet (perhaps none).
    assignment_known: AtomicBool,
    /// Rings when a partition is held or released.
    changed: tokio::sync::Notify,
}

impl Held {
    fn partitions(&self) -> RwLockReadGuard<'_, BTreeMap<i32, Arc<HeldPartition>>> {
        self.0
            .partitions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn partitions_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<i32, Arc<HeldPartition>>> {
        self.0
            .partitions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn claims(&self) -> MutexGuard<'_, BTreeSet<i32>> {
        locked(&self.0.claimed)
    }

    /// The consumer was assigned `partition` and loads it.
    pub fn claim(&self, partition: i32) {
        self.claims().insert(partition);
        self.note_assignment();
    }

    /// The consumer no longer owns `partition`: its state goes (if it is
    /// still `held`), and the follower may follow the partition again.
    pub fn release(&self, partition: i32, held: Option<&Arc<HeldPartition>>) {
        if let Some(held) = held {
            self.remove(partition, held);
        }
        self.claims().remove(&partition);
    }

    pub fn is_claimed(&self, partition: i32) -> bool {
        self.claims().contains(&partition)
    }

    /// The consumer's group assigned it partitions (perhaps none).
    pub fn note_assignment(&self) {
        self.0.assignment_known.store(true, Ordering::Relaxed);
    }

    pub fn assignment_known(&self) -> bool {
        self.0.assignment_known.load(Ordering::Relaxed)
    }

    /// Holds a partition the follower loaded, unless the consumer claimed
    /// or holds it meanwhile; whether it is now held.
    pub fn insert_followed(&self, partition: i32, held: Arc<HeldPartition>) -> bool {
        let claims = self.claims();
        let mut partitions = self.partitions_mut();
        let taken = claims.contains(&partition)
            || partitions
                .get(&partition)
                .is_some_and(|current| current.keeper == Keeper::Consumer);
        if !taken {
            partitions.insert(partition, held);
        }
        !taken
    }

    pub fn get(&self, partition: i32) -> Option<Arc<HeldPartition>> {
        self.partitions().get(&partition).cloned()
    }

    /// Holds `held` as the partition's state, replacing what was held.
    pub fn insert(&self, partition: i32, held: Arc<HeldPartition>) {
        self.partitions_mut().insert(partition, held);
        self.0.changed.notify_one();
    }

    /// Resolves when a partition was held or released since the last time.
    pub async fn changed(&self) {
        self.0.changed.notified().await;
    }

    /// Stops holding the partition, if `held` is still what is held of it.
    pub fn remove(&self, partition: i32, held: &Arc<HeldPartition>) {
        let mut partitions = self.partitions_mut();
        if partitions
            .get(&partition)
            .is_some_and(|current| Arc::ptr_eq(current, held))
        {
            partitions.remove(&partition);
            self.0.changed.notify_one();
        }
    }

    /// The partitions held here that hold figures of `person` (asked
    /// without waiting for any partition's figures).
    pub fn holding(&self, person: &PersonId) -> Vec<i32> {
        self.partitions()
            .iter()
            .filter(|(_, held)| held.holds(person))
            .map(|(partition, _)| *partition)
            .collect()
    }

    /// Listens held of the partitions counted here, and of those followed here.
    pub fn listens(&self) -> (i64, i64) {
        let mut held = (0, 0);
        for partition in self.partitions().values() {
            let listens = partition.read().aggregates.events();
            match partition.keeper {
                Keeper::Consumer => held.0 += listens,
                Keeper::Follower => held.1 += listens,
            }
        }
        held
    }

    /// The partitions held, and who keeps each.
    pub fn keepers(&self) -> BTreeMap<i32, Keeper> {
        self.partitions()
            .iter()
            .map(|(partition, held)| (*partition, held.keeper))
            .collect()
    }

    /// Runs `question` on a person's aggregates: their own listens, nobody
    /// else's. Listens are keyed by person, so one partition holds them;
    /// should several (partitions added to the topic later), they are
    /// added up first.
    pub fn ask<T>(&self, person: &PersonId, question: impl FnOnce(&Aggregates) -> T) -> T {
        let partitions: Vec<Arc<HeldPartition>> = self.partitions().values().cloned().collect();
        let guards: Vec<RwLockReadGuard<'_, PartitionFigures>> =
            partitions.iter().map(|held| held.read()).collect();
        let mut theirs = guards
            .iter()
            .filter_map(|figures| figures.aggregates.people.get(person));
        match (theirs.next(), theirs.next()) {
            (None, _) => question(&NOBODY),
            (Some(only), None) => question(only),
            (Some(first), Some(second)) => {
                let mut merged = first.clone();
                merged.merge(second);
                for more in theirs {
                    merged.merge(more);
                }
                question(&merged)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::people::{PartitionDelta, PersonListen};
    use crate::event::test_listen;
    use app::range::{DateRange, Metric};

    fn figures(people: &[(&str, &str)]) -> PartitionFigures {
        let listens: Vec<PersonListen> = people
            .iter()
            .map(|(person, song)| PersonListen {
                person: PersonId(person.to_string()),
                listen: test_listen(song, "Artist", "2024-03-01T10:00:00Z", 1000, false),
            })
            .collect();
        let mut aggregates = PeopleAggregates::default();
        aggregates.apply(&PartitionDelta::from_listens(&listens, &Default::default()));
        PartitionFigures {
            aggregates,
            position: Some(listens.len() as i64),
            generation: 0,
        }
    }

    use super::super::question::Question;
    use crate::zone::Zone;

    #[test]
    fn a_new_checkpoint_generation_lets_go_of_all_time_figures_nobody_read_since_the_last() {
        let mut partition = figures(&[("ann", "a"), ("bob", "b")]);
        let keeps = |partition: &PartitionFigures, person: &str| {
            partition.aggregates.people[&PersonId(person.into())].keeps_all_time()
        };
        for person in ["ann", "bob"] {
            partition.aggregates.people[&PersonId(person.into())].songs();
        }
        partition.checkpointed(1);
        assert!(
            keeps(&partition, "ann") && keeps(&partition, "bob"),
            "read since"
        );
        partition.aggregates.people[&PersonId("ann".into())].songs();
        partition.checkpointed(1);
        partition.checkpointed(1);
        assert!(
            keeps(&partition, "bob"),
            "the same generation again lets nothing go"
        );
        partition.checkpointed(2);
        assert!(keeps(&partition, "ann") && !keeps(&partition, "bob"));
        assert_eq!(partition.generation, 2);
    }

    fn plays_of(held: &Held, person: &str) -> Vec<(String, i64)> {
        held.ask(&PersonId(person.into()), |aggregates| {
            aggregates
                .top_songs_in(DateRange::ALL_TIME, Zone::UTC, Metric::Plays, 10)
                .into_iter()
                .map(|song| (song.track_name, song.plays))
                .collect()
        })
    }

    #[test]
    fn a_person_sees_only_their_own_listens_from_any_partition() {
        let held = Held::default();
        held.insert(
            0,
            HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a"), ("bob", "b")])),
        );
        assert_eq!(plays_of(&held, "ann"), vec![("Song a".into(), 1)]);
        assert_eq!(plays_of(&held, "bob"), vec![("Song b".into(), 1)]);
        assert!(plays_of(&held, "eve").is_empty());
        // Should a person's listens be in two partitions, they add up.
        held.insert(
            3,
            HeldPartition::new(Keeper::Follower, figures(&[("ann", "a"), ("ann", "c")])),
        );
        assert_eq!(
            plays_of(&held, "ann"),
            vec![("Song a".into(), 2), ("Song c".into(), 1)]
        );
        assert_eq!(
            held.keepers(),
            BTreeMap::from([(0, Keeper::Consumer), (3, Keeper::Follower)])
        );
    }

    fn songs_in(answer: &Arc<Answering>) -> usize {
        match &**answer {
            Ok(super::super::question::Answer::Songs(songs)) => songs.len(),
            other => panic!("songs expected: {other:?}"),
        }
    }

    fn top_songs() -> Asked {
        Question::TopSongs {
            query: Default::default(),
            limit: app::model::Limit::DEFAULT,
        }
        .in_zone(Zone::UTC)
    }

    fn one_more_listen_of_ann() -> PartitionDelta {
        let mut delta = PartitionDelta::default();
        delta.add(
            &PersonId("ann".into()),
            &test_listen("c", "Artist", "2024-03-02T10:00:00Z", 1, false),
        );
        delta
    }

    #[tokio::test]
    async fn an_answer_is_computed_once_per_change_of_the_figures() {
        use Freshness::Recent;
        let held = HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a"), ("bob", "b")]));
        let (ann, bob, question) = (PersonId("ann".into()), PersonId("bob".into()), top_songs());
        let first = held.answer(&ann, &question, Recent).await;
        assert!(first.current);
        let again = held.answer(&ann, &question, Recent).await;
        assert!(Arc::ptr_eq(&first.answer, &again.answer), "kept");
        let of_bob = held.answer(&bob, &question, Recent).await;
        held.update(|figures| figures.aggregates.apply(&one_more_listen_of_ann()));
        // Just after a change: the answer of a moment ago, said to be so,
        // while the new one is computed…
        let previous = held.answer(&ann, &question, Recent).await;
        assert_eq!(songs_in(&previous.answer), 1);
        assert!(!previous.current);
        let mut latest = previous;
        // Refreshed in the background after RECENT_REFRESH, well before
        // MOST_STALE_ANSWER, past which a request would compute it itself.
        for _ in 0..140 {
            latest = held.answer(&ann, &question, Recent).await;
            if latest.current {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // …then that of the figures as they are.
        assert!(latest.current, "computed again once Ann's figures changed");
        assert_eq!(songs_in(&latest.answer), 2);
        let of_bob_again = held.answer(&bob, &question, Recent).await;
        assert!(
            Arc::ptr_eq(&of_bob.answer, &of_bob_again.answer) && of_bob_again.current,
            "Bob's did not change"
        );
    }

    #[tokio::test]
    async fn a_question_asked_again_while_it_is_computed_is_computed_once() {
        let held = HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a")]));
        let (ann, question) = (PersonId("ann".into()), top_songs());
        let (first, second) = tokio::join!(
            held.answer(&ann, &question, Freshness::Current),
            held.answer(&ann, &question, Freshness::Current),
        );
        assert!(first.current && second.current);
        assert!(
            Arc::ptr_eq(&first.answer, &second.answer),
            "one computation"
        );
        assert!(locked(&held.computing).is_empty(), "nothing left in flight");
        // One of the figures before a change is not waited for after it.
        let older = Arc::new(Flight {
            version: held.version_of(&ann),
            answer: futures::future::ready(first.answer.clone())
                .boxed()
                .shared(),
        });
        locked(&held.computing).insert((ann.clone(), question.clone(), Freshness::Current), older);
        held.update(|figures| figures.aggregates.apply(&one_more_listen_of_ann()));
        let third = held.answer(&ann, &question, Freshness::Current).await;
        assert_eq!(songs_in(&third.answer), 2);
    }

    #[tokio::test]
    async fn an_answer_asked_for_as_current_is_from_the_figures_as_they_are() {
        let held = HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a")]));
        let (ann, question) = (PersonId("ann".into()), top_songs());
        held.answer(&ann, &question, Freshness::Recent).await;
        held.update(|figures| figures.aggregates.apply(&one_more_listen_of_ann()));
        let given = held.answer(&ann, &question, Freshness::Current).await;
        assert!(given.current);
        assert_eq!(songs_in(&given.answer), 2);
    }

    #[tokio::test]
    async fn an_answer_older_than_a_second_is_never_given_for_newer_figures() {
        let held = HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a")]));
        let (ann, question) = (PersonId("ann".into()), top_songs());
        let first = held.answer(&ann, &question, Freshness::Recent).await;
        assert_eq!(songs_in(&first.answer), 1);
        tokio::time::sleep(MOST_STALE_ANSWER + Duration::from_millis(50)).await;
        held.update(|figures| figures.aggregates.apply(&one_more_listen_of_ann()));
        let given = held.answer(&ann, &question, Freshness::Recent).await;
        assert!(given.current);
        assert_eq!(songs_in(&given.answer), 2);
    }

    #[test]
    fn a_partition_is_released_only_by_what_holds_it() {
        let held = Held::default();
        let first = HeldPartition::new(Keeper::Follower, figures(&[("ann", "a")]));
        held.insert(0, first.clone());
        let second = HeldPartition::new(Keeper::Consumer, figures(&[("ann", "a"), ("ann", "b")]));
        held.insert(0, second.clone());
        held.remove(0, &first);
        assert_eq!(plays_of(&held, "ann").len(), 2, "the newer holder stays");
        held.remove(0, &second);
        assert!(held.get(0).is_none());
        // The consumer folds into the same state requests read.
        held.insert(1, second.clone());
        second.update(|figures| figures.aggregates.apply(&one_more_listen_of_ann()));
        assert_eq!(plays_of(&held, "ann").len(), 3);
    }
}
