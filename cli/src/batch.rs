//! Deleting several targets (`repos`, `tags`, `manifests delete`): every one is tried, every
//! failure is reported, and the exit status says whether some (3) or all (1) failed;
//! [`InRepository`] parses, confirms and deletes tags or manifests of one repository.

use crate::Result;
use crate::args::RepositoryArgs;
use crate::confirm::{Force, listed};
use crate::exit::PartialFailure;
use crate::output::{self, Format};
use docr::prelude::*;
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

/// What a delete in one repository names (`tags delete`, `manifests delete`): `kind`s written
/// after the repository with `separator` (`team/api:v1`, `team/api@sha256:...`), and what
/// else deleting them does, ending the question.
pub struct InRepository<'a> {
    pub kind: &'static str,
    pub separator: char,
    pub effect: &'a str,
}

impl InRepository<'_> {
    /// Parses every name before the first request, confirms, then deletes each through
    /// `delete`.
    pub async fn delete<T, Fut, R, E>(
        &self,
        at: &RepositoryArgs,
        names: &[String],
        force: Force,
        format: Format,
        delete: impl Fn(&RegistryName, &RepositoryName, &T) -> Fut,
    ) -> Result
    where
        T: std::str::FromStr + Display,
        T::Err: std::error::Error + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<R, E>>,
        E: Into<docr::Error>,
    {
        let (registry, repo) = at.resolve()?;
        let targets: Vec<T> = names
            .iter()
            .map(|n| n.parse::<T>())
            .collect::<std::result::Result<_, _>>()?;
        let plural = if targets.len() == 1 { "" } else { "s" };
        force.confirm(&format!(
            "delete {}{plural} {} of {registry}/{repo}{}",
            self.kind,
            listed(&targets),
            self.effect
        ))?;
        let separator = self.separator;
        Batch::new(self.kind, format)
            .run(
                &targets,
                |t| format!("{repo}{separator}{t}"),
                |t| delete(registry, &repo, t),
            )
            .await
            .finish(json!({"repository": repo.as_str()}))
    }
}
