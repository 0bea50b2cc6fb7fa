//! Where the overview is: its range, the calendar's year and the pause that
//! ends a session, all in its address so that a view can be shared. Each
//! section's links change their own part and keep the others.

use std::fmt::Write;

use serde::{Deserialize, Deserializer, Serialize};

use crate::range::RangeQuery;
use crate::review::SessionGap;
use crate::stories::{check_year, parse_year};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OverviewPlace {
    /// What every panel counts.
    pub range: RangeQuery,
    /// The calendar's year; the latest with listens when none is asked for.
    /// Checked as it is read, from a URL or a client's arguments alike.
    #[serde(default, deserialize_with = "checked_year")]
    pub year: Option<i32>,
    /// The pause that ends a listening session.
    pub gap: SessionGap,
}

/// A year a client sent, refused unless [`check_year`] takes it.
fn checked_year<'de, D: Deserializer<'de>>(from: D) -> Result<Option<i32>, D::Error> {
    Option::<i32>::deserialize(from)?
        .map(check_year)
        .transpose()
        .map_err(serde::de::Error::custom)
}

impl OverviewPlace {
    /// The place the overview's URL parameters name, or why they cannot be read.
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let range = RangeQuery::parse(
            param("preset").as_deref(),
            param("from").as_deref(),
            param("to").as_deref(),
            param("by").as_deref(),
        )?;
        Ok(Self {
            range,
            year: parse_year(param("year").as_deref())?,
            gap: SessionGap::parse(param("gap").as_deref())?,
        })
    }

    /// The overview's address for this place, at `section` when given
    /// (`#calendar`); parts at their defaults are left out.
    pub fn href(&self, section: Option<&str>) -> String {
        let mut href = format!("/?{}", self.range.to_query_string());
        if let Some(year) = self.year {
            let _ = write!(href, "&year={year}");
        }
        if self.gap != SessionGap::DEFAULT {
            let _ = write!(href, "&gap={}", self.gap.minutes());
        }
        if let Some(section) = section {
            let _ = write!(href, "#{section}");
        }
        href
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::range::Preset;

    fn parse(query: &str) -> Result<OverviewPlace, String> {
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        OverviewPlace::parse(|name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn each_part_changes_alone_and_keeps_the_others() {
        let place = parse("preset=last-30-days&by=time&year=2023&gap=60").unwrap();
        assert_eq!(place.range.preset, Some(Preset::Last30Days));
        assert_eq!(place.year, Some(2023));
        assert_eq!(place.gap.minutes(), 60);
        let other_year = OverviewPlace {
            year: Some(2022),
            ..place
        };
        let read_back = parse(other_year.href(None).trim_start_matches("/?")).unwrap();
        assert_eq!(read_back, other_year);
        assert_eq!(read_back.gap, place.gap);
        assert_eq!(read_back.range, place.range);
        assert!(place
            .href(Some("sessions"))
            .ends_with("&year=2023&gap=60#sessions"));
        // Parts at their defaults are left out.
        assert_eq!(
            OverviewPlace::default().href(None),
            format!("/?{}", RangeQuery::default().to_query_string())
        );
    }

    #[test]
    fn a_bad_part_is_refused_with_its_reason() {
        assert!(parse("year=12").unwrap_err().contains("year"));
        assert!(parse("gap=1").unwrap_err().contains("gap"));
        assert!(parse("from=2024-02-01&to=2024-01-01").is_err());
        // A client's arguments are checked as they are read, as URLs are.
        let sent = |year: &str| {
            let json = format!(
                r#"{{"range":{},"year":{year},"gap":30}}"#,
                serde_json::to_string(&RangeQuery::default()).unwrap()
            );
            serde_json::from_str::<OverviewPlace>(&json)
        };
        assert!(sent("12").unwrap_err().to_string().contains("year must be"));
        assert_eq!(sent("2023").unwrap().year, Some(2023));
        assert_eq!(sent("null").unwrap().year, None);
        assert!(serde_json::from_str::<OverviewPlace>(
            r#"{"range":{"preset":null,"from":null,"to":null,"metric":"Plays"},"gap":1}"#
        )
        .is_err());
    }
}
