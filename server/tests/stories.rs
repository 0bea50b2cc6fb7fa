//! The stories told from a person's listens, checked against a computation
//! from the file in the test: the calendar of a year's listening days, the
//! streaks of days in a row, what each month discovered, and the review of
//! a year or a month.

mod common;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use common::{Count, Expected, FileListen, Scenario};
use serde_json::{json, Value};

/// Runs of consecutive days, as (first, last), in order.
fn runs(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut runs: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for &day in days {
        if let Some(run) = runs.last_mut().filter(|run| run.1.succ_opt() == Some(day)) {
            run.1 = day;
        } else {
            runs.push((day, day));
        }
    }
    runs
}

fn streak((first, last): (NaiveDate, NaiveDate)) -> Value {
    json!({
        "first": first.to_string(),
        "last": last.to_string(),
        "days": (last - first).num_days() + 1,
    })
}

/// The longest run of `runs` (the first of equals), as the API writes it.
fn longest<'a>(runs: impl Iterator<Item = &'a (NaiveDate, NaiveDate)>) -> Value {
    let mut best: Option<(NaiveDate, NaiveDate)> = None;
    for &run in runs {
        if best.is_none_or(|best| run.1 - run.0 > best.1 - best.0) {
            best = Some(run);
        }
    }
    best.map_or(Value::Null, streak)
}

/// The calendar the API should answer for `year`, from the file's days
/// (those of `expected`, read in `zone`).
fn expected_calendar(expected: &Expected, year: i32, zone: Tz) -> Value {
    let days: Vec<NaiveDate> = expected
        .days
        .keys()
        .map(|day| day.parse().expect("a day"))
        .collect();
    let runs = runs(&days);
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let current = runs
        .last()
        .filter(|run| run.1 <= today && run.1 >= today - Duration::days(1))
        .map_or(Value::Null, |run| streak(*run));
    let of_year: Vec<Value> = expected
        .days
        .iter()
        .filter(|(day, _)| day.starts_with(&format!("{year}-")))
        .map(|(day, count)| json!({"start": day, "plays": count.plays, "ms_played": count.ms_played}))
        .collect();
    json!({
        "year": year,
        "time_zone": zone.name(),
        "first_year": days.first().map(|day| day.year()),
        "last_year": days.last().map(|day| day.year()),
        "days": of_year,
        "longest_in_year": longest(runs.iter().filter(|run| run.0.year() <= year && run.1.year() >= year)),
        "longest": longest(runs.iter()),
        "current": current,
    })
}

/// What each month discovered, as the API should answer: every month with
/// listens, the songs and artists first heard in it (a song's artist as
/// its latest listen names it), and its listening time to those songs.
fn expected_discoveries(expected: &Expected) -> Value {
    let mut first_of_song: HashMap<&str, &str> = HashMap::new();
    for (month, song) in expected.song_months.keys() {
        first_of_song.entry(song).or_insert(month);
    }
    // An artist is new in the month of its first listen, as listens name it.
    let mut first_of_artist: HashMap<&str, &str> = HashMap::new();
    for listen in &expected.listens {
        let month = &listen.time[..7];
        let first = first_of_artist.entry(&listen.artist).or_insert(month);
        *first = (*first).min(month);
    }
    let mut months: BTreeMap<&str, [i64; 5]> = BTreeMap::new();
    for ((month, song), count) in &expected.song_months {
        let [new_songs, _, plays, ms_played, ms_new] = months.entry(month).or_default();
        *plays += count.plays;
        *ms_played += count.ms_played;
        if first_of_song[song.as_str()] == month {
            *new_songs += 1;
            *ms_new += count.ms_played;
        }
    }
    for month in first_of_artist.values() {
        months.get_mut(month).expect("a month")[1] += 1;
    }
    let months: Vec<Value> = months
        .into_iter()
        .map(
            |(month, [new_songs, new_artists, plays, ms_played, ms_new])| {
                json!({
                    "month": format!("{month}-01"),
                    "new_songs": new_songs,
                    "new_artists": new_artists,
                    "plays": plays,
                    "ms_played": ms_played,
                    "ms_new": ms_new,
                })
            },
        )
        .collect();
    Value::Array(months)
}

