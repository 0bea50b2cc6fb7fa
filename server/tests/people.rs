//! Several people on one server: each sees exactly their own figures
//! (checked against counts computed from their own files) and nothing of
//! anyone else's; deleting one's data or removing an account takes that
//! person's figures out of everything, exactly, while the others' stay
//! untouched, even while listens are streaming.

mod common;

use std::time::{Duration, Instant};

use common::{summary_figure, Expected, Scenario, CATCH_UP};
use serde_json::Value;

/// Creates an account (password: its name and " password 1"); answers a new API token of theirs.
fn person(scenario: &Scenario, name: &str) -> String {
    common::new_person(&scenario.database, name)
}

/// An artist in `theirs` that `mine` never played.
fn artist_only_in(theirs: &Expected, mine: &Expected) -> String {
    theirs
        .artists
        .keys()
        .find(|artist| !mine.artists.contains_key(*artist))
        .expect("the two histories differ in an artist")
        .clone()
}

fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[test]
fn two_people_each_see_exactly_their_own_figures_and_nothing_of_the_other() {
    let scenario = Scenario::new("two_people");
    let ann_file = scenario.generate("ann.csv", 600, 101);
    let bob_file = scenario.generate("bob.csv", 3000, 202);
    let (ann, bob) = (Expected::from_csv(&ann_file), Expected::from_csv(&bob_file));
    let ann_token = person(&scenario, "ann");
    let bob_token = person(&scenario, "bob");
    let mut server = scenario.server();
    assert!(scenario.produce_as("ann", &ann_file).status.success());
    assert!(scenario.produce_as("bob", &bob_file).status.success());

    server.token = ann_token.clone();
    server.wait_for_events(ann.events);
    ann.assert_served_by(&server);
    server.token = bob_token.clone();
    server.wait_for_events(bob.events);
    bob.assert_served_by(&server);

    // Another person's artist, song and charts are as if they did not exist.
    server.token = ann_token;
    let bobs_artist = artist_only_in(&bob, &ann);
    let (status, body) = server.get(&format!("/api/artists/{}", path_segment(&bobs_artist)));
    assert_eq!(status, 404, "{body}");
    let bobs_song = bob
        .songs
        .keys()
        .find(|uri| !ann.songs.contains_key(*uri))
        .expect("a song only bob played");
    assert_eq!(
        server
            .get(&format!("/api/songs/{}", path_segment(bobs_song)))
            .0,
        404
    );
    let (_, page) = server.page(&format!("/artists/{}", path_segment(&bobs_artist)));
    assert!(
        !page.contains("Plays over time"),
        "bob's artist page shows for ann"
    );
    let (_, chart) = server.page("/charts/top-artists.svg?preset=all-time");
    let bobs_top = bob.top_artists(1)[0]["artist_name"]
        .as_str()
        .unwrap()
        .to_string();
    if !ann.artists.contains_key(&bobs_top) {
        assert!(
            !chart.contains(&bobs_top),
            "bob's top artist in ann's chart"
        );
    }
    // And the other way round.
    server.token = bob_token;
    let anns_artist = artist_only_in(&ann, &bob);
    assert_eq!(
        server
            .get(&format!("/api/artists/{}", path_segment(&anns_artist)))
            .0,
        404
    );
}

/// Waits until `check` holds, or fails saying `what`.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + CATCH_UP;
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn deleting_my_data_removes_it_exactly_while_another_person_streams() {
    let scenario = Scenario::new("delete_data");
    let ann_file = scenario.generate("ann.csv", 1500, 303);
    let bob_file = scenario.generate("bob.csv", 20_000, 404);
    let (ann, bob) = (Expected::from_csv(&ann_file), Expected::from_csv(&bob_file));
    let ann_token = person(&scenario, "ann");
    let bob_token = person(&scenario, "bob");
    let mut server = scenario.server();
    assert!(scenario.produce_as("ann", &ann_file).status.success());
    server.token = ann_token.clone();
    server.wait_for_events(ann.events);

    // Bob streams while ann deletes her data.
    let bob_streaming =
        scenario.produce_in_background_as(&bob_file, &["--person", "bob", "--rate", "5000"]);
    let ann_browser = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    ann_browser
        .post(format!("{}/sign-in", server.url))
        .header("origin", &server.url)
        .form(&[("name", "ann"), ("password", "ann password 1")])
        .send()
        .unwrap();
    let refused = ann_browser
        .post(format!("{}/rpc/account/delete_data", server.url))
        .header("origin", &server.url)
        .form(&[("confirm", "bob")])
        .send()
        .unwrap();
    assert_eq!(refused.status(), 400, "deleting needs one's own name");
    let deleted = ann_browser
        .post(format!("{}/rpc/account/delete_data", server.url))
        .header("origin", &server.url)
        .form(&[("confirm", "Ann")])
        .send()
        .unwrap();
    assert_eq!(
        deleted.status(),
        200,
        "{}",
        deleted.text().unwrap_or_default()
    );
    eventually("ann's figures are gone", || server.events() == 0);
    let (_, songs) = server.get("/api/top-songs?preset=all-time");
    eventually("ann's rollups are gone", || {
        server.get("/api/top-songs?preset=all-time").1 == Value::Array(Vec::new())
    });
    assert!(songs.is_array());

    let output = bob_streaming.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(summary_figure(&output, "sent") as i64, bob.events);
    server.token = bob_token;
    server.wait_for_events(bob.events);
    bob.assert_served_by(&server);

    // Nothing of ann's is stored any more: once checkpointed, the journal
    // holding her listens is gone; the stored figures are bob's alone.
    let ann_id = common::person_id(&scenario.database, "ann");
    eventually("the journal no longer holds ann's listens", || {
        let mut mentions = 0;
        common::with_database(&scenario.database, |db| {
            let mentions = &mut mentions;
            let ann_id = ann_id.clone();
            async move {
                for name in db.list_collection_names().await? {
                    let filter = mongodb::bson::doc! { "person": &ann_id };
                    *mentions += db
                        .collection::<mongodb::bson::Document>(&name)
                        .count_documents(filter)
                        .await?;
                }
                Ok(())
            }
        });
        // Each partition's journal, read with the server's own decoder.
        mentions == 0 && !common::journaled_people(&scenario).contains(&ann_id)
    });
    let (songs, _) = common::stored_totals(&scenario);
    let stored: i64 = songs.values().map(|count| count.plays).sum();
    assert_eq!(stored, bob.events, "only bob's listens are stored");

    // Her files may come again, and count again.
    server.token = ann_token;
    let again = scenario.produce_as("ann", &ann_file);
    assert_eq!(summary_figure(&again, "sent") as i64, ann.events);
    server.wait_for_events(ann.events);
}

