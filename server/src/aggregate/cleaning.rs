//! What a person left out of their figures ([`Exclusions`]), and which
//! listens that leaves out ([`Matcher`]). Exclusions arrive as control
//! events among the person's listens, so every server that counts them,
//! after any restart, leaves out the same listens at the same point.

use std::collections::{BTreeMap, HashMap, HashSet};

use app::cleanup::{CleanUpChange, Exclusion, ExclusionView};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use super::months::Millis;
use super::HeldListen;

/// Most exclusions remembered per person, in force or put back.
pub const MOST_REMEMBERED: usize = 2 * app::cleanup::MAX_EXCLUSIONS;

/// An exclusion's latest change: whether it is in force, and when the
/// person changed it (what orders changes counted in different partitions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    pub changed_at: DateTime<Utc>,
    pub in_force: bool,
}

/// Every exclusion a person made, each with its latest standing (one put
/// back is remembered as such, so that a merge with an older copy that
/// still has it in force knows which is newer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions(BTreeMap<Exclusion, Standing>);

impl Exclusions {
    /// Exclusions read back.
    pub fn from_entries(entries: impl IntoIterator<Item = (Exclusion, Standing)>) -> Self {
        Self(entries.into_iter().collect())
    }

    /// Every exclusion and its standing, in order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&Exclusion, &Standing)> {
        self.0.iter()
    }

    /// Those in force, in order.
    pub fn in_force(&self) -> impl Iterator<Item = &Exclusion> {
        self.0
            .iter()
            .filter(|(_, standing)| standing.in_force)
            .map(|(exclusion, _)| exclusion)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn any_in_force(&self) -> bool {
        self.in_force().next().is_some()
    }

    /// Takes a change in, in the order it was counted; whether what is in
    /// force changed. Exclusions put back are remembered (up to
    /// [`MOST_REMEMBERED`], the oldest forgotten first).
    pub fn change(&mut self, change: &CleanUpChange, at: DateTime<Utc>) -> bool {
        let in_force = matches!(change, CleanUpChange::Exclude(_));
        let exclusion = change.exclusion();
        let before = self.0.get(exclusion).is_some_and(|s| s.in_force);
        if !self.0.contains_key(exclusion) && self.0.len() >= MOST_REMEMBERED {
            let oldest_put_back = self
                .0
                .iter()
                .filter(|(_, standing)| !standing.in_force)
                .min_by_key(|(_, standing)| standing.changed_at)
                .map(|(exclusion, _)| exclusion.clone());
            match oldest_put_back {
                Some(oldest) => {
                    self.0.remove(&oldest);
                }
                // Only exclusions in force, as many as can be: the server
                // refuses more before they are sent.
                None => return false,
            }
        }
        // Remembered even when it changes nothing here: the exclusion it
        // puts back may be in force in another partition of the person's.
        self.0.insert(
            exclusion.clone(),
            Standing {
                changed_at: at,
                in_force,
            },
        );
        before != in_force
    }

    /// Takes in the exclusions of the same person counted elsewhere: for
    /// each, the standing changed last.
    pub fn merge(&mut self, other: &Exclusions) {
        // The later change wins; of two at the same instant, putting back.
        let order = |standing: &Standing| (standing.changed_at, !standing.in_force);
        for (exclusion, theirs) in &other.0 {
            match self.0.get(exclusion) {
                Some(ours) if order(ours) >= order(theirs) => {}
                _ => {
                    self.0.insert(exclusion.clone(), *theirs);
                }
            }
        }
    }

    /// What they leave out, as numbers of `catalog`; `None` when nothing is in force.
    pub fn matcher(&self, catalog: &Catalog) -> Option<Matcher> {
        self.any_in_force()
            .then(|| Matcher::of(self.in_force(), catalog))
    }
}

/// The first whole millisecond at or after `at`: listens are kept to the
/// millisecond, so one at `t` is in `[from, to)` exactly when it is in
/// `[first_millisecond(from), first_millisecond(to))`.
fn first_millisecond(at: &DateTime<Utc>) -> Millis {
    let floor = at.timestamp_millis();
    if at.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        floor
    } else {
        floor + 1
    }
}

/// The exclusions in force as numbers of one catalog: a listen is left
/// out when its artist, album or song is, or it ended in a window left
/// out of its song.
#[derive(Debug, Default)]
pub struct Matcher {
    artists: HashSet<u32>,
    albums: HashSet<u32>,
    songs: HashSet<u32>,
    /// `[from, to)` by song number.
    windows: HashMap<u32, Vec<(Millis, Millis)>>,
}

