//! Publishing leaderboards beside counting: the consumer hands each batch's
//! new leaderboards to a task that writes them in order, so the next batch is
//! counted meanwhile. When writes fall behind, only the latest leaderboards of
//! each person are written (what readers would see in the end anyway).

use std::collections::{BTreeMap, HashMap, HashSet};

use tokio::sync::mpsc;
use tracing::warn;

use super::backoff::Backoff;
use crate::accounts::PersonId;
use crate::status::PipelineStatus;
use crate::store::leaderboard::{Leaderboards, PartitionHeads, WrittenSignal};
use crate::store::TopicStore;

/// What changed in a partition's leaderboards after a batch.
pub struct Publication {
    pub partition: i32,
    pub changed: Vec<(PersonId, Leaderboards)>,
    pub forgotten: Vec<PersonId>,
    /// Who has figures in the partition, and the position at which each last changed.
    pub heads: PartitionHeads,
}

/// What the consumer tells the writing task.
enum Message {
    Publish(Publication),
    /// The partition is no longer this consumer's: what is not written of
    /// it yet is dropped, so it cannot land over its new owner's figures.
    Revoked(i32),
}

/// Hands publications to the background task; dropping it lets the task
/// write what it still holds and end.
pub struct Publisher {
    sender: mpsc::UnboundedSender<Message>,
}

impl Publisher {
    /// Starts the writing task; `written` rings after each write.
    pub fn start(store: TopicStore, status: PipelineStatus, written: WrittenSignal) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(publish_all(store, status, written, receiver));
        Self { sender }
    }

    pub fn publish(&self, publication: Publication) {
        // The task ends only once every sender is gone.
        let _ = self.sender.send(Message::Publish(publication));
    }

    /// The partition moved to another consumer: nothing more of it is written here.
    pub fn revoked(&self, partition: i32) {
        let _ = self.sender.send(Message::Revoked(partition));
    }
}

/// A partition's publications not yet written, merged.
#[derive(Default)]
struct Pending {
    changed: HashMap<PersonId, Leaderboards>,
    forgotten: HashSet<PersonId>,
    heads: PartitionHeads,
}

impl Pending {
    /// Takes in a later publication: what it says of a person replaces
    /// what an earlier one said.
    fn merge(&mut self, publication: Publication) {
        for (person, leaderboards) in publication.changed {
            self.forgotten.remove(&person);
            self.changed.insert(person, leaderboards);
        }
        for person in publication.forgotten {
            self.changed.remove(&person);
            self.forgotten.insert(person);
        }
        self.heads = publication.heads;
    }
}

async fn publish_all(
    store: TopicStore,
    status: PipelineStatus,
    written: WrittenSignal,
    mut receiver: mpsc::UnboundedReceiver<Message>,
) {
    let mut pending: BTreeMap<i32, Pending> = BTreeMap::new();
    let mut backoff = Backoff::default();
    loop {
        if pending.is_empty() {
            match receiver.recv().await {
                Some(message) => take(&mut pending, message),
                None => return,
            }
        }
        while let Ok(message) = receiver.try_recv() {
            take(&mut pending, message);
        }
        let Some((&partition, next)) = pending.iter().next() else {
            continue;
        };
        let changed: Vec<(PersonId, Leaderboards)> = next
            .changed
            .iter()
            .map(|(person, leaderboards)| (person.clone(), leaderboards.clone()))
            .collect();
        let forgotten: Vec<PersonId> = next.forgotten.iter().cloned().collect();
        match store
            .publish_leaderboards(partition, &changed, &forgotten, &next.heads)
            .await
        {
            Ok(()) => {
                status.store_ok();
                backoff = Backoff::default();
                pending.remove(&partition);
                written.ring();
            }
            Err(error) => {
                let delay = backoff.next_delay();
                warn!(partition, ?delay, %error, "publishing the leaderboards failed, retrying");
                status.store_trouble(error.to_string());
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn take(pending: &mut BTreeMap<i32, Pending>, message: Message) {
    match message {
        Message::Publish(publication) => pending
            .entry(publication.partition)
            .or_default()
            .merge(publication),
        Message::Revoked(partition) => {
            pending.remove(&partition);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> PersonId {
        PersonId(name.into())
    }

    fn publication(changed: &[&str], forgotten: &[&str], head: i64) -> Publication {
        Publication {
            partition: 0,
            changed: changed
                .iter()
                .map(|name| (person(name), Leaderboards::default()))
                .collect(),
            forgotten: forgotten.iter().map(|name| person(name)).collect(),
            heads: changed.iter().map(|name| (person(name), head)).collect(),
        }
    }

    #[test]
    fn a_later_publication_decides_for_each_person() {
        let mut pending = Pending::default();
        pending.merge(publication(&["ann", "bob"], &[], 10));
        pending.merge(publication(&[], &["ann"], 20));
        assert!(!pending.changed.contains_key(&person("ann")));
        assert!(pending.forgotten.contains(&person("ann")));
        assert!(pending.changed.contains_key(&person("bob")));

        // Ann comes back after being forgotten: her new figures are written, not deleted.
        pending.merge(publication(&["ann"], &[], 30));
        assert!(pending.changed.contains_key(&person("ann")));
        assert!(!pending.forgotten.contains(&person("ann")));
        assert_eq!(pending.heads.get(&person("ann")), Some(&30));
    }

    #[test]
    fn nothing_of_a_revoked_partition_is_left_to_write() {
        let mut pending = BTreeMap::new();
        take(
            &mut pending,
            Message::Publish(publication(&["ann"], &[], 10)),
        );
        let mut other = publication(&["bob"], &[], 11);
        other.partition = 1;
        take(&mut pending, Message::Publish(other));
        take(&mut pending, Message::Revoked(0));
        assert_eq!(pending.keys().collect::<Vec<_>>(), vec![&1]);
    }
}
