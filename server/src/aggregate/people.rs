//! Everyone counted in one partition, each person apart: a person's listens
//! all land on one partition (they are keyed by person), so each person's
//! figures are complete there and never mixed with anyone else's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::import_marks::ImportMarks;
use super::{Aggregates, BatchDelta};
use crate::accounts::PersonId;
use crate::event::{CleanUp, Forget, ForgetScope, ListenEvent};

/// One listen and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonListen {
    pub person: PersonId,
    pub listen: ListenEvent,
}

/// What one micro-batch of a partition changes: each person's delta, then
/// the people forgotten (a control event ends its batch, so it comes after
/// every listen counted with it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionDelta {
    pub people: BTreeMap<PersonId, BatchDelta>,
    pub forgotten: Vec<Forget>,
    /// Clean-ups after the batch's listens (a batch ends at its control
    /// event: a batch holds a clean-up or a forget, not both).
    pub cleaned: Vec<CleanUp>,
    /// How far the batch counted each import from the page it holds.
    pub imports: ImportMarks,
}

impl PartitionDelta {
    /// Folds a batch's listens, leaving out those of removed accounts.
    pub fn from_listens<'a>(
        listens: impl IntoIterator<Item = &'a PersonListen>,
        removed: &BTreeSet<PersonId>,
    ) -> Self {
        let mut delta = Self::default();
        for PersonListen { person, listen } in listens {
            delta.add(person, listen);
        }
        delta.leave_out(removed);
        delta
    }

    /// Counts one listen of `person` (their id copied only when new to the batch).
    pub fn add(&mut self, person: &PersonId, listen: &ListenEvent) {
        match self.people.get_mut(person) {
            Some(delta) => delta.add(listen),
            None => {
                self.people
                    .insert(person.clone(), BatchDelta::from_events([listen]));
            }
        }
    }

    /// Drops what it counted of removed accounts.
    pub fn leave_out(&mut self, removed: &BTreeSet<PersonId>) {
        if !removed.is_empty() {
            self.people.retain(|person, _| !removed.contains(person));
        }
    }

    /// Listens this delta counts.
    pub fn events(&self) -> i64 {
        self.people.values().map(BatchDelta::events).sum()
    }

    /// Who it changes the figures of (not those forgotten).
    pub fn changed(&self) -> Vec<PersonId> {
        let mut changed: Vec<PersonId> = self.people.keys().cloned().collect();
        for clean_up in &self.cleaned {
            if !changed.contains(&clean_up.person) {
                changed.push(clean_up.person.clone());
            }
        }
        changed
    }

    /// Listens it carries: what it costs to fold.
    pub fn keys(&self) -> usize {
        self.events() as usize
    }
}

/// Everyone's aggregates in one partition, and who is gone for good.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleAggregates {
    pub people: HashMap<PersonId, Aggregates>,
    /// Accounts removed: their listens that arrive later are not counted.
    pub removed: BTreeSet<PersonId>,
    /// How far each import from the page was counted.
    pub imports: ImportMarks,
}

/// The figures of the people a delta cleans up, worked out ahead from the
/// figures before it: a clean-up counts a person's listens again, and is
/// worked out beside the readers of the figures, not under the lock they
/// wait on while a batch is folded.
#[derive(Debug, Default)]
pub struct Recounted(HashMap<PersonId, Ahead>);

#[derive(Debug)]
struct Ahead {
    /// The version of the figures it was worked out from.
    from: u64,
    aggregates: Aggregates,
}

impl PeopleAggregates {
    pub fn apply(&mut self, delta: &PartitionDelta) {
        self.apply_recounted(delta, Recounted::default());
    }

