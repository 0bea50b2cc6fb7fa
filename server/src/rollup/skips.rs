//! Skips over a range: the share skipped per step, the songs skipped
//! within their first seconds, and how tracks ended on each platform.
//! A month's sums keep skips by song, not by day, time played or
//! platform, so each month's listens are read once for the zone asked
//! about and what they add up to kept ([`crate::aggregate::kept`]); a
//! range reads the months it cuts listen by listen.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use app::range::{bucket_for, DateRange};
use app::skips::{EarlySkip, PlatformEndings, SkipPoint, SkipStory, EARLY_SKIP_MS};
use chrono::NaiveDate;

use super::query::{add_label, every_step, label_of, ranked_labels, Piece};
use crate::aggregate::kept::{RunSkips, SkipTally};
use crate::aggregate::{best, Aggregates};
use crate::zone::{date_of_day_number, LocalClock, Zone};

impl Aggregates {
    /// The skips of `range` (its days in `zone`), `limit` songs skipped early.
    pub fn skip_story(&self, range: DateRange, zone: Zone, limit: usize) -> SkipStory {
        let (first_day, last_day) = self.bounds(zone);
        let bucket = bucket_for(range, first_day, last_day);
        let mut steps: BTreeMap<NaiveDate, SkipTally> = BTreeMap::new();
        // Early skips by song number; plays and skips by context number.
        let mut early = vec![0i64; self.songs().len()];
        let mut contexts = vec![SkipTally::default(); self.catalog().contexts().len()];
        for piece in self.pieces(range, zone) {
            let run = match piece.is_whole() {
                true => {
                    let listens = piece.month().rows().len();
                    let kept = self.kept_skips();
                    kept.get(zone, piece.key(), listens, || self.run_skips(&piece, zone))
                }
                false => Arc::new(self.run_skips(&piece, zone)),
            };
            for &(day, tally) in &run.days {
                let step = bucket.start_of(date_of_day_number(day));
                steps.entry(step).or_default().add(tally);
            }
            for &(context, tally) in &run.contexts {
                contexts[context as usize].add(tally);
            }
            for &(song, skips) in &run.early {
                early[song as usize] += skips;
            }
        }
        // Plays by song from the range's sums: only early skips need the listens.
        let sums = self.song_sums(range, zone);
        let songs = (early.iter().enumerate())
            .filter(|(_, early)| **early > 0)
            .map(|(song, &early)| (song as u32, (sums[song].plays, early)));
        SkipStory {
            range,
            time_zone: zone.name().to_string(),
            bucket,
            over_time: every_step(&steps, bucket, |start, tally| SkipPoint {
                start,
                plays: tally.plays,
                skips: tally.skips,
            }),
            early: self.early_skips(songs, limit),
            platforms: self.endings_by_platform(&contexts),
        }
    }

