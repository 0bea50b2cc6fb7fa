//! Where a song or an artist stood in a person's charts over their whole
//! history: its rank in each month's ranking by plays (then listening time,
//! then name, as every ranking here), the weeks it was the most played of
//! all, and its best month. Months are read from their sums
//! ([`super::by_month`]); weeks, which cut across months, from each week's
//! number ones kept with the figures ([`crate::aggregate::weeks`]).

use std::cmp::Ordering;

use app::range::{MonthRank, RankHistory};

use crate::aggregate::months::Counts;
use crate::aggregate::weeks::DenseSums;
use crate::aggregate::{by_plays, Aggregates};
use crate::zone::Zone;

/// What a chart ranks, and the one followed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charted {
    /// Songs, by song number.
    Song(u32),
    /// Artists (as each song shows its artist), by artist number.
    Artist(u32),
}

impl Charted {
    fn number(self) -> u32 {
        match self {
            Charted::Song(number) | Charted::Artist(number) => number,
        }
    }
}

impl Aggregates {
    /// The rank history of `charted`, its months and weeks in `zone`.
    pub fn rank_history(&self, charted: Charted, zone: Zone) -> RankHistory {
        let mut chart = Chart::new(self, charted);
        let mut months = Vec::new();
        self.for_each_month(zone, |month, by_song| {
            let standing = match charted {
                // A month's sums are its chart of songs already.
                Charted::Song(song) => (by_song
                    .binary_search_by_key(&song, |(song, _)| *song)
                    .ok())
                .map(|at| chart.standing(by_song[at].1, by_song.iter().map(|(id, c)| (*id, c)))),
                Charted::Artist(_) => {
                    for (song, counts) in by_song {
                        chart.add(chart.id_of(*song), counts);
                    }
                    chart.close()
                }
            };
            if let Some(Standing { rank, counts }) = standing {
                months.push(MonthRank {
                    month,
                    rank,
                    plays: counts.plays,
                    ms_played: counts.ms_played,
                });
            }
        });
        let best_month = months
            .iter()
            .fold(None::<MonthRank>, |best, month| match best {
                Some(best) if best.plays >= month.plays => Some(best),
                _ => Some(*month),
            });
        RankHistory {
            weeks_at_number_one: self.weeks_at_number_one(charted, zone),
            months,
            best_month,
        }
    }

    /// The chart's order: most plays, then most time, then by name (and URI).
    fn chart_order(&self, charted: Charted, a: (u32, &Counts), b: (u32, &Counts)) -> Ordering {
        by_plays(a.1, b.1).then_with(|| match charted {
            Charted::Song(_) => {
                let key = |id: u32| (self.song_names(id).0, self.catalog().uri(id));
                key(a.0).cmp(&key(b.0))
            }
            Charted::Artist(_) => {
                let name = |id: u32| self.catalog().artist_name(id);
                name(a.0).cmp(name(b.0))
            }
        })
    }

    /// How many weeks (Monday to Sunday in `zone`) `charted` topped: read
    /// from each week's number ones, ties decided by name.
    fn weeks_at_number_one(&self, charted: Charted, zone: Zone) -> i64 {
        let number = charted.number();
        let tied = Counts::default();
        self.read_week_tops(zone, |weeks| {
            let topped = weeks.values().filter(|top| {
                let tops = match charted {
                    Charted::Song(_) => &top.songs,
                    Charted::Artist(_) => &top.artists,
                };
                tops.contains(&number)
                    && (tops.iter().copied())
                        .min_by(|&a, &b| self.chart_order(charted, (a, &tied), (b, &tied)))
                        == Some(number)
            });
            topped.count() as i64
        })
    }
}

/// Where the one followed stood in a period's chart.
struct Standing {
    rank: u32,
    counts: Counts,
}

/// One month's chart of artists as it is added up.
struct Chart<'a> {
    state: &'a Aggregates,
    charted: Charted,
    /// The artist of each song number, for a chart of artists.
    artist_of_song: Vec<u32>,
    sums: DenseSums,
}

