//! Streams the elements of a JSON array one at a time, so a file of any size
//! is read with the memory of one record. Each element is handed over as raw
//! JSON: a record of the wrong shape is rejected on its own, while broken
//! JSON syntax ends the file (nothing after it can be trusted).

use std::fmt;
use std::io::{BufReader, Read};

use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{dead_letter_bytes, IngestError, Record, RejectReason, MAX_RECORD_BYTES};
use crate::event::ListenEvent;

/// Says that the consumer of the elements wanted no more.
const STOPPED: &str = "reading stopped by the receiver";

/// Calls `each` with the position (from 1) and the raw JSON of every element
/// of the array read from `input`, until it answers false.
pub fn each_element(
    input: impl Read,
    each: &mut dyn FnMut(u64, &RawValue) -> bool,
) -> Result<(), IngestError> {
    let mut deserializer =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let outcome = (&mut deserializer)
        .deserialize_seq(Elements { each })
        .and_then(|()| deserializer.end());
    match outcome {
        Ok(()) => Ok(()),
        Err(error) if error.to_string().starts_with(STOPPED) => Ok(()),
        Err(error) if error.is_io() => Err(IngestError::Io(error.into())),
        Err(error) => Err(IngestError::NotJsonArray(error.to_string())),
    }
}

/// One element as a listen, not music (`Ok(None)` from `to_listen`) or a
/// rejection: too long, not of the shape `T`, or refused by `to_listen`.
/// A rejection keeps only the element's `listen_fields` for the dead-letter topic.
pub fn record_of<T: serde::de::DeserializeOwned>(
    position: u64,
    raw: &RawValue,
    listen_fields: &[&str],
    to_listen: impl FnOnce(T) -> Result<Option<ListenEvent>, RejectReason>,
) -> Record {
    let bytes = raw.get().as_bytes();
    let parsed = if bytes.len() > MAX_RECORD_BYTES {
        Err(RejectReason::TooLong { bytes: bytes.len() })
    } else {
        serde_json::from_str::<T>(raw.get()).map_err(|error| {
            RejectReason::WrongShape(app::format::ellipsize(&error.to_string(), 160))
        })
    };
    match parsed.and_then(to_listen) {
        Ok(Some(event)) => Record::Listen {
            position,
            event,
            fingerprint: xxhash_rust::xxh3::xxh3_128(bytes),
        },
        Ok(None) => Record::NotMusic { position },
        Err(reason) => Record::Rejected {
            position,
            reason,
            raw: listen_fields_only(raw, listen_fields),
        },
    }
}

/// A rejected element as the dead-letter topic keeps it: an object with only
/// the fields a listen is made of, never what else an export says about its
/// person (IP addresses, user names, user agents, countries); a bare value as
/// it is; an array (no named fields to keep) as nothing.
fn listen_fields_only(raw: &RawValue, listen_fields: &[&str]) -> Vec<u8> {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Object(fields)) => {
            let kept: Map<String, Value> = fields
                .into_iter()
                .filter(|(name, _)| listen_fields.contains(&name.as_str()))
                .collect();
            dead_letter_bytes(&serde_json::to_vec(&kept).unwrap_or_default())
        }
        Ok(Value::Array(_)) | Err(_) => Vec::new(),
        Ok(_) => dead_letter_bytes(raw.get().as_bytes()),
    }
}

struct Elements<'a> {
    each: &'a mut dyn FnMut(u64, &RawValue) -> bool,
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON array of listening records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            position += 1;
            if !(self.each)(position, &raw) {
                return Err(A::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(json: &str) -> (Vec<(u64, String)>, Result<(), IngestError>) {
        let mut seen = Vec::new();
        let outcome = each_element(json.as_bytes(), &mut |position, raw| {
            seen.push((position, raw.get().to_string()));
            true
        });
        (seen, outcome)
    }

    #[test]
    fn hands_over_each_element_with_its_position() {
        let (seen, outcome) = elements("\n[ {\"a\": 1},\n  {\"b\": [2, 3]}, 7 ]\n");
        assert!(outcome.is_ok());
        assert_eq!(
            seen,
            vec![
                (1, "{\"a\": 1}".to_string()),
                (2, "{\"b\": [2, 3]}".to_string()),
                (3, "7".to_string())
            ]
        );
    }

    #[test]
    fn an_empty_array_has_no_elements() {
        let (seen, outcome) = elements("[]");
        assert!(seen.is_empty());
        assert!(outcome.is_ok());
    }

    #[test]
    fn broken_syntax_ends_the_file_after_the_good_elements() {
        let (seen, outcome) = elements("[{\"a\": 1}, {\"b\": 2,, ]");
        assert_eq!(seen.len(), 1);
        let error = outcome.unwrap_err().to_string();
        assert!(error.contains("line 1 column"), "{error}");
    }

    #[test]
    fn a_file_cut_short_is_an_error() {
        let (seen, outcome) = elements("[{\"a\": 1}, {\"b\": ");
        assert_eq!(seen.len(), 1);
        assert!(matches!(outcome, Err(IngestError::NotJsonArray(_))));
    }

    #[test]
    fn a_json_object_is_not_an_array() {
        let (_, outcome) = elements("{\"ts\": 1}");
        let error = outcome.unwrap_err().to_string();
        assert!(
            error.contains("a JSON array of listening records"),
            "{error}"
        );
    }

    #[test]
    fn the_receiver_can_stop_early() {
        let mut seen = 0;
        let outcome = each_element("[1, 2, 3, 4]".as_bytes(), &mut |_, _| {
            seen += 1;
            seen < 2
        });
        assert!(outcome.is_ok());
        assert_eq!(seen, 2);
    }
}
