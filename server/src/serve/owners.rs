//! Which server owns which partition, as this server sees it: the
//! partitions its own consumer owns are registered and beaten every
//! [`BEAT_EVERY`] (see [`crate::store::owners`]), everyone's registrations
//! read back every [`READ_EVERY`]. An owner whose beat has not moved for
//! [`LEASE`], by this server's clock (so the servers' clocks need not
//! agree), or that did not answer, is taken for gone: its partitions are
//! followed here from the journal until another server owns them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{sleep, timeout, Instant};

use crate::rollup::held::{Held, Keeper};
use crate::store::owners::Owner;
use crate::store::TopicStore;

/// How often a server beats the partitions it owns.
pub const BEAT_EVERY: Duration = Duration::from_secs(2);
/// How long an owner's beat may stand still before it is taken for gone.
pub const LEASE: Duration = Duration::from_secs(6);
/// How often the registrations are read.
const READ_EVERY: Duration = Duration::from_secs(1);

/// This run of this server, as the others know it.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Random at each start: a registration of an earlier run is not this one's.
    pub id: String,
    /// Where its peer endpoint answers.
    pub peer_url: String,
}

impl Instance {
    pub fn new(peer_url: String) -> Self {
        let mut bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        Self {
            id: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            peer_url,
        }
    }
}

/// A registration as seen here, and when its beat last moved.
#[derive(Debug, Clone)]
struct Seen {
    owner: Owner,
    moved: Instant,
}

/// The owners of the topic's partitions as last read; cloning shares them.
#[derive(Clone)]
pub struct Directory(Arc<DirectoryState>);

struct DirectoryState {
    me: Instance,
    seen: RwLock<BTreeMap<i32, Seen>>,
}

impl Directory {
    pub fn new(me: Instance) -> Self {
        Self(Arc::new(DirectoryState {
            me,
            seen: RwLock::new(BTreeMap::new()),
        }))
    }

    pub fn me(&self) -> &Instance {
        &self.0.me
    }

    /// The live owner of `partition`, when it is another server.
    pub fn owner_elsewhere(&self, partition: i32) -> Option<Owner> {
        let seen = self.0.seen.read().unwrap_or_else(|p| p.into_inner());
        seen.get(&partition)
            .filter(|seen| seen.owner.instance != self.0.me.id && seen.moved.elapsed() < LEASE)
            .map(|seen| seen.owner.clone())
    }

    /// Notes that `owner` did not answer: it is not asked again until its
    /// registration moves (it beats again, or another server registers).
    pub fn unreachable(&self, owner: &Owner) {
        let mut seen = self.0.seen.write().unwrap_or_else(|p| p.into_inner());
        if let Some(seen) = seen.get_mut(&owner.partition) {
            if seen.owner == *owner {
                seen.moved = Instant::now()
                    .checked_sub(LEASE)
                    .unwrap_or_else(Instant::now);
            }
        }
    }

    /// Takes in the registrations read: a new one, or one whose beat moved, is live.
    fn update(&self, owners: Vec<Owner>) {
        let now = Instant::now();
        let mut seen = self.0.seen.write().unwrap_or_else(|p| p.into_inner());
        let current: BTreeSet<i32> = owners.iter().map(|owner| owner.partition).collect();
        seen.retain(|partition, _| current.contains(partition));
        for owner in owners {
            match seen.get_mut(&owner.partition) {
                Some(known) if known.owner == owner => {}
                Some(known) => {
                    *known = Seen { owner, moved: now };
                }
                None => {
                    seen.insert(owner.partition, Seen { owner, moved: now });
                }
            }
        }
    }

    /// Reads the registrations, and beats the partitions this server's
    /// consumer owns (`held` by it), until the server stops.
    pub fn start(&self, store: TopicStore, held: Held, closing: watch::Receiver<bool>) {
        tokio::spawn(beat(
            self.me().clone(),
            store.clone(),
            held,
            closing.clone(),
        ));
        let directory = self.clone();
        let mut stop = closing;
        tokio::spawn(async move {
            while !*stop.borrow() {
                match timeout(READ_EVERY, store.owners()).await {
                    Ok(Ok(owners)) => directory.update(owners),
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "reading the partitions' owners failed")
                    }
                    Err(_) => tracing::debug!("reading the partitions' owners timed out"),
                }
                tokio::select! {
                    () = sleep(READ_EVERY) => {}
                    _ = stop.changed() => {}
                }
            }
        });
    }
}

/// Registers and beats what `held` holds for this server's consumer, and
/// takes back what it no longer holds; at stop, takes back everything.
async fn beat(me: Instance, store: TopicStore, held: Held, mut closing: watch::Receiver<bool>) {
    let mut registered: BTreeSet<i32> = BTreeSet::new();
    let mut count: i64 = 0;
    loop {
        let stopping = *closing.borrow();
        let owned: BTreeSet<i32> = if stopping {
            BTreeSet::new()
        } else {
            held.keepers()
                .into_iter()
                .filter(|(_, keeper)| *keeper == Keeper::Consumer)
                .map(|(partition, _)| partition)
                .collect()
        };
        count += 1;
        for &partition in &owned {
            let owner = Owner {
                partition,
                instance: me.id.clone(),
                peer_url: me.peer_url.clone(),
                beat: count,
            };
            match store.register_owner(&owner).await {
                Ok(()) => {
                    registered.insert(partition);
                }
                Err(error) => tracing::debug!(partition, %error, "beating a partition failed"),
            }
        }
        for partition in registered.difference(&owned).copied().collect::<Vec<_>>() {
            if store.deregister_owner(partition, &me.id).await.is_ok() {
                registered.remove(&partition);
            }
        }
        if stopping {
            return;
        }
        tokio::select! {
            () = sleep(BEAT_EVERY) => {}
            () = held.changed() => {}
            _ = closing.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(partition: i32, instance: &str, beat: i64) -> Owner {
        Owner {
            partition,
            instance: instance.into(),
            peer_url: format!("http://{instance}:1"),
            beat,
        }
    }

    #[test]
    fn an_owner_is_asked_while_it_beats_and_never_this_server() {
        let directory = Directory::new(Instance {
            id: "me".into(),
            peer_url: "http://me:1".into(),
        });
        directory.update(vec![owner(0, "me", 1), owner(1, "other", 1)]);
        assert_eq!(directory.owner_elsewhere(0), None, "this server's own");
        assert_eq!(directory.owner_elsewhere(1), Some(owner(1, "other", 1)));
        assert_eq!(directory.owner_elsewhere(2), None, "nobody's");

        directory.unreachable(&owner(1, "other", 1));
        assert_eq!(directory.owner_elsewhere(1), None, "did not answer");
        directory.update(vec![owner(1, "other", 1)]);
        assert_eq!(directory.owner_elsewhere(1), None, "its beat has not moved");
        directory.update(vec![owner(1, "other", 2)]);
        assert_eq!(directory.owner_elsewhere(1), Some(owner(1, "other", 2)));
        directory.update(vec![]);
        assert_eq!(
            directory.owner_elsewhere(1),
            None,
            "registration taken back"
        );
    }
}
