//! Reader of Spotify's extended streaming history: the JSON arrays of
//! `Streaming_History_Audio_*.json` (older exports: `endsong_*.json`).
//!
//! Both generations are read: older records carry `username`,
//! `ip_addr_decrypted` and `user_agent_decrypted`, newer ones `ip_addr` and
//! `audiobook_*` fields; fields not needed here are ignored. Podcast episodes
//! and audiobooks are not music. A song without a track URI (a local file)
//! is identified by its artist and track name.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json_array::record_of;
use super::{checked_ms_played, parse_timestamp, Record, RejectReason};
use crate::event::{local_track_uri, normalize_track_uri, InvalidEvent, ListenEvent};

/// The fields of one record that matter here.
#[derive(Deserialize)]
struct ExtendedRecord {
    ts: String,
    ms_played: i64,
    master_metadata_track_name: Option<String>,
    master_metadata_album_artist_name: Option<String>,
    master_metadata_album_album_name: Option<String>,
    spotify_track_uri: Option<String>,
    platform: Option<String>,
    reason_start: Option<String>,
    reason_end: Option<String>,
    shuffle: Option<bool>,
    skipped: Option<bool>,
    episode_name: Option<String>,
    spotify_episode_uri: Option<String>,
    audiobook_title: Option<String>,
    audiobook_uri: Option<String>,
}

impl ExtendedRecord {
    fn is_music(&self) -> bool {
        let filled = |field: &Option<String>| field.as_deref().is_some_and(|f| !f.is_empty());
        filled(&self.master_metadata_track_name)
            || !(filled(&self.episode_name)
                || filled(&self.spotify_episode_uri)
                || filled(&self.audiobook_title)
                || filled(&self.audiobook_uri))
    }

    fn into_event(self) -> Result<ListenEvent, RejectReason> {
        let track_name = self
            .master_metadata_track_name
            .ok_or(InvalidEvent::MissingTrackName)?;
        let artist_name = self
            .master_metadata_album_artist_name
            .ok_or(InvalidEvent::MissingArtistName)?;
        let track_uri = match self.spotify_track_uri.as_deref().map(str::trim) {
            Some(uri) if !uri.is_empty() => normalize_track_uri(uri)?,
            _ => local_track_uri(&artist_name, &track_name),
        };
        let event = ListenEvent {
            track_uri,
            ts: parse_timestamp(&self.ts)?,
            ms_played: checked_ms_played(self.ms_played)?,
            track_name,
            artist_name,
            album_name: self.master_metadata_album_album_name.unwrap_or_default(),
            platform: self.platform.unwrap_or_default().trim().to_string(),
            reason_start: self.reason_start.unwrap_or_default(),
            reason_end: self.reason_end.unwrap_or_default(),
            shuffle: self.shuffle.unwrap_or(false),
            // `null` in many records: Spotify did not call it a skip.
            skipped: self.skipped.unwrap_or(false),
        };
        event.validate()?;
        Ok(event)
    }
}

/// The fields of a record a dead letter keeps: those of [`ExtendedRecord`].
const LISTEN_FIELDS: &[&str] = &[
    "ts",
    "ms_played",
    "master_metadata_track_name",
    "master_metadata_album_artist_name",
    "master_metadata_album_album_name",
    "spotify_track_uri",
    "platform",
    "reason_start",
    "reason_end",
    "shuffle",
    "skipped",
    "episode_name",
    "spotify_episode_uri",
    "audiobook_title",
    "audiobook_uri",
];

