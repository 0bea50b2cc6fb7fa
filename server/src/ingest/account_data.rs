//! Reader of the listening history in Spotify's account data:
//! `StreamingHistory_music_N.json` (older: `StreamingHistoryN.json`).
//!
//! Records have minute-precision end times in UTC and no track URI, so a song
//! is identified by its artist and track name together; skips, album,
//! platform and shuffle are unknown.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json_array::record_of;
use super::{checked_ms_played, parse_timestamp, Record, RejectReason};
use crate::event::{local_track_uri, InvalidEvent, ListenEvent};

/// The fields of a record a dead letter keeps: those of [`AccountRecord`].
const LISTEN_FIELDS: &[&str] = &["endTime", "artistName", "trackName", "msPlayed"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountRecord {
    end_time: String,
    artist_name: Option<String>,
    track_name: Option<String>,
    ms_played: i64,
}

impl AccountRecord {
    fn into_event(self) -> Result<ListenEvent, RejectReason> {
        let track_name = self.track_name.ok_or(InvalidEvent::MissingTrackName)?;
        let artist_name = self.artist_name.ok_or(InvalidEvent::MissingArtistName)?;
        let event = ListenEvent {
            track_uri: local_track_uri(&artist_name, &track_name),
            ts: parse_timestamp(&self.end_time)?,
            ms_played: checked_ms_played(self.ms_played)?,
            track_name,
            artist_name,
            album_name: String::new(),
            platform: String::new(),
            reason_start: String::new(),
            reason_end: String::new(),
            shuffle: false,
            skipped: false,
        };
        event.validate()?;
        Ok(event)
    }
}

/// One element of an account-data array as a listen or a rejection.
pub fn record(position: u64, raw: &RawValue) -> Record {
    record_of(position, raw, LISTEN_FIELDS, |record: AccountRecord| {
        record.into_event().map(Some)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Record {
        record(3, &RawValue::from_string(json.to_string()).unwrap())
    }

    #[test]
    fn reads_a_minute_precision_record_as_a_song_known_by_name() {
        let json = r#"{"endTime": "2020-04-11 00:27", "artistName": "Massive Attack",
            "trackName": "Teardrop", "msPlayed": 330000}"#;
        let Record::Listen {
            position, event, ..
        } = read(json)
        else {
            panic!("not a listen")
        };
        assert_eq!(position, 3);
        assert_eq!(event.ts.to_rfc3339(), "2020-04-11T00:27:00+00:00");
        assert_eq!(event.ms_played, 330_000);
        assert_eq!(
            event.track_uri,
            local_track_uri("Massive Attack", "Teardrop")
        );
        assert_eq!(event.artist_name, "Massive Attack");
        assert!(!event.skipped, "skips are unknown");
    }

    #[test]
    fn the_same_song_in_two_records_has_the_same_identity() {
        let uri = |json: &str| match read(json) {
            Record::Listen { event, .. } => event.track_uri,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            uri(r#"{"endTime":"2020-04-11 00:27","artistName":"A","trackName":"T","msPlayed":1}"#),
            uri(r#"{"endTime":"2021-01-01 10:00","artistName":"A","trackName":"T","msPlayed":9}"#)
        );
    }

    #[test]
    fn bad_records_are_rejected_with_the_reason() {
        let cases = [
            (
                r#"{"endTime":"2020-04-11 00:27","trackName":"T","msPlayed":1}"#,
                "missing_artist_name",
            ),
            (
                r#"{"endTime":"2020-04-11 00:27","artistName":"A","trackName":"","msPlayed":1}"#,
                "missing_track_name",
            ),
            (
                r#"{"endTime":"11/04/2020","artistName":"A","trackName":"T","msPlayed":1}"#,
                "bad_timestamp",
            ),
            (
                r#"{"endTime":"2020-04-11 00:27","artistName":"A","trackName":"T","msPlayed":-1}"#,
                "negative_ms_played",
            ),
            (
                r#"{"artistName":"A","trackName":"T","msPlayed":1}"#,
                "wrong_shape",
            ),
            (r#"[1, 2]"#, "wrong_shape"),
        ];
        for (json, kind) in cases {
            let Record::Rejected { reason, raw, .. } = read(json) else {
                panic!("{json} was not rejected")
            };
            assert_eq!(reason.kind(), kind, "{json}: {reason}");
            // Objects keep their listen fields (all of them here); arrays nothing.
            let expected = serde_json::from_str::<serde_json::Value>(json)
                .ok()
                .filter(serde_json::Value::is_object);
            assert_eq!(serde_json::from_slice(&raw).ok(), expected, "{json}");
        }
    }
}
