//! Where a song or an artist stood in a person's charts over their whole
//! history: its rank in each month's ranking by plays (then listening time,
//! then name, as every ranking here), the weeks it was the most played of
//! all, and its best month. Months are read from their sums
//! ([`super::by_month`]); weeks, which cut across months, from the listens.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use app::range::{DateRange, MonthRank, RankHistory};

use crate::aggregate::months::Counts;
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
        let mut months = Vec::new();
        self.for_each_month(zone, |month, by_song| {
            let sums = self.chart_sums(charted, by_song.iter().map(|(&id, c)| (id, c)));
            let Some(counts) = sums.get(&charted.number()) else {
                return;
            };
            let ahead = (sums.iter())
                .filter(|&(&id, other)| {
                    self.chart_order(charted, (id, other), (charted.number(), counts))
                        == Ordering::Less
                })
                .count();
            months.push(MonthRank {
                month,
                rank: ahead as u32 + 1,
                plays: counts.plays,
                ms_played: counts.ms_played,
            });
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

    /// What the chart adds up: songs as they are, or each song's to its artist.
    fn chart_sums<'c>(
        &self,
        charted: Charted,
        songs: impl Iterator<Item = (u32, &'c Counts)>,
    ) -> HashMap<u32, Counts> {
        let mut sums: HashMap<u32, Counts> = HashMap::new();
        for (song, counts) in songs {
            let id = match charted {
                Charted::Song(_) => song,
                Charted::Artist(_) => self.song_artist(song as usize),
            };
            sums.entry(id).or_default().add(counts);
        }
        sums
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

    /// How many weeks (Monday to Sunday in `zone`) `charted` topped.
    fn weeks_at_number_one(&self, charted: Charted, zone: Zone) -> i64 {
        let mut topped = 0;
        let mut close = |week: HashMap<u32, Counts>| {
            let top = (week.iter())
                .map(|(&id, counts)| (id, counts))
                .min_by(|a, b| self.chart_order(charted, *a, *b));
            if top.is_some_and(|(id, _)| id == charted.number()) {
                topped += 1;
            }
        };
        // Each week's listens by song, by its Monday (a day number), until
        // no later UTC month can add to it.
        let mut weeks: BTreeMap<i64, Vec<(u32, Counts)>> = BTreeMap::new();
        let mut local = LocalClock::new(zone);
        for piece in self.pieces(DateRange::ALL_TIME, zone) {
            let start = piece.key().start();
            // This month's listens are on local days from the day before it on.
            let open_from = start.div_euclid(DAY_MS) - 1 - 6;
            while let Some(entry) = weeks.first_entry() {
                if *entry.key() >= open_from {
                    break;
                }
                let listens = entry.remove();
                close(self.chart_sums(charted, listens.iter().map(|(id, c)| (*id, c))));
            }
            for (index, at) in piece.rows() {
                let day = local.day_number(start + i64::from(at));
                let monday = day - i64::from(weekday_of_day_number(day));
                weeks
                    .entry(monday)
                    .or_default()
                    .push(self.row_counts(piece.month(), index));
            }
        }
        for listens in weeks.into_values() {
            close(self.chart_sums(charted, listens.iter().map(|(id, c)| (*id, c))));
        }
        topped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
