//! The one event of the pipeline: a single listen of a track.
//!
//! Every input format is normalised into [`ListenEvent`]; the producer sends it
//! to Kafka as JSON in a [`TopicMessage`] naming its person, the consumer
//! decodes and validates it again, and nothing downstream knows which file
//! format a listen came from.

use app::cleanup::{BadExclusion, CleanUpChange};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::accounts::PersonId;

/// The prefix of every track URI, as Spotify writes it.
pub const TRACK_URI_PREFIX: &str = "spotify:track:";
/// The prefix of Spotify's URIs for songs it has no catalogue id for.
pub const LOCAL_URI_PREFIX: &str = "spotify:local:";

/// One listen of one track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenEvent {
    /// `spotify:track:<id>`, or for a song known only by its names (account
    /// data, local files) `spotify:local:<artist>:<album>:<track>:` as
    /// [`local_track_uri`] writes it: what identifies a song.
    pub track_uri: String,
    /// When the listen ended, in UTC.
    #[serde(deserialize_with = "instant")]
    pub ts: DateTime<Utc>,
    pub ms_played: u64,
    pub track_name: String,
    /// Identifies an artist, exactly as written.
    pub artist_name: String,
    pub album_name: String,
    pub platform: String,
    pub reason_start: String,
    pub reason_end: String,
    pub shuffle: bool,
    pub skipped: bool,
}

/// Why a record or message cannot be a [`ListenEvent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("missing track URI")]
    MissingTrackUri,
    #[error("not a track URI: {0:?} (expected spotify:track:<id> or a bare track id)")]
    BadTrackUri(String),
    #[error("missing track name")]
    MissingTrackName,
    #[error("missing artist name")]
    MissingArtistName,
}

impl InvalidEvent {
    /// A short stable name of the reason, for counting rejections by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingTrackUri => "missing_track_uri",
            Self::BadTrackUri(_) => "bad_track_uri",
            Self::MissingTrackName => "missing_track_name",
            Self::MissingArtistName => "missing_artist_name",
        }
    }
}

impl ListenEvent {
    /// Checks what every stage relies on: a song and an artist to count it under.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        check_track_uri(&self.track_uri)?;
        if self.track_name.trim().is_empty() {
            return Err(InvalidEvent::MissingTrackName);
        }
        if self.artist_name.trim().is_empty() {
            return Err(InvalidEvent::MissingArtistName);
        }
        Ok(())
    }
}

/// What the listens topic carries, keyed by the person it belongs to (see
/// [`TopicMessage::key`]): a listen, or a control event that takes effect
/// exactly at its place among that person's listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "WireMessage"
)]
// Messages are decoded and used one at a time: boxing the listen would
// cost an allocation per listen for nothing.
#[allow(clippy::large_enum_variant)]
pub enum TopicMessage {
    /// One listen of one person; with its place in an import from the
    /// page, which a resumed import sends again.
    Listen {
        person: PersonId,
        listen: ListenEvent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        import: Option<ImportPosition>,
    },
    /// Everything counted for the person before this point is to be removed.
    Forget(Forget),
    /// Something the person leaves out of their figures from this point, or puts back.
    CleanUp(CleanUp),
}

/// A message as it is read: every field of either kind, each decoded
/// straight into place. (An internally tagged enum is decoded through an
/// intermediate tree of every value, which was a tenth of counting's time.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    kind: MessageKind,
    person: PersonId,
    #[serde(default, deserialize_with = "present")]
    listen: Option<ListenEvent>,
    #[serde(default, deserialize_with = "present")]
    import: Option<ImportPosition>,
    #[serde(default, deserialize_with = "present")]
    scope: Option<ForgetScope>,
    #[serde(default, deserialize_with = "present")]
    requested_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "present")]
    change: Option<CleanUpChange>,
}

/// A field that is either absent or holds a value: `null` is refused, as
/// a key of the other kind of message always was.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom(
            "null given for a field of the other kind of message",
        )),
    }
}

/// An instant as the producer writes it, RFC 3339, read by chrono's strict
/// parser first: its own `Deserialize` takes the lenient one, a sixth of
/// decoding a listen. What only the lenient one reads is still read.
fn instant<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(InstantVisitor)
}

struct InstantVisitor;