    /// The skips of a piece's listens, by day in `zone`, by context and,
    /// within their first seconds, by song.
    fn run_skips(&self, piece: &Piece<'_>, zone: Zone) -> RunSkips {
        let catalog = self.catalog();
        let (start, month) = (piece.key().start(), piece.month());
        let mut local = LocalClock::new(zone);
        let mut days: Vec<(i64, SkipTally)> = Vec::new();
        let mut contexts: BTreeMap<u32, SkipTally> = BTreeMap::new();
        let mut early: Vec<u32> = Vec::new();
        for (index, at) in piece.rows() {
            let row = &month.rows()[index];
            let skipped = catalog.context(row.context).skipped;
            let day = local.day_number(start + i64::from(at));
            // Listens come mostly in order: most are of the same day as the one before.
            match days.last_mut() {
                Some((kept, tally)) if *kept == day => tally.count(skipped),
                _ => {
                    let mut tally = SkipTally::default();
                    tally.count(skipped);
                    days.push((day, tally));
                }
            }
            contexts.entry(row.context).or_default().count(skipped);
            if skipped && (month.ms_of(index) as i64) < EARLY_SKIP_MS {
                early.push(catalog.naming(row.naming).song);
            }
        }
        days.sort_by_key(|(day, _)| *day);
        days.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1.add(later.1);
            }
            same
        });
        early.sort_unstable();
        let mut early_by_song: Vec<(u32, i64)> = Vec::new();
        for song in early {
            match early_by_song.last_mut() {
                Some((kept, skips)) if *kept == song => *skips += 1,
                _ => early_by_song.push((song, 1)),
            }
        }
        RunSkips {
            days,
            contexts: contexts.into_iter().collect(),
            early: early_by_song,
        }
    }

    /// Songs with early skips, the most first (then the higher share of
    /// plays, then by name and URI).
    fn early_skips(
        &self,
        rows: impl Iterator<Item = (u32, (i64, i64))>,
        limit: usize,
    ) -> Vec<EarlySkip> {
        let name = |song: u32| self.song_names(song).0;
        let uri = |song: u32| self.catalog().uri(song);
        let order = |a: &(u32, (i64, i64)), b: &(u32, (i64, i64))| -> Ordering {
            let ((a_song, (a_plays, a_early)), (b_song, (b_plays, b_early))) = (*a, *b);
            b_early
                .cmp(&a_early)
                .then(a_plays.cmp(&b_plays))
                .then_with(|| name(a_song).cmp(name(b_song)))
                .then_with(|| uri(a_song).cmp(&uri(b_song)))
        };
        best(rows, limit, order)
            .into_iter()
            .enumerate()
            .map(|(rank, (song, (plays, early_skips)))| {
                let (track, artist, _) = self.song_names(song);
                EarlySkip {
                    rank: rank as u32 + 1,
                    track_uri: uri(song).to_string(),
                    track_name: track.to_string(),
                    artist_name: artist.to_string(),
                    plays,
                    early_skips,
                }
            })
            .collect()
    }

    /// Plays, skips and endings by platform label, the most played first.
    fn endings_by_platform(&self, contexts: &[SkipTally]) -> Vec<PlatformEndings> {
        let catalog = self.catalog();
        let mut by_platform: BTreeMap<String, (SkipTally, BTreeMap<String, i64>)> = BTreeMap::new();
        for (context, tally) in contexts.iter().enumerate().filter(|(_, t)| t.plays > 0) {
            let context = catalog.context(context as u32);
            let platform = label_of(catalog.text(context.platform)).to_string();
            let (sum, endings) = by_platform.entry(platform).or_default();
            sum.plays += tally.plays;
            sum.skips += tally.skips;
            add_label(endings, catalog.text(context.reason_end), tally.plays);
        }
        let mut platforms: Vec<PlatformEndings> = by_platform
            .into_iter()
            .map(|(platform, (sum, endings))| PlatformEndings {
                platform,
                plays: sum.plays,
                skips: sum.skips,
                endings: ranked_labels(endings),
            })
            .collect();
        platforms.sort_by(|a, b| {
            b.plays
                .cmp(&a.plays)
                .then_with(|| a.platform.cmp(&b.platform))
        });
        platforms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};

    /// Listens over spring 2022, every ~23 minutes: some skipped, some
    /// within their first seconds, on three platforms (one unnamed), ended
    /// in three ways; months of hundreds of listens (summed) and fewer.
    fn listens() -> Vec<ListenEvent> {
        (0..5000i64)
            .map(|i| {
                let song = (i * 7 + i / 40) % 11;
                let ms = [3_000, 9_999, 10_000, 200_000][(i % 4) as usize];
                let skipped = (i * 13) % 5 < 2;
                let mut listen = test_listen(
                    &format!("s{song}"),
                    "Artist",
                    "2022-02-25T10:00:00Z",
                    ms,
                    skipped,
                );
                listen.ts += chrono::Duration::minutes(i * 23 + i % 7);
                listen.platform = ["ios", "web player", " "][(i % 3) as usize].into();
                listen.reason_end =
                    ["trackdone", "fwdbtn", "endplay"][((i / 3) % 3) as usize].into();
                listen
            })
            .collect()
    }

    #[test]
    fn skips_by_step_early_and_by_platform_equal_a_count_of_the_listens() {
        let all = listens();
        let mut state = Aggregates::default();
        // The later listens first, read, then the earlier: months read
        // before (in every zone) take listens.
        // The zones read last are read first again: what they kept is used.
        let (earlier, later) = all.split_at(2400);
        let zones = ["UTC", "America/New_York", "Europe/Berlin"];
        let again = ["Europe/Berlin", "America/New_York", "UTC"];
        for (arrived, seen, zones) in [(later, later, zones), (earlier, &all[..], again)] {
            state.apply(&BatchDelta::from_events(arrived));
            read_and_compare(&state, seen, zones);
        }
        assert!(state.months().values().any(|m| m.has_sums()));
    }

    /// Compares what `state` says of skips with a count of `listens`.
    fn read_and_compare(state: &Aggregates, listens: &[ListenEvent], zones: [&str; 3]) {
        let day = |text: &str| Some(text.parse::<NaiveDate>().unwrap());
        let ranges = [
            DateRange::ALL_TIME,
            DateRange {
                from: day("2022-03-10"),
                to: day("2022-04-20"),
            },
            DateRange {
                from: day("2022-03-27"),
                to: day("2022-03-28"),
            },
        ];
        for name in zones {
            let zone = Zone::parse(name).unwrap();
            let tz: chrono_tz::Tz = name.parse().unwrap();
            for range in ranges {
                let inside: Vec<&ListenEvent> = (listens.iter())
                    .filter(|l| range.contains(l.ts.with_timezone(&tz).date_naive()))
                    .collect();
                let story = state.skip_story(range, zone, 100);
                let what = format!("{range:?} in {name}");
                // By step (days, for ranges of days).
                let mut steps: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
                for l in &inside {
                    let step = story.bucket.start_of(l.ts.with_timezone(&tz).date_naive());
                    let sum = steps.entry(step).or_default();
                    sum.0 += 1;
                    sum.1 += i64::from(l.skipped);
                }
                let counted: BTreeMap<NaiveDate, (i64, i64)> = (story.over_time.iter())
                    .filter(|p| p.plays > 0)
                    .map(|p| (p.start, (p.plays, p.skips)))
                    .collect();
                assert_eq!(counted, steps, "steps of {what}");
                // Early skips by song.
                let mut early: BTreeMap<String, (i64, i64)> = BTreeMap::new();
                for l in &inside {
                    let sum = early.entry(l.track_uri.clone()).or_default();
                    sum.0 += 1;
                    sum.1 += i64::from(l.skipped && (l.ms_played as i64) < EARLY_SKIP_MS);
                }
                early.retain(|_, (_, skipped)| *skipped > 0);
                let listed: BTreeMap<String, (i64, i64)> = (story.early.iter())
                    .map(|s| (s.track_uri.clone(), (s.plays, s.early_skips)))
                    .collect();
                assert_eq!(listed, early, "early skips of {what}");
                assert!(story
                    .early
                    .windows(2)
                    .all(|w| w[0].early_skips >= w[1].early_skips));
                // Endings by platform.
                let mut platforms: BTreeMap<String, (i64, i64, BTreeMap<String, i64>)> =
                    BTreeMap::new();
                for l in &inside {
                    let platform = if l.platform.trim().is_empty() {
                        "unknown"
                    } else {
                        &l.platform
                    };
                    let sum = platforms.entry(platform.to_string()).or_default();
                    sum.0 += 1;
                    sum.1 += i64::from(l.skipped);
                    *sum.2.entry(l.reason_end.clone()).or_default() += 1;
                }
                let shown: BTreeMap<String, (i64, i64, BTreeMap<String, i64>)> =
                    (story.platforms.iter())
                        .map(|p| {
                            let endings = p
                                .endings
                                .iter()
                                .map(|e| (e.label.clone(), e.plays))
                                .collect();
                            (p.platform.clone(), (p.plays, p.skips, endings))
                        })
                        .collect();
                assert_eq!(shown, platforms, "platforms of {what}");
            }
        }
    }
}
