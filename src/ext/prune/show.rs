//! Showing a plan: a table for people (`Display`); JSON comes from `Serialize`.

use super::plan::{Plan, RepositoryPlan};
use super::policy::PruneReason;
use crate::ext::size::HumanBytes;
use std::fmt;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Prune plan for registry {} at {}",
            self.registry,
            self.planned_at.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
        writeln!(f, "Policy: {}", self.policy)?;
        for repository in &self.repositories {
            writeln!(f)?;
            write_repository(f, repository)?;
        }
        let t = &self.totals;
        writeln!(f)?;
        write!(
            f,
            "Total: delete {} {} ({} {}, {} compressed, {} uncompressed); keep {}",
            t.manifests,
            plural(t.manifests, "manifest"),
            t.tags,
            plural(t.tags, "tag"),
            HumanBytes(t.compressed_size_bytes),
            HumanBytes(t.size_bytes),
            t.kept,
        )
    }
}

fn write_repository(f: &mut fmt::Formatter<'_>, r: &RepositoryPlan) -> fmt::Result {
    if r.delete.is_empty() {
        return writeln!(f, "{}: nothing to delete, keep {}", r.repository, r.kept);
    }
    writeln!(
        f,
        "{}: delete {} {}, keep {}",
        r.repository,
        r.delete.len(),
        plural(r.delete.len(), "manifest"),
        r.kept
    )?;
    let header = ["DIGEST", "UPDATED", "COMPRESSED", "REASON", "TAGS"].map(String::from);
    let rows: Vec<[String; 5]> = r
        .delete
        .iter()
        .map(|d| {
            [
                d.digest.as_str().chars().take(19).collect(),
                d.updated_at
                    .map_or_else(|| "-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
                HumanBytes(d.compressed_size_bytes).to_string(),
                d.reasons
                    .iter()
                    .map(PruneReason::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                if d.tags.is_empty() {
                    "<none>".into()
                } else {
                    d.tags.join(", ")
                },
            ]
        })
        .collect();
    let mut widths = [0; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(f, "  {}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
