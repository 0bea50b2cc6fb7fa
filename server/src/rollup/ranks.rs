//! Where a song or an artist stood in a person's charts over their whole
//! history: its rank in each month's ranking by plays (then listening time,
//! then name, as every ranking here), the weeks it was the most played of
//! all, and its best month. Months are read from their sums
//! ([`super::by_month`]); weeks, which cut across months, from the listens,
//! only those of the weeks in which the one followed was played.

use std::cmp::Ordering;

use app::range::{DateRange, MonthRank, RankHistory};

use crate::aggregate::months::{Counts, Month};
use crate::aggregate::{by_plays, Aggregates};
use crate::zone::{weekday_of_day_number, LocalClock, Zone, DAY_MS};

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
            weeks_at_number_one: self.weeks_at_number_one(&mut chart, zone),
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

    /// How many weeks (Monday to Sunday in `zone`) `charted` topped. Two
    /// passes over the listens: the weeks it was played in, then the
    /// listens of those weeks, grouped by week (a counting sort), each
    /// week's chart added up in turn.
    fn weeks_at_number_one(&self, chart: &mut Chart<'_>, zone: Zone) -> i64 {
        let Some(weeks) = Weeks::of(self, zone) else {
            return 0;
        };
        let charted = chart.charted;
        // What each naming counts to: one lookup a listen.
        let id_of_naming: Vec<u32> = (self.catalog().namings().iter())
            .map(|naming| chart.id_of(naming.song))
            .collect();
        let id_of = |month: &Month, index: usize| id_of_naming[month.rows()[index].naming as usize];
        let mut listens_in = vec![0usize; weeks.count];
        let mut played_in = vec![false; weeks.count];
        self.each_listen_by_week(&weeks, |week, month, index| {
            listens_in[week] += 1;
            if id_of(month, index) == charted.number() {
                played_in[week] = true;
            }
        });
        // Where each week's listens start among those kept, weeks without
        // the charted one keeping none.
        let mut starts = Vec::with_capacity(weeks.count + 1);
        let mut kept = 0;
        for (listens, played) in listens_in.iter().zip(&played_in) {
            starts.push(kept);
            kept += if *played { *listens } else { 0 };
        }
        starts.push(kept);
        let mut grouped = vec![(0u32, 0u64); kept];
        let mut next = starts.clone();
        self.each_listen_by_week(&weeks, |week, month, index| {
            if played_in[week] {
                grouped[next[week]] = (id_of(month, index), month.ms_of(index));
                next[week] += 1;
            }
        });
        let mut topped = 0;
        for week in starts.windows(2).filter(|week| week[0] < week[1]) {
            for &(id, ms) in &grouped[week[0]..week[1]] {
                chart.add(id, &Counts::one(ms, false));
            }
            if chart.close().is_some_and(|standing| standing.rank == 1) {
                topped += 1;
            }
        }
        topped
    }

    /// Every listen with its week's number, by its month and row.
    fn each_listen_by_week(&self, weeks: &Weeks, mut visit: impl FnMut(usize, &Month, usize)) {
        let mut local = LocalClock::new(weeks.zone);
        for piece in self.pieces(DateRange::ALL_TIME, weeks.zone) {
            let (start, month) = (piece.key().start(), piece.month());
            for (index, at) in piece.rows() {
                let day = local.day_number(start + i64::from(at));
                let monday = day - i64::from(weekday_of_day_number(day));
                let week = usize::try_from((monday - weeks.first_monday) / 7).unwrap_or(0);
                visit(week.min(weeks.count - 1), month, index);
            }
        }
    }
}

/// The weeks a person's listens can fall in, in a zone: numbered from the
/// one of the day before their first UTC month (no zone is a day behind).
struct Weeks {
    zone: Zone,
    first_monday: i64,
    count: usize,
}

impl Weeks {
    fn of(state: &Aggregates, zone: Zone) -> Option<Self> {
        let first = state.months().keys().next()?.start().div_euclid(DAY_MS) - 1;
        let last = state
            .months()
            .keys()
            .next_back()?
            .next()
            .start()
            .div_euclid(DAY_MS)
            + 1;
        let first_monday = first - i64::from(weekday_of_day_number(first));
        Some(Self {
            zone,
            first_monday,
            count: usize::try_from((last - first_monday) / 7 + 1).ok()?,
        })
    }
}

/// Where the one followed stood in a period's chart.
struct Standing {
    rank: u32,
    counts: Counts,
}

/// One period's chart as it is added up: sums by song or artist number,
/// kept in one vector that is emptied for the next period, so that adding
/// a listen is an index, not a hash.
struct Chart<'a> {
    state: &'a Aggregates,
    charted: Charted,
    /// The artist of each song number, for a chart of artists.
    artist_of_song: Vec<u32>,
    sums: Vec<Counts>,
    /// The numbers with plays in this period.
    touched: Vec<u32>,
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
            sums: vec![Counts::default(); len],
            touched: Vec::new(),
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

    /// Adds listens counted to `id` (each has a play).
    fn add(&mut self, id: u32, counts: &Counts) {
        let Some(sum) = self.sums.get_mut(id as usize) else {
            return;
        };
        if sum.plays == 0 {
            self.touched.push(id);
        }
        sum.add(counts);
    }

    /// The followed one's standing in what was added, if it has plays;
    /// empties the chart for the next period.
    fn close(&mut self) -> Option<Standing> {
        let own = self.charted.number();
        let counts = self.sums.get(own as usize).copied().filter(|c| c.plays > 0);
        let standing = counts.map(|counts| {
            let others = (self.touched.iter()).map(|&id| (id, &self.sums[id as usize]));
            self.standing(counts, others)
        });
        for id in self.touched.drain(..) {
            self.sums[id as usize] = Counts::default();
        }
        standing
    }

    /// The standing of the followed one, with `own` counts, among `all`.
    fn standing<'c>(&self, own: Counts, all: impl Iterator<Item = (u32, &'c Counts)>) -> Standing {
        let number = self.charted.number();
        let ahead = all
            .filter(|&other| {
                self.state.chart_order(self.charted, other, (number, &own)) == Ordering::Less
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
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&listens));
        assert!(state.months().values().any(|m| m.has_sums()));
        for name in ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"] {
            let zone = Zone::parse(name).unwrap();
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
}
