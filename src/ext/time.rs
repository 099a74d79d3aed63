//! Times in API answers, as the generated types decode them: RFC 3339 read by chrono's strict
//! parser (about a fifth of the time of the general one chrono's serde support uses), and by the
//! general one when the strict one refuses, so that every time read before is read the same.
//! A listing page holds 200 of them; `build.rs` points every optional time field here.

use chrono::{DateTime, FixedOffset, Utc};
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// An optional time: `null` or absent is `None`.
pub(crate) fn optional_rfc3339<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(Optional)
}

/// A time as chrono writes and reads it: strict RFC 3339 first, then chrono's own parse.
fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| text.parse::<DateTime<FixedOffset>>())
        .map(|at| at.with_timezone(&Utc))
}

struct Optional;

impl<'de> Visitor<'de> for Optional {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time, or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(Time).map(Some)
    }
}

struct Time;

impl Visitor<'_> for Time {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use chrono::{DateTime, FixedOffset, Utc};

    /// What chrono's own serde support reads (the general parse), for comparison.
    fn general(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }

    #[test]
    fn every_time_reads_as_chrono_reads_it() {
        for text in [
            "2020-03-20T22:45:34Z",
            "2026-11-30T12:34:56.123456789Z",
            "2026-11-30T12:34:56.5+02:00",
            "2026-11-30t12:34:56z",
            "2026-11-30 12:34:56Z",
            "2026-11-30T12:34:56 +01:00",
            "2026-11-30T23:59:60Z",
            "2026-11-30T12:34Z",
            "2026-11-30",
            "yesterday",
            "",
        ] {
            assert_eq!(parse(text).ok(), general(text), "{text}");
        }
    }

    #[test]
    fn a_generated_type_reads_present_absent_null_and_refuses_garbage() {
        let tag = |json: &str| serde_json::from_str::<crate::types::RepositoryTag>(json);
        let at = tag(r#"{"updated_at": "2020-03-20T22:45:34Z"}"#).unwrap();
        assert_eq!(at.updated_at, general("2020-03-20T22:45:34Z"));
        assert_eq!(tag("{}").unwrap().updated_at, None);
        assert_eq!(tag(r#"{"updated_at": null}"#).unwrap().updated_at, None);
        let error = tag(r#"{"updated_at": "soon"}"#).unwrap_err().to_string();
        assert!(
            error.contains("input contains invalid characters"),
            "{error}"
        );
        assert!(tag(r#"{"updated_at": 5}"#).is_err());
    }
}
