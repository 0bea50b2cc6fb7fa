//! Cleaning one's figures: what a person leaves out of them (an artist,
//! an album, a song, or a song's plays in a time window), and how to put
//! it back. Nothing is deleted: left-out plays are set aside and return,
//! exactly as they were, when the exclusion is undone.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest name or URI an exclusion may hold, in bytes: no listen's can be
/// longer (a listen's whole message is at most 64 KiB).
pub const MAX_NAME_BYTES: usize = 64 * 1024;
/// Most exclusions a person may have at once.
pub const MAX_EXCLUSIONS: usize = 500;

/// Plays a person leaves out of their figures. Artists and albums are
/// named exactly as their listens name them; songs by URI.
///
/// Checkpoints and the journal store it by the number of its variant:
/// add variants at the end, never reorder them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Every play of the artist's.
    Artist { artist: String },
    /// Every play of one album of one artist.
    Album { artist: String, album: String },
    /// Every play of the song.
    Song { track_uri: String },
    /// The song's plays that ended in `[from, to)`: a song left looping.
    Plays {
        track_uri: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// Why an exclusion cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadExclusion {
    #[error("name the artist, album or song to leave out")]
    Unnamed,
    #[error("a name of over {MAX_NAME_BYTES} bytes cannot be one of your listens'")]
    TooLong,
    #[error("the window ends before it begins: give an end after its start")]
    EmptyWindow,
    #[error("give the {0} of the plays to remove")]
    Missing(&'static str),
    #[error("{0:?} is not a time: write it as 2024-03-01T21:30")]
    NotATime(String),
    #[error("{0} does not exist in your time zone (the clocks skip it): pick another time")]
    SkippedTime(NaiveDateTime),
}

impl Exclusion {
    /// Checks it could name something: names present (an artist's and a
    /// song's not blank, as a listen's are not; an album's not empty) and
    /// no longer than a listen's, a window that holds time.
    pub fn check(&self) -> Result<(), BadExclusion> {
        let names: &[&str] = match self {
            Exclusion::Artist { artist } => &[artist],
            Exclusion::Album { artist, album } => {
                if album.is_empty() {
                    return Err(BadExclusion::Unnamed);
                }
                if album.len() > MAX_NAME_BYTES {
                    return Err(BadExclusion::TooLong);
                }
                &[artist]
            }
            Exclusion::Song { track_uri } => &[track_uri],
            Exclusion::Plays {
                track_uri,
                from,
                to,
            } => {
                if to <= from {
                    return Err(BadExclusion::EmptyWindow);
                }
                &[track_uri]
            }
        };
        for name in names {
            if name.trim().is_empty() {
                return Err(BadExclusion::Unnamed);
            }
            if name.len() > MAX_NAME_BYTES {
                return Err(BadExclusion::TooLong);
            }
        }
        Ok(())
    }
}

/// A change to what is left out, in the order the person made it (stored
/// by the number of its variant, as [`Exclusion`] is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanUpChange {
    /// Leave these plays out (nothing changes if they are already).
    Exclude(Exclusion),
    /// Count them again (nothing changes if they were not left out).
    Include(Exclusion),
}

impl CleanUpChange {
    pub fn exclusion(&self) -> &Exclusion {
        match self {
            CleanUpChange::Exclude(exclusion) | CleanUpChange::Include(exclusion) => exclusion,
        }
    }
}

/// The kinds of exclusion, as a form names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    Artist,
    Album,
    Song,
    Plays,
}

/// Leave out, or put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanUpAction {
    Exclude,
    Include,
}

/// A clean-up as a form or a button sends it: what to do, to what, and
/// the names and window that kind needs. A window's ends are instants
/// (RFC 3339) or the person's local times (`2024-03-01T21:30`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanUpRequest {
    pub action: CleanUpAction,
    pub kind: ExclusionKind,
    #[serde(default)]
    pub artist: Option<String>,
    #[serde(default)]
    pub album: Option<String>,
    #[serde(default)]
    pub track_uri: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
}

