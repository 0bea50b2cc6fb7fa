//! Where a song or an artist stood in a person's charts over their whole
//! history: its rank in each month's ranking by plays (then listening time,
//! then name, as every ranking here), the weeks it was the most played of
//! all, and its best month. Both are read from the charts kept with the
//! figures ([`super::charts`]): a page reads a few hundred periods, not
//! every listen.

use std::cmp::Ordering;

use app::range::{MonthRank, RankHistory, TimePoint};

use crate::aggregate::charts::MonthChart;
use crate::aggregate::months::Counts;
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
    /// The rank history of `charted`, whose plays by month over all time
    /// in `zone` are `own`: each placed in its month's chart kept with the
    /// figures, and the weeks it was number one of.
    pub fn rank_history(&self, charted: Charted, own: &[TimePoint], zone: Zone) -> RankHistory {
        self.with_charts(zone, |charts| {
            let kept = match charted {
                Charted::Song(_) => &charts.song_months,
                Charted::Artist(_) => &charts.artist_months,
            };
            let months: Vec<MonthRank> = (own.iter().filter(|point| point.plays > 0))
                .map(|point| {
                    let counts = Counts {
                        plays: point.plays,
                        ms_played: point.ms_played,
                        skips: 0,
                    };
                    MonthRank {
                        month: point.start,
                        rank: self.rank_in(kept.get(&point.start), charted, &counts),
                        plays: point.plays,
                        ms_played: point.ms_played,
                    }
                })
                .collect();
            let best_month = months
                .iter()
                .fold(None::<MonthRank>, |best, month| match best {
                    Some(best) if best.plays >= month.plays => Some(best),
                    _ => Some(*month),
                });
            let topped = charts.weeks.values().filter(|top| {
                let tops = match charted {
                    Charted::Song(_) => &top.songs,
                    Charted::Artist(_) => &top.artists,
                };
                self.ahead_by_name(charted, tops) == Some(charted.number())
            });
            RankHistory {
                weeks_at_number_one: topped.count() as i64,
                months,
                best_month,
            }
        })
    }

    /// The rank of `charted`, with `counts`, in a month's chart: one past
    /// those with more plays or time, and those tied whose name comes first.
    fn rank_in(&self, chart: Option<&MonthChart>, charted: Charted, counts: &Counts) -> u32 {
        let (ahead, tied) = chart.map_or((0, &[][..]), |chart| chart.around(counts));
        let own = charted.number();
        let named_first = (tied.iter())
            .filter(|&&id| {
                id != own
                    && self.chart_order(charted, (id, counts), (own, counts)) == Ordering::Less
            })
            .count();
        (ahead + named_first + 1) as u32
    }

    /// Which of `tied` (tied on plays and time) a chart puts first, by name.
    fn ahead_by_name(&self, charted: Charted, tied: &[u32]) -> Option<u32> {
        let counts = Counts::default();
        if tied.len() <= 1 {
            return tied.first().copied();
        }
        (tied.iter().copied())
            .min_by(|&a, &b| self.chart_order(charted, (a, &counts), (b, &counts)))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};
    use app::range::DateRange;
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

    impl Aggregates {
        /// The rank history of `charted` in `zone`, its months read as a page reads them.
        fn history(&self, charted: Charted, zone: Zone) -> RankHistory {
            let songs = match charted {
                Charted::Song(song) => vec![song],
                Charted::Artist(artist) => self.songs_of_artist(artist),
            };
            let own = self.follow(DateRange::ALL_TIME, zone, &songs).over_time;
            self.rank_history(charted, &own, zone)
        }
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
            state.history(Charted::Song(0), zone);
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
                let history = state.history(Charted::Song(number), zone);
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
                let history = state.history(Charted::Artist(number), zone);
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
    fn months_read_before_take_the_listens_a_zone_moves_into_them_and_old_ones() {
        let zone = Zone::parse("America/New_York").unwrap();
        let at = |song: &str, ts: &str| test_listen(song, "Artist", ts, 1000, false);
        let mut listens: Vec<ListenEvent> = (["a", "a", "a", "b", "b"].iter().enumerate())
            .map(|(day, song)| at(song, &format!("2022-03-1{day}T12:00:00Z")))
            .collect();
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&listens));
        let song = |state: &Aggregates, uri: &str| {
            let number = state.catalog().song_number(uri).unwrap();
            state.history(Charted::Song(number), zone)
        };
        let b = song(&state, "spotify:track:b");
        assert_eq!(b.months[0].rank, 2);
        // 22:00 on March 31st in New York: April in UTC, March there; and
        // a listen of a year before, months away from those.
        let late = vec![
            at("b", "2022-04-01T02:00:00Z"),
            at("b", "2022-04-01T02:30:00Z"),
            at("a", "2021-01-15T12:00:00Z"),
        ];
        state.apply(&BatchDelta::from_events(&late));
        listens.extend(late);
        for name in ["a", "b"] {
            let expected = counted(
                &listens,
                zone,
                |l| (l.track_name.clone(), l.track_uri.clone()),
                &format!("Song {name}"),
            );
            assert_eq!(
                song(&state, &format!("spotify:track:{name}")),
                expected,
                "{name}"
            );
        }
        assert_eq!(song(&state, "spotify:track:b").months[0].rank, 1);
    }

    #[test]
    fn weeks_at_number_one_follow_a_song_that_a_newer_listen_gives_another_artist() {
        let mut listens = listens();
        let zone = Zone::parse("Asia/Kolkata").unwrap();
        let mut state = Aggregates::default();
        state.apply(&BatchDelta::from_events(&listens));
        let artist = |state: &Aggregates, name: &str| {
            let number = state.catalog().artist_number(name).unwrap();
            state.history(Charted::Artist(number), zone)
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
