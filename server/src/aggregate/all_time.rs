//! Each song's and artist's all-time figures: most of what a person holds
//! beside the listens themselves (of the 140 MB 100 people of 10,000
//! listens hold, 47), and read only while the person looks or asks. So
//! they are worked out of the listens when first read (a fraction of a
//! millisecond at 10,000 listens), kept while read, and let go at a
//! checkpoint when nobody read them since the one before (see
//! [`super::Aggregates::rest`]); people of [`ALL_TIME_KEPT_FROM`] listens
//! or more keep them from the start.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::OnceLock;

use super::catalog::{Catalog, Naming, NO_ALBUM};
use super::growth;
use super::months::{Counts, Millis};
use super::{HeldListen, Tally};

/// People with this many listens keep their all-time figures from the
/// start: working them out again would take a millisecond or more.
pub const ALL_TIME_KEPT_FROM: u32 = 100_000;

/// A song's all-time figures and the naming it shows: that of its most
/// recent listen (ties broken by the names themselves, so the order of
/// arrival never matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SongFigures {
    pub tally: Tally,
    pub naming: u32,
}

/// The artist and album a song shows (those of its naming), kept by song
/// number beside its figures: adding a range's songs up by artist and
/// album reads these, a few to a cache line, where reading each song's
/// figures and then its naming missed the cache twice for every song.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownGroups {
    pub artist: u32,
    /// [`NO_ALBUM`] when the naming has none.
    pub album: u32,
}

impl ShownGroups {
    /// A song not counted yet shows none.
    const NONE: ShownGroups = ShownGroups {
        artist: u32::MAX,
        album: u32::MAX,
    };

    pub(super) fn of(catalog: &Catalog, naming: &Naming) -> Self {
        Self {
            artist: catalog.artist_of(naming),
            album: naming.album().unwrap_or(NO_ALBUM),
        }
    }

    /// The artist and album shown, `None` for a song not counted.
    pub fn shown(self) -> Option<Self> {
        (self != Self::NONE).then_some(self)
    }
}

impl SongFigures {
    /// A song of the catalog not counted yet.
    const UNCOUNTED: SongFigures = SongFigures {
        tally: Tally::UNCOUNTED,
        naming: u32::MAX,
    };

    pub fn is_counted(&self) -> bool {
        self.naming != u32::MAX
    }
}

/// The all-time figures of one person's listens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllTime {
    /// By song number.
    pub songs: Vec<SongFigures>,
    /// By song number: what each song's naming shows.
    pub groups: Vec<ShownGroups>,
    /// By artist number, as each listen named its artist.
    pub artists: Vec<Tally>,
}

impl AllTime {
    /// The figures of `listens` (numbers of `catalog`): the same in
    /// whatever order they are counted.
    pub fn of(catalog: &Catalog, listens: impl Iterator<Item = HeldListen>) -> Self {
        let songs = catalog.song_count();
        let mut all_time = Self {
            songs: vec![SongFigures::UNCOUNTED; songs],
            groups: vec![ShownGroups::NONE; songs],
            artists: vec![Tally::UNCOUNTED; catalog.artists().len()],
        };
        for listen in listens {
            let named = *catalog.naming(listen.naming);
            let counts = Counts::one(listen.ms, catalog.context(listen.context).skipped);
            all_time.count(catalog, listen.at, listen.naming, &named, &counts);
        }
        all_time
    }

    /// Gives every song and artist of the catalog its place.
    pub fn make_room(&mut self, catalog: &Catalog) {
        let (songs, artists) = (catalog.song_count(), catalog.artists().len());
        growth::resize(&mut self.songs, songs, SongFigures::UNCOUNTED);
        growth::resize(&mut self.groups, songs, ShownGroups::NONE);
        growth::resize(&mut self.artists, artists, Tally::UNCOUNTED);
    }

