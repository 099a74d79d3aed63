//! Showing a plan: a table for people (`Display`; the alternate form `{:#}` lists every kept
//! image too, with why it stays); JSON comes from `Serialize`.

use super::graph::ManifestRole;
use super::plan::{ImageVerdict, Plan, PlannedDeletion, RepositoryPlan};
use super::verdict::{PruneReason, Verdict, short};
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
            write_repository(f, repository, f.alternate())?;
        }
        let t = &self.totals;
        writeln!(f)?;
        write!(
            f,
            "Total: delete {} {} in {} {} ({} {}); keep {} {}; a garbage collection then frees {}",
            t.manifests,
            plural(t.manifests, "manifest"),
            t.images,
            plural(t.images, "image"),
            t.tags,
            plural(t.tags, "tag"),
            t.kept,
            plural(t.kept, "manifest"),
            HumanBytes(t.gc_frees_bytes),
        )?;
        if t.blocked_repositories > 0 {
            write!(
                f,
                "\n{} {} blocked: nothing is deleted there (see above)",
                t.blocked_repositories,
                if t.blocked_repositories == 1 {
                    "repository"
                } else {
                    "repositories"
                },
            )?;
        }
        Ok(())
    }
}

fn write_repository(
    f: &mut fmt::Formatter<'_>,
    r: &RepositoryPlan,
    show_kept: bool,
) -> fmt::Result {
    // A policy file's plan names the rule that decided each repository.
    let name = match &r.rule {
        Some(rule) => format!("{} (rule {rule})", r.repository),
        None => r.repository.to_string(),
    };
    for why in &r.blocked {
        writeln!(f, "{name}: BLOCKED, nothing deleted here: {why}")?;
    }
    if r.delete.is_empty() {
        writeln!(
            f,
            "{name}: nothing to delete, keep {} {} ({} {})",
            r.kept_images,
            plural(r.kept_images, "image"),
            r.kept,
            plural(r.kept, "manifest"),
        )?;
        return write_kept(f, r, show_kept);
    }
    writeln!(
        f,
        "{name}: delete {} {}, keep {} {} ({} {})",
        r.delete.len(),
        plural(r.delete.len(), "manifest"),
        r.kept_images,
        plural(r.kept_images, "image"),
        r.kept,
        plural(r.kept, "manifest"),
    )?;
    let header = ["DIGEST", "ROLE", "UPDATED", "COMPRESSED", "REASON", "TAGS"].map(String::from);
    let rows: Vec<[String; 6]> = r
        .delete
        .iter()
        .map(|d| {
            let image = d.role == ManifestRole::Image;
            [
                format!(
                    "{}{}",
                    if image { "" } else { "  " },
                    d.digest.as_str().chars().take(19).collect::<String>()
                ),
                role(d),
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
    let mut widths = [0; 6];
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
    write_kept(f, r, show_kept)
}

/// The images that stay: the protected ones always (their owner may have expected them to go),
/// the others when asked for.
fn write_kept(f: &mut fmt::Formatter<'_>, r: &RepositoryPlan, show_kept: bool) -> fmt::Result {
    for image in &r.images {
        match &image.verdict {
            Verdict::Protected(reasons) => {
                let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                writeln!(
                    f,
                    "{}: protected {}: {}",
                    r.repository,
                    described(image),
                    why.join("; ")
                )?;
            }
            Verdict::Keep(reasons) if show_kept => {
                let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                writeln!(
                    f,
                    "{}: keep {}: {}",
                    r.repository,
                    described(image),
                    why.join("; ")
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// An image as a line names it: its short digest, tags and platforms.
fn described(image: &ImageVerdict) -> String {
    let tags = if image.tags.is_empty() {
        "untagged".to_string()
    } else {
        image.tags.join(", ")
    };
    if image.platforms.is_empty() {
        format!("{} ({tags})", short(&image.digest))
    } else {
        format!(
            "{} ({tags}; {})",
            short(&image.digest),
            image.platforms.join(", ")
        )
    }
}

/// An image's row names its platforms; a member's, how it belongs to the image.
fn role(d: &PlannedDeletion) -> String {
    match &d.role {
        ManifestRole::Image if d.platforms.is_empty() => "image".into(),
        ManifestRole::Image => format!("index ({})", d.platforms.join(", ")),
        ManifestRole::Platform { platform } => platform.clone().unwrap_or_else(|| "child".into()),
        ManifestRole::Attestation => "attestation".into(),
        ManifestRole::Referrer { artifact_type } => match artifact_type {
            Some(t) => format!("referrer {t}"),
            None => "referrer".into(),
        },
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