#[test]
fn a_removed_account_leaves_no_figures_and_its_name_imports_nothing() {
    let scenario = Scenario::new("remove_account");
    let ann_file = scenario.generate("ann.csv", 800, 505);
    let bob_file = scenario.generate("bob.csv", 900, 606);
    let (ann, bob) = (Expected::from_csv(&ann_file), Expected::from_csv(&bob_file));
    let ann_token = person(&scenario, "ann");
    let bob_token = person(&scenario, "bob");
    let mut server = scenario.server();
    assert!(scenario.produce_as("ann", &ann_file).status.success());
    assert!(scenario.produce_as("bob", &bob_file).status.success());
    server.token = bob_token.clone();
    server.wait_for_events(bob.events);
    server.token = ann_token.clone();
    server.wait_for_events(ann.events);

    // The removal goes to the topic the server counts.
    let removed = common::accounts_command_with(
        &scenario.database,
        &[("KAFKA_TOPIC", &scenario.topic)],
        &["remove", "ann"],
        "",
    );
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    // Removed from a shell, so this server notices within the few seconds it
    // remembers a token (see `serve::auth`).
    let removed_at = Instant::now();
    eventually("her token dies with her account", || {
        server.get("/api/summary").0 == 401
    });
    assert!(removed_at.elapsed() < Duration::from_secs(8));
    let refused = scenario.produce_as("ann", &ann_file);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("there is no account named ann"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // Her figures leave the store; bob's stay exactly.
    eventually(
        "the removed account's figures are gone from the store",
        || {
            let (songs, _) = common::stored_totals(&scenario);
            songs.values().map(|count| count.plays).sum::<i64>() == bob.events
        },
    );
    server.token = bob_token;
    bob.assert_served_by(&server);
    // A new account of the same name is a new person, with nothing counted.
    server.token = person(&scenario, "ann");
    assert_eq!(server.events(), 0);
}

/// What the server says as it refuses to start on a database holding
/// `document` in `collection`, as an earlier version wrote it.
fn refused_on(label: &str, collection: &str, document: mongodb::bson::Document) -> String {
    let scenario = Scenario::new(label);
    common::with_database(&scenario.database, |db| async move {
        db.collection::<mongodb::bson::Document>(collection)
            .insert_one(document)
            .await
            .map(|_| ())
    });
    let output = scenario
        .server_command(&[])
        .output()
        .expect("the server runs");
    assert!(
        !output.status.success(),
        "the server started on an old database"
    );
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn a_database_of_an_earlier_layout_is_refused_at_start_with_what_to_do() {
    // A journal entry as the versions that summed listens by day wrote it.
    let said = refused_on(
        "sums_by_day",
        "batch_journal",
        mongodb::bson::doc! {
            "_id": "t/0/0", "topic": "t", "partition": 0,
            "from": 0_i64, "to": 5_i64, "events": 5_i64,
        },
    );
    assert!(
        said.contains("sums by day") && said.contains("MONGODB_DB"),
        "{said}"
    );
}

#[test]
fn a_database_from_before_accounts_is_refused_at_start_with_what_to_do() {
    // A checkpoint as versions without accounts wrote it: no person per figure.
    let said = refused_on(
        "before_accounts",
        "checkpoints",
        mongodb::bson::doc! {
            "_id": "t/0", "topic": "t", "partition": 0,
            "generation": 1_i64, "position": 5_i64, "rollups_by_day": true,
        },
    );
    assert!(
        said.contains("before accounts") && said.contains("MONGODB_DB"),
        "{said}"
    );
}