/// One element of an extended-history array as a listen, not music, or a rejection.
pub fn record(position: u64, raw: &RawValue) -> Record {
    record_of(position, raw, LISTEN_FIELDS, |record: ExtendedRecord| {
        if record.is_music() {
            record.into_event().map(Some)
        } else {
            Ok(None)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Record {
        let raw = RawValue::from_string(json.to_string()).unwrap();
        record(7, &raw)
    }

    /// A record as exports since 2023 write it.
    const NEWER: &str = r#"{"ts": "2023-06-01T21:14:05Z", "platform": "android", "ms_played": 213000,
        "conn_country": "SE", "ip_addr": "10.0.0.1", "master_metadata_track_name": "Hoppípolla",
        "master_metadata_album_artist_name": "Sigur Rós", "master_metadata_album_album_name": "Takk...",
        "spotify_track_uri": "spotify:track:6eTGxxQxiTFE6LfZHC33Wm", "episode_name": null,
        "episode_show_name": null, "spotify_episode_uri": null, "audiobook_title": null,
        "audiobook_uri": null, "audiobook_chapter_uri": null, "audiobook_chapter_title": null,
        "reason_start": "trackdone", "reason_end": "endplay", "shuffle": true, "skipped": true,
        "offline": false, "offline_timestamp": 1685654000, "incognito_mode": false}"#;

    /// A record of an older `endsong_*.json` file: `skipped` null, decrypted addresses.
    const OLDER: &str = r#"{"ts": "2016-03-09T18:49:41Z", "username": "listener",
        "platform": "Android OS 6.0.1 API 23 (samsung, SM-G920F)", "ms_played": 4010,
        "conn_country": "DE", "ip_addr_decrypted": "10.0.0.2", "user_agent_decrypted": "unknown",
        "master_metadata_track_name": "Teardrop", "master_metadata_album_artist_name": "Massive Attack",
        "master_metadata_album_album_name": "Mezzanine", "spotify_track_uri": "spotify:track:67Hna13dNDkZvBpTXRIaOJ",
        "episode_name": null, "episode_show_name": null, "spotify_episode_uri": null,
        "reason_start": "clickrow", "reason_end": "endplay", "shuffle": false, "skipped": null,
        "offline": false, "offline_timestamp": 0, "incognito_mode": false}"#;

    #[test]
    fn reads_a_record_of_a_newer_export() {
        let Record::Listen {
            position, event, ..
        } = read(NEWER)
        else {
            panic!("not a listen")
        };
        assert_eq!(position, 7);
        assert_eq!(event.track_uri, "spotify:track:6eTGxxQxiTFE6LfZHC33Wm");
        assert_eq!(event.ts.to_rfc3339(), "2023-06-01T21:14:05+00:00");
        assert_eq!(event.ms_played, 213_000);
        assert_eq!(event.track_name, "Hoppípolla");
        assert_eq!(event.artist_name, "Sigur Rós");
        assert_eq!(event.album_name, "Takk...");
        assert_eq!(event.platform, "android");
        assert_eq!(
            (event.reason_start.as_str(), event.reason_end.as_str()),
            ("trackdone", "endplay")
        );
        assert!(event.shuffle);
        assert!(event.skipped);
    }

    #[test]
    fn reads_a_record_of_an_older_export_with_skipped_null() {
        let Record::Listen { event, .. } = read(OLDER) else {
            panic!("not a listen")
        };
        assert_eq!(event.artist_name, "Massive Attack");
        assert!(!event.skipped, "null means not skipped");
        assert!(!event.shuffle);
    }

    #[test]
    fn a_rejected_record_keeps_only_the_fields_of_a_listen_for_the_dead_letter_topic() {
        for (export, private) in [
            (NEWER, ["ip_addr", "conn_country", "offline_timestamp"]),
            (
                OLDER,
                ["username", "ip_addr_decrypted", "user_agent_decrypted"],
            ),
        ] {
            let broken = export.replace(r#""ts": "20"#, r#""ts": "not a time 20"#);
            let Record::Rejected { raw, .. } = read(&broken) else {
                panic!("not rejected")
            };
            let kept: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&raw).unwrap();
            for name in private {
                assert!(!kept.contains_key(name), "{name} kept");
            }
            assert!(kept["ts"].as_str().unwrap().starts_with("not a time"));
            assert!(kept.contains_key("master_metadata_track_name"));
            assert!(kept
                .keys()
                .all(|name| LISTEN_FIELDS.contains(&name.as_str())));
        }
    }

    #[test]
    fn podcast_episodes_and_audiobooks_are_not_music() {
        let episode = r#"{"ts": "2021-01-02T08:00:00Z", "ms_played": 1800000,
            "master_metadata_track_name": null, "master_metadata_album_artist_name": null,
            "master_metadata_album_album_name": null, "spotify_track_uri": null,
            "episode_name": "Episode 12", "episode_show_name": "A Show",
            "spotify_episode_uri": "spotify:episode:0Q86acNRm6V9GYx55SXKwf", "skipped": null}"#;
        assert!(matches!(read(episode), Record::NotMusic { position: 7 }));
        let chapter = r#"{"ts": "2024-01-02T08:00:00Z", "ms_played": 60000,
            "master_metadata_track_name": null, "spotify_track_uri": null,
            "audiobook_title": "A Book", "audiobook_uri": "spotify:show:abc",
            "audiobook_chapter_title": "Chapter 1"}"#;
        assert!(matches!(read(chapter), Record::NotMusic { .. }));
    }

    #[test]
    fn a_local_file_is_known_by_artist_and_track() {
        let local = r#"{"ts": "2019-05-05T10:00:00Z", "ms_played": 1000,
            "master_metadata_track_name": "Demo", "master_metadata_album_artist_name": "Band",
            "master_metadata_album_album_name": null, "spotify_track_uri": null}"#;
        let Record::Listen { event, .. } = read(local) else {
            panic!("not a listen")
        };
        assert_eq!(event.track_uri, local_track_uri("Band", "Demo"));
        assert_eq!(event.album_name, "");
    }

    #[test]
    fn a_record_with_neither_track_nor_episode_is_rejected_with_the_reason() {
        let empty = r#"{"ts": "2019-05-05T10:00:00Z", "ms_played": 0,
            "master_metadata_track_name": null, "spotify_track_uri": null, "episode_name": null}"#;
        let Record::Rejected { reason, raw, .. } = read(empty) else {
            panic!("not rejected")
        };
        assert_eq!(reason.kind(), "missing_track_name");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&raw).unwrap(),
            serde_json::from_str::<serde_json::Value>(empty).unwrap()
        );
    }

    #[test]
    fn records_of_the_wrong_shape_are_rejected_with_the_reason() {
        let cases = [
            (r#"{"ms_played": 5}"#, "wrong_shape", "missing field `ts`"),
            (
                r#"{"ts": "2020-01-01T00:00:00Z", "ms_played": "5"}"#,
                "wrong_shape",
                "invalid type",
            ),
            (r#""a string""#, "wrong_shape", "invalid type"),
            (
                r#"{"ts": "last week", "ms_played": 5, "master_metadata_track_name": "T", "master_metadata_album_artist_name": "A"}"#,
                "bad_timestamp",
                "last week",
            ),
            (
                r#"{"ts": "2020-01-01T00:00:00Z", "ms_played": -5, "master_metadata_track_name": "T", "master_metadata_album_artist_name": "A"}"#,
                "negative_ms_played",
                "-5",
            ),
            (
                r#"{"ts": "2020-01-01T00:00:00Z", "ms_played": 5, "master_metadata_track_name": "T", "master_metadata_album_artist_name": "A", "spotify_track_uri": "spotify:album:x"}"#,
                "bad_track_uri",
                "spotify:album:x",
            ),
        ];
        for (json, kind, says) in cases {
            let Record::Rejected { reason, .. } = read(json) else {
                panic!("{json} was not rejected")
            };
            assert_eq!(reason.kind(), kind, "{json}");
            assert!(reason.to_string().contains(says), "{reason} lacks {says}");
        }
    }

    #[test]
    fn identical_records_have_the_same_fingerprint() {
        let fingerprint = |json: &str| match read(json) {
            Record::Listen { fingerprint, .. } => fingerprint,
            other => panic!("{other:?}"),
        };
        assert_eq!(fingerprint(NEWER), fingerprint(NEWER));
        assert_ne!(fingerprint(NEWER), fingerprint(OLDER));
    }
}