#[test]
fn a_years_calendar_counts_each_day_and_finds_the_streaks_and_each_month_its_discoveries() {
    let scenario = Scenario::new("calendar");
    let file = scenario.generate("history.csv", 20_000, 41);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    assert!(scenario.produce(&file, &[]).status.success());
    server.wait_for_events(expected.events);

    let years: Vec<i32> = expected
        .days
        .keys()
        .map(|day| day[..4].parse().expect("a year"))
        .collect();
    let (first, last) = (years[0], years[years.len() - 1]);
    assert!(
        last - first >= 2,
        "the history spans years: {first} to {last}"
    );
    let (status, latest) = server.get("/api/calendar");
    assert_eq!(status, 200, "{latest}");
    assert_eq!(latest, expected_calendar(&expected, last, Tz::UTC));
    let longest = &latest["longest"]["days"];
    assert!(longest.as_i64().expect("a streak") >= 2, "{longest}");
    for year in [first, (first + last) / 2, last, first - 1] {
        let (status, calendar) = server.get(&format!("/api/calendar?year={year}"));
        assert_eq!(status, 200, "{calendar}");
        assert_eq!(
            calendar,
            expected_calendar(&expected, year, Tz::UTC),
            "{year}"
        );
    }

    // What each month discovered, every month of the history.
    let (status, discoveries) = server.get("/api/discoveries");
    assert_eq!(status, 200, "{discoveries}");
    assert_eq!(discoveries, expected_discoveries(&expected));
    let (status, refused) = server.get("/api/discoveries?year=2020");
    assert_eq!(status, 400, "{refused}");

    for bad in ["year=1066", "year=soon", "month=3"] {
        let (status, refused) = server.get(&format!("/api/calendar?{bad}"));
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(refused["error"].is_string(), "{refused}");
    }

    // The dashboard shows the latest year's calendar, its streaks and its table.
    let (status, page) = server.page("/");
    assert_eq!(status, 200);
    let longest_ever = &latest["longest"];
    for text in [
        "Listening days".to_string(),
        format!(
            "Longest streak ever: </strong>{} days",
            longest_ever["days"]
        ),
        format!("{last} by month as a table"),
        format!("?by=plays&amp;year={}#calendar", last - 1),
        format!("Discoveries in {last}"),
    ] {
        assert!(page.contains(&text), "{text} missing from the page");
    }
}

/// Sums of plays, time and skips by a key, over the listens of a period
/// (those whose time starts with `period`: `2023` or `2023-07`).
fn sums_by<'a, K: std::hash::Hash + Eq>(
    listens: impl Iterator<Item = &'a FileListen>,
    key: impl Fn(&'a FileListen) -> K,
) -> HashMap<K, Count> {
    let mut sums: HashMap<K, Count> = HashMap::new();
    for listen in listens {
        let sum = sums.entry(key(listen)).or_default();
        sum.plays += 1;
        sum.ms_played += listen.ms_played;
        sum.skips += i64::from(listen.skipped);
    }
    sums
}

/// Keys ranked as the review ranks them: most plays, then most time, then `tie`.
fn ranked<K: Clone, T: Ord>(sums: &HashMap<K, Count>, tie: impl Fn(&K) -> T) -> Vec<(K, Count)> {
    let mut rows: Vec<(K, Count)> = sums.iter().map(|(k, c)| (k.clone(), c.clone())).collect();
    rows.sort_by(|a, b| {
        (b.1.plays, b.1.ms_played)
            .cmp(&(a.1.plays, a.1.ms_played))
            .then_with(|| tie(&a.0).cmp(&tie(&b.0)))
    });
    rows
}

/// The rank of `key` in a ranking (from 1), or null.
fn rank_before<K: PartialEq>(ranking: &[(K, Count)], key: K) -> Value {
    ranking
        .iter()
        .position(|(k, _)| *k == key)
        .map_or(Value::Null, |at| json!(at + 1))
}

/// An instant as the API writes it for someone in `zone`: with their offset.
fn local_instant(ms: i64, zone: Tz) -> Value {
    let at = chrono::DateTime::from_timestamp_millis(ms).expect("an instant");
    json!(at.with_timezone(&zone).fixed_offset())
}

/// The sessions of `listens`, as the API writes them: in time order, each
/// from its end less the time played, a start more than `gap` minutes after
/// a session's end beginning another; per week over `days`, the `longest`.
fn expected_sessions<'a>(
    listens: impl Iterator<Item = &'a FileListen>,
    gap: i64,
    days: i64,
    longest: usize,
    zone: Tz,
) -> Value {
    let mut played: Vec<(i64, i64)> = listens
        .map(|listen| (listen.at, listen.ms_played))
        .collect();
    played.sort();
    let mut sessions: Vec<(i64, i64, i64, i64)> = Vec::new(); // start, end, listens, ms
    for (end, ms) in played {
        let start = end - ms;
        match sessions.last_mut() {
            Some(session) if start - session.1 <= gap * 60_000 => {
                session.0 = session.0.min(start);
                session.1 = session.1.max(end);
                session.2 += 1;
                session.3 += ms;
            }
            _ => sessions.push((start, end, 1, ms)),
        }
    }
    let count = sessions.len() as i64;
    sessions.sort_by_key(|session| (-(session.1 - session.0), session.0));
    let instant = |ms: i64| local_instant(ms, zone);
    json!({
        "count": count,
        "per_week": count as f64 * 7.0 / days as f64,
        "longest": sessions.iter().take(longest).map(|(start, end, listens, ms)| json!({
            "start": instant(*start), "end": instant(*end), "listens": listens, "ms_played": ms})).collect::<Vec<_>>(),
    })
}

