//! Deleting several targets: every one is tried, every failure is reported, and the exit
//! status says whether some (3) or all (1) failed.

use crate::Result;
use crate::exit::PartialFailure;
use crate::output::{self, Format};
use serde_json::{Map, Value, json};
use std::fmt::Display;

/// What a batch deletes: `tag`, with JSON key `deleted_tags`.
pub struct Batch {
    kind: &'static str,
    format: Format,
    deleted: Vec<String>,
    failed: Vec<(String, String)>,
}

impl Batch {
    pub fn new(kind: &'static str, format: Format) -> Self {
        Self {
            kind,
            format,
            deleted: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// Deletes each target in turn through `delete`, printing `deleted <label>` as a table
    /// line for each success; goes on past failures.
    pub async fn run<T, F, Fut, R, E>(
        mut self,
        targets: &[T],
        label: impl Fn(&T) -> String,
        delete: F,
    ) -> Self
    where
        T: Display,
        F: Fn(&T) -> Fut,
        Fut: Future<Output = std::result::Result<R, E>>,
        E: Into<docr::Error>,
    {
        for target in targets {
            match delete(target).await {
                Ok(_) => {
                    if self.format == Format::Table {
                        outln!("deleted {}", label(target));
                    }
                    self.deleted.push(target.to_string());
                }
                Err(e) => {
                    let why = output::one_line(&e.into());
                    // One target: the final error says it; several: each is named as it fails.
                    if targets.len() > 1 {
                        eprintln!("docr: deleting {} {target}: {why}", self.kind);
                    }
                    self.failed.push((target.to_string(), why));
                }
            }
        }
        self
    }

    /// Prints the JSON document (`fields` plus `deleted_<kind>s` and `failed`), then ends:
    /// `Ok` if every target was deleted, else the error that sets the exit status.
    pub fn finish(self, fields: Value) -> Result {
        if self.format == Format::Json {
            let mut doc = match fields {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            doc.insert(format!("deleted_{}s", self.kind), json!(self.deleted));
            let failed: Vec<Value> = self
                .failed
                .iter()
                .map(|(target, error)| json!({ self.kind: target, "error": error }))
                .collect();
            doc.insert("failed".into(), Value::Array(failed));
            output::json(&doc)?;
        }
        let total = self.deleted.len() + self.failed.len();
        match (self.failed.as_slice(), self.deleted.len()) {
            ([], _) => Ok(()),
            ([(target, why)], 0) => Err(format!("deleting {} {target}: {why}", self.kind).into()),
            (failed, 0) => Err(format!(
                "none of the {total} {}s could be deleted ({} failed)",
                self.kind,
                failed.len()
            )
            .into()),
            (failed, _) => Err(PartialFailure(format!(
                "{} of {total} {}s could not be deleted: {}",
                failed.len(),
                self.kind,
                failed
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into()),
        }
    }
}