impl serde::de::Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| text.parse::<DateTime<FixedOffset>>())
            .map(|ts| ts.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MessageKind {
    Listen,
    Forget,
    CleanUp,
}

impl TryFrom<WireMessage> for TopicMessage {
    type Error = &'static str;

    fn try_from(wire: WireMessage) -> Result<Self, Self::Error> {
        let WireMessage {
            kind,
            person,
            listen,
            import,
            scope,
            requested_at,
            change,
        } = wire;
        if import.is_some() && !matches!(kind, MessageKind::Listen) {
            return Err("a control event with an `import`, a field of listens");
        }
        match (&kind, change) {
            (MessageKind::CleanUp, Some(change)) => {
                return match (listen, scope, requested_at) {
                    (None, None, Some(requested_at)) => Ok(TopicMessage::CleanUp(CleanUp {
                        person,
                        change,
                        requested_at,
                    })),
                    (None, None, None) => Err("a clean-up without its `requested_at`"),
                    _ => Err("a clean-up with a `listen` or `scope`"),
                };
            }
            (MessageKind::CleanUp, None) => return Err("a clean-up without its `change`"),
            (_, Some(_)) => return Err("a `change`, the field of clean-ups, in another kind"),
            (_, None) => {}
        }
        match (kind, listen, scope, requested_at) {
            (MessageKind::Listen, Some(listen), None, None) => Ok(TopicMessage::Listen {
                person,
                listen,
                import,
            }),
            (MessageKind::Listen, None, _, _) => Err("a listen without its `listen`"),
            (MessageKind::Listen, Some(_), _, _) => {
                Err("a listen with `scope` or `requested_at`, fields of a forget")
            }
            (MessageKind::Forget, None, Some(scope), Some(requested_at)) => {
                Ok(TopicMessage::Forget(Forget {
                    person,
                    scope,
                    requested_at,
                }))
            }
            (MessageKind::Forget, Some(_), _, _) => Err("a forget with a `listen`"),
            (MessageKind::Forget, None, _, _) => {
                Err("a forget without its `scope` or `requested_at`")
            }
            (MessageKind::CleanUp, _, _, _) => Err("a clean-up without its `change`"),
        }
    }
}

/// Identifies one import from the page (random, 32 hexadecimal digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImportId(pub String);

impl std::fmt::Display for ImportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a record stands in its import: its file (in the order the import
/// reads them) and its number in that file, the same however often the
/// import is sent. Records of one import reach their partition in this
/// order (an idempotent producer keeps it), so the counting side tells a
/// record sent again by how far it counted the import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportPosition {
    pub id: ImportId,
    pub file: u32,
    pub record: u64,
}

impl ImportPosition {
    pub fn number(&self) -> RecordNumber {
        RecordNumber {
            file: self.file,
            record: self.record,
        }
    }
}

/// A record's place in its import, ordered as the import sends records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordNumber {
    pub file: u32,
    pub record: u64,
}

/// A person's figures removed: on their request ("delete my data", after
/// which later listens count again) or with their account (after which
/// none do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forget {
    pub person: PersonId,
    pub scope: ForgetScope,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForgetScope {
    /// Their figures so far; the account stays.
    Data,
    /// Their figures and their account: listens of theirs that arrive later are dropped.
    Account,
}

/// Something a person leaves out of their figures, or puts back, from its
/// place among their listens on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanUp {
    pub person: PersonId,
    pub change: CleanUpChange,
    /// When the person asked: what orders it against their changes
    /// counted in another partition (see [`crate::aggregate::cleaning`]).
    pub requested_at: DateTime<Utc>,
}

impl TopicMessage {
    pub fn person(&self) -> &PersonId {
        match self {
            TopicMessage::Listen { person, .. } => person,
            TopicMessage::Forget(forget) => &forget.person,
            TopicMessage::CleanUp(clean_up) => &clean_up.person,
        }
    }

    /// The Kafka message key, the person: all of a person's listens land on
    /// one partition, counted there in order with their control events, so
    /// a person's figures are read from one place, exactly; people are
    /// spread over the partitions by the key's hash.
    pub fn key(&self) -> &str {
        self.person().as_str()
    }
}

/// Largest message value accepted as an event; real ones are a few hundred bytes.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Why a Kafka message is not a usable event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty message")]
    Empty,
    #[error("message of {0} bytes is over the {MAX_EVENT_BYTES}-byte limit")]
    Oversize(usize),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("not a listen event: {0}")]
    WrongSchema(String),
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
    #[error("not a clean-up that can be made: {0}")]
    BadCleanUp(#[from] BadExclusion),
}

