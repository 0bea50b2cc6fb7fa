//! The stored form earlier versions wrote in bulk (journal deltas,
//! checkpoint chunks): JSON, deflated. Still read, so that a database
//! written by them loads; what is written now is [`super::compact`].

use serde::de::DeserializeOwned;

use super::StoreError;

/// `value` as deflated JSON.
#[cfg(test)]
pub fn pack<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    use flate2::{write::DeflateEncoder, Compression};
    use std::io::Write;
    // Encoded whole first: the encoder is slow with many small writes.
    let json = serde_json::to_vec(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))?;
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map_err(|e| StoreError::Corrupt(format!("cannot compress: {e}")))
}

/// What [`pack`] made of a `T`; `what` names it in the error.
pub fn unpack<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    let json = super::compact::inflate(bytes, what)?;
    serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_round_trips_smaller_than_its_json() {
        let value: Vec<(String, u64)> = (0..5000)
            .map(|i| (format!("spotify:track:{i:022}"), i))
            .collect();
        let packed = pack(&value).unwrap();
        let json = serde_json::to_vec(&value).unwrap();
        assert!(
            packed.len() * 3 < json.len(),
            "{} vs {}",
            packed.len(),
            json.len()
        );
        assert_eq!(
            unpack::<Vec<(String, u64)>>(&packed, "test").unwrap(),
            value
        );
    }

    #[test]
    fn bytes_that_are_not_packed_are_reported() {
        let error = unpack::<Vec<u8>>(b"{\"not\": \"deflated\"}", "journal deltas").unwrap_err();
        assert!(
            error.to_string().contains("journal deltas: not deflated"),
            "{error}"
        );
    }
}
