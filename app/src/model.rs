//! What the dashboard, the server functions and the JSON API exchange.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One row of the top-songs ranking; the JSON shape of `GET /api/top-songs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopSong {
    pub rank: u32,
    pub track_uri: String,
    pub track_name: String,
    pub artist_name: String,
    pub album_name: String,
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

/// One row of the top-artists ranking; the JSON shape of `GET /api/top-artists`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopArtist {
    pub rank: u32,
    pub artist_name: String,
    pub plays: i64,
    pub ms_played: i64,
    pub skips: i64,
}

/// Totals over every listen counted so far; the JSON shape of `GET /api/summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub events: i64,
    pub ms_played: i64,
    pub songs: i64,
    pub artists: i64,
    /// Time of the most recent listen; `None` before any data.
    pub last_listen: Option<DateTime<Utc>>,
    /// When the aggregates last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Whether the pipeline behind the numbers is working.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineHealth {
    /// What stops new listens from being counted, in words for a person; `None` when all is well.
    pub problem: Option<String>,
}

/// Everything the dashboard shows, fetched in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub summary: Summary,
    pub top_songs: Vec<TopSong>,
    pub top_artists: Vec<TopArtist>,
    pub health: PipelineHealth,
}

/// Who is looking at the pages, as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerInfo {
    /// The account's name (letters, digits, `.`, `_`, `-` only).
    pub name: String,
    /// May invite, disable and remove people.
    pub admin: bool,
    /// Looking at this person's dashboard through their share link: read-only.
    pub shared: bool,
}

/// A personal API token as its settings page lists it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Enough of the token's hash to tell it apart and revoke it.
    pub id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// What the settings page shows of the signed-in person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub name: String,
    pub tokens: Vec<TokenRow>,
    /// Whether a share link of the dashboard works now.
    pub sharing: bool,
    /// The time zone their days and hours are in.
    pub time_zone: String,
    /// Every time zone that may be chosen, by name.
    pub time_zones: Vec<String>,
}

/// One person as the administrator sees them: a name and counts, never listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub name: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Listens counted for them.
    pub listens: i64,
}

/// An invitation not yet used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRow {
    pub invited_by: String,
    pub admin: bool,
    pub expires_at: DateTime<Utc>,
}

/// What the people page shows an administrator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleView {
    pub people: Vec<PersonRow>,
    pub invites: Vec<InviteRow>,
}

/// How many rows a ranking returns: 1 to 100, 10 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Limit(u32);

impl Limit {
    pub const DEFAULT: Limit = Limit(10);
    pub const MAX: u32 = 100;

    /// Reads the `limit` query parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let Some(raw) = raw else {
            return Ok(Self::DEFAULT);
        };
        match raw.trim().parse::<u32>() {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Limit(n)),
            _ => Err(format!(
                "limit must be a whole number from 1 to {}, got {:?}",
                Self::MAX,
                truncate(raw, 40)
            )),
        }
    }

    /// `n` rows, kept within 1 to [`Limit::MAX`].
    pub fn clamped(n: u32) -> Self {
        Limit(n.clamp(1, Self::MAX))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The ranking order of songs and artists: plays descending, then listening
/// time descending, then name ascending.
pub fn ranking_order(
    (plays_a, ms_a, name_a): (i64, i64, &str),
    (plays_b, ms_b, name_b): (i64, i64, &str),
) -> std::cmp::Ordering {
    plays_b
        .cmp(&plays_a)
        .then(ms_b.cmp(&ms_a))
        .then_with(|| name_a.cmp(name_b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn limit_defaults_to_ten() {
        assert_eq!(Limit::parse(None).unwrap().get(), 10);
    }

    #[test]
    fn limit_accepts_one_to_a_hundred() {
        assert_eq!(Limit::parse(Some("1")).unwrap().get(), 1);
        assert_eq!(Limit::parse(Some("100")).unwrap().get(), 100);
    }

    #[test]
    fn limit_refuses_zero_too_many_and_words() {
        for bad in ["0", "101", "-1", "ten", "", "1e3", "99999999999999999999"] {
            let error = Limit::parse(Some(bad)).unwrap_err();
            assert!(error.contains("from 1 to 100"), "{bad}: {error}");
        }
    }

    #[test]
    fn limit_error_does_not_echo_a_huge_value() {
        let error = Limit::parse(Some(&"9".repeat(10_000))).unwrap_err();
        assert!(error.len() < 200);
    }

    #[test]
    fn more_plays_rank_first() {
        assert_eq!(ranking_order((5, 0, "b"), (4, 999, "a")), Ordering::Less);
    }

    #[test]
    fn equal_plays_rank_by_listening_time() {
        assert_eq!(ranking_order((5, 10, "z"), (5, 20, "a")), Ordering::Greater);
    }

    #[test]
    fn full_ties_rank_by_name() {
        let mut rows = vec![(3, 7, "b"), (3, 7, "a"), (9, 1, "c"), (3, 8, "d")];
        rows.sort_by(|a, b| ranking_order(*a, *b));
        assert_eq!(
            rows,
            vec![(9, 1, "c"), (3, 8, "d"), (3, 7, "a"), (3, 7, "b")]
        );
    }

    #[test]
    fn summary_serialises_to_the_documented_json() {
        let summary = Summary {
            events: 3,
            ms_played: 4,
            songs: 2,
            artists: 1,
            last_listen: Some("2020-01-01T00:00:00Z".parse().unwrap()),
            updated_at: None,
        };
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["events"], 3);
        assert_eq!(json["last_listen"], "2020-01-01T00:00:00Z");
        assert!(json["updated_at"].is_null());
    }
}
