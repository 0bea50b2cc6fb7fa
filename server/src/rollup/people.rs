//! Everyone's rollups: one [`RangeIndex`] per person, so a question is only
//! ever answered from the asker's own listens, and how far each partition's
//! journal was followed.
//!
//! Two hands keep a partition current: the reader, following its journal in
//! MongoDB, and the consumer of this same server, handing over each batch it
//! has just journaled (no read at all). Either applies a batch only where the
//! partition's head stands at the batch's start, under one lock, so a batch
//! both see is counted once; while the consumer's hand-over keeps up, the
//! reader leaves the partition's journal alone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::index::RangeIndex;
use crate::accounts::PersonId;
use crate::aggregate::people::{PartitionDelta, PeopleAggregates};

/// Everyone's rollups, shared by the API, the dashboard, the reader and the
/// consumer; cloning shares them.
#[derive(Clone, Default)]
pub struct Ranges(pub Arc<RwLock<PeopleIndex>>);

impl Ranges {
    /// Runs `question` on a person's rollups: their own listens, nobody else's.
    pub fn ask<T>(&self, person: &PersonId, question: impl FnOnce(&RangeIndex) -> T) -> T {
        question(self.read().person(person))
    }

    pub fn read(&self) -> RwLockReadGuard<'_, PeopleIndex> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, PeopleIndex> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where following a partition stands: its checkpoint generation and the
/// end of the last journal entry applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionHead {
    pub generation: i64,
    pub position: Option<i64>,
}

/// Each person's rollups, and each partition's head.
#[derive(Debug, Default)]
pub struct PeopleIndex {
    people: HashMap<PersonId, RangeIndex>,
    heads: BTreeMap<i32, PartitionHead>,
    /// Partitions this server's consumer hands over batch by batch.
    handed_over: BTreeSet<i32>,
    /// Partitions assigned to this server's consumer: it loads them and
    /// hands them over (see [`PeopleIndex::adopt`]).
    claimed: BTreeSet<i32>,
    /// Whether the consumer was assigned partitions yet: until then the
    /// reader waits, rather than load what the consumer is about to.
    assignment_known: bool,
}

/// The rollups of someone with no listens.
static NOBODY: LazyLock<RangeIndex> = LazyLock::new(RangeIndex::default);

impl PeopleIndex {
    /// A person's rollups; empty ones for a person without listens.
    pub fn person(&self, person: &PersonId) -> &RangeIndex {
        self.people.get(person).unwrap_or(&NOBODY)
    }

    pub fn head(&self, partition: i32) -> Option<PartitionHead> {
        self.heads.get(&partition).copied()
    }

    /// Replaces what is known of a partition with its aggregates as of
    /// `position`, unless what is known already goes as far (the reader and
    /// the consumer may both have loaded it): false then, nothing changed.
    pub fn load_partition(
        &mut self,
        partition: i32,
        generation: i64,
        position: Option<i64>,
        aggregates: &PeopleAggregates,
    ) -> bool {
        let known = self.head(partition).and_then(|head| head.position);
        if known.is_some() && known >= position {
            return false;
        }
        for index in self.people.values_mut() {
            index.forget_partition(partition);
        }
        self.people.retain(|_, index| !index.is_empty());
        for (person, person_aggregates) in &aggregates.people {
            self.people
                .entry(person.clone())
                .or_default()
                .load_partition(partition, generation, position, person_aggregates);
        }
        self.heads.insert(
            partition,
            PartitionHead {
                generation,
                position,
            },
        );
        self.handed_over.remove(&partition);
        true
    }

    /// The consumer of this server loaded the partition to count it: readers
    /// take the same state (no second load from MongoDB), and the consumer
    /// hands over each batch after it.
    /// Nothing changes for a partition no longer claimed (revoked meanwhile).
    pub fn adopt(
        &mut self,
        partition: i32,
        generation: i64,
        position: Option<i64>,
        aggregates: &PeopleAggregates,
    ) {
        if !self.is_claimed(partition) {
            return;
        }
        let loaded = self.load_partition(partition, generation, position, aggregates);
        // Not loaded because the index already stands exactly there: the
        // consumer's next batch follows it all the same.
        if loaded || self.head(partition).and_then(|head| head.position) == position {
            self.handed_over.insert(partition);
        }
    }