impl Matcher {
    /// What `exclusions` leave out, as numbers of `catalog`.
    fn of<'a>(exclusions: impl IntoIterator<Item = &'a Exclusion>, catalog: &Catalog) -> Self {
        let mut matcher = Matcher::default();
        for exclusion in exclusions {
            match exclusion {
                Exclusion::Artist { artist } => {
                    matcher.artists.extend(catalog.artist_number(artist));
                }
                Exclusion::Album { artist, album } => {
                    let number = catalog
                        .artist_number(artist)
                        .and_then(|artist| catalog.album_number(artist, album));
                    matcher.albums.extend(number);
                }
                Exclusion::Song { track_uri } => {
                    matcher.songs.extend(catalog.song_number(track_uri));
                }
                Exclusion::Plays {
                    track_uri,
                    from,
                    to,
                } => {
                    if let Some(song) = catalog.song_number(track_uri) {
                        matcher
                            .windows
                            .entry(song)
                            .or_default()
                            .push((first_millisecond(from), first_millisecond(to)));
                    }
                }
            }
        }
        matcher
    }

    /// Whether the listen at `at` named by naming number `naming` is left out.
    pub fn leaves_out(&self, catalog: &Catalog, at: Millis, naming: u32) -> bool {
        let named = catalog.naming(naming);
        self.artists.contains(&catalog.artist_of(named))
            || named
                .album()
                .is_some_and(|album| self.albums.contains(&album))
            || self.songs.contains(&named.song)
            || self
                .windows
                .get(&named.song)
                .is_some_and(|windows| windows.iter().any(|&(from, to)| (from..to).contains(&at)))
    }
}

/// Each exclusion in force, named for a person, with the listens of
/// `set_aside` it leaves out (a listen two exclusions leave out is in both).
pub fn views(
    catalog: &Catalog,
    exclusions: &Exclusions,
    set_aside: &[HeldListen],
) -> Vec<ExclusionView> {
    exclusions
        .in_force()
        .map(|exclusion| {
            let matcher = Matcher::of([exclusion], catalog);
            let (mut plays, mut ms_played) = (0i64, 0i64);
            for listen in set_aside {
                if matcher.leaves_out(catalog, listen.at, listen.naming) {
                    plays += 1;
                    ms_played = ms_played.saturating_add_unsigned(listen.ms);
                }
            }
            ExclusionView {
                exclusion: exclusion.clone(),
                label: label(catalog, exclusion),
                window: None,
                plays,
                ms_played,
            }
        })
        .collect()
}