/// The review the API should answer for `period`, computed from the file's
/// listens alone (a song shows the names of its latest listen), read in `zone`.
fn expected_review(expected: &Expected, period: &str, before: &str, zone: Tz) -> Value {
    let shown = |uri: &str| &expected.songs[uri].latest;
    let within = |prefix: &str| {
        let prefix = prefix.to_string();
        expected
            .listens
            .iter()
            .filter(move |listen| listen.time.starts_with(&prefix))
    };
    let song_sums = |prefix| sums_by(within(prefix), |listen| listen.uri.as_str());
    let artist_sums = |prefix| sums_by(within(prefix), |listen| shown(&listen.uri).2.as_str());
    let album_sums = |prefix| {
        let mut sums = sums_by(within(prefix), |listen| {
            let (_, _, artist, album) = shown(&listen.uri);
            (album.as_str(), artist.as_str())
        });
        sums.retain(|(album, _), _| !album.is_empty());
        sums
    };
    let song_tie = |uri: &&str| (shown(uri).1.clone(), uri.to_string());
    let song = |rank: usize, uri: &str, count: &Count| {
        let (_, track, artist, album) = shown(uri);
        json!({"rank": rank + 1, "track_uri": uri, "track_name": track, "artist_name": artist,
               "album_name": album, "plays": count.plays, "ms_played": count.ms_played, "skips": count.skips})
    };
    let artist = |rank: usize, name: &str, count: &Count| {
        json!({"rank": rank + 1, "artist_name": name, "plays": count.plays,
               "ms_played": count.ms_played, "skips": count.skips})
    };
    let (songs, songs_before) = (
        ranked(&song_sums(period), song_tie),
        ranked(&song_sums(before), song_tie),
    );
    let (artists, artists_before) = (
        ranked(&artist_sums(period), |name| *name),
        ranked(&artist_sums(before), |name| *name),
    );
    let (albums, albums_before) = (
        ranked(&album_sums(period), |key| *key),
        ranked(&album_sums(before), |key| *key),
    );
    let totals = |prefix| {
        let sums: Vec<Count> = song_sums(prefix).into_values().collect();
        json!({"plays": sums.iter().map(|c| c.plays).sum::<i64>(),
               "ms_played": sums.iter().map(|c| c.ms_played).sum::<i64>()})
    };
    // First listens ever: of songs, and of artists as each listen names them.
    let mut first_song: HashMap<&str, &FileListen> = HashMap::new();
    let mut first_artist: HashMap<&str, &FileListen> = HashMap::new();
    for listen in &expected.listens {
        let song = first_song.entry(&listen.uri).or_insert(listen);
        if listen.at < song.at {
            *song = listen;
        }
        let artist = first_artist.entry(&listen.artist).or_insert(listen);
        if listen.at < artist.at {
            *artist = listen;
        }
    }
    let new_artists: Vec<&str> = (first_artist.iter())
        .filter(|(_, first)| first.time.starts_with(period))
        .map(|(artist, _)| *artist)
        .collect();
    let discoveries: Vec<Value> = artists
        .iter()
        .filter(|(name, _)| new_artists.contains(name))
        .take(10)
        .enumerate()
        .map(|(rank, (name, count))| artist(rank, name, count))
        .collect();
    // Days, hours and weekdays of the period, by listening time.
    let mut days: BTreeMap<&str, Count> = BTreeMap::new();
    let mut hours = [0i64; 24];
    let mut weekdays = [0i64; 7];
    for listen in within(period) {
        let day = days.entry(&listen.time[..10]).or_default();
        day.plays += 1;
        day.ms_played += listen.ms_played;
        let at = chrono::NaiveDateTime::parse_from_str(&listen.time, "%Y-%m-%d %H:%M:%S").unwrap();
        hours[at.hour() as usize] += listen.ms_played;
        weekdays[at.weekday().num_days_from_monday() as usize] += listen.ms_played;
    }
    let busiest = |by: &[i64], plays: &dyn Fn(u32) -> i64| -> Value {
        let mut best: Option<usize> = None;
        for at in 0..by.len() {
            let played = plays(at as u32) > 0;
            if played && best.is_none_or(|best| by[at] > by[best]) {
                best = Some(at);
            }
        }
        best.map_or(
            Value::Null,
            |at| json!({"at": at, "plays": plays(at as u32), "ms_played": by[at]}),
        )
    };
    let hour_plays = |hour: u32| {
        within(period)
            .filter(|listen| listen.time[11..13].parse::<u32>() == Ok(hour))
            .count() as i64
    };
    let weekday_plays = |weekday: u32| {
        within(period)
            .filter(|listen| {
                let day: NaiveDate = listen.time[..10].parse().unwrap();
                day.weekday().num_days_from_monday() == weekday
            })
            .count() as i64
    };
    let mut most_played_day: Option<(&str, &Count)> = None;
    for (day, count) in &days {
        if most_played_day.is_none_or(|(_, best)| count.ms_played > best.ms_played) {
            most_played_day = Some((day, count));
        }
    }
    let mut months: BTreeMap<&str, Count> = BTreeMap::new();
    for listen in within(period) {
        let month = months.entry(&listen.time[..7]).or_default();
        month.plays += 1;
        month.ms_played += listen.ms_played;
    }
    let period_days = {
        let first: NaiveDate = if period.len() == 4 {
            format!("{period}-01-01")
        } else {
            format!("{period}-01")
        }
        .parse()
        .unwrap();
        let next = if period.len() == 4 {
            first.with_year(first.year() + 1).unwrap()
        } else {
            first + chrono::Months::new(1)
        };
        (next - first).num_days()
    };
    let sessions = expected_sessions(within(period), 30, period_days, 3, zone);
    let instant = |ms: i64| local_instant(ms, zone);
    let listening_days: Vec<NaiveDate> = days.keys().map(|day| day.parse().unwrap()).collect();
    let runs = runs(&listening_days);
    // Skips and songs played to their end every time.
    let period_songs = song_sums(period);
    let mut skipped: Vec<(&str, Count)> = (period_songs.iter())
        .filter(|(_, count)| count.plays >= 5 && count.skips > 0)
        .map(|(uri, count)| (*uri, count.clone()))
        .collect();
    skipped.sort_by(|(a_uri, a), (b_uri, b)| {
        (b.skips.cmp(&a.skips))
            .then_with(|| (b.skips * a.plays).cmp(&(a.skips * b.plays)))
            .then_with(|| song_tie(a_uri).cmp(&song_tie(b_uri)))
    });
    let unfinished: std::collections::HashSet<&str> = within(period)
        .filter(|listen| listen.skipped || listen.reason_end != "trackdone")
        .map(|listen| listen.uri.as_str())
        .collect();
    let finished: Vec<Value> = songs
        .iter()
        .filter(|(uri, count)| count.plays >= 3 && !unfinished.contains(uri))
        .take(10)
        .enumerate()
        .map(|(rank, (uri, count))| song(rank, uri, count))
        .collect();
    let (first_day, last_day) = (
        expected.days.keys().next(),
        expected.days.keys().next_back(),
    );
    json!({
        "period": period,
        "time_zone": zone.name(),
        "first_day": first_day,
        "last_day": last_day,
        "totals": totals(period),
        "months": months.iter().map(|(month, count)| json!({
            "start": format!("{month}-01"), "plays": count.plays, "ms_played": count.ms_played})).collect::<Vec<_>>(),
        "before": totals(before),
        "top_songs": songs.iter().take(10).enumerate().map(|(rank, (uri, count))| json!({
            "row": song(rank, uri, count), "rank_before": rank_before(&songs_before, *uri)})).collect::<Vec<_>>(),
        "top_artists": artists.iter().take(10).enumerate().map(|(rank, (name, count))| json!({
            "row": artist(rank, name, count), "rank_before": rank_before(&artists_before, *name)})).collect::<Vec<_>>(),
        "top_albums": albums.iter().take(10).enumerate().map(|(rank, (key, count))| json!({
            "row": {"rank": rank + 1, "album_name": key.0, "artist_name": key.1, "plays": count.plays,
                    "ms_played": count.ms_played, "skips": count.skips},
            "rank_before": rank_before(&albums_before, *key)})).collect::<Vec<_>>(),
        "new_songs": first_song.values().filter(|first| first.time.starts_with(period)).count(),
        "new_artists": new_artists.len(),
        "top_discoveries": discoveries,
        "most_played_day": most_played_day.map_or(Value::Null, |(day, count)| json!({
            "start": day, "plays": count.plays, "ms_played": count.ms_played})),
        "longest_streak": longest(runs.iter()),
        "sessions": sessions,
        "busiest_hour": busiest(&hours, &hour_plays),
        "busiest_weekday": busiest(&weekdays, &weekday_plays),
        "most_skipped": skipped.iter().take(10).enumerate().map(|(rank, (uri, count))| {
            let (_, track, artist, _) = shown(uri);
            json!({"rank": rank + 1, "track_uri": uri, "track_name": track, "artist_name": artist,
                   "plays": count.plays, "skips": count.skips,
                   "skip_rate": count.skips as f64 / count.plays as f64})
        }).collect::<Vec<_>>(),
        "finished_every_time": finished,
        "top_song_first_listen": songs.first().map_or(Value::Null, |(uri, _)| json!({
            "track_uri": uri,
            "at": instant(first_song[uri].at),
        })),
    })
}