    /// What `delta` makes of the figures of the people it cleans up (their
    /// listens in it counted first), from these figures.
    pub fn recount_ahead(&self, delta: &PartitionDelta) -> Recounted {
        let mut ahead: HashMap<PersonId, Ahead> = HashMap::new();
        for clean_up in &delta.cleaned {
            let person = &clean_up.person;
            if self.removed.contains(person) || !self.recounted_by(delta, person) {
                continue;
            }
            let theirs = ahead.entry(person.clone()).or_insert_with(|| {
                let held = self.people.get(person);
                let mut aggregates = held.cloned().unwrap_or_default();
                if let Some(listens) = delta.people.get(person) {
                    aggregates.apply(listens);
                }
                Ahead {
                    from: held.map_or(0, Aggregates::version),
                    aggregates,
                }
            });
            theirs
                .aggregates
                .clean_up(&clean_up.change, clean_up.requested_at);
        }
        Recounted(ahead)
    }

    /// Whether `delta`'s clean-ups of `person` count their listens again
    /// (those that change nothing of what is left out are taken in under
    /// the lock, keeping what was worked out of the figures).
    fn recounted_by(&self, delta: &PartitionDelta, person: &PersonId) -> bool {
        let changes = (delta.cleaned.iter())
            .filter(|clean_up| clean_up.person == *person)
            .map(|clean_up| (&clean_up.change, clean_up.requested_at));
        match self.people.get(person) {
            Some(aggregates) => aggregates.recounts(changes),
            None => Aggregates::default().recounts(changes),
        }
    }

    /// Folds `delta` in, taking the figures `recounted` worked out ahead
    /// for the people they are of (when these figures of theirs are still
    /// those they were worked out from; otherwise counted here).
    pub fn apply_recounted(&mut self, delta: &PartitionDelta, recounted: Recounted) {
        let mut ahead = recounted.0;
        ahead.retain(|person, ahead| {
            let now = self.version_of(person);
            ahead.from == now && !self.removed.contains(person)
        });
        for (person, person_delta) in &delta.people {
            if !self.removed.contains(person) && !ahead.contains_key(person) {
                self.people
                    .entry(person.clone())
                    .or_default()
                    .apply(person_delta);
            }
        }
        self.imports.merge(&delta.imports);
        for clean_up in &delta.cleaned {
            let person = &clean_up.person;
            if !self.removed.contains(person) && !ahead.contains_key(person) {
                self.people
                    .entry(person.clone())
                    .or_default()
                    .clean_up(&clean_up.change, clean_up.requested_at);
            }
        }
        for (person, ahead) in ahead {
            self.people.insert(person, ahead.aggregates);
        }
        for forget in &delta.forgotten {
            self.people.remove(&forget.person);
            if forget.scope == ForgetScope::Account {
                self.removed.insert(forget.person.clone());
            }
        }
    }

    /// The version of `person`'s figures (0: nothing counted of them).
    pub fn version_of(&self, person: &PersonId) -> u64 {
        self.people.get(person).map_or(0, Aggregates::version)
    }

    /// Listens counted for everyone.
    pub fn events(&self) -> i64 {
        self.people
            .values()
            .map(|aggregates| aggregates.keys() as i64)
            .sum()
    }