impl<'a> Chart<'a> {
    fn new(state: &'a Aggregates, charted: Charted) -> Self {
        let (artist_of_song, len) = match charted {
            Charted::Song(_) => (Vec::new(), state.songs().len()),
            Charted::Artist(_) => (
                (0..state.songs().len())
                    .map(|song| state.song_artist(song))
                    .collect(),
                state.catalog().artists().len(),
            ),
        };
        Self {
            state,
            charted,
            artist_of_song,
            sums: DenseSums::new(len),
        }
    }

    /// What the listens of song number `song` count to.
    fn id_of(&self, song: u32) -> u32 {
        match self.charted {
            Charted::Song(_) => song,
            Charted::Artist(_) => {
                (self.artist_of_song.get(song as usize).copied()).unwrap_or(u32::MAX)
            }
        }
    }

    fn add(&mut self, id: u32, counts: &Counts) {
        self.sums.add(id, counts);
    }

    /// The followed one's standing in what was added, if it has plays;
    /// empties the chart for the next period.
    fn close(&mut self) -> Option<Standing> {
        let counts = (self.sums.get(self.charted.number()).copied()).filter(|c| c.plays > 0);
        let standing = counts.map(|counts| self.standing(counts, self.sums.touched()));
        self.sums.clear();
        standing
    }

