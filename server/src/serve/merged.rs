//! A person whose listens lie in several partitions (the topic's partitions
//! were added to) is answered from their aggregates merged into one.
//! Merging counts every listen of theirs again, so the merge is kept and
//! answered from while every partition still holds what was merged: the
//! answers it keeps worked out (a review, the charts) stay kept too.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::accounts::PersonId;
use crate::aggregate::Aggregates;

/// Most people whose sums are kept, each a copy of their figures (as
/// large as a person's own in one partition).
const MOST_KEPT: usize = 4;
/// How long a merge nobody read is kept (dropped at the next question of
/// anyone split): a person reading their pages asks again within seconds.
const KEPT_UNREAD: Duration = Duration::from_secs(120);

/// Which state of a person's figures in one partition went into a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    pub partition: i32,
    pub holder: Holder,
    /// [`Aggregates::version`] in the process holding them (0: nothing
    /// counted of the person there).
    pub version: u64,
}

/// Where a partition's figures were read: versions are only compared
/// within one run of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Here,
    /// The server owning the partition, by its run's id.
    Peer {
        instance: String,
    },
}

/// The merges kept, the one read longest ago first out.
#[derive(Default)]
pub struct MergedPeople(Mutex<Vec<Merged>>);

struct Merged {
    person: PersonId,
    parts: Vec<PartState>,
    aggregates: Arc<Aggregates>,
    read_at: Instant,
}

impl MergedPeople {
    /// The merges, those unread for [`KEPT_UNREAD`] dropped.
    fn lock(&self) -> MutexGuard<'_, Vec<Merged>> {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.retain(|merged| merged.read_at.elapsed() < KEPT_UNREAD);
        kept
    }

    /// The person's merge, if it was made of exactly these states.
    pub fn get(&self, person: &PersonId, parts: &[PartState]) -> Option<Arc<Aggregates>> {
        let mut kept = self.lock();
        let at = kept.iter().position(|merged| merged.person == *person)?;
        if kept[at].parts != parts {
            return None;
        }
        let mut merged = kept.remove(at);
        merged.read_at = Instant::now();
        let aggregates = Arc::clone(&merged.aggregates);
        kept.push(merged);
        Some(aggregates)
    }

    /// The parts the person's kept sum was made of.
    pub fn parts(&self, person: &PersonId) -> Option<Vec<PartState>> {
        let kept = self.lock();
        let merged = kept.iter().find(|merged| merged.person == *person)?;
        Some(merged.parts.clone())
    }

    /// Keeps a merge made of `parts`, in place of the person's last.
    pub fn keep(&self, person: &PersonId, parts: Vec<PartState>, aggregates: Arc<Aggregates>) {
        let mut kept = self.lock();
        kept.retain(|merged| merged.person != *person);
        if kept.len() >= MOST_KEPT {
            kept.remove(0);
        }
        kept.push(Merged {
            person: person.clone(),
            parts,
            aggregates,
            read_at: Instant::now(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> PersonId {
        PersonId(name.to_string())
    }

    fn here(partition: i32, version: u64) -> PartState {
        PartState {
            partition,
            holder: Holder::Here,
            version,
        }
    }

    #[test]
    fn a_merge_is_answered_from_while_each_part_is_as_merged() {
        let kept = MergedPeople::default();
        let (ada, bo) = (person("ada"), person("bo"));
        let parts = vec![here(0, 4), here(3, 9)];
        assert!(kept.get(&ada, &parts).is_none(), "nothing merged yet");
        let merged = Arc::new(Aggregates::default());
        kept.keep(&ada, parts.clone(), Arc::clone(&merged));
        let again = kept.get(&ada, &parts).expect("the same parts");
        assert!(Arc::ptr_eq(&again, &merged));
        assert!(kept.get(&bo, &parts).is_none(), "another person's");
        assert!(
            kept.get(&ada, &[here(0, 4), here(3, 10)]).is_none(),
            "a partition counted listens since"
        );
        let from_peer = PartState {
            holder: Holder::Peer {
                instance: "run-1".into(),
            },
            ..here(3, 9)
        };
        assert!(
            kept.get(&ada, &[here(0, 4), from_peer.clone()]).is_none(),
            "the same version number from another server says nothing"
        );
        assert!(kept.get(&ada, &parts[..1]).is_none(), "a partition fewer");

        kept.keep(&ada, vec![here(0, 4), from_peer.clone()], merged);
        assert_eq!(kept.parts(&ada), Some(vec![here(0, 4), from_peer]));
        assert_eq!(kept.parts(&bo), None);
        assert!(
            kept.get(&ada, &parts).is_none(),
            "replaced by the newer merge"
        );
    }

    #[test]
    fn the_merge_read_longest_ago_goes_first() {
        let kept = MergedPeople::default();
        let people: Vec<PersonId> = (0..=MOST_KEPT).map(|n| person(&format!("p{n}"))).collect();
        let parts = vec![here(0, 1), here(1, 1)];
        for someone in &people[..MOST_KEPT] {
            kept.keep(someone, parts.clone(), Arc::default());
        }
        assert!(
            kept.get(&people[0], &parts).is_some(),
            "read: now the latest"
        );
        kept.keep(&people[MOST_KEPT], parts.clone(), Arc::default());
        assert!(kept.get(&people[0], &parts).is_some(), "kept, read lately");
        assert!(kept.get(&people[1], &parts).is_none(), "read longest ago");
        for someone in &people[2..] {
            assert!(kept.get(someone, &parts).is_some());
        }
    }
}
