//! The reader's time zone (a setting of their account): every moment on a
//! page reads as the hour they lived it, not in UTC. The server converts
//! with the zone database it counts with and writes the zone's name into
//! the page (`<html data-zone>`); the browser converts with its own
//! (`Intl.DateTimeFormat`), so that what it writes after a live update
//! reads like what the server sent.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Turns an instant into the wall-clock time of one zone.
pub type WallClock = Arc<dyn Fn(DateTime<Utc>) -> NaiveDateTime + Send + Sync>;

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
        Self::new("UTC", Arc::new(|at: DateTime<Utc>| at.naive_utc()))
    }

    /// The IANA name, which is also how a moment says where it is.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The reader's wall-clock time at `at`.
    pub fn wall_time(&self, at: DateTime<Utc>) -> NaiveDateTime {
        (self.wall)(at)
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
/// one the page was written with; UTC outside a page.
pub fn current() -> ReaderZone {
    leptos::prelude::use_context::<ReaderZone>().unwrap_or_default()
}

/// The attribute of `<html>` that carries the zone's name to the browser.
pub const ZONE_ATTRIBUTE: &str = "data-zone";

/// The zone the page was written in, read back in the browser; UTC when
/// the page names none or the browser does not know the name.
#[cfg(feature = "hydrate")]
pub fn from_page() -> ReaderZone {
    let name = leptos::prelude::document()
        .document_element()
        .and_then(|html| html.get_attribute(ZONE_ATTRIBUTE))
        .filter(|name| name != "UTC" && browser::wall_time(name, DateTime::UNIX_EPOCH).is_some());
    match name {
        Some(name) => {
            let zone = name.clone();
            ReaderZone::new(
                name,
                Arc::new(move |at| browser::wall_time(&zone, at).unwrap_or(at.naive_utc())),
            )
        }
        None => ReaderZone::utc(),
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    use js_sys::{Array, Function, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};

    /// The wall-clock time at `at` in the zone named `zone`, by the
    /// browser's own zone database; `None` for a name it does not know
    /// (constructing the format throws then, which is caught here).
    pub fn wall_time(zone: &str, at: DateTime<Utc>) -> Option<NaiveDateTime> {
        let options = Object::new();
        let fields = [
            ("year", "numeric"),
            ("month", "numeric"),
            ("day", "numeric"),
        ];
        let clock = [
            ("hour", "numeric"),
            ("minute", "numeric"),
            ("second", "numeric"),
        ];
        for (key, value) in fields
            .into_iter()
            .chain(clock)
            .chain([("timeZone", zone), ("hourCycle", "h23")])
        {
            Reflect::set(&options, &key.into(), &value.into()).ok()?;
        }
        let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let constructor: Function = Reflect::get(&intl, &"DateTimeFormat".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let arguments = Array::of2(&"en-US".into(), &options);
        let format: js_sys::Intl::DateTimeFormat = Reflect::construct(&constructor, &arguments)
            .ok()?
            .unchecked_into();
        let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
        // year, month, day, hour, minute, second
        let mut values = [None::<u32>; 6];
        for part in format.format_to_parts(&date).iter() {
            let field = |name: &str| Reflect::get(&part, &name.into()).ok()?.as_string();
            let slot = match field("type")?.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            values[slot] = field("value")?.parse().ok();
        }
        let [year, month, day, hour, minute, second] = values;
        NaiveDate::from_ymd_opt(i32::try_from(year?).ok()?, month?, day?)?.and_hms_milli_opt(
            hour?,
            minute?,
            second?,
            at.timestamp_subsec_millis(),
        )
    }
}