/// What a person reads for an exclusion.
fn label(catalog: &Catalog, exclusion: &Exclusion) -> String {
    match exclusion {
        Exclusion::Artist { artist } => artist.clone(),
        Exclusion::Album { artist, album } => format!("{album} — {artist}"),
        Exclusion::Song { track_uri } | Exclusion::Plays { track_uri, .. } => catalog
            .first_naming(track_uri)
            .map(|named| {
                let (track, artist, _) = catalog.naming_texts(named);
                format!("{track} — {artist}")
            })
            .unwrap_or_else(|| track_uri.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregates, BatchDelta};
    use crate::event::{test_listen, ListenEvent};
    use crate::store::compact::{pack_aggregates, unpack_aggregates};
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeSet;

    /// 900 listens of 30 songs by 5 artists over two years.
    fn listens(rng: &mut rand_chacha::ChaCha8Rng) -> Vec<ListenEvent> {
        let start = at("2023-01-01T00:00:00Z").timestamp_millis();
        (0..900)
            .map(|_| {
                let song = rng.random_range(0..30u32);
                let when =
                    DateTime::from_timestamp_millis(start + rng.random_range(0..63_072_000_000i64))
                        .unwrap()
                        .to_rfc3339();
                let mut listen = test_listen(
                    &format!("s{song}"),
                    &format!("Artist {}", song % 5),
                    &when,
                    rng.random_range(0..400_000),
                    rng.random_bool(0.2),
                );
                listen.album_name = if song % 7 == 0 {
                    String::new()
                } else {
                    format!("Album {}", song % 3)
                };
                listen
            })
            .collect()
    }

    /// Some exclusions, one matching nothing.
    fn pool() -> Vec<Exclusion> {
        let window = |song: &str, from: &str, to: &str| Exclusion::Plays {
            track_uri: format!("spotify:track:{song}"),
            from: at(from),
            to: at(to),
        };
        vec![
            artist("Artist 1"),
            artist("Artist 3"),
            artist("Nobody"),
            Exclusion::Album {
                artist: "Artist 2".into(),
                album: "Album 2".into(),
            },
            Exclusion::Song {
                track_uri: "spotify:track:s4".into(),
            },
            Exclusion::Song {
                track_uri: "spotify:track:s11".into(),
            },
            window("s0", "2023-03-01T00:00:00Z", "2024-02-01T12:00:00Z"),
            window("s0", "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"),
            window("s20", "2023-07-15T08:00:00Z", "2023-07-15T09:30:00Z"),
        ]
    }

    /// Whether `exclusion` leaves `listen` out, read from the listen's own
    /// fields (not through a catalog).
    fn excludes(exclusion: &Exclusion, listen: &ListenEvent) -> bool {
        match exclusion {
            Exclusion::Artist { artist } => &listen.artist_name == artist,
            Exclusion::Album { artist, album } => {
                &listen.artist_name == artist && &listen.album_name == album
            }
            Exclusion::Song { track_uri } => &listen.track_uri == track_uri,
            Exclusion::Plays {
                track_uri,
                from,
                to,
            } => &listen.track_uri == track_uri && *from <= listen.ts && listen.ts < *to,
        }
    }

    /// The figures of the listens no exclusion in force leaves out, counted from nothing.
    fn recounted(listens: &[ListenEvent], in_force: &BTreeSet<Exclusion>) -> Aggregates {
        let kept = listens
            .iter()
            .filter(|listen| !in_force.iter().any(|exclusion| excludes(exclusion, listen)));
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events(kept));
        aggregates
    }

    #[test]
    fn leaving_out_and_putting_back_between_batches_equals_a_recount() {
        for seed in 0..4 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let all = listens(&mut rng);
            let pool = pool();
            let mut aggregates = Aggregates::default();
            let mut in_force = BTreeSet::new();
            let mut clock = at("2025-01-01T00:00:00Z");
            for (step, batch) in all.chunks(75).enumerate() {
                for _ in 0..rng.random_range(0..3) {
                    let exclusion = pool[rng.random_range(0..pool.len())].clone();
                    clock += chrono::Duration::seconds(1);
                    let change = if rng.random_bool(0.6) {
                        in_force.insert(exclusion.clone());
                        CleanUpChange::Exclude(exclusion)
                    } else {
                        in_force.remove(&exclusion);
                        CleanUpChange::Include(exclusion)
                    };
                    aggregates.clean_up(&change, clock);
                }
                aggregates.apply(&BatchDelta::from_events(batch));
                let so_far = &all[..(step + 1) * 75];
                let expected = recounted(so_far, &in_force);
                let context = format!("seed {seed}, step {step}, leaving out {in_force:?}");
                assert_eq!(aggregates.as_texts(), expected.as_texts(), "{context}");
                assert_eq!(aggregates.summary(), expected.summary(), "{context}");
                assert_eq!(
                    aggregates.top_songs(50),
                    expected.top_songs(50),
                    "{context}"
                );
                assert_eq!(
                    aggregates.top_artists(10),
                    expected.top_artists(10),
                    "{context}"
                );
                assert_eq!(
                    aggregates.set_aside().len() + aggregates.keys(),
                    so_far.len(),
                    "{context}: every listen counted or set aside"
                );
                let views = aggregates.exclusion_views();
                let shown: BTreeSet<&Exclusion> =
                    views.iter().map(|view| &view.exclusion).collect();
                assert_eq!(shown, in_force.iter().collect(), "{context}");
                for view in &views {
                    let plays = so_far
                        .iter()
                        .filter(|listen| excludes(&view.exclusion, listen))
                        .count();
                    assert_eq!(view.plays, plays as i64, "{context}: {:?}", view.exclusion);
                }
                let packed = pack_aggregates(&aggregates).unwrap();
                let read = unpack_aggregates(&packed, "test").unwrap();
                assert!(
                    read == aggregates,
                    "{context}: a checkpoint reads back the same"
                );
            }
            // Everything put back: every listen counts again.
            for exclusion in in_force.clone() {
                aggregates.clean_up(&CleanUpChange::Include(exclusion), clock);
            }
            assert_eq!(
                aggregates.as_texts(),
                recounted(&all, &BTreeSet::new()).as_texts()
            );
            assert!(aggregates.set_aside().is_empty());
        }
    }

    #[test]
    fn a_person_counted_in_two_partitions_follows_each_exclusion_s_latest_change() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let all = listens(&mut rng);
        let (old, new) = all.split_at(400);
        let mut before = Aggregates::default();
        before.apply(&BatchDelta::from_events(old));
        before.clean_up(
            &CleanUpChange::Exclude(artist("Artist 1")),
            at("2025-01-01T00:00:00Z"),
        );
        let mut after = Aggregates::default();
        after.apply(&BatchDelta::from_events(new));
        after.clean_up(
            &CleanUpChange::Include(artist("Artist 1")),
            at("2025-01-02T00:00:00Z"),
        );
        after.clean_up(
            &CleanUpChange::Exclude(artist("Artist 3")),
            at("2025-01-02T00:00:00Z"),
        );
        let mut merged = Aggregates::default();
        merged.merge(&before);
        merged.merge(&after);
        for state in [&before, &after, &merged] {
            state.assert_groups_follow_namings();
        }
        let expected = recounted(&all, &BTreeSet::from([artist("Artist 3")]));
        assert_eq!(merged.as_texts(), expected.as_texts());
        assert_eq!(merged.top_artists(10), expected.top_artists(10));
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn artist(name: &str) -> Exclusion {
        Exclusion::Artist {
            artist: name.into(),
        }
    }

    #[test]
    fn a_change_says_whether_what_is_in_force_changed() {
        let mut exclusions = Exclusions::default();
        let t = at("2024-01-01T00:00:00Z");
        assert!(!exclusions.change(&CleanUpChange::Include(artist("A")), t));
        assert!(!exclusions.any_in_force());
        assert!(exclusions.change(&CleanUpChange::Exclude(artist("A")), t));
        assert!(!exclusions.change(&CleanUpChange::Exclude(artist("A")), t));
        assert!(exclusions.change(&CleanUpChange::Include(artist("A")), t));
        assert!(!exclusions.any_in_force());
        assert_eq!(exclusions.entries().len(), 1, "put back is remembered");
    }

    #[test]
    fn a_window_s_ends_between_milliseconds_cut_where_they_fall() {
        let mut catalog = Catalog::default();
        let listen = test_listen("a", "A", "2024-01-01T00:00:00.005Z", 1000, false);
        let naming = catalog.note(&listen).naming;
        let at_5ms = listen.ts.timestamp_millis();
        let window = |from: &str, to: &str| {
            let exclusion = Exclusion::Plays {
                track_uri: listen.track_uri.clone(),
                from: at(from),
                to: at(to),
            };
            let mut exclusions = Exclusions::default();
            exclusions.change(&CleanUpChange::Exclude(exclusion), at(from));
            exclusions
                .matcher(&catalog)
                .unwrap()
                .leaves_out(&catalog, at_5ms, naming)
        };
        assert!(window(
            "2024-01-01T00:00:00.004Z",
            "2024-01-01T00:00:00.0051Z"
        ));
        assert!(!window(
            "2024-01-01T00:00:00.004Z",
            "2024-01-01T00:00:00.005Z"
        ));
        assert!(!window("2024-01-01T00:00:00.0051Z", "2024-01-01T00:00:01Z"));
        assert!(window("2024-01-01T00:00:00.0049Z", "2024-01-01T00:00:01Z"));
    }

    #[test]
    fn the_exclusions_remembered_are_bounded_forgetting_the_oldest_put_back() {
        let mut exclusions = Exclusions::default();
        let t0 = at("2024-01-01T00:00:00Z");
        for n in 0..MOST_REMEMBERED + 10 {
            let when = t0 + chrono::Duration::seconds(n as i64);
            exclusions.change(&CleanUpChange::Exclude(artist(&n.to_string())), when);
            exclusions.change(&CleanUpChange::Include(artist(&n.to_string())), when);
        }
        assert_eq!(exclusions.entries().len(), MOST_REMEMBERED);
        assert!(exclusions
            .entries()
            .all(|(exclusion, _)| exclusion != &artist("0")));
        assert!(exclusions
            .entries()
            .any(|(exclusion, _)| exclusion == &artist(&(MOST_REMEMBERED + 9).to_string())));
    }

    #[test]
    fn merging_keeps_each_exclusion_s_latest_standing() {
        let (early, late) = (at("2024-01-01T00:00:00Z"), at("2024-02-01T00:00:00Z"));
        let mut here = Exclusions::default();
        here.change(&CleanUpChange::Exclude(artist("A")), early);
        here.change(&CleanUpChange::Exclude(artist("B")), late);
        let mut there = Exclusions::default();
        there.change(&CleanUpChange::Exclude(artist("A")), early);
        there.change(&CleanUpChange::Include(artist("A")), late);
        there.change(&CleanUpChange::Exclude(artist("B")), early);
        there.change(&CleanUpChange::Include(artist("B")), early);
        // At the same instant, putting back wins, whichever is merged into which.
        here.change(&CleanUpChange::Exclude(artist("C")), late);
        there.change(&CleanUpChange::Include(artist("C")), late);
        let mut other_way = there.clone();
        other_way.merge(&here);
        here.merge(&there);
        let in_force: Vec<&Exclusion> = here.in_force().collect();
        assert_eq!(in_force, vec![&artist("B")]);
        assert_eq!(other_way, here);
    }
}