impl DecodeError {
    /// A short stable name of the reason, for counting dead letters by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Oversize(_) => "oversize",
            Self::NotJson(_) => "not_json",
            Self::WrongSchema(_) => "wrong_schema",
            Self::Invalid(invalid) => invalid.kind(),
            Self::BadCleanUp(_) => "bad_clean_up",
        }
    }
}

impl TopicMessage {
    /// Decodes and validates a message value written by this system.
    pub fn from_json(payload: Option<&[u8]>) -> Result<Self, DecodeError> {
        let bytes = payload
            .filter(|bytes| !bytes.is_empty())
            .ok_or(DecodeError::Empty)?;
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(DecodeError::Oversize(bytes.len()));
        }
        let mut message: TopicMessage = serde_json::from_slice(bytes).map_err(|error| {
            if error.is_data() {
                DecodeError::WrongSchema(error.to_string())
            } else {
                DecodeError::NotJson(error.to_string())
            }
        })?;
        match &mut message {
            TopicMessage::Listen { listen, .. } => {
                listen.neutralize_names();
                listen.validate()?;
            }
            TopicMessage::CleanUp(clean_up) => clean_up.change.exclusion().check()?,
            TopicMessage::Forget(_) => {}
        }
        Ok(message)
    }
}

/// Characters that reorder the text around them (bidirectional overrides,
/// embeddings and isolates): a name holding one could make a page read
/// other than it is, so they are taken out of names when listens are counted.
fn is_reordering(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl ListenEvent {
    /// Takes reordering characters out of the names, which are otherwise
    /// kept exactly as written (pages, charts and files escape them).
    pub fn neutralize_names(&mut self) {
        for name in [
            &mut self.track_name,
            &mut self.artist_name,
            &mut self.album_name,
        ] {
            if name.chars().any(is_reordering) {
                name.retain(|c| !is_reordering(c));
            }
        }
    }
}

/// Turns a bare track id (as the classic CSV has it) or a full URI into a full URI.
pub fn normalize_track_uri(raw: &str) -> Result<String, InvalidEvent> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(InvalidEvent::MissingTrackUri);
    }
    let uri = if raw.contains(':') {
        raw.to_string()
    } else {
        format!("{TRACK_URI_PREFIX}{raw}")
    };
    check_track_uri(&uri)?;
    Ok(uri)
}

/// The URI of a song known only by artist and track name, in Spotify's own
/// form for local files (form-encoded parts, album left empty), so the same
/// artist and track always make the same song.
pub fn local_track_uri(artist: &str, track: &str) -> String {
    let encode = |part: &str| form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
    format!("{LOCAL_URI_PREFIX}{}::{}:", encode(artist), encode(track))
}

/// A value from a file as a rejection reason quotes it: at most 80 characters.
pub(crate) fn quoted_value(raw: &str) -> String {
    app::format::ellipsize(raw, 80)
}

fn check_track_uri(uri: &str) -> Result<(), InvalidEvent> {
    if uri.is_empty() {
        return Err(InvalidEvent::MissingTrackUri);
    }
    if let Some(rest) = uri.strip_prefix(LOCAL_URI_PREFIX) {
        if rest.trim_matches(':').is_empty() {
            return Err(InvalidEvent::BadTrackUri(quoted_value(uri)));
        }
        return Ok(());
    }
    let id = uri
        .strip_prefix(TRACK_URI_PREFIX)
        .ok_or_else(|| InvalidEvent::BadTrackUri(quoted_value(uri)))?;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(InvalidEvent::BadTrackUri(quoted_value(uri)));
    }
    Ok(())
}

