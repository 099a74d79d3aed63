//! Showing a plan: a table for people (`Display`); JSON comes from `Serialize`.

use super::plan::{Plan, RepositoryPlan};
use super::policy::Reason;
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
                    .map(Reason::to_string)
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

/// Bytes in binary units: `512 B`, `2.7 MiB`.
struct HumanBytes(u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit < UNITS.len() - 1 {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        let text: Vec<String> = [0, 1023, 1024, 2_803_255, 5 << 30]
            .map(|b| HumanBytes(b).to_string())
            .into();
        assert_eq!(text, ["0 B", "1023 B", "1.0 KiB", "2.7 MiB", "5.0 GiB"]);
    }
}
