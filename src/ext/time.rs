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
    #[cfg(test)]
    tests::READS.with(|n| n.set(n.get() + 1));
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

    thread_local! {
        /// Times this thread read through [`optional_rfc3339`].
        pub(super) static READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// `build.rs` ties the generated types to this module by a path in a string: if progenitor
    /// changed how it writes time fields and the edit missed them, they would decode through
    /// chrono's serde support, with the same results, only slower. This fails then.
    #[test]
    fn the_generated_types_read_their_times_here() {
        let before = READS.with(std::cell::Cell::get);
        let tag: crate::types::RepositoryTag =
            serde_json::from_str(r#"{"updated_at": "2020-03-20T22:45:34Z"}"#).unwrap();
        assert!(tag.updated_at.is_some());
        let gc: crate::types::GarbageCollection = serde_json::from_str(
            r#"{"created_at": "2020-03-20T22:45:34Z", "updated_at": "2020-03-20T22:46:34Z"}"#,
        )
        .unwrap();
        assert!(gc.created_at.is_some() && gc.updated_at.is_some());
        assert_eq!(READS.with(std::cell::Cell::get) - before, 3);
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