    /// Counts one listen at `at`, of naming number `naming` (`named`);
    /// whether it names its song anew.
    pub fn count(
        &mut self,
        catalog: &Catalog,
        at: Millis,
        naming: u32,
        named: &Naming,
        counts: &Counts,
    ) -> bool {
        let song = named.song as usize;
        let mut renamed = false;
        let figures = &mut self.songs[song];
        if !figures.is_counted() {
            *figures = SongFigures {
                tally: Tally::of(at, *counts),
                naming,
            };
            self.groups[song] = ShownGroups::of(catalog, named);
        } else {
            if figures.naming != naming && names_newer(catalog, at, named, figures) {
                figures.naming = naming;
                self.groups[song] = ShownGroups::of(catalog, named);
                renamed = true;
            }
            figures.tally.add(at, counts);
        }
        self.artists[catalog.artist_of(named) as usize].add(at, counts);
        renamed
    }

    /// The names song number `song` shows: track, artist, album.
    pub fn song_names<'c>(&self, catalog: &'c Catalog, song: u32) -> (&'c str, &'c str, &'c str) {
        catalog.naming_texts(catalog.naming(self.songs[song as usize].naming))
    }

    /// Each artist with listens: their number and figures.
    pub fn artists(&self) -> impl Iterator<Item = (u32, &Tally)> {
        (self.artists.iter().enumerate())
            .filter(|(_, tally)| tally.is_counted())
            .map(|(number, tally)| (number as u32, tally))
    }
}

/// Whether a listen at `at` named `named` names its song more recently
/// than the song's names: the later listen, ties broken by the names.
fn names_newer(catalog: &Catalog, at: Millis, named: &Naming, song: &SongFigures) -> bool {
    match at.cmp(&song.tally.last_listen) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => {
            let shown = catalog.naming(song.naming);
            catalog.naming_texts(named) > catalog.naming_texts(shown)
        }
    }
}

/// The all-time figures while kept, and whether they were read since
/// they were last let go or kept on.
#[derive(Debug, Default)]
pub struct KeptAllTime {
    pub(super) kept: OnceLock<AllTime>,
    read: AtomicBool,
}

impl KeptAllTime {
    /// Notes a read (written only when not noted yet: readers on other
    /// cores then share the flag's cache line unchanged).
    pub fn note_read(&self) {
        if !self.read.load(AtomicOrdering::Relaxed) {
            self.read.store(true, AtomicOrdering::Relaxed);
        }
    }

    /// Whether they were read since the last call.
    pub fn take_read(&mut self) -> bool {
        std::mem::take(self.read.get_mut())
    }
}

