//! Time-range questions answered from the [`RangeIndex`]: the days of the
//! range are added up, song by song, into one array, and everything else
//! (artists, albums, skips) is read from that sum.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use app::model::{ranking_order, TopArtist, TopSong};
use app::range::{
    bucket_for, ArtistDetail, Bucket, ClockCell, DateRange, Metric, RangeQuery, RangeView, Share,
    Shares, SkippedSong, SongDetail, TimePoint, TopAlbum,
};
use chrono::{Datelike, NaiveDate};

use super::index::RangeIndex;
use crate::aggregate::best;
use crate::aggregate::days::{Counts, DayIndex};

/// Plays a song needs in a range before its skips rank it on the dashboard.
pub const MIN_PLAYS_TO_RANK_SKIPS: i64 = 5;

/// How a ranking by `metric` orders two rows: the metric first, then the
/// other figure, then the name.
fn metric_order(metric: Metric, a: (&Counts, &str), b: (&Counts, &str)) -> Ordering {
    match metric {
        Metric::Plays => ranking_order(
            (a.0.plays, a.0.ms_played, a.1),
            (b.0.plays, b.0.ms_played, b.1),
        ),
        Metric::Time => ranking_order(
            (a.0.ms_played, a.0.plays, a.1),
            (b.0.ms_played, b.0.plays, b.1),
        ),
    }
}

/// What the listens of some songs add up to in a range.
struct Followed {
    totals: Counts,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    /// Month by month, gaps filled.
    over_time: Vec<TimePoint>,
}

impl RangeIndex {
    /// Every day of every partition within `range`.
    fn days_in(&self, range: DateRange) -> impl Iterator<Item = (NaiveDate, &DayIndex)> {
        let bounds = range.bounds();
        self.partitions.values().flat_map(move |partition| {
            bounds
                .clone()
                .into_iter()
                .flat_map(|bounds| partition.days.range(bounds))
                .map(|(day, index)| (*day, index))
        })
    }

    /// The first and last day with listens.
    pub fn bounds(&self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let first = self
            .partitions
            .values()
            .filter_map(|p| p.days.keys().next())
            .min()
            .copied();
        let last = self
            .partitions
            .values()
            .filter_map(|p| p.days.keys().next_back())
            .max()
            .copied();
        (first, last)
    }

    /// Each song's counts over the range, by song number: whole years and
    /// months where the range covers them, days only at its ends.
    fn song_sums(&self, range: DateRange) -> Vec<Counts> {
        let mut sums = vec![Counts::default(); self.songs.len()];
        let mut add = |songs: &[(u32, Counts)]| {
            for (id, counts) in songs {
                sums[*id as usize].add(counts);
            }
        };
        let covers = |first: NaiveDate, after_last: Option<NaiveDate>| {
            range.from.is_none_or(|from| first >= from)
                && range
                    .to
                    .is_none_or(|to| after_last.is_some_and(|end| end <= to))
        };
        for partition in self.partitions.values() {
            for (year, songs) in &partition.years {
                let first = NaiveDate::from_ymd_opt(*year, 1, 1).unwrap_or(NaiveDate::MIN);
                let next = NaiveDate::from_ymd_opt(*year + 1, 1, 1);
                if covers(first, next) {
                    add(songs);
                    continue;
                }
                if range.to.is_some_and(|to| to <= first)
                    || range
                        .from
                        .is_some_and(|from| next.is_some_and(|n| n <= from))
                {
                    continue;
                }
                for (month, songs) in partition
                    .months
                    .range(first..next.unwrap_or(NaiveDate::MAX))
                {
                    let next_month = month.checked_add_months(chrono::Months::new(1));
                    if covers(*month, next_month) {
                        add(songs);
                        continue;
                    }
                    let lower = range.from.map_or(*month, |from| from.max(*month));
                    let upper = match (range.to, next_month) {
                        (Some(to), Some(next)) => to.min(next),
                        (Some(to), None) => to,
                        (None, Some(next)) => next,
                        (None, None) => NaiveDate::MAX,
                    };
                    if lower < upper {
                        for day in partition.days.range(lower..upper).map(|(_, day)| day) {
                            add(&day.songs);
                        }
                    }
                }
            }
        }
        sums
    }

