//! Records that cannot be events are set aside on the dead-letter topic
//! (`<topic>_dlq`): the message value is the original record's bytes and the
//! headers say why and where it came from, so it can be inspected or replayed.

use rdkafka::message::{Header, OwnedHeaders};

use crate::ingest::PositionUnit;

/// Header names on dead-letter messages.
pub mod header {
    pub const REASON: &str = "dlq.reason";
    pub const REASON_KIND: &str = "dlq.reason_kind";
    pub const SOURCE: &str = "dlq.source";
    pub const FILE: &str = "dlq.file";
    pub const LINE: &str = "dlq.line";
    pub const RECORD: &str = "dlq.record";
    pub const TOPIC: &str = "dlq.topic";
    pub const PARTITION: &str = "dlq.partition";
    pub const OFFSET: &str = "dlq.offset";
    pub const PERSON: &str = "dlq.person";
}

/// Where a dead letter was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A record of an input file, rejected by the producer: its line (CSV)
    /// or record number (JSON).
    File {
        path: String,
        unit: PositionUnit,
        position: u64,
    },
    /// A message of the events topic, rejected by the consumer.
    Topic {
        topic: String,
        partition: i32,
        offset: i64,
    },
}

/// Why a record was set aside, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub reason: String,
    /// Short stable name of the reason, for counting by kind.
    pub reason_kind: &'static str,
    /// The person id the record belongs to, when known.
    pub person: Option<String>,
    pub origin: Origin,
}

impl DeadLetter {
    pub fn headers(&self) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new()
            .insert(text_header(header::REASON, &self.reason))
            .insert(text_header(header::REASON_KIND, self.reason_kind));
        if let Some(person) = &self.person {
            headers = headers.insert(text_header(header::PERSON, person));
        }
        match &self.origin {
            Origin::File {
                path,
                unit,
                position,
            } => {
                let key = match unit {
                    PositionUnit::Line => header::LINE,
                    PositionUnit::Record => header::RECORD,
                };
                headers = headers
                    .insert(text_header(header::SOURCE, "producer"))
                    .insert(text_header(header::FILE, path))
                    .insert(text_header(key, &position.to_string()));
            }
            Origin::Topic {
                topic,
                partition,
                offset,
            } => {
                headers = headers
                    .insert(text_header(header::SOURCE, "consumer"))
                    .insert(text_header(header::TOPIC, topic))
                    .insert(text_header(header::PARTITION, &partition.to_string()))
                    .insert(text_header(header::OFFSET, &offset.to_string()));
            }
        }
        headers
    }
}

fn text_header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::Headers;

    fn header_map(headers: &OwnedHeaders) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn file_dead_letters_say_file_line_and_reason() {
        let letter = DeadLetter {
            reason: "negative ms_played -5".into(),
            reason_kind: "negative_ms_played",
            person: Some("p1".into()),
            origin: Origin::File {
                path: "history.csv".into(),
                unit: PositionUnit::Line,
                position: 12,
            },
        };
        let headers = header_map(&letter.headers());
        assert!(headers.contains(&("dlq.reason".into(), "negative ms_played -5".into())));
        assert!(headers.contains(&("dlq.source".into(), "producer".into())));
        assert!(headers.contains(&("dlq.file".into(), "history.csv".into())));
        assert!(headers.contains(&("dlq.line".into(), "12".into())));
        assert!(headers.contains(&("dlq.person".into(), "p1".into())));
    }

    #[test]
    fn json_dead_letters_say_the_record_number() {
        let letter = DeadLetter {
            reason: "missing artist name".into(),
            reason_kind: "missing_artist_name",
            person: None,
            origin: Origin::File {
                path: "export.zip!/StreamingHistory_music_0.json".into(),
                unit: PositionUnit::Record,
                position: 3,
            },
        };
        let headers = header_map(&letter.headers());
        assert!(headers.contains(&("dlq.record".into(), "3".into())));
        assert!(!headers.iter().any(|(key, _)| key == "dlq.line"));
    }

    #[test]
    fn topic_dead_letters_say_partition_and_offset() {
        let letter = DeadLetter {
            reason: "not JSON".into(),
            reason_kind: "not_json",
            person: None,
            origin: Origin::Topic {
                topic: "t".into(),
                partition: 2,
                offset: 99,
            },
        };
        let headers = header_map(&letter.headers());
        assert!(headers.contains(&("dlq.source".into(), "consumer".into())));
        assert!(headers.contains(&("dlq.partition".into(), "2".into())));
        assert!(headers.contains(&("dlq.offset".into(), "99".into())));
    }
}
