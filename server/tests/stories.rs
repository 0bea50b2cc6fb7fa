//! The stories told from a person's listens, checked against a computation
//! from the file in the test: the calendar of a year's listening days, the
//! streaks of days in a row, and what each month discovered.

mod common;

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate};
use common::{Expected, Scenario};
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

/// The calendar the API should answer for `year`, from the file's days.
fn expected_calendar(expected: &Expected, year: i32) -> Value {
    let days: Vec<NaiveDate> = expected
        .days
        .keys()
        .map(|day| day.parse().expect("a day"))
        .collect();
    let runs = runs(&days);
    let today = chrono::Utc::now().date_naive();
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
    let mut first_of_artist: HashMap<&str, &str> = HashMap::new();
    for (song, month) in &first_of_song {
        let artist = expected.songs[*song].latest.2.as_str();
        let first = first_of_artist.entry(artist).or_insert(month);
        *first = (*first).min(*month);
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
    assert_eq!(latest, expected_calendar(&expected, last));
    let longest = &latest["longest"]["days"];
    assert!(longest.as_i64().expect("a streak") >= 2, "{longest}");
    for year in [first, (first + last) / 2, last, first - 1] {
        let (status, calendar) = server.get(&format!("/api/calendar?year={year}"));
        assert_eq!(status, 200, "{calendar}");
        assert_eq!(calendar, expected_calendar(&expected, year), "{year}");
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
