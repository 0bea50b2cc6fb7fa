//! Who holds which partition: each server registers, per partition its
//! consumer owns, the address where other servers may ask it about the
//! people of that partition (`partition_owners`, `_id` = `topic/partition`,
//! one small document each), and beats it every few seconds; a server
//! that stops beating is no longer asked. Also the key servers prove to
//! each other that they belong to the same deployment with (`cluster`).

use mongodb::bson::doc;
use mongodb::options::ReplaceOptions;

use super::{is_duplicate_key, StoreError, TopicStore, CLUSTER};
use crate::accounts::token::{Secret, SecretKind};

const OWNERS: &str = "partition_owners";

/// A partition's registered owner, as last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub partition: i32,
    /// Names one run of one server (random at each start).
    pub instance: String,
    /// Where its peer endpoint answers, e.g. `http://10.0.0.5:7100`.
    pub peer_url: String,
    /// Goes up with each beat: a count that stops moving means a server gone.
    pub beat: i64,
}

impl TopicStore {
    fn owner_id(&self, partition: i32) -> String {
        format!("{}/{partition}", self.topic())
    }

    /// Registers (or beats) this server as the owner of `owner.partition`.
    pub async fn register_owner(&self, owner: &Owner) -> Result<(), StoreError> {
        let id = self.owner_id(owner.partition);
        self.collection(OWNERS)
            .replace_one(
                doc! { "_id": &id },
                doc! {
                    "_id": &id,
                    "topic": self.topic(),
                    "partition": owner.partition,
                    "instance": &owner.instance,
                    "peer_url": &owner.peer_url,
                    "beat": owner.beat,
                },
            )
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Removes the registration of `partition`, if it is still `instance`'s.
    pub async fn deregister_owner(&self, partition: i32, instance: &str) -> Result<(), StoreError> {
        self.collection(OWNERS)
            .delete_one(doc! { "_id": self.owner_id(partition), "instance": instance })
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Every registered owner of the topic's partitions.
    pub async fn owners(&self) -> Result<Vec<Owner>, StoreError> {
        let documents = self
            .find_all(OWNERS, doc! { "topic": self.topic() })
            .await?;
        Ok(documents
            .iter()
            .filter_map(|document| {
                Some(Owner {
                    partition: document.get_i32("partition").ok()?,
                    instance: document.get_str("instance").ok()?.to_string(),
                    peer_url: document.get_str("peer_url").ok()?.to_string(),
                    beat: document.get_i64("beat").ok()?,
                })
            })
            .collect())
    }
}

impl super::Store {
    /// The key every server of this deployment proves itself with to the
    /// others: made by the first server to ask, read by the rest.
    pub async fn peer_key(&self) -> Result<String, StoreError> {
        let id = "peer_key";
        let candidate = Secret::generate(SecretKind::PeerKey).expose().to_string();
        let cluster = self.collection(CLUSTER);
        match cluster
            .insert_one(doc! { "_id": id, "key": &candidate })
            .await
        {
            Ok(_) => return Ok(candidate),
            Err(error) if is_duplicate_key(&error) => {}
            Err(error) => return Err(self.error(error)),
        }
        let found = cluster
            .find_one(doc! { "_id": id })
            .await
            .map_err(|e| self.error(e))?
            .ok_or_else(|| StoreError::Corrupt("the cluster's peer key vanished".into()))?;
        found
            .get_str("key")
            .map(str::to_string)
            .map_err(|_| StoreError::Corrupt("the cluster's peer key is not text".into()))
    }
}
