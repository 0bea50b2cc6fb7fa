//! A partition's checkpoint, written person by person into the real
//! MongoDB (FerretDB here), and what a retry of it may and may not touch.

mod common;

use server::accounts::PersonId;
use server::aggregate::people::{PartitionDelta, PeopleAggregates, PersonListen};
use server::event::ListenEvent;
use server::store::checkpoint::CheckpointMarks;
use server::store::compact::pack_aggregates;

/// Three people's listens of a few songs each.
fn figures() -> PeopleAggregates {
    let listens: Vec<PersonListen> = (0..300)
        .map(|i| PersonListen {
            person: PersonId(format!("person{}", i % 3)),
            listen: ListenEvent {
                track_uri: format!("spotify:track:song{}", i % 17),
                ts: format!("2021-0{}-1{}T10:00:00Z", 1 + i % 9, i % 10)
                    .parse()
                    .expect("a time"),
                ms_played: 1000 + i,
                track_name: format!("Song {}", i % 17),
                artist_name: format!("Artist {}", i % 5),
                album_name: "Album".into(),
                platform: "web".into(),
                reason_start: "clickrow".into(),
                reason_end: "trackdone".into(),
                shuffle: false,
                skipped: i % 4 == 0,
            },
        })
        .collect();
    let mut figures = PeopleAggregates::default();
    figures.apply(&PartitionDelta::from_listens(&listens, &Default::default()));
    figures
}

#[test]
fn a_checkpoint_retried_after_its_switch_leaves_the_current_one_whole() {
    let scenario = common::Scenario::new("checkpoint_retry");
    let topic_name = scenario.topic.clone();
    common::with_store(&scenario, |store| async move {
        let topic = store.for_topic(&topic_name);
        let figures = figures();
        assert_eq!(figures.people.len(), 3);

        let mut writer = topic.begin_checkpoint(0, 0).await.unwrap();
        assert_eq!(writer.generation(), 1);
        for (person, aggregates) in &figures.people {
            let packed = pack_aggregates(aggregates).unwrap();
            writer.add(person, &packed).await.unwrap();
        }
        writer
            .finish(299, &CheckpointMarks::of(&figures))
            .await
            .unwrap();

        // A retry by a consumer that never heard the switch was made: it
        // starts the generation after, and empties nothing current.
        let retry = topic.begin_checkpoint(0, 0).await.unwrap();
        assert_eq!(retry.generation(), 2);
        drop(retry);
        let loaded = topic.load_checkpoint(0).await.unwrap();
        assert_eq!((loaded.generation, loaded.position), (1, Some(299)));
        assert_eq!(loaded.aggregates.people, figures.people);

        store.shutdown().await;
    });
}