#[test]
fn a_review_of_a_year_and_of_a_month_equals_a_computation_from_the_file() {
    let scenario = Scenario::new("review");
    let file = scenario.generate("history.csv", 20_000, 43);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    assert!(scenario.produce(&file, &[]).status.success());
    server.wait_for_events(expected.events);

    let last = &expected.last_listen[..4];
    let last_year: i32 = last.parse().expect("a year");
    let (status, latest) = server.get("/api/review");
    assert_eq!(status, 200, "{latest}");
    let previous = (last_year - 1).to_string();
    assert_eq!(latest, expected_review(&expected, last, &previous, Tz::UTC));
    // A year in the middle, a month in it, its January (after a December),
    // a year before the history and the first year (all it heard is new).
    let middle = expected
        .days
        .keys()
        .nth(expected.days.len() / 2)
        .expect("a day")[..7]
        .to_string();
    let middle_year = &middle[..4];
    let before_middle = (middle_year.parse::<i32>().unwrap() - 1).to_string();
    let first_year: i32 = expected.days.keys().next().expect("a day")[..4]
        .parse()
        .unwrap();
    let asked = [
        (middle_year.to_string(), before_middle.clone()),
        (middle.clone(), {
            let month: NaiveDate = format!("{middle}-01").parse().unwrap();
            (month - Duration::days(1)).format("%Y-%m").to_string()
        }),
        (format!("{middle_year}-01"), format!("{before_middle}-12")),
        ((first_year - 1).to_string(), (first_year - 2).to_string()),
        (first_year.to_string(), (first_year - 1).to_string()),
    ];
    for (period, before) in asked {
        let (status, review) = server.get(&format!("/api/review?period={period}"));
        assert_eq!(status, 200, "{period}: {review}");
        assert_eq!(
            review,
            expected_review(&expected, &period, &before, Tz::UTC),
            "{period}"
        );
    }
    let (_, month) = server.get(&format!("/api/review?period={middle}"));
    assert!(
        month["totals"]["plays"].as_i64().unwrap() > 0,
        "{middle} has listens"
    );
    let moved = month["top_songs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|song| song["rank_before"].is_i64());
    assert!(
        moved,
        "some top song of {middle} was played the month before: {month}"
    );
    let (_, year) = server.get(&format!("/api/review?period={middle_year}"));
    for list in ["finished_every_time", "most_skipped", "top_albums"] {
        let rows = year[list].as_array().map_or(0, Vec::len);
        assert!(rows > 0, "{middle_year} has {list}: {year}");
    }
    let (_, first) = server.get(&format!("/api/review?period={first_year}"));
    assert!(
        first["top_discoveries"]
            .as_array()
            .is_some_and(|artists| !artists.is_empty()),
        "{first_year} discovered artists: {first}"
    );

    for bad in ["period=2023-13", "period=1066", "period=soon", "year=2023"] {
        let (status, refused) = server.get(&format!("/api/review?{bad}"));
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(refused["error"].is_string(), "{refused}");
    }

    // Its card, in both layouts, drawn from the same review; a PNG at its size.
    let top_name = |review: &Value| {
        review["top_songs"][0]["row"]["track_name"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
    };
    for layout in ["wide", "story"] {
        let (status, headers, svg) = server.file(&format!("/cards/{middle_year}/{layout}.svg"));
        assert_eq!(status, 200, "{layout}");
        assert_eq!(headers["content-type"], "image/svg+xml");
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains(&format!("My {middle_year} in music")), "{svg}");
        let hours = format!(
            "{:.1} hours",
            year["totals"]["ms_played"].as_i64().unwrap() as f64 / 3_600_000.0
        );
        assert!(svg.contains(&hours), "{hours} missing from {svg}");
        assert!(
            svg.contains(&top_name(&year)),
            "the top song missing from {svg}"
        );
    }
    for (layout, width, height) in [("wide", 1200u32, 630u32), ("story", 1080, 1920)] {
        let (status, headers, png) = server.file(&format!("/cards/{middle}/{layout}.png"));
        assert_eq!(status, 200, "{layout}");
        assert_eq!(headers["content-type"], "image/png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((size(16), size(20)), (width, height), "{layout}");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("review-{middle}-{layout}.png")),
            "{disposition}"
        );
    }
    for (path, status) in [
        ("/cards/2023-13/wide.png", 400),
        ("/cards/2023/square.png", 404),
        ("/cards/2023/wide.gif", 404),
    ] {
        assert_eq!(server.file(path).0, status, "{path}");
    }

    // The page of the month shows its rankings and moments, rendered on the server.
    let (status, page) = server.page(&format!("/review/{middle}"));
    assert_eq!(status, 200);
    let top = &month["top_songs"][0]["row"];
    for text in [
        "Top songs".to_string(),
        "Most-played day".to_string(),
        "Finished every time".to_string(),
        top["track_name"].as_str().unwrap().replace('&', "&amp;"),
        format!("/review/{middle_year}\""),
        format!("/cards/{middle}/story.png"),
        "Your card".to_string(),
    ] {
        assert!(
            page.contains(&text),
            "{text} missing from the page of {middle}"
        );
    }
}

/// While a person's dashboard is open, their year reviews and their
/// discoveries are worked out once their figures settle: asked then, none
/// is worked out again, and each equals the computation from the file; a
/// month is worked out when asked.
#[test]
fn the_stories_of_an_open_dashboard_are_worked_out_before_they_are_asked() {
    let worked_out = |server: &common::Server, story: &str| {
        server.counter(&format!(
            "spotify_analytics_stories_worked_out_total{{story=\"{story}\"}}"
        ))
    };
    let scenario = Scenario::new("stories_ahead");
    let file = scenario.generate("history.csv", 6_000, 47);
    let expected = Expected::from_csv(&file);
    let server = scenario.server();
    assert!(scenario.produce(&file, &[]).status.success());
    server.wait_for_events(expected.events);
    assert_eq!(
        worked_out(&server, "review"),
        0,
        "nothing asked, nothing worked out"
    );
    assert_eq!(worked_out(&server, "discoveries"), 0);
    let mut years: Vec<i32> = (expected.days.keys())
        .map(|day| day[..4].parse().expect("a year"))
        .collect();
    years.dedup();
    assert!(years.len() > 1, "a history of several years: {years:?}");

    let live = server.open_stream("/api/live");
    assert_eq!(live.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while worked_out(&server, "discoveries") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {} years worked out ahead, discoveries not",
            worked_out(&server, "review"),
            years.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let ahead = worked_out(&server, "review");
    let years_ahead = years.len().min(server::serve::warm::YEARS_AHEAD);
    assert_eq!(ahead, years_ahead as u64, "each of the latest years once");
    let years = &years[years.len() - years_ahead..];
    for year in years {
        let (status, review) = server.get(&format!("/api/review?period={year}"));
        assert_eq!(status, 200, "{year}: {review}");
        let before = (year - 1).to_string();
        let wanted = expected_review(&expected, &year.to_string(), &before, Tz::UTC);
        assert_same(&review, &wanted, &format!("the review of {year}"));
    }
    let (status, discoveries) = server.get("/api/discoveries");
    assert_eq!(status, 200);
    assert_eq!(discoveries, expected_discoveries(&expected));
    // Worked out ahead, they were kept with the figures (not among the
    // answers given): asked now, none is worked out again.
    assert_eq!(
        worked_out(&server, "review"),
        ahead,
        "every year's review was kept"
    );
    assert_eq!(
        worked_out(&server, "discoveries"),
        1,
        "the discoveries were kept"
    );
    let middle = &expected
        .days
        .keys()
        .nth(expected.days.len() / 2)
        .expect("a day")[..7];
    let (status, _) = server.get(&format!("/api/review?period={middle}"));
    assert_eq!(status, 200);
    assert_eq!(
        worked_out(&server, "review"),
        ahead + 1,
        "a month is worked out when asked"
    );
    drop(live);
}

fn assert_same(actual: &Value, expected: &Value, what: &str) {
    if let (Some(got), Some(wanted)) = (actual.as_object(), expected.as_object()) {
        for key in wanted.keys().chain(got.keys()) {
            assert_eq!(actual[key], expected[key], "{what}: {key}");
        }
    }
    assert_eq!(actual, expected, "{what}");
}

/// Every byte but letters and digits as `%XX`: a path segment.
fn segment(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The rank history the API should give the song or artist `wanted`, the
/// chart keyed by `key_of` a listen and tied by `tie` (the name shown):
/// each month's rank by plays, then time, then name; the weeks (Monday to
/// Sunday, listens' times as `expected` reads them) it topped; its best month.
fn expected_rank_history(
    expected: &Expected,
    key_of: impl Fn(&FileListen) -> String,
    tie: impl Fn(&str) -> String,
    wanted: &str,
) -> Value {
    let mut months: BTreeMap<String, HashMap<String, Count>> = BTreeMap::new();
    let mut weeks: BTreeMap<NaiveDate, HashMap<String, Count>> = BTreeMap::new();
    for listen in &expected.listens {
        let day: NaiveDate = listen.time[..10].parse().unwrap();
        let monday = day - Duration::days(day.weekday().num_days_from_monday().into());
        for sum in [
            months.entry(listen.time[..7].to_string()).or_default(),
            weeks.entry(monday).or_default(),
        ] {
            let count = sum.entry(key_of(listen)).or_default();
            count.plays += 1;
            count.ms_played += listen.ms_played;
        }
    }
    let order =
        |sums: &HashMap<String, Count>| ranked(sums, |key: &String| (tie(key), key.clone()));
    let ranks: Vec<Value> = months
        .iter()
        .filter_map(|(month, sums)| {
            let rows = order(sums);
            let at = rows.iter().position(|(key, _)| key == wanted)?;
            Some(json!({"month": format!("{month}-01"), "rank": at + 1,
                        "plays": rows[at].1.plays, "ms_played": rows[at].1.ms_played}))
        })
        .collect();
    let topped = weeks
        .values()
        .filter(|sums| order(sums).first().is_some_and(|(key, _)| key == wanted))
        .count();
    let mut best: Option<&Value> = None;
    for month in &ranks {
        if best.is_none_or(|best| month["plays"].as_i64() > best["plays"].as_i64()) {
            best = Some(month);
        }
    }
    json!({"months": ranks, "weeks_at_number_one": topped, "best_month": best})
}

/// Checks the rank history on the API of the top song and artist of `review`.
fn rank_histories_equal_the_file(server: &common::Server, expected: &Expected, review: &Value) {
    let shown = |uri: &str| expected.songs[uri].latest.clone();
    let song = review["top_songs"][0]["row"]["track_uri"].as_str().unwrap();
    let artist = review["top_artists"][0]["row"]["artist_name"]
        .as_str()
        .unwrap();
    let (status, detail) = server.get(&format!("/api/songs/{}", segment(song)));
    assert_eq!(status, 200, "{detail}");
    let wanted = expected_rank_history(expected, |l| l.uri.clone(), |uri| shown(uri).1, song);
    assert_same(
        &detail["rank_history"],
        &wanted,
        &format!("rank history of {song}"),
    );
    let (status, detail) = server.get(&format!("/api/artists/{}", segment(artist)));
    assert_eq!(status, 200, "{detail}");
    let wanted = expected_rank_history(
        expected,
        |l| shown(&l.uri).2,
        |name| name.to_string(),
        artist,
    );
    assert_same(
        &detail["rank_history"],
        &wanted,
        &format!("rank history of {artist}"),
    );
    assert!(
        wanted["months"].as_array().unwrap().len() > 3,
        "{artist} was played in several months"
    );
}

/// The skips the API should answer for `year`: by week (from Monday; a
/// year is shown by weeks), early (under 10
/// s and skipped) by song, and endings by platform, from the file's listens
/// as `expected` reads their times.
fn expected_skips(expected: &Expected, year: i32, zone: Tz) -> Value {
    let of_year: Vec<&FileListen> = (expected.listens.iter())
        .filter(|listen| listen.time.starts_with(&format!("{year}-")))
        .collect();
    let mut weeks: BTreeMap<NaiveDate, [i64; 2]> = BTreeMap::new();
    let mut early: HashMap<&str, [i64; 2]> = HashMap::new();
    let mut platforms: BTreeMap<String, (i64, i64, BTreeMap<String, i64>)> = BTreeMap::new();
    let label = |text: &str| {
        if text.trim().is_empty() {
            "unknown".to_string()
        } else {
            text.to_string()
        }
    };
    for listen in &of_year {
        let day: NaiveDate = listen.time[..10].parse().unwrap();
        let monday = day - Duration::days(day.weekday().num_days_from_monday().into());
        let week = weeks.entry(monday).or_default();
        week[0] += 1;
        week[1] += i64::from(listen.skipped);
        let song = early.entry(&listen.uri).or_default();
        song[0] += 1;
        song[1] += i64::from(listen.skipped && listen.ms_played < 10_000);
        let platform = platforms.entry(label(&listen.platform)).or_default();
        platform.0 += 1;
        platform.1 += i64::from(listen.skipped);
        *platform.2.entry(label(&listen.reason_end)).or_default() += 1;
    }
    let shown = |uri: &str| expected.songs[uri].latest.clone();
    let mut early: Vec<(&str, [i64; 2])> = early.into_iter().filter(|(_, [_, e])| *e > 0).collect();
    early.sort_by(|(a_uri, [a_plays, a_early]), (b_uri, [b_plays, b_early])| {
        (b_early.cmp(a_early))
            .then(a_plays.cmp(b_plays))
            .then_with(|| (shown(a_uri).1, *a_uri).cmp(&(shown(b_uri).1, *b_uri)))
    });
    let mut platforms: Vec<Value> = platforms
        .into_iter()
        .map(|(platform, (plays, skips, endings))| {
            let mut endings: Vec<(String, i64)> = endings.into_iter().collect();
            endings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            json!({"platform": platform, "plays": plays, "skips": skips,
                   "endings": endings.iter().map(|(label, plays)| json!({"label": label, "plays": plays})).collect::<Vec<_>>()})
        })
        .collect();
    platforms.sort_by(|a, b| {
        (b["plays"].as_i64().cmp(&a["plays"].as_i64()))
            .then_with(|| a["platform"].as_str().cmp(&b["platform"].as_str()))
    });
    // Every week from the first with listens to the last, empty ones as zeros.
    let mut over_time = Vec::new();
    if let (Some(&first), Some(&last)) = (weeks.keys().next(), weeks.keys().next_back()) {
        let mut week = first;
        while week <= last {
            let [plays, skips] = weeks.get(&week).copied().unwrap_or_default();
            over_time.push(json!({"start": week.to_string(), "plays": plays, "skips": skips}));
            week += Duration::days(7);
        }
    }
    json!({
        "range": {"from": format!("{year}-01-01"), "to": format!("{}-01-01", year + 1)},
        "time_zone": zone.name(),
        "bucket": "Week",
        "over_time": over_time,
        "early": early.iter().take(10).enumerate().map(|(rank, (uri, [plays, early]))| {
            let (_, track, artist, _) = shown(uri);
            json!({"rank": rank + 1, "track_uri": uri, "track_name": track, "artist_name": artist,
                   "plays": plays, "early_skips": early})
        }).collect::<Vec<_>>(),
        "platforms": platforms,
    })
}

/// Sets the test person's time zone as the settings page does.
fn set_time_zone(server: &common::Server, zone: &str) -> (u16, String) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/rpc/account/set_time_zone", server.url))
        .bearer_auth(&server.token)
        .header("origin", &server.url)
        .form(&[("time_zone", zone)])
        .send()
        .expect("an answer");
    (
        response.status().as_u16(),
        response.text().unwrap_or_default(),
    )
}

/// Plays by weekday and hour of `listens` in their own (local) times, as the clock answers.
fn expected_clock(listens: &[&FileListen]) -> Value {
    let mut cells = vec![[0i64; 2]; 7 * 24];
    for listen in listens {
        let at = chrono::NaiveDateTime::parse_from_str(&listen.time, "%Y-%m-%d %H:%M:%S").unwrap();
        let cell =
            &mut cells[at.weekday().num_days_from_monday() as usize * 24 + at.hour() as usize];
        cell[0] += 1;
        cell[1] += listen.ms_played;
    }
    let cells: Vec<Value> = (cells.iter().enumerate())
        .map(|(at, [plays, ms])| {
            json!({"weekday": at / 24, "hour": at % 24, "plays": plays, "ms_played": ms})
        })
        .collect();
    Value::Array(cells)
}

#[test]
fn days_and_hours_are_those_of_the_persons_time_zone_across_daylight_saving_changes() {
    let scenario = Scenario::new("zones");
    let file = scenario.generate("history.csv", 20_000, 47);
    let in_utc = Expected::from_csv(&file);
    let server = scenario.server();
    assert!(scenario.produce(&file, &[]).status.success());
    server.wait_for_events(in_utc.events);
    let (_, utc_calendar) = server.get("/api/calendar");
    let (_, latest_year) = server.get("/api/review");
    rank_histories_equal_the_file(&server, &in_utc, &latest_year);

    let (status, refused) = set_time_zone(&server, "Mars/Olympus_Mons");
    assert_eq!(status, 400, "an unknown zone is refused: {refused}");
    assert!(
        refused.contains("Europe/Berlin"),
        "the refusal shows what a zone looks like: {refused}"
    );
    let (_, unchanged) = server.get("/api/calendar");
    assert_eq!(unchanged, utc_calendar, "a refused zone changes nothing");

    // New York and Lord Howe change their clocks (by an hour, by half an
    // hour), Kolkata is 5:30 ahead all year.
    for name in ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"] {
        let zone: Tz = name.parse().unwrap();
        let (status, set) = set_time_zone(&server, &name.to_lowercase());
        assert_eq!(status, 200, "{name}: {set}");
        assert!(set.contains(name), "{set}");
        let expected = in_utc.in_zone(zone);
        let years: Vec<i32> = (expected.days.keys())
            .map(|day| day[..4].parse().unwrap())
            .collect();
        let (first, last) = (years[0], years[years.len() - 1]);
        for year in [first, (first + last) / 2, last] {
            let (status, calendar) = server.get(&format!("/api/calendar?year={year}"));
            assert_eq!(status, 200, "{calendar}");
            let wanted = expected_calendar(&expected, year, zone);
            assert_same(&calendar, &wanted, &format!("{name} {year}"));
        }
        let (_, discoveries) = server.get("/api/discoveries");
        assert_eq!(discoveries, expected_discoveries(&expected), "{name}");
        // A year, and the March of it (New York's clocks go forward in it,
        // Lord Howe's go back in the April after).
        let year = (first + last) / 2;
        for (period, before) in [
            (year.to_string(), (year - 1).to_string()),
            (format!("{year}-03"), format!("{year}-02")),
            (format!("{year}-04"), format!("{year}-03")),
        ] {
            let (status, review) = server.get(&format!("/api/review?period={period}"));
            assert_eq!(status, 200, "{review}");
            let wanted = expected_review(&expected, &period, &before, zone);
            assert_same(&review, &wanted, &format!("{name} {period}"));
            if period.len() == 4 {
                rank_histories_equal_the_file(&server, &expected, &review);
                let (status, skips) = server.get(&format!(
                    "/api/skips?from={year}-01-01&to={}-01-01",
                    year + 1
                ));
                assert_eq!(status, 200, "{skips}");
                let wanted = expected_skips(&expected, year, zone);
                assert_same(&skips, &wanted, &format!("{name} skips of {year}"));
                let (early, platforms) = (&wanted["early"], &wanted["platforms"]);
                // Sessions of the year, a pause of an hour ending one.
                let (status, sessions) = server.get(&format!(
                    "/api/sessions?from={year}-01-01&to={}-01-01&gap=60",
                    year + 1
                ));
                assert_eq!(status, 200, "{sessions}");
                let days = (NaiveDate::from_ymd_opt(year + 1, 1, 1).unwrap()
                    - NaiveDate::from_ymd_opt(year, 1, 1).unwrap())
                .num_days();
                let of_year = expected
                    .listens
                    .iter()
                    .filter(|l| l.time.starts_with(&period));
                let wanted = json!({
                    "range": {"from": format!("{year}-01-01"), "to": format!("{}-01-01", year + 1)},
                    "time_zone": name,
                    "gap": 60,
                    "sessions": expected_sessions(of_year, 60, days, 10, zone),
                });
                assert_same(&sessions, &wanted, &format!("{name} sessions of {year}"));
                for bad in ["gap=4", "gap=241", "gap=half", "gap=-5"] {
                    let (status, refused) = server.get(&format!("/api/sessions?{bad}"));
                    assert_eq!(status, 400, "{bad}: {refused}");
                }
                assert!(early[0].is_object() && platforms[1].is_object(), "{wanted}");
            }
        }
        let (from, to) = (format!("{year}-03-01"), format!("{year}-05-01"));
        let spring: Vec<&FileListen> = (expected.listens.iter())
            .filter(|listen| (from.as_str()..to.as_str()).contains(&&listen.time[..10]))
            .collect();
        let (_, clock) = server.get(&format!("/api/listening-clock?from={from}&to={to}"));
        assert_eq!(clock, expected_clock(&spring), "{name}");
        let (_, days) = server.get(&format!("/api/over-time?bucket=day&from={from}&to={to}"));
        let listened: BTreeMap<String, (i64, i64)> = (days.as_array().unwrap().iter())
            .filter(|day| day["plays"].as_i64() > Some(0))
            .map(|day| {
                let start = day["start"].as_str().unwrap().to_string();
                (
                    start,
                    (
                        day["plays"].as_i64().unwrap(),
                        day["ms_played"].as_i64().unwrap(),
                    ),
                )
            })
            .collect();
        let wanted: BTreeMap<String, (i64, i64)> = (expected.days.iter())
            .filter(|(day, _)| (from.as_str()..to.as_str()).contains(&day.as_str()))
            .map(|(day, count)| (day.clone(), (count.plays, count.ms_played)))
            .collect();
        assert_eq!(listened, wanted, "{name}");
    }

    // Back in UTC, every figure is as before.
    assert_eq!(set_time_zone(&server, "UTC").0, 200);
    let (_, calendar) = server.get("/api/calendar");
    assert_eq!(calendar, utc_calendar);
    let (status, page) = server.page("/settings");
    assert_eq!(status, 200);
    assert!(
        page.contains("Time zone"),
        "the settings page offers the setting"
    );
}