    fn top_song(&self, rank: usize, id: usize, counts: &Counts) -> TopSong {
        let song = &self.songs[id];
        TopSong {
            rank: rank as u32 + 1,
            track_uri: song.track_uri.to_string(),
            track_name: song.track_name.to_string(),
            artist_name: self.artists.get(song.artist).to_string(),
            album_name: song
                .album
                .map(|album| self.albums[album as usize].1.to_string())
                .unwrap_or_default(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        }
    }

    fn ranked_songs(
        &self,
        sums: &[Counts],
        metric: Metric,
        limit: usize,
        only_artist: Option<u32>,
    ) -> Vec<TopSong> {
        let rows: Vec<(usize, &Counts)> = sums
            .iter()
            .enumerate()
            .filter(|(id, counts)| {
                counts.plays > 0
                    && only_artist.is_none_or(|artist| self.songs[*id].artist == artist)
            })
            .collect();
        let name = |id: usize| &*self.songs[id].track_name;
        best(rows, limit, |a, b| {
            metric_order(metric, (a.1, name(a.0)), (b.1, name(b.0)))
                .then_with(|| self.songs[a.0].track_uri.cmp(&self.songs[b.0].track_uri))
        })
        .into_iter()
        .enumerate()
        .map(|(rank, (id, counts))| self.top_song(rank, id, counts))
        .collect()
    }

    pub fn top_songs(&self, range: DateRange, metric: Metric, limit: usize) -> Vec<TopSong> {
        self.ranked_songs(&self.song_sums(range), metric, limit, None)
    }

    /// The days `query` asks about: a preset counts back from the latest day with listens.
    pub fn resolve(&self, query: &RangeQuery) -> DateRange {
        query.range(self.bounds().1)
    }

    /// Everything the dashboard's range view shows, the songs added up once.
    pub fn view(&self, query: &RangeQuery, limit: usize) -> RangeView {
        let (first_day, last_day) = self.bounds();
        let range = query.range(last_day);
        let bucket = bucket_for(range, first_day, last_day);
        let sums = self.song_sums(range);
        let over_time = self.over_time(range, bucket);
        RangeView {
            query: *query,
            range,
            first_day,
            last_day,
            plays: over_time.iter().map(|point| point.plays).sum(),
            ms_played: over_time.iter().map(|point| point.ms_played).sum(),
            top_songs: self.ranked_songs(&sums, query.metric, limit, None),
            top_artists: self.ranked_artists(&sums, query.metric, limit),
            top_albums: self.ranked_albums(&sums, query.metric, limit),
            most_skipped: self.skipped_songs(&sums, MIN_PLAYS_TO_RANK_SKIPS, limit),
            clock: self.clock(range),
            bucket,
            over_time,
            shares: self.shares(range),
        }
    }

    /// Songs' counts added up by artist.
    fn artist_sums(&self, sums: &[Counts]) -> Vec<Counts> {
        let mut artists = vec![Counts::default(); self.artists.len()];
        for (id, counts) in sums.iter().enumerate() {
            artists[self.songs[id].artist as usize].add(counts);
        }
        artists
    }

    pub fn top_artists(&self, range: DateRange, metric: Metric, limit: usize) -> Vec<TopArtist> {
        self.ranked_artists(&self.song_sums(range), metric, limit)
    }

    fn ranked_artists(&self, songs: &[Counts], metric: Metric, limit: usize) -> Vec<TopArtist> {
        let sums = self.artist_sums(songs);
        let rows: Vec<(usize, &Counts)> = sums
            .iter()
            .enumerate()
            .filter(|(_, c)| c.plays > 0)
            .collect();
        best(rows, limit, |a, b| {
            metric_order(
                metric,
                (a.1, self.artists.get(a.0 as u32)),
                (b.1, self.artists.get(b.0 as u32)),
            )
        })
        .into_iter()
        .enumerate()
        .map(|(rank, (id, counts))| TopArtist {
            rank: rank as u32 + 1,
            artist_name: self.artists.get(id as u32).to_string(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        })
        .collect()
    }

    pub fn top_albums(&self, range: DateRange, metric: Metric, limit: usize) -> Vec<TopAlbum> {
        self.ranked_albums(&self.song_sums(range), metric, limit)
    }

    fn ranked_albums(&self, songs: &[Counts], metric: Metric, limit: usize) -> Vec<TopAlbum> {
        let mut sums = vec![Counts::default(); self.albums.len()];
        for (id, counts) in songs.iter().enumerate() {
            if let Some(album) = self.songs[id].album {
                sums[album as usize].add(counts);
            }
        }
        let rows: Vec<(usize, &Counts)> = sums
            .iter()
            .enumerate()
            .filter(|(_, c)| c.plays > 0)
            .collect();
        let name = |id: usize| &self.albums[id].1;
        best(rows, limit, |a, b| {
            metric_order(metric, (a.1, name(a.0)), (b.1, name(b.0))).then_with(|| {
                self.artists
                    .get(self.albums[a.0].0)
                    .cmp(self.artists.get(self.albums[b.0].0))
            })
        })
        .into_iter()
        .enumerate()
        .map(|(rank, (id, counts))| TopAlbum {
            rank: rank as u32 + 1,
            album_name: self.albums[id].1.to_string(),
            artist_name: self.artists.get(self.albums[id].0).to_string(),
            plays: counts.plays,
            ms_played: counts.ms_played,
            skips: counts.skips,
        })
        .collect()
    }

    /// Songs with at least `min_plays` plays, most skips first (then the
    /// higher skip rate, then the name).
    pub fn most_skipped(&self, range: DateRange, min_plays: i64, limit: usize) -> Vec<SkippedSong> {
        self.skipped_songs(&self.song_sums(range), min_plays, limit)
    }

    fn skipped_songs(&self, sums: &[Counts], min_plays: i64, limit: usize) -> Vec<SkippedSong> {
        let rows: Vec<(usize, &Counts)> = sums
            .iter()
            .enumerate()
            .filter(|(_, c)| c.plays >= min_plays.max(1) && c.skips > 0)
            .collect();
        // Rates compared as fractions, exactly: a/b > c/d  ⇔  a·d > c·b.
        let order = |a: &(usize, &Counts), b: &(usize, &Counts)| {
            b.1.skips
                .cmp(&a.1.skips)
                .then_with(|| (b.1.skips * a.1.plays).cmp(&(a.1.skips * b.1.plays)))
                .then_with(|| self.songs[a.0].track_name.cmp(&self.songs[b.0].track_name))
                .then_with(|| self.songs[a.0].track_uri.cmp(&self.songs[b.0].track_uri))
        };
        best(rows, limit, order)
            .into_iter()
            .enumerate()
            .map(|(rank, (id, counts))| {
                let song = self.top_song(rank, id, counts);
                SkippedSong {
                    rank: song.rank,
                    track_uri: song.track_uri,
                    track_name: song.track_name,
                    artist_name: song.artist_name,
                    plays: counts.plays,
                    skips: counts.skips,
                    skip_rate: counts.skips as f64 / counts.plays as f64,
                }
            })
            .collect()
    }

    /// Plays and listening time by weekday and hour (UTC): 7 × 24 cells, Monday first.
    pub fn clock(&self, range: DateRange) -> Vec<ClockCell> {
        let mut cells: Vec<ClockCell> = (0..7u8)
            .flat_map(|weekday| {
                (0..24u8).map(move |hour| ClockCell {
                    weekday,
                    hour,
                    plays: 0,
                    ms_played: 0,
                })
            })
            .collect();
        for (day, index) in self.days_in(range) {
            let weekday = day.weekday().num_days_from_monday() as usize;
            for (hour, counts) in index.rest.hours.iter().enumerate() {
                let cell = &mut cells[weekday * 24 + hour];
                cell.plays += counts.plays;
                cell.ms_played += counts.ms_played;
            }
        }
        cells
    }

    /// Plays and listening time per step of `bucket`, steps without listens included.
    pub fn over_time(&self, range: DateRange, bucket: Bucket) -> Vec<TimePoint> {
        let mut steps: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        for (day, index) in self.days_in(range) {
            let step = steps.entry(bucket.start_of(day)).or_default();
            for hour in &index.rest.hours {
                step.add(hour);
            }
        }
        fill_gaps(steps, bucket)
    }

    /// How the plays of the range split by platform, shuffle and the way tracks started and ended.
    pub fn shares(&self, range: DateRange) -> Shares {
        let mut platforms = BTreeMap::new();
        let mut starts = BTreeMap::new();
        let mut ends = BTreeMap::new();
        let mut shares = Shares::default();
        for (_, day) in self.days_in(range) {
            shares.plays += day.rest.plays();
            shares.shuffled += day.rest.shuffled;
            add_labels(&mut platforms, &day.rest.platforms);
            add_labels(&mut starts, &day.rest.reason_start);
            add_labels(&mut ends, &day.rest.reason_end);
        }
        shares.platforms = ranked_labels(platforms);
        shares.reason_start = ranked_labels(starts);
        shares.reason_end = ranked_labels(ends);
        shares
    }

    /// An artist's totals, first and last day, plays by month and top songs in the range.
    pub fn artist_detail(
        &self,
        name: &str,
        range: DateRange,
        limit: usize,
    ) -> Option<ArtistDetail> {
        let artist = self.artist_id(name)?;
        let of_artist = |id: u32| self.songs[id as usize].artist == artist;
        let Followed {
            totals,
            first,
            last,
            over_time,
        } = self.follow(range, of_artist);
        let top_songs =
            self.ranked_songs(&self.song_sums(range), Metric::Plays, limit, Some(artist));
        Some(ArtistDetail {
            artist_name: name.to_string(),
            plays: totals.plays,
            ms_played: totals.ms_played,
            skips: totals.skips,
            first_listen: first,
            last_listen: last,
            over_time,
            top_songs,
        })
    }

    /// A song's totals, first and last day and plays by month in the range.
    pub fn song_detail(&self, track_uri: &str, range: DateRange) -> Option<SongDetail> {
        let song = self.song_id(track_uri)?;
        let Followed {
            totals,
            first,
            last,
            over_time,
        } = self.follow(range, |id| id == song);
        Some(SongDetail {
            song: self.top_song(0, song as usize, &totals),
            first_listen: first,
            last_listen: last,
            over_time,
        })
    }

    /// Totals, first and last day and months of the songs `wanted` picks.
    fn follow(&self, range: DateRange, wanted: impl Fn(u32) -> bool) -> Followed {
        let mut totals = Counts::default();
        let (mut first, mut last) = (None::<NaiveDate>, None::<NaiveDate>);
        let mut months: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        for (day, index) in self.days_in(range) {
            for (_, counts) in index.songs.iter().filter(|(id, _)| wanted(*id)) {
                totals.add(counts);
                months
                    .entry(Bucket::Month.start_of(day))
                    .or_default()
                    .add(counts);
                first = Some(first.map_or(day, |f| f.min(day)));
                last = Some(last.map_or(day, |l| l.max(day)));
            }
        }
        Followed {
            totals,
            first,
            last,
            over_time: fill_gaps(months, Bucket::Month),
        }
    }
}

/// The steps from the first to the last, the empty ones as zeros.
fn fill_gaps(steps: BTreeMap<NaiveDate, Counts>, bucket: Bucket) -> Vec<TimePoint> {
    let (Some(&first), Some(&last)) = (steps.keys().next(), steps.keys().next_back()) else {
        return Vec::new();
    };
    let mut points = Vec::new();
    let mut step = first;
    while step <= last {
        let counts = steps.get(&step).copied().unwrap_or_default();
        points.push(TimePoint {
            start: step,
            plays: counts.plays,
            ms_played: counts.ms_played,
        });
        step = match bucket {
            Bucket::Day => step + chrono::Duration::days(1),
            Bucket::Week => step + chrono::Duration::days(7),
            Bucket::Month => step
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        };
    }
    points
}

fn add_labels(into: &mut BTreeMap<String, i64>, from: &BTreeMap<String, i64>) {
    for (label, plays) in from {
        let label = if label.trim().is_empty() {
            "unknown"
        } else {
            label.as_str()
        };
        *into.entry(label.to_string()).or_default() += plays;
    }
}

/// Labels, most plays first.
fn ranked_labels(labels: BTreeMap<String, i64>) -> Vec<Share> {
    let mut shares: Vec<Share> = labels
        .into_iter()
        .map(|(label, plays)| Share { label, plays })
        .collect();
    shares.sort_by(|a, b| b.plays.cmp(&a.plays).then_with(|| a.label.cmp(&b.label)));
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::BatchDelta;
    use crate::event::{test_listen, ListenEvent};

    fn listen(song: &str, artist: &str, ts: &str, ms: u64, skipped: bool) -> ListenEvent {
        test_listen(song, artist, ts, ms, skipped)
    }

    fn index_of(listens: &[ListenEvent]) -> RangeIndex {
        let mut index = RangeIndex::default();
        // Two partitions, as the consumer would have them: by artist.
        let (a, b): (Vec<_>, Vec<_>) = listens.iter().partition(|l| l.artist_name.as_str() < "M");
        index.apply(0, &BatchDelta::from_events(a), 1);
        index.apply(1, &BatchDelta::from_events(b), 1);
        index
    }

    fn range(from: &str, to: &str) -> DateRange {
        DateRange::parse(Some(from), Some(to)).unwrap()
    }

    fn sample() -> Vec<ListenEvent> {
        vec![
            listen("a", "Adele", "2024-01-31T23:59:59Z", 1000, false),
            listen("a", "Adele", "2024-02-01T00:00:00Z", 1000, true),
            listen("b", "Adele", "2024-02-01T10:00:00Z", 9000, false),
            listen("c", "Muse", "2024-02-02T10:00:00Z", 500, true),
            listen("c", "Muse", "2024-02-03T10:00:00Z", 500, true),
            listen("c", "Muse", "2024-02-29T10:00:00Z", 500, false),
            listen("d", "Muse", "2024-03-01T00:00:00Z", 100, false),
        ]
    }

    #[test]
    fn ranges_include_from_and_exclude_to_at_midnight_utc() {
        let index = index_of(&sample());
        let february = index.top_songs(range("2024-02-01", "2024-03-01"), Metric::Plays, 10);
        let rows: Vec<(&str, i64)> = february
            .iter()
            .map(|s| (s.track_name.as_str(), s.plays))
            .collect();
        assert_eq!(rows, vec![("Song c", 3), ("Song b", 1), ("Song a", 1)]);
        let all = index.top_songs(DateRange::ALL_TIME, Metric::Plays, 10);
        assert_eq!(all.iter().map(|s| s.plays).sum::<i64>(), 7);
    }

    #[test]
    fn a_reversed_range_answers_nothing_instead_of_panicking() {
        let index = index_of(&sample());
        let reversed = DateRange {
            from: "2024-03-01".parse().ok(),
            to: "2024-02-01".parse().ok(),
        };
        assert!(index.top_songs(reversed, Metric::Plays, 10).is_empty());
        assert!(index.clock(reversed).iter().all(|cell| cell.plays == 0));
        assert!(index.over_time(reversed, Bucket::Day).is_empty());
    }

    #[test]
    fn sums_over_years_months_and_days_equal_sums_day_by_day() {
        let listens: Vec<ListenEvent> = (0..400)
            .map(|i: i64| {
                let mut l = listen(
                    &format!("s{}", i % 13),
                    if i % 2 == 0 { "Adele" } else { "Muse" },
                    "2021-11-20T12:00:00Z",
                    1000,
                    false,
                );
                l.ts += chrono::Duration::hours(i * 37);
                l
            })
            .collect();
        let index = index_of(&listens);
        let by_day = |range: DateRange| {
            let mut sums = vec![Counts::default(); index.songs.len()];
            for (_, day) in index.days_in(range) {
                for (id, counts) in &day.songs {
                    sums[*id as usize].add(counts);
                }
            }
            sums
        };
        let ranges = [
            DateRange::ALL_TIME,
            range("2021-12-01", "2022-01-01"),
            range("2021-12-15", "2022-03-02"),
            range("2022-01-01", "2023-01-01"),
            range("2021-11-21", "2023-06-01"),
            DateRange {
                from: Some("2022-02-10".parse().unwrap()),
                to: None,
            },
            DateRange {
                from: None,
                to: Some("2022-05-31".parse().unwrap()),
            },
            range("2030-01-01", "2031-01-01"),
        ];
        for range in ranges {
            assert_eq!(index.song_sums(range), by_day(range), "{range:?}");
        }
    }

    #[test]
    fn rankings_by_time_order_by_listening_time() {
        let index = index_of(&sample());
        let artists = index.top_artists(DateRange::ALL_TIME, Metric::Time, 10);
        assert_eq!(artists[0].artist_name, "Adele");
        assert_eq!((artists[0].plays, artists[0].ms_played), (3, 11_000));
        let by_plays = index.top_artists(DateRange::ALL_TIME, Metric::Plays, 1);
        assert_eq!(by_plays[0].artist_name, "Muse");
        let albums = index.top_albums(range("2024-02-01", "2024-02-02"), Metric::Plays, 5);
        assert_eq!(albums.len(), 1, "one album per artist: {albums:?}");
        assert_eq!(
            (albums[0].artist_name.as_str(), albums[0].plays),
            ("Adele", 2)
        );
    }

    #[test]
    fn most_skipped_needs_the_minimum_plays_and_ranks_by_skips_then_rate() {
        let index = index_of(&sample());
        let skipped = index.most_skipped(DateRange::ALL_TIME, 2, 10);
        let rows: Vec<(&str, i64, i64)> = skipped
            .iter()
            .map(|s| (s.track_name.as_str(), s.skips, s.plays))
            .collect();
        assert_eq!(rows, vec![("Song c", 2, 3), ("Song a", 1, 2)]);
        assert!((skipped[1].skip_rate - 0.5).abs() < 1e-9);
        assert!(index
            .most_skipped(DateRange::ALL_TIME, 3, 10)
            .iter()
            .all(|s| s.plays >= 3));
    }

    #[test]
    fn the_clock_puts_each_listen_in_its_weekday_and_hour() {
        let index = index_of(&sample());
        let clock = index.clock(DateRange::ALL_TIME);
        assert_eq!(clock.len(), 7 * 24);
        // 2024-02-01 and 2024-02-29 were Thursdays (3), both at 10:00 UTC.
        let cell = clock
            .iter()
            .find(|c| c.weekday == 3 && c.hour == 10)
            .unwrap();
        assert_eq!((cell.plays, cell.ms_played), (2, 9500));
        assert_eq!(clock.iter().map(|c| c.plays).sum::<i64>(), 7);
    }

    #[test]
    fn time_series_have_every_step_from_first_to_last() {
        let index = index_of(&sample());
        let months = index.over_time(DateRange::ALL_TIME, Bucket::Month);
        let rows: Vec<(String, i64)> = months
            .iter()
            .map(|p| (p.start.to_string(), p.plays))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2024-01-01".into(), 1),
                ("2024-02-01".into(), 5),
                ("2024-03-01".into(), 1)
            ]
        );
        let days = index.over_time(range("2024-02-01", "2024-02-05"), Bucket::Day);
        assert_eq!(
            days.iter().map(|p| p.plays).collect::<Vec<_>>(),
            vec![2, 1, 1]
        );
        let weeks = index.over_time(DateRange::ALL_TIME, Bucket::Week);
        assert_eq!(weeks.first().unwrap().start.to_string(), "2024-01-29");
        assert_eq!(weeks.iter().map(|p| p.plays).sum::<i64>(), 7);
    }

