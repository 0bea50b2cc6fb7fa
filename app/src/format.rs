//! How numbers and times read on the dashboard.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::{locale, reader_zone};

/// `1234567` → `1,234,567`, in the reader's conventions ([`crate::locale`]).
pub fn count(n: i64) -> String {
    locale::current().count(n)
}

/// Listening time in hours with one decimal: `5_400_000` ms → `1.5`.
pub fn hours(ms: i64) -> String {
    locale::current().hours(ms)
}

/// Listening time for a row of a table: `2 h 05 min`, `42 min`, `35 s`.
pub fn duration(ms: i64) -> String {
    let seconds = ms / 1000;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{} h {m:02} min", count(h))
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

/// A day in the reader's conventions: `2024-03-05`, `05.03.2024`.
pub fn day(day: NaiveDate) -> String {
    locale::current().day(day)
}

/// A moment on the person's clock, already in their zone: `2024-03-05 14:07`.
pub fn local_moment(at: NaiveDateTime) -> String {
    locale::current().moment(at, false)
}

/// A moment on the reader's clock, saying which: `2024-03-05 14:07 UTC`,
/// `2024-03-05 23:07 Asia/Tokyo`.
pub fn moment(ts: DateTime<Utc>) -> String {
    on_reader_clock(ts, false)
}

/// A moment to the second: `2024-03-05 14:07:59 UTC`.
pub fn moment_seconds(ts: DateTime<Utc>) -> String {
    on_reader_clock(ts, true)
}

fn on_reader_clock(ts: DateTime<Utc>, seconds: bool) -> String {
    let zone = reader_zone::current();
    let (at, zone_name) = zone.wall_time(ts);
    format!("{} {zone_name}", locale::current().moment(at, seconds))
}

/// `text` without control characters: names from people's files may hold
/// them, and one in a drawn chart would make its SVG unreadable as XML
/// (and its PNG impossible to rasterise).
pub fn drawable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Shortens text to at most `max_chars` characters, ending with `…` when cut.
pub fn ellipsize(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(-1234), "-1,234");
    }

    #[test]
    fn hours_have_one_decimal() {
        assert_eq!(hours(0), "0.0");
        assert_eq!(hours(5_400_000), "1.5");
        assert_eq!(hours(3_600_000 * 1234 + 180_000), "1,234.1");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration(35_000), "35 s");
        assert_eq!(duration(42 * 60_000 + 5_000), "42 min");
        assert_eq!(duration(2 * 3_600_000 + 5 * 60_000), "2 h 05 min");
    }

    #[test]
    fn moments_read_in_utc() {
        let ts = "2024-03-05T14:07:59Z".parse().unwrap();
        assert_eq!(moment(ts), "2024-03-05 14:07 UTC");
        assert_eq!(moment_seconds(ts), "2024-03-05 14:07:59 UTC");
        let early = "0987-11-09T03:04:05.678Z".parse().unwrap();
        assert_eq!(moment(early), "0987-11-09 03:04 UTC");
        assert_eq!(moment_seconds(early), "0987-11-09 03:04:05 UTC");
    }

    #[test]
    fn moments_read_on_the_readers_clock() {
        use leptos::prelude::Owner;
        use std::sync::Arc;
        let owner = Owner::new();
        owner.set();
        let nine_ahead = |at: DateTime<Utc>| Some(at.naive_utc() + chrono::TimeDelta::hours(9));
        let tokyo = reader_zone::ReaderZone::new("Asia/Tokyo", Arc::new(nine_ahead));
        reader_zone::provide(tokyo);
        let ts = "2024-03-05T18:07:59Z".parse().unwrap();
        assert_eq!(moment(ts), "2024-03-06 03:07 Asia/Tokyo");
        assert_eq!(moment_seconds(ts), "2024-03-06 03:07:59 Asia/Tokyo");
        // A zone that cannot be read writes UTC, and says so.
        reader_zone::provide(reader_zone::ReaderZone::new(
            "Asia/Tokyo",
            Arc::new(|_| None),
        ));
        assert_eq!(moment(ts), "2024-03-05 18:07 UTC");
    }

    #[test]
    fn ellipsize_cuts_on_characters_not_bytes() {
        assert_eq!(ellipsize("Sigur Rós", 20), "Sigur Rós");
        assert_eq!(ellipsize("Ágætis byrjun forever", 8), "Ágætis…");
        assert_eq!(ellipsize("abc", 3), "abc");
    }
}
