//! How server functions' answers travel: JSON, read back from text.
//!
//! Leptos reads the data a page carries from text; server_fn's own JSON
//! encoding reads answers from bytes. Each reader is compiled for every
//! type read, so reading answers from text too keeps one copy of that code
//! in the browser's WebAssembly instead of two.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON in the body of a `POST` answer, read as UTF-8 text.
pub type JsonText = Post<JsonTextEncoding>;

/// The encoding behind [`JsonText`].
pub struct JsonTextEncoding;

impl ContentType for JsonTextEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonTextEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonTextEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_back_as_written() {
        let answer = vec![("Ölfeld ✓".to_string(), 3u32)];
        let bytes = <JsonTextEncoding as Encodes<_>>::encode(&answer).unwrap();
        let read: Vec<(String, u32)> = JsonTextEncoding::decode(bytes).unwrap();
        assert_eq!(read, answer);
    }

    #[test]
    fn an_answer_that_is_not_utf8_is_an_error() {
        let read: Result<String, _> = JsonTextEncoding::decode(Bytes::from_static(b"\"\xff\""));
        assert!(read.is_err());
    }
}
