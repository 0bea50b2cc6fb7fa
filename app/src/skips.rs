//! Skips, deeper than the dashboard's most-skipped table: how the share of
//! plays skipped moved over a range, the songs skipped within their first
//! seconds most often, and how tracks ended on each platform.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::range::{Bucket, DateRange, Share};

/// A play skipped (Spotify's `skipped`) after less than this is skipped early.
pub const EARLY_SKIP_MS: i64 = 10_000;

/// Plays and skips of one step of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipPoint {
    pub start: NaiveDate,
    pub plays: i64,
    pub skips: i64,
}

/// A song and how often it was skipped within [`EARLY_SKIP_MS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlySkip {
    pub rank: u32,
    pub track_uri: String,
    pub track_name: String,
    pub artist_name: String,
    pub plays: i64,
    pub early_skips: i64,
}

/// How the plays on one platform ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformEndings {
    /// As Spotify writes it; `unknown` when the export does not say.
    pub platform: String,
    pub plays: i64,
    pub skips: i64,
    /// Each way a track ended (`trackdone`, `fwdbtn`, …), most plays first.
    pub endings: Vec<Share>,
}

/// Skips over a range (its days in `time_zone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipStory {
    /// The days counted, a preset resolved.
    pub range: DateRange,
    pub time_zone: String,
    pub bucket: Bucket,
    /// Every step from the first with plays to the last, empty ones as zeros.
    pub over_time: Vec<SkipPoint>,
    /// Songs skipped early most often (then the fewest plays, then by name).
    pub early: Vec<EarlySkip>,
    /// Platforms, most plays first.
    pub platforms: Vec<PlatformEndings>,
}
