//! The reader's time zone (a setting of their account): every moment on a
//! page reads as the hour they lived it, not in UTC. The server converts
//! with the zone database it counts with and writes the zone's name into
//! the page (`<html data-zone>`); the browser converts with its own
//! (`Intl.DateTimeFormat`), so that what it writes after a live update
//! reads like what the server sent.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Turns an instant into the wall-clock time of one zone; `None` when it
/// cannot (a browser that lost the zone), and the moment is written in UTC.
pub type WallClock = Arc<dyn Fn(DateTime<Utc>) -> Option<NaiveDateTime> + Send + Sync>;

/// A zone by its IANA name, with the way to read instants on its clocks.
#[derive(Clone)]
pub struct ReaderZone {
    name: String,
    wall: WallClock,
}

impl ReaderZone {
    pub fn new(name: impl Into<String>, wall: WallClock) -> Self {
        Self {
            name: name.into(),
            wall,
        }
    }

    /// UTC: outside a signed-in page, and where the zone cannot be read.
    pub fn utc() -> Self {
        Self::new("UTC", Arc::new(|at: DateTime<Utc>| Some(at.naive_utc())))
    }

    /// The IANA name, which is also how a moment says where it is.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The reader's wall-clock time at `at`, with the name of the zone it
    /// is in: theirs, or UTC where theirs cannot be read.
    pub fn wall_time(&self, at: DateTime<Utc>) -> (NaiveDateTime, &str) {
        match (self.wall)(at) {
            Some(local) => (local, &self.name),
            None => (at.naive_utc(), "UTC"),
        }
    }
}

impl Default for ReaderZone {
    fn default() -> Self {
        Self::utc()
    }
}

impl std::fmt::Debug for ReaderZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReaderZone").field(&self.name).finish()
    }
}

/// The reader's zone: the one the server provided for this request, or the
/// one the page was written with (or the person chose since); UTC outside a page.
pub fn current() -> ReaderZone {
    use leptos::prelude::{use_context, GetUntracked, RwSignal};
    (use_context::<RwSignal<ReaderZone>>())
        .map(|zone| zone.get_untracked())
        .unwrap_or_default()
}

/// Makes `zone` the reader's zone for what is written from now on.
pub fn provide(zone: ReaderZone) {
    leptos::prelude::provide_context(leptos::prelude::RwSignal::new(zone));
}

/// The attribute of `<html>` that carries the zone's name to the browser.
pub const ZONE_ATTRIBUTE: &str = "data-zone";

/// The zone the page was written in, read back in the browser; UTC when
/// the page names none or the browser does not know the name.
#[cfg(feature = "hydrate")]
pub fn from_page() -> ReaderZone {
    let name = leptos::prelude::document()
        .document_element()
        .and_then(|html| html.get_attribute(ZONE_ATTRIBUTE));
    name.map_or_else(ReaderZone::utc, |name| in_browser(&name))
}

/// The zone named `name` on the browser's clocks; UTC when the browser
/// does not know the name.
#[cfg(feature = "hydrate")]
fn in_browser(name: &str) -> ReaderZone {
    if name == "UTC" || browser::wall_time(name, DateTime::UNIX_EPOCH).is_none() {
        return ReaderZone::utc();
    }
    let zone = name.to_string();
    ReaderZone::new(name, Arc::new(move |at| browser::wall_time(&zone, at)))
}

/// The person chose the zone named `name`: the moments written from now on
/// (and the page, for what reads it) are on its clocks, without a reload.
#[cfg(feature = "hydrate")]
pub fn change_to(name: &str) {
    use leptos::prelude::{use_context, RwSignal, Set};
    if let Some(zone) = use_context::<RwSignal<ReaderZone>>() {
        zone.set(in_browser(name));
    }
    if let Some(html) = leptos::prelude::document().document_element() {
        let _ = html.set_attribute(ZONE_ATTRIBUTE, name);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;

    use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
    use js_sys::{Array, Function, Intl::DateTimeFormat, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    thread_local! {
        /// The last zone's format: building one costs more than using it.
        static FORMAT: RefCell<Option<(String, DateTimeFormat)>> = const { RefCell::new(None) };
    }

    /// The wall-clock time at `at` in the zone named `zone`, by the
    /// browser's own zone database: `at` plus the zone's offset then, as
    /// the server computes it; `None` for a name the browser does not know
    /// (building the format throws then, caught here).
    pub fn wall_time(zone: &str, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        let format = FORMAT.with_borrow_mut(|cached| {
            if let Some((_, format)) = cached.as_ref().filter(|(name, _)| name == zone) {
                return Some(format.clone());
            }
            let format = offset_format(zone)?;
            *cached = Some((zone.to_string(), format.clone()));
            Some(format)
        })?;
        let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
        let offset = (format.format_to_parts(&date).iter())
            .find(|part| field(part, "type").as_deref() == Some("timeZoneName"))
            .and_then(|part| field(&part, "value"))
            .and_then(|name| super::offset_seconds(&name))?;
        Some(at.naive_utc() + TimeDelta::seconds(offset))
    }

    /// A format that names the zone's offset from UTC: `GMT+09:00`.
    fn offset_format(zone: &str) -> Option<DateTimeFormat> {
        let options = Object::new();
        Reflect::set(&options, &"timeZone".into(), &zone.into()).ok()?;
        Reflect::set(&options, &"timeZoneName".into(), &"longOffset".into()).ok()?;
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let constructor: Function = Reflect::get(&intl, &"DateTimeFormat".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let arguments = Array::of2(&"en-US".into(), &options);
        Reflect::construct(&constructor, &arguments)
            .ok()
            .map(JsCast::unchecked_into)
    }

    fn field(part: &JsValue, name: &str) -> Option<String> {
        Reflect::get(part, &name.into()).ok()?.as_string()
    }
}

#[cfg(any(feature = "hydrate", test))]
/// `GMT` → 0, `GMT+09:00` → 32,400, `GMT-03:30` → -12,600, and
/// local mean times to the second (`GMT+00:53:28`).
fn offset_seconds(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("GMT")?;
    if rest.is_empty() {
        return Some(0);
    }
    let sign = match rest.chars().next()? {
        '+' => 1,
        '-' | '\u{2212}' => -1,
        _ => return None,
    };
    let mut seconds = 0;
    let mut unit = 3600;
    for piece in rest[rest.chars().next()?.len_utf8()..].split(':') {
        if unit == 0 || piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        seconds += piece.parse::<i64>().ok()? * unit;
        unit /= 60;
    }
    Some(sign * seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_the_browser_names_them() {
        assert_eq!(offset_seconds("GMT"), Some(0));
        assert_eq!(offset_seconds("GMT+09:00"), Some(32_400));
        assert_eq!(offset_seconds("GMT-03:30"), Some(-12_600));
        assert_eq!(offset_seconds("GMT\u{2212}05:00"), Some(-18_000));
        assert_eq!(offset_seconds("GMT+00:53:28"), Some(3_208));
        for odd in [
            "",
            "UTC",
            "GMT+",
            "GMT+09:",
            "GMT+ab",
            "GMT+1:2:3:4",
            "GMT*09",
        ] {
            assert_eq!(offset_seconds(odd), None, "{odd}");
        }
    }
}