    /// Listens held: the size of the state.
    pub fn keys(&self) -> usize {
        self.people.values().map(Aggregates::keys).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_listen;
    use app::cleanup::{CleanUpChange, Exclusion};

    fn listen_of(person: &str, song: &str) -> PersonListen {
        PersonListen {
            person: PersonId(person.into()),
            listen: test_listen(song, "Artist", "2024-01-01T00:00:00Z", 1000, false),
        }
    }

    fn forget(person: &str, scope: ForgetScope) -> PartitionDelta {
        PartitionDelta {
            people: BTreeMap::new(),
            forgotten: vec![Forget {
                person: PersonId(person.into()),
                scope,
                requested_at: "2024-02-01T00:00:00Z".parse().unwrap(),
            }],
            cleaned: Vec::new(),
            imports: ImportMarks::default(),
        }
    }

    #[test]
    fn each_person_is_counted_apart() {
        let listens = [
            listen_of("ann", "a"),
            listen_of("bob", "a"),
            listen_of("ann", "b"),
        ];
        let mut state = PeopleAggregates::default();
        state.apply(&PartitionDelta::from_listens(&listens, &BTreeSet::new()));
        assert_eq!(state.people[&PersonId("ann".into())].summary().events, 2);
        assert_eq!(state.people[&PersonId("bob".into())].summary().events, 1);
        assert_eq!(state.events(), 3);
    }

    #[test]
    fn forgetting_removes_one_person_only_and_later_listens_count_again() {
        let mut state = PeopleAggregates::default();
        let both = [listen_of("ann", "a"), listen_of("bob", "a")];
        state.apply(&PartitionDelta::from_listens(&both, &state.removed.clone()));
        state.apply(&forget("ann", ForgetScope::Data));
        assert!(!state.people.contains_key(&PersonId("ann".into())));
        assert_eq!(state.people[&PersonId("bob".into())].summary().events, 1);
        state.apply(&PartitionDelta::from_listens(&both, &state.removed.clone()));
        assert_eq!(state.people[&PersonId("ann".into())].summary().events, 1);
    }

    #[test]
    fn a_removed_account_s_later_listens_are_not_counted() {
        let mut state = PeopleAggregates::default();
        state.apply(&forget("ann", ForgetScope::Account));
        let late = [listen_of("ann", "a")];
        let delta = PartitionDelta::from_listens(&late, &state.removed);
        assert_eq!(delta.events(), 0);
        // Even a delta journaled before the removal was known is not counted.
        let mut journaled = PartitionDelta::default();
        journaled.people.insert(
            PersonId("ann".into()),
            BatchDelta::from_events([&late[0].listen]),
        );
        state.apply(&journaled);
        assert!(state.people.is_empty());
    }

    fn clean_up(person: &str, change: CleanUpChange) -> CleanUp {
        CleanUp {
            person: PersonId(person.into()),
            change,
            requested_at: "2024-02-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn clean_ups_recounted_ahead_fold_in_as_counted_under_the_lock() {
        let artist = |name: &str| Exclusion::Artist {
            artist: name.into(),
        };
        let mut listens: Vec<PersonListen> = (0..40)
            .map(|i| {
                let mut listen = listen_of(["ann", "bob", "cy"][i % 3], &format!("s{}", i % 7));
                listen.listen.artist_name = format!("Artist {}", i % 4);
                listen
            })
            .collect();
        let first = PartitionDelta::from_listens(&listens[..30], &BTreeSet::new());
        // Ann's listens and two of her clean-ups in one batch, one of Bob's, and none of Cy's.
        let mut second = PartitionDelta::from_listens(&listens[30..], &BTreeSet::new());
        second.cleaned = vec![
            clean_up("ann", CleanUpChange::Exclude(artist("Artist 1"))),
            clean_up("bob", CleanUpChange::Exclude(artist("Artist 2"))),
            clean_up("ann", CleanUpChange::Exclude(artist("Artist 3"))),
            clean_up("dee", CleanUpChange::Exclude(artist("Artist 0"))),
            // Changes nothing of what is left out: taken in under the lock.
            clean_up("cy", CleanUpChange::Include(artist("Artist 9"))),
        ];
        let mut under_the_lock = PeopleAggregates::default();
        under_the_lock.apply(&first);
        let mut ahead = under_the_lock.clone();
        let recounted = ahead.recount_ahead(&second);
        let worked_out: BTreeSet<&str> =
            recounted.0.keys().map(|person| person.0.as_str()).collect();
        assert_eq!(worked_out, BTreeSet::from(["ann", "bob", "dee"]));
        ahead.apply_recounted(&second, recounted);
        under_the_lock.apply(&second);
        assert_eq!(ahead, under_the_lock);
        let ann = &ahead.people[&PersonId("ann".into())];
        assert_eq!(ann.summary().events, 7, "14 listens, 7 of Artists 1 and 3");

        // Worked out from figures that changed since: counted again instead.
        let mut changed = PeopleAggregates::default();
        changed.apply(&first);
        let stale = changed.recount_ahead(&second);
        listens.truncate(3);
        let more = PartitionDelta::from_listens(&listens, &BTreeSet::new());
        changed.apply(&more);
        changed.apply_recounted(&second, stale);
        under_the_lock.apply(&more);
        assert_eq!(changed, under_the_lock);
    }
}
