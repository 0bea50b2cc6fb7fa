//! The reader's conventions for numbers and days ([`app::locale::Locale`]),
//! picked from the languages their browser asks for, in its order of
//! preference, among those the C library's locale data describes.

use app::locale::{Clock, Locale};
use axum::http::{header::ACCEPT_LANGUAGE, HeaderMap};
use pure_rust_locales::{locale_match, Locale as Data};

/// A longer `Accept-Language` is not read: no browser sends one.
const MAX_HEADER_BYTES: usize = 1024;

/// Regions assumed for a bare language whose own name is not a region
/// (`de` reads as `de_DE`, but `en` as `en_US`, not `en_EN`).
const USUAL_REGIONS: &[(&str, &str)] = &[
    ("en", "US"),
    ("ja", "JP"),
    ("zh", "CN"),
    ("ko", "KR"),
    ("sv", "SE"),
    ("da", "DK"),
    ("nb", "NO"),
    ("cs", "CZ"),
    ("el", "GR"),
    ("uk", "UA"),
    ("hi", "IN"),
    ("he", "IL"),
];

/// The conventions for a request: those of the first language it asks for
/// that is known here, else the default.
pub fn of_request(headers: &HeaderMap) -> Locale {
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.len() <= MAX_HEADER_BYTES)
        .and_then(|value| {
            accept_language::parse(value)
                .iter()
                .find_map(|tag| known(tag).map(|data| conventions(tag, data)))
        })
        .unwrap_or_default()
}

/// The locale data for a language tag (`de-DE`, `de`, `EN_us`), if any.
fn known(tag: &str) -> Option<Data> {
    let mut parts = tag.split(['-', '_']);
    let language = parts.next()?.to_ascii_lowercase();
    let region = parts.next().map(str::to_ascii_uppercase);
    let region = region.or_else(|| {
        let usual = USUAL_REGIONS.iter().find(|(name, _)| *name == language);
        Some(usual.map_or(language.to_ascii_uppercase(), |(_, region)| {
            region.to_string()
        }))
    })?;
    Data::try_from(format!("{language}_{region}").as_str()).ok()
}

fn conventions(tag: &str, data: Data) -> Locale {
    let grouping: &[i64] = locale_match!(data => LC_NUMERIC::GROUPING);
    let group_size = |size: Option<&i64>| size.and_then(|&n| u8::try_from(n).ok()).unwrap_or(0);
    let first_group = group_size(grouping.first());
    let time: &str = locale_match!(data => LC_TIME::T_FMT);
    let halves: &[&str] = locale_match!(data => LC_TIME::AM_PM);
    let twelve = ["%I", "%l", "%r"].iter().any(|field| time.contains(field));
    let clock = match halves {
        [am, pm] if twelve && !am.is_empty() && !pm.is_empty() => Clock::Twelve {
            am: am.to_string(),
            pm: pm.to_string(),
        },
        _ => Clock::TwentyFour,
    };
    Locale {
        tag: tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(35)
            .collect(),
        group: locale_match!(data => LC_NUMERIC::THOUSANDS_SEP).to_string(),
        first_group,
        // The last size given repeats (the C library's rule).
        next_groups: grouping.get(1).map_or(first_group, |n| group_size(Some(n))),
        decimal: locale_match!(data => LC_NUMERIC::DECIMAL_POINT).to_string(),
        day: locale_match!(data => LC_TIME::D_FMT).to_string(),
        clock,
    }
    .checked()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};

    fn asking(value: &str) -> Locale {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, value.parse().unwrap());
        of_request(&headers)
    }

    #[test]
    fn the_first_known_language_wins() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        let evening = NaiveTime::from_hms_opt(19, 30, 0).unwrap();
        let german = asking("de-DE,de;q=0.9,en;q=0.8");
        assert_eq!(german.tag, "de-DE");
        assert_eq!(german.count(1_234_567), "1.234.567");
        assert_eq!(german.hours(5_400_000), "1,5");
        assert_eq!(german.day(day), "05.03.2024");
        assert_eq!(german.time(evening, false), "19:30");

        let american = asking("en-US,en;q=0.9");
        assert_eq!(american.count(1_234_567), "1,234,567");
        assert_eq!(american.day(day), "03/05/2024");
        assert_eq!(american.time(evening, false), "7:30 PM");

        // Firefox sends bare languages; qualities order them, not places.
        assert_eq!(asking("xx;q=0.1, de").day(day), "05.03.2024");
        assert_eq!(asking("en").day(day), "03/05/2024");
        assert_eq!(asking("en-GB").day(day), "05/03/2024");
        assert_eq!(asking("sv").day(day), "2024-03-05");
        assert_eq!(asking("ja").day(day), "2024年03月05日");
        assert_eq!(asking("zz-ZZ, fr-FR;q=0.5").decimal, ",");
    }

    #[test]
    fn unknown_missing_or_hostile_headers_get_the_default() {
        assert_eq!(of_request(&HeaderMap::new()), Locale::default());
        // World English has no data of its own: not taken for American.
        for value in ["", "*", "xx-YY", "en-001", ";;;,,,q=", "de-\u{7f}"] {
            let mut headers = HeaderMap::new();
            if let Ok(value) = value.parse() {
                headers.insert(ACCEPT_LANGUAGE, value);
            }
            assert_eq!(of_request(&headers), Locale::default(), "{value:?}");
        }
        let long = format!("{}de-DE", "xx,".repeat(MAX_HEADER_BYTES));
        assert_eq!(asking(&long), Locale::default());
        // What reaches the page's `lang` is a tag and nothing else.
        let odd = asking("de-DE\"><script>");
        assert!(
            odd.tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{odd:?}"
        );
    }
}