    #[test]
    fn shares_split_every_play() {
        let mut listens = sample();
        listens[0].platform = String::new();
        listens[1].shuffle = true;
        let shares = index_of(&listens).shares(DateRange::ALL_TIME);
        assert_eq!(shares.plays, 7);
        assert_eq!(shares.shuffled, 1);
        assert_eq!(
            shares.platforms,
            vec![
                Share {
                    label: "android".into(),
                    plays: 6
                },
                Share {
                    label: "unknown".into(),
                    plays: 1
                }
            ]
        );
        assert_eq!(shares.reason_end.iter().map(|s| s.plays).sum::<i64>(), 7);
    }

    #[test]
    fn detail_pages_follow_one_artist_or_song() {
        let index = index_of(&sample());
        let muse = index
            .artist_detail("Muse", DateRange::ALL_TIME, 10)
            .unwrap();
        assert_eq!((muse.plays, muse.skips), (4, 2));
        assert_eq!(muse.first_listen.unwrap().to_string(), "2024-02-02");
        assert_eq!(muse.last_listen.unwrap().to_string(), "2024-03-01");
        assert_eq!(
            muse.top_songs
                .iter()
                .map(|s| s.track_name.as_str())
                .collect::<Vec<_>>(),
            vec!["Song c", "Song d"]
        );
        assert_eq!(muse.over_time.len(), 2);
        let song = index
            .song_detail("spotify:track:a", range("2024-02-01", "2025-01-01"))
            .unwrap();
        assert_eq!((song.song.plays, song.song.skips), (1, 1));
        assert!(index
            .artist_detail("Nobody", DateRange::ALL_TIME, 10)
            .is_none());
        assert_eq!(index.bounds().0.unwrap().to_string(), "2024-01-31");
    }
}
