//! Everyone's rollups: one [`RangeIndex`] per person, so a question is only
//! ever answered from the asker's own listens, and how far each partition's
//! journal was followed.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use super::index::RangeIndex;
use crate::accounts::PersonId;
use crate::aggregate::people::{PartitionDelta, PeopleAggregates};

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

    /// Replaces what is known of a partition with its aggregates as of `position`.
    pub fn load_partition(
        &mut self,
        partition: i32,
        generation: i64,
        position: Option<i64>,
        aggregates: &PeopleAggregates,
    ) {
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
    }

    /// Adds a journaled batch of a partition that ends at `to`.
    pub fn apply(&mut self, partition: i32, delta: &PartitionDelta, to: i64) {
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
}