impl CleanUpRequest {
    /// The change it asks for; `local` turns one of the person's local
    /// times into an instant (`None` for a time their clocks skip).
    pub fn change(
        self,
        local: impl Fn(NaiveDateTime) -> Option<DateTime<Utc>>,
    ) -> Result<CleanUpChange, BadExclusion> {
        let named = |name: Option<String>| name.ok_or(BadExclusion::Unnamed);
        let instant = |text: Option<String>, what: &'static str| {
            let text = text
                .filter(|text| !text.trim().is_empty())
                .ok_or(BadExclusion::Missing(what))?;
            let text = text.trim();
            if let Ok(at) = DateTime::parse_from_rfc3339(text) {
                return Ok(at.with_timezone(&Utc));
            }
            let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .ok_or_else(|| BadExclusion::NotATime(crate::format::ellipsize(text, 40)))?;
            local(naive).ok_or(BadExclusion::SkippedTime(naive))
        };
        let exclusion = match self.kind {
            ExclusionKind::Artist => Exclusion::Artist {
                artist: named(self.artist)?,
            },
            ExclusionKind::Album => Exclusion::Album {
                artist: named(self.artist)?,
                album: named(self.album)?,
            },
            ExclusionKind::Song => Exclusion::Song {
                track_uri: named(self.track_uri)?,
            },
            ExclusionKind::Plays => Exclusion::Plays {
                track_uri: named(self.track_uri)?,
                from: instant(self.from, "start")?,
                to: instant(self.to, "end")?,
            },
        };
        exclusion.check()?;
        Ok(match self.action {
            CleanUpAction::Exclude => CleanUpChange::Exclude(exclusion),
            CleanUpAction::Include => CleanUpChange::Include(exclusion),
        })
    }
}

/// Whether the figures showed a clean-up when it was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanUpShown {
    /// Every figure follows it already.
    Now,
    /// It is on its way: counting was behind, and the figures follow later.
    Later,
}

/// One exclusion in force, and what it sets aside now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionView {
    pub exclusion: Exclusion,
    /// What a person reads: the artist, the album and its artist, or the
    /// song and its artist (its URI when no play names it).
    pub label: String,
    /// A window's ends on the person's clocks (`2024-03-01 21:30 – 23:00`).
    #[serde(default)]
    pub window: Option<String>,
    /// Plays it leaves out now, and their listening time.
    pub plays: i64,
    pub ms_played: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_need_names_and_a_window_that_holds_time() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let artist = |name: &str| Exclusion::Artist {
            artist: name.into(),
        };
        assert_eq!(artist("Queen").check(), Ok(()));
        assert_eq!(artist("  ").check(), Err(BadExclusion::Unnamed));
        assert_eq!(
            artist(&"x".repeat(MAX_NAME_BYTES + 1)).check(),
            Err(BadExclusion::TooLong)
        );
        let album = |name: &str| Exclusion::Album {
            artist: "Queen".into(),
            album: name.into(),
        };
        assert_eq!(album("").check(), Err(BadExclusion::Unnamed));
        // A blank album name is a name a listen can give.
        assert_eq!(album(" ").check(), Ok(()));
        let window = |from: &str, to: &str| Exclusion::Plays {
            track_uri: "spotify:track:a".into(),
            from: at(from),
            to: at(to),
        };
        assert_eq!(
            window("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z").check(),
            Err(BadExclusion::EmptyWindow)
        );
        assert_eq!(
            window("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z").check(),
            Ok(())
        );
    }

    #[test]
    fn a_request_s_window_is_read_as_instants_or_local_times() {
        // A zone two hours ahead of UTC, which skips 02:00 to 03:00 on 2024-03-31.
        let local = |naive: NaiveDateTime| {
            let text = naive.format("%Y-%m-%dT%H").to_string();
            (!text.starts_with("2024-03-31T02"))
                .then(|| naive.and_utc() - chrono::Duration::hours(2))
        };
        let request = |from: &str, to: &str| CleanUpRequest {
            action: CleanUpAction::Exclude,
            kind: ExclusionKind::Plays,
            artist: None,
            album: None,
            track_uri: Some("spotify:track:a".into()),
            from: Some(from.into()),
            to: Some(to.into()),
        };
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            request("2024-03-01T21:30", "2024-03-01T23:00:00Z").change(local),
            Ok(CleanUpChange::Exclude(Exclusion::Plays {
                track_uri: "spotify:track:a".into(),
                from: at("2024-03-01T19:30:00Z"),
                to: at("2024-03-01T23:00:00Z"),
            }))
        );
        assert!(matches!(
            request("2024-03-31T02:30", "2024-04-01T00:00").change(local),
            Err(BadExclusion::SkippedTime(_))
        ));
        assert!(matches!(
            request("yesterday", "2024-04-01T00:00").change(local),
            Err(BadExclusion::NotATime(_))
        ));
        assert_eq!(
            request("2024-04-01T00:00", "2024-03-01T00:00").change(local),
            Err(BadExclusion::EmptyWindow)
        );
        let mut missing = request("2024-03-01T00:00", "");
        missing.to = None;
        assert_eq!(missing.change(local), Err(BadExclusion::Missing("end")));
    }

    #[test]
    fn changes_read_back_as_written() {
        let change = CleanUpChange::Include(Exclusion::Plays {
            track_uri: "spotify:track:a".into(),
            from: "2024-01-01T00:00:00Z".parse().unwrap(),
            to: "2024-01-02T00:00:00Z".parse().unwrap(),
        });
        let json = serde_json::to_string(&change).unwrap();
        assert_eq!(
            serde_json::from_str::<CleanUpChange>(&json).unwrap(),
            change
        );
    }
}