impl Clone for KeptAllTime {
    fn clone(&self) -> Self {
        Self {
            kept: self.kept.clone(),
            read: AtomicBool::new(self.read.load(AtomicOrdering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregates, BatchDelta};
    use crate::event::{test_listen as listen, ListenEvent};

    /// Listens arriving latest first, over several months, a song named two
    /// ways (at one instant too, where the names decide), skips, and artists
    /// of several songs.
    fn batches() -> Vec<Vec<ListenEvent>> {
        let renamed = |mut event: ListenEvent, name: &str| {
            event.track_name = name.into();
            event
        };
        vec![
            vec![
                listen("a", "Ann", "2021-03-02T10:00:00Z", 1000, false),
                renamed(listen("a", "Ann", "2021-03-02T10:00:00Z", 2000, true), "A2"),
                listen("b", "Bob", "2021-02-01T00:00:00Z", 3000, false),
            ],
            vec![
                renamed(
                    listen("a", "Ann", "2020-12-31T23:59:59Z", 4000, false),
                    "A0",
                ),
                listen("c", "Ann", "2020-11-05T08:00:00Z", 5000, true),
                listen("b", "Bob", "2021-02-01T00:00:00Z", 6000, false),
            ],
            vec![renamed(
                listen("c", "Ann", "2022-01-01T00:00:00Z", 700, false),
                "C1",
            )],
        ]
    }

    fn counted(read_first: bool) -> Aggregates {
        let mut aggregates = Aggregates::default();
        if read_first {
            assert!(aggregates.songs().is_empty());
        }
        for batch in batches() {
            aggregates.apply(&BatchDelta::from_events(&batch));
        }
        aggregates
    }

    #[test]
    fn figures_worked_out_when_first_read_are_those_counted_as_listens_came() {
        let (kept, worked_out) = (counted(true), counted(false));
        assert!(kept.keeps_all_time() && !worked_out.keeps_all_time());
        assert_eq!(worked_out.summary(), kept.summary(), "counted without them");
        assert_eq!(worked_out.top_songs(10), kept.top_songs(10));
        assert_eq!(worked_out.top_artists(10), kept.top_artists(10));
        assert!(!worked_out.keeps_all_time(), "the leaderboards keep none");
        assert_eq!(worked_out.all_time(), kept.all_time());
        assert!(worked_out.keeps_all_time());
        let shown = (0..3)
            .map(|song| kept.song_names(song).0)
            .collect::<Vec<_>>();
        assert_eq!(
            shown,
            ["Song a", "Song b", "C1"],
            "the newest names, ties by name"
        );
        let summary = kept.summary();
        assert_eq!((summary.events, summary.songs, summary.artists), (7, 3, 2));
        kept.assert_groups_follow_namings();
    }

    #[test]
    fn figures_not_read_since_the_last_rest_are_let_go() {
        let mut aggregates = counted(false);
        aggregates.rest();
        let figures = aggregates.songs().to_vec();
        aggregates.rest();
        assert!(aggregates.keeps_all_time(), "read since the last rest");
        aggregates.rest();
        assert!(!aggregates.keeps_all_time(), "not read since");
        assert_eq!(aggregates.songs(), figures, "worked out again alike");
        let more = [listen("d", "Dee", "2023-01-01T00:00:00Z", 1, false)];
        aggregates.apply(&BatchDelta::from_events(&more));
        assert_eq!(aggregates.songs().len(), 4, "kept ones count new songs");
        assert_eq!(aggregates.artist_tally(2).map(|t| t.plays), Some(1));
    }

    #[test]
    fn listens_counted_without_the_figures_change_what_kept_values_were_worked_out_with() {
        let end = "2030-01-01T00:00:00Z".parse().unwrap();
        let later = |day: u32| {
            let at = format!("2031-01-{day:02}T00:00:00Z");
            BatchDelta::from_events(&[listen("b", "Bob", &at, 1, false)])
        };
        let mut aggregates = counted(false);
        let before = aggregates.stamp_before(crate::aggregate::millis(end));
        aggregates.apply(&later(1));
        let unread = aggregates.stamp_before(crate::aggregate::millis(end));
        assert_ne!(unread, before, "names might have changed");
        aggregates.songs();
        aggregates.apply(&later(2));
        let read = aggregates.stamp_before(crate::aggregate::millis(end));
        assert_eq!(read, unread, "kept figures say no name changed");
    }

    #[test]
    fn people_of_many_listens_keep_their_figures_from_the_start() {
        let events: Vec<ListenEvent> = (0..ALL_TIME_KEPT_FROM)
            .map(|n| {
                let at = format!(
                    "2020-01-01T{:02}:{:02}:{:02}Z",
                    n / 3600 % 24,
                    n / 60 % 60,
                    n % 60
                );
                let mut event = listen(&format!("s{}", n % 500), "Ann", &at, 1, false);
                event.ts += chrono::Duration::days(i64::from(n / 86_400));
                event
            })
            .collect();
        let mut aggregates = Aggregates::default();
        aggregates.apply(&BatchDelta::from_events(&events[..events.len() - 1]));
        assert!(!aggregates.keeps_all_time(), "one listen short");
        aggregates.apply(&BatchDelta::from_events(&events[events.len() - 1..]));
        assert!(aggregates.keeps_all_time());
        aggregates.rest();
        aggregates.rest();
        assert!(aggregates.keeps_all_time(), "kept, read or not");
        assert_eq!(aggregates.songs()[0].tally.plays, ALL_TIME_KEPT_FROM / 500);
    }
}