    /// The standing of the followed one, with `own` counts, among `all`.
    fn standing<'c>(&self, own: Counts, all: impl Iterator<Item = (u32, &'c Counts)>) -> Standing {
        let number = self.charted.number();
        let ahead = all
            .filter(|&other| match by_plays(other.1, &own) {
                Ordering::Equal => {
                    self.state.chart_order(self.charted, other, (number, &own)) == Ordering::Less
                }
                order => order == Ordering::Less,
            })
            .count();
        Standing {
            rank: ahead as u32 + 1,
            counts: own,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};
    use chrono::{Datelike, NaiveDate};

    /// Listens every 37 minutes or so over spring 2022 (New York's and
    /// Berlin's clocks change in it), songs of uneven popularity, some
    /// months summed (hundreds of listens) and read whole.
    fn listens() -> Vec<ListenEvent> {
        (0..4000i64)
            .map(|i| {
                let song = (i * i * 7 + i / 50) % 9;
                let mut listen = test_listen(
                    &format!("s{song}"),
                    &format!("Artist {}", song % 3),
                    "2022-02-20T05:00:00Z",
                    1000 * (1 + (i % 5) as u64),
                    false,
                );
                listen.ts += chrono::Duration::minutes(i * 37 + i % 11);
                listen
            })
            .collect()
    }

    /// Plays and time by (name, URI).
    type Sums = HashMap<(String, String), (i64, i64)>;

    /// The rank history of the song or artist `key_of` gives `wanted`,
    /// counted listen by listen with chrono-tz's local times.
    fn counted(
        listens: &[ListenEvent],
        zone: Zone,
        key_of: impl Fn(&ListenEvent) -> (String, String),
        wanted: &str,
    ) -> RankHistory {
        let tz: chrono_tz::Tz = zone.name().parse().unwrap();
        let mut months: BTreeMap<NaiveDate, Sums> = BTreeMap::new();
        let mut weeks: BTreeMap<NaiveDate, Sums> = BTreeMap::new();
        for listen in listens {
            let day = listen.ts.with_timezone(&tz).date_naive();
            let month = day.with_day(1).unwrap();
            let monday = day - chrono::Duration::days(day.weekday().num_days_from_monday().into());
            for (at, sums) in [(month, &mut months), (monday, &mut weeks)] {
                let sum = sums
                    .entry(at)
                    .or_default()
                    .entry(key_of(listen))
                    .or_default();
                sum.0 += 1;
                sum.1 += listen.ms_played as i64;
            }
        }
        // Ahead: more plays, more time, or the same and an earlier name.
        let ahead = |a: &((String, String), (i64, i64)), b: &((String, String), (i64, i64))| {
            (b.1 .0, b.1 .1, &a.0) < (a.1 .0, a.1 .1, &b.0)
        };
        let mut history = RankHistory::default();
        for (month, sums) in &months {
            let Some(entry) = sums.iter().find(|(key, _)| key.0 == wanted) else {
                continue;
            };
            let entry = (entry.0.clone(), *entry.1);
            let rank = sums
                .iter()
                .filter(|(key, counts)| ahead(&((*key).clone(), **counts), &entry))
                .count();
            history.months.push(MonthRank {
                month: *month,
                rank: rank as u32 + 1,
                plays: entry.1 .0,
                ms_played: entry.1 .1,
            });
        }
        for sums in weeks.values() {
            let mut rows: Vec<((String, String), (i64, i64))> =
                sums.iter().map(|(k, c)| (k.clone(), *c)).collect();
            rows.sort_by(|a, b| {
                if ahead(a, b) {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            });
            if rows[0].0 .0 == wanted {
                history.weeks_at_number_one += 1;
            }
        }
        history.best_month = history
            .months
            .iter()
            .fold(None, |best: Option<MonthRank>, m| match best {
                Some(best) if best.plays >= m.plays => Some(best),
                _ => Some(*m),
            });
        history
    }

    #[test]
    fn ranks_by_month_weeks_at_number_one_and_the_best_month_equal_a_count_in_each_zone() {
        let listens = listens();
        let zones = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"]
            .map(|name| Zone::parse(name).unwrap());
        let mut state = Aggregates::default();
        // Weeks at number one read in every zone half way, then brought
        // up to date with the rest (listens of the same weeks among them).
        let (first, rest) = listens.split_at(2300);
        state.apply(&BatchDelta::from_events(first));
        for zone in zones {
            state.rank_history(Charted::Song(0), zone);
        }
        state.apply(&BatchDelta::from_events(rest.iter().rev()));
        assert!(state.months().values().any(|m| m.has_sums()));
        for zone in zones {
            let name = zone.name();
            let mut topped = 0;
            for song in 0..9 {
                let uri = format!("spotify:track:s{song}");
                let number = state.catalog().song_number(&uri).unwrap();
                let expected = counted(
                    &listens,
                    zone,
                    |l| (l.track_name.clone(), l.track_uri.clone()),
                    &format!("Song s{song}"),
                );
                let history = state.rank_history(Charted::Song(number), zone);
                assert_eq!(history, expected, "{uri} in {name}");
                topped += history.weeks_at_number_one;
            }
            for artist in 0..3 {
                let artist = format!("Artist {artist}");
                let number = state.catalog().artist_number(&artist).unwrap();
                let expected = counted(
                    &listens,
                    zone,
                    |l| (l.artist_name.clone(), String::new()),
                    &artist,
                );
                let history = state.rank_history(Charted::Artist(number), zone);
                assert_eq!(history, expected, "{artist} in {name}");
            }
            // Every week has one song at number one.
            let weeks = (listens.len() as i64 * 37 / 60 / 24 + 2) / 7;
            assert!(
                (weeks..=weeks + 2).contains(&topped),
                "{topped} of about {weeks} weeks"
            );
        }
    }

    #[test]
    fn weeks_at_number_one_follow_a_song_that_a_newer_listen_gives_another_artist() {
        let mut listens = listens();
        let zone = Zone::parse("Asia/Kolkata").unwrap();
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&listens));
        let artist = |state: &Aggregates, name: &str| {
            let number = state.catalog().artist_number(name).unwrap();
            state.rank_history(Charted::Artist(number), zone)
        };
        assert!(artist(&state, "Artist 0").weeks_at_number_one > 0);
        // The last listen of s0 names another artist: every listen of s0
        // now counts to it, in every week.
        let mut renaming = test_listen("s0", "Artist 9", "2022-08-01T00:00:00Z", 1000, false);
        renaming.ts = listens.last().unwrap().ts + chrono::Duration::hours(1);
        state.apply(&BatchDelta::from_events([&renaming]));
        listens.push(renaming);
        let key = |l: &ListenEvent| match l.track_uri.as_str() {
            "spotify:track:s0" => ("Artist 9".to_string(), String::new()),
            _ => (l.artist_name.clone(), String::new()),
        };
        for name in ["Artist 0", "Artist 1", "Artist 9"] {
            assert_eq!(
                artist(&state, name),
                counted(&listens, zone, key, name),
                "{name}"
            );
        }
    }
}