    /// Adds the journaled batch `[from, to)` of a partition if the partition
    /// stands at `from`, or is known to hold nothing yet (loaded empty: its
    /// first batch starts wherever its first offset is); false (and nothing
    /// changed) otherwise.
    pub fn apply_at(&mut self, partition: i32, from: i64, delta: &PartitionDelta, to: i64) -> bool {
        match self.head(partition) {
            Some(PartitionHead { position: None, .. }) => {}
            Some(PartitionHead { position, .. }) if position == Some(from) => {}
            _ => return false,
        }
        self.apply(partition, delta, to);
        true
    }

    /// The consumer's hand-over of a batch it journaled: taken when the
    /// partition stands where the batch starts. Otherwise the reader has
    /// to catch up from the journal first, and hand-overs wait until it has.
    pub fn hand_over(&mut self, partition: i32, from: i64, delta: &PartitionDelta, to: i64) {
        if self.apply_at(partition, from, delta, to) {
            self.handed_over.insert(partition);
        } else {
            self.handed_over.remove(&partition);
        }
    }

    /// The consumer was assigned `partition` and is loading it.
    pub fn claim(&mut self, partition: i32) {
        self.claimed.insert(partition);
        self.assignment_known = true;
    }

    /// The consumer's group assigned it partitions (perhaps none).
    pub fn note_assignment(&mut self) {
        self.assignment_known = true;
    }

    pub fn assignment_known(&self) -> bool {
        self.assignment_known
    }

    /// Whether this server's consumer owns the partition and loads it itself.
    pub fn is_claimed(&self, partition: i32) -> bool {
        self.claimed.contains(&partition)
    }

    /// The consumer no longer owns the partition: the reader follows it again.
    pub fn release(&mut self, partition: i32) {
        self.handed_over.remove(&partition);
        self.claimed.remove(&partition);
    }

    /// Whether the consumer keeps the partition current, so its journal need not be read.
    pub fn is_handed_over(&self, partition: i32) -> bool {
        self.handed_over.contains(&partition)
    }

    /// Adds a journaled batch of a partition that ends at `to`.
    fn apply(&mut self, partition: i32, delta: &PartitionDelta, to: i64) {
        for (person, person_delta) in &delta.people {
            self.people
                .entry(person.clone())
                .or_default()
                .apply(partition, person_delta, to);
        }
        for forget in &delta.forgotten {
            // Forgotten entirely, names of songs and artists included.
            if let Some(index) = self.people.get_mut(&forget.person) {
                index.forget_partition(partition);
                if index.is_empty() {
                    self.people.remove(&forget.person);
                }
            }
        }
        self.heads.entry(partition).or_default().position = Some(to);
    }