/// A listen to build tests on.
#[cfg(test)]
pub(crate) fn test_listen(
    track_id: &str,
    artist: &str,
    ts: &str,
    ms: u64,
    skipped: bool,
) -> ListenEvent {
    ListenEvent {
        track_uri: format!("{TRACK_URI_PREFIX}{track_id}"),
        ts: ts.parse().expect("an RFC 3339 time"),
        ms_played: ms,
        track_name: format!("Song {track_id}"),
        artist_name: artist.into(),
        album_name: "Album".into(),
        platform: "android".into(),
        reason_start: "clickrow".into(),
        reason_end: "trackdone".into(),
        shuffle: false,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen() -> ListenEvent {
        ListenEvent {
            track_uri: "spotify:track:2J3n32GeLmMjwuAzyhcSNe".into(),
            ts: "2013-07-08T02:44:34Z".parse().unwrap(),
            ms_played: 3185,
            track_name: "Say It, Just Say It".into(),
            artist_name: "The Mowgli's".into(),
            album_name: "Waiting For The Dawn".into(),
            platform: "web player".into(),
            reason_start: "autoplay".into(),
            reason_end: "clickrow".into(),
            shuffle: false,
            skipped: false,
        }
    }

    #[test]
    fn bare_track_id_becomes_a_full_uri() {
        assert_eq!(
            normalize_track_uri("2J3n32GeLmMjwuAzyhcSNe").unwrap(),
            "spotify:track:2J3n32GeLmMjwuAzyhcSNe"
        );
    }

    #[test]
    fn full_track_uri_is_kept() {
        assert_eq!(
            normalize_track_uri(" spotify:track:abc123 ").unwrap(),
            "spotify:track:abc123"
        );
    }

    #[test]
    fn rejects_blank_and_non_track_uris() {
        assert_eq!(
            normalize_track_uri("  "),
            Err(InvalidEvent::MissingTrackUri)
        );
        assert!(matches!(
            normalize_track_uri("spotify:episode:abc"),
            Err(InvalidEvent::BadTrackUri(_))
        ));
        assert!(matches!(
            normalize_track_uri("abc def"),
            Err(InvalidEvent::BadTrackUri(_))
        ));
    }

    #[test]
    fn songs_known_by_name_get_a_local_uri_that_validates() {
        let uri = local_track_uri("Sigur Rós", "Hoppípolla: live");
        assert_eq!(
            uri,
            "spotify:local:Sigur+R%C3%B3s::Hopp%C3%ADpolla%3A+live:"
        );
        assert_eq!(normalize_track_uri(&uri), Ok(uri.clone()));
        assert_ne!(uri, local_track_uri("Sigur Rós", "Hoppípolla live"));
        assert!(normalize_track_uri("spotify:local::::").is_err());
    }

    #[test]
    fn event_round_trips_through_json() {
        let event = listen();
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains("\"ts\":\"2013-07-08T02:44:34Z\""));
        assert_eq!(serde_json::from_str::<ListenEvent>(&json).unwrap(), event);
    }

    #[test]
    fn json_with_unknown_fields_is_refused() {
        let mut value = serde_json::to_value(listen()).unwrap();
        value["extra"] = serde_json::json!(1);
        assert!(serde_json::from_value::<ListenEvent>(value).is_err());
    }

    fn message(listen: ListenEvent) -> TopicMessage {
        TopicMessage::Listen {
            person: PersonId("p1".into()),
            listen,
            import: None,
        }
    }

    #[test]
    fn a_listen_time_is_read_in_every_form_chrono_reads() {
        let at = |ts: &str| {
            let mut value = serde_json::to_value(message(listen())).unwrap();
            value["listen"]["ts"] = serde_json::json!(ts);
            TopicMessage::from_json(Some(&serde_json::to_vec(&value).unwrap())).map(|message| {
                match message {
                    TopicMessage::Listen { listen, .. } => listen.ts.to_rfc3339(),
                    other => panic!("not a listen: {other:?}"),
                }
            })
        };
        assert_eq!(
            at("2013-07-08T02:44:34Z").unwrap(),
            "2013-07-08T02:44:34+00:00"
        );
        assert_eq!(
            at("2013-07-08T04:44:34.250+02:00").unwrap(),
            "2013-07-08T02:44:34.250+00:00"
        );
        // Read by the lenient parser only, as before.
        assert_eq!(
            at("2013-07-08 02:44:34 +00:00").unwrap(),
            "2013-07-08T02:44:34+00:00"
        );
        assert!(matches!(at("yesterday"), Err(DecodeError::WrongSchema(_))));
        assert!(matches!(
            at("2013-07-08 02:44:34"),
            Err(DecodeError::WrongSchema(_))
        ));
    }

    #[test]
    fn decodes_what_the_producer_encodes() {
        let bytes = serde_json::to_vec(&message(listen())).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap(),
            message(listen())
        );
        let forget = TopicMessage::Forget(Forget {
            person: PersonId("p1".into()),
            scope: ForgetScope::Account,
            requested_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        });
        let bytes = serde_json::to_vec(&forget).unwrap();
        assert_eq!(TopicMessage::from_json(Some(&bytes)).unwrap(), forget);
        assert_eq!(forget.key(), "p1");
        let imported = TopicMessage::Listen {
            person: PersonId("p1".into()),
            listen: listen(),
            import: Some(ImportPosition {
                id: ImportId("00ff".into()),
                file: 2,
                record: 17,
            }),
        };
        let bytes = serde_json::to_vec(&imported).unwrap();
        assert!(String::from_utf8_lossy(&bytes)
            .contains(r#""import":{"id":"00ff","file":2,"record":17}"#));
        assert_eq!(TopicMessage::from_json(Some(&bytes)).unwrap(), imported);
        // A listen without it is written as before.
        let plain = serde_json::to_vec(&message(listen())).unwrap();
        assert!(!String::from_utf8_lossy(&plain).contains("import"));
    }

    #[test]
    fn an_import_position_belongs_to_listens_only() {
        let mut forget = serde_json::to_value(TopicMessage::Forget(Forget {
            person: PersonId("p1".into()),
            scope: ForgetScope::Data,
            requested_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }))
        .unwrap();
        forget["import"] = serde_json::json!({ "id": "00ff", "file": 0, "record": 1 });
        let bytes = serde_json::to_vec(&forget).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
            "wrong_schema"
        );
    }

    #[test]
    fn a_clean_up_travels_as_written_and_a_bad_one_is_set_aside() {
        use app::cleanup::Exclusion;
        let clean_up = TopicMessage::CleanUp(CleanUp {
            person: PersonId("p1".into()),
            change: CleanUpChange::Exclude(Exclusion::Album {
                artist: "Queen".into(),
                album: "Jazz".into(),
            }),
            requested_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        });
        let bytes = serde_json::to_vec(&clean_up).unwrap();
        assert_eq!(TopicMessage::from_json(Some(&bytes)).unwrap(), clean_up);
        assert_eq!(clean_up.key(), "p1");
        let mut value = serde_json::to_value(&clean_up).unwrap();
        value["change"]["exclude"]["album"]["album"] = serde_json::json!("");
        let bytes = serde_json::to_vec(&value).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
            "bad_clean_up"
        );
        // A change belongs to clean-ups only; a clean-up needs one.
        let mut forget = serde_json::to_value(TopicMessage::Forget(Forget {
            person: PersonId("p1".into()),
            scope: ForgetScope::Data,
            requested_at: "2026-01-01T00:00:00Z".parse().unwrap(),
        }))
        .unwrap();
        forget["change"] = serde_json::to_value(CleanUpChange::Include(Exclusion::Artist {
            artist: "Queen".into(),
        }))
        .unwrap();
        let bytes = serde_json::to_vec(&forget).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
            "wrong_schema"
        );
        let mut bare = serde_json::to_value(&clean_up).unwrap();
        bare.as_object_mut().unwrap().remove("change");
        let bytes = serde_json::to_vec(&bare).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
            "wrong_schema"
        );
    }

    #[test]
    fn records_are_ordered_by_file_then_number() {
        let at = |file, record| RecordNumber { file, record };
        assert!(at(0, 99) < at(1, 0));
        assert!(at(1, 1) < at(1, 2));
    }

    #[test]
    fn a_message_without_a_person_or_with_unknown_fields_is_refused() {
        let bare = serde_json::to_vec(&listen()).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bare)).unwrap_err().kind(),
            "wrong_schema"
        );
        let mut extra = serde_json::to_value(message(listen())).unwrap();
        extra["extra"] = serde_json::json!(1);
        let bytes = serde_json::to_vec(&extra).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
            "wrong_schema"
        );
    }

    #[test]
    fn the_fields_of_one_kind_are_refused_in_the_other() {
        let mut listen_with_scope = serde_json::to_value(message(listen())).unwrap();
        listen_with_scope["scope"] = serde_json::json!("data");
        let forget_with_listen = serde_json::json!({
            "kind": "forget",
            "person": "p1",
            "scope": "data",
            "requested_at": "2026-01-01T00:00:00Z",
            "listen": serde_json::to_value(listen()).unwrap(),
        });
        let forget_without_scope = serde_json::json!({
            "kind": "forget",
            "person": "p1",
            "requested_at": "2026-01-01T00:00:00Z",
        });
        let unknown_kind = serde_json::json!({"kind": "replay", "person": "p1"});
        let mut listen_with_null_scope = serde_json::to_value(message(listen())).unwrap();
        listen_with_null_scope["scope"] = serde_json::Value::Null;
        let forget_with_null_listen = serde_json::json!({
            "kind": "forget",
            "person": "p1",
            "scope": "data",
            "requested_at": "2026-01-01T00:00:00Z",
            "listen": null,
        });
        for value in [
            listen_with_scope,
            forget_with_listen,
            forget_without_scope,
            unknown_kind,
            listen_with_null_scope,
            forget_with_null_listen,
        ] {
            let bytes = serde_json::to_vec(&value).unwrap();
            assert_eq!(
                TopicMessage::from_json(Some(&bytes)).unwrap_err().kind(),
                "wrong_schema",
                "{value}"
            );
        }
    }

    #[test]
    fn undecodable_messages_say_why() {
        assert_eq!(TopicMessage::from_json(None), Err(DecodeError::Empty));
        assert_eq!(TopicMessage::from_json(Some(b"")), Err(DecodeError::Empty));
        assert_eq!(
            TopicMessage::from_json(Some(b"{oops")).unwrap_err().kind(),
            "not_json"
        );
        assert_eq!(
            TopicMessage::from_json(Some(br#"{"kind":"listen","person":"p"}"#))
                .unwrap_err()
                .kind(),
            "wrong_schema"
        );
        let huge = vec![b' '; MAX_EVENT_BYTES + 1];
        assert_eq!(
            TopicMessage::from_json(Some(&huge)),
            Err(DecodeError::Oversize(huge.len()))
        );
        let mut blank_artist = listen();
        blank_artist.artist_name.clear();
        let bytes = serde_json::to_vec(&message(blank_artist)).unwrap();
        assert_eq!(
            TopicMessage::from_json(Some(&bytes)),
            Err(DecodeError::Invalid(InvalidEvent::MissingArtistName))
        );
    }

    #[test]
    fn names_lose_their_reordering_characters_when_counted() {
        let mut spoof = listen();
        spoof.artist_name = "Evil\u{202E}gnp.exe".into();
        spoof.track_name = "\u{2067}Isolated\u{2069} <b>kept</b>".into();
        let bytes = serde_json::to_vec(&message(spoof)).unwrap();
        let Ok(TopicMessage::Listen { listen, .. }) = TopicMessage::from_json(Some(&bytes)) else {
            panic!("not decoded")
        };
        assert_eq!(listen.artist_name, "Evilgnp.exe");
        assert_eq!(listen.track_name, "Isolated <b>kept</b>");
    }

    #[test]
    fn validate_requires_track_and_artist_names() {
        let mut event = listen();
        event.track_name = " ".into();
        assert_eq!(event.validate(), Err(InvalidEvent::MissingTrackName));
        let mut event = listen();
        event.artist_name.clear();
        assert_eq!(event.validate(), Err(InvalidEvent::MissingArtistName));
        let mut event = listen();
        event.track_uri = "spotify:track:".into();
        assert!(matches!(
            event.validate(),
            Err(InvalidEvent::BadTrackUri(_))
        ));
        assert_eq!(listen().validate(), Ok(()));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                if let Ok(TopicMessage::Listen { listen, .. }) = TopicMessage::from_json(Some(&bytes)) {
                    prop_assert!(listen.validate().is_ok());
                }
            }

            #[test]
            fn any_valid_event_survives_the_topic(
                id in "[A-Za-z0-9]{1,22}",
                track in "\\PC{1,40}",
                artist in "\\PC{1,40}",
                album in "\\PC{0,40}",
                seconds in 0i64..4_000_000_000,
                ms in 0u64..10_000_000,
                shuffle in any::<bool>(),
                skipped in any::<bool>(),
            ) {
                prop_assume!(!track.trim().is_empty() && !artist.trim().is_empty());
                let event = ListenEvent {
                    track_uri: format!("{TRACK_URI_PREFIX}{id}"),
                    ts: chrono::DateTime::from_timestamp(seconds, 0).unwrap(),
                    ms_played: ms,
                    track_name: track,
                    artist_name: artist,
                    album_name: album,
                    platform: "android".into(),
                    reason_start: "clickrow".into(),
                    reason_end: "trackdone".into(),
                    shuffle,
                    skipped,
                };
                let sent = message(event);
                let bytes = serde_json::to_vec(&sent).unwrap();
                prop_assert_eq!(TopicMessage::from_json(Some(&bytes)), Ok(sent));
            }
        }
    }
}