    /// Notes that the partition's checkpoint is now `generation`, its days unchanged.
    pub fn set_generation(&mut self, partition: i32, generation: i64) {
        self.heads.entry(partition).or_default().generation = generation;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::people::PersonListen;
    use crate::event::{test_listen, Forget, ForgetScope};
    use app::range::{DateRange, Metric};

    fn delta(people: &[(&str, &str)]) -> PartitionDelta {
        let listens: Vec<PersonListen> = people
            .iter()
            .map(|(person, song)| PersonListen {
                person: PersonId(person.to_string()),
                listen: test_listen(song, "Artist", "2024-03-01T10:00:00Z", 1000, false),
            })
            .collect();
        PartitionDelta::from_listens(&listens, &Default::default())
    }

    fn songs_of(index: &PeopleIndex, person: &str) -> Vec<String> {
        index
            .person(&PersonId(person.into()))
            .top_songs(DateRange::ALL_TIME, Metric::Plays, 10)
            .into_iter()
            .map(|song| song.track_name)
            .collect()
    }

    #[test]
    fn a_person_sees_only_their_own_songs() {
        let mut index = PeopleIndex::default();
        index.apply(0, &delta(&[("ann", "a"), ("bob", "b")]), 2);
        assert_eq!(songs_of(&index, "ann"), vec!["Song a"]);
        assert_eq!(songs_of(&index, "bob"), vec!["Song b"]);
        assert!(songs_of(&index, "eve").is_empty());
        assert_eq!(index.head(0).unwrap().position, Some(2));
    }

    #[test]
    fn a_forgotten_person_leaves_nothing_behind() {
        let mut index = PeopleIndex::default();
        index.apply(0, &delta(&[("ann", "a"), ("bob", "b")]), 2);
        let mut forgetting = PartitionDelta::default();
        forgetting.forgotten.push(Forget {
            person: PersonId("ann".into()),
            scope: ForgetScope::Data,
            requested_at: chrono::Utc::now(),
        });
        index.apply(0, &forgetting, 3);
        assert!(songs_of(&index, "ann").is_empty());
        assert!(!index.people.contains_key(&PersonId("ann".into())));
        assert_eq!(songs_of(&index, "bob"), vec!["Song b"]);
    }

    fn plays_of(index: &PeopleIndex, person: &str) -> i64 {
        index
            .person(&PersonId(person.into()))
            .top_songs(DateRange::ALL_TIME, Metric::Plays, 10)
            .iter()
            .map(|song| song.plays)
            .sum()
    }

    #[test]
    fn a_batch_handed_over_and_read_from_the_journal_counts_once() {
        let mut index = PeopleIndex::default();
        // Not loaded yet: the hand-over waits for the reader.
        index.hand_over(0, 0, &delta(&[("ann", "a")]), 1);
        assert!(!index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 0);

        let mut loaded = PeopleAggregates::default();
        loaded.apply(&delta(&[("ann", "a")]));
        index.load_partition(0, 1, Some(1), &loaded);
        index.hand_over(0, 1, &delta(&[("ann", "a"), ("ann", "b")]), 3);
        assert!(index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 3);
        // The reader finds the same batch in the journal: refused.
        assert!(!index.apply_at(0, 1, &delta(&[("ann", "a"), ("ann", "b")]), 3));
        assert_eq!(plays_of(&index, "ann"), 3);

        // A batch that does not start where the partition stands (another
        // instance journaled in between) leaves the partition to the reader.
        index.hand_over(0, 7, &delta(&[("ann", "c")]), 8);
        assert!(!index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 3);
        assert!(index.apply_at(0, 3, &delta(&[("ann", "d")]), 7));
        index.hand_over(0, 7, &delta(&[("ann", "c")]), 8);
        assert!(index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 5);
        index.release(0);
        assert!(!index.is_handed_over(0));
    }

    #[test]
    fn a_partition_loaded_empty_takes_its_first_batch_wherever_it_starts() {
        let mut index = PeopleIndex::default();
        index.claim(0);
        index.adopt(0, 0, None, &PeopleAggregates::default());
        assert!(index.is_handed_over(0));
        index.hand_over(0, 40, &delta(&[("ann", "a")]), 41);
        assert!(index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 1);
        // Not loaded at all: nothing is taken.
        index.hand_over(1, 0, &delta(&[("bob", "b")]), 1);
        assert!(!index.is_handed_over(1));
        assert_eq!(plays_of(&index, "bob"), 0);
    }

    #[test]
    fn a_partition_loaded_by_the_consumer_is_not_replaced_by_an_older_load() {
        let mut index = PeopleIndex::default();
        let mut at_two = PeopleAggregates::default();
        at_two.apply(&delta(&[("ann", "a"), ("ann", "b")]));
        // Revoked before it was loaded: nothing taken.
        index.adopt(0, 1, Some(2), &at_two);
        assert_eq!(plays_of(&index, "ann"), 0);
        assert!(index.head(0).is_none());
        index.claim(0);
        index.adopt(0, 1, Some(2), &at_two);
        assert!(index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 2);

        // The reader's load of the same partition, begun earlier, ends later.
        let mut at_one = PeopleAggregates::default();
        at_one.apply(&delta(&[("ann", "a")]));
        assert!(!index.load_partition(0, 1, Some(1), &at_one));
        assert!(index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 2);

        // A load that goes further replaces it, and the reader follows it.
        let mut at_three = at_two.clone();
        at_three.apply(&delta(&[("ann", "c")]));
        assert!(index.load_partition(0, 2, Some(3), &at_three));
        assert!(!index.is_handed_over(0));
        assert_eq!(plays_of(&index, "ann"), 3);
    }
}
