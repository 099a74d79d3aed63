//! `restore`: push back what a `prune --apply` deleted, from its undo journal.

use crate::Result;
use crate::context::Context;
use crate::exit::{PartialFailure, Refused};
use crate::output;
use clap::Args;
use docr::prelude::*;
use docr::undo::{JournalFile, RestoreOutcome, RestoreReport, RestoredImage};
use std::path::{Path, PathBuf};

#[derive(Args)]
#[command(after_help = "Examples:
  docr restore ~/.local/state/docr/journals/acme-20250102T030405.678Z.jsonl
  docr restore prune.jsonl --registry acme -o json

Each image of the journal comes back whole, with its original digests: its manifests are
pushed again (members before the index that lists them), then its tags. What is there
already is skipped, so a restore can be run again. Blobs are checked first: an image whose
blobs a garbage collection freed is lost; it is named, and nothing of it is pushed. A tag
that points at another image now (pushed since the prune) is left alone.

The registry is the journal's; read-write registry credentials that expire within 15
minutes are asked of the API and kept in memory only. Exit status 3 when an image is lost
or failed; 2 for a journal of another format version or registry.")]
pub struct RestoreArgs {
    /// The undo journal `prune --apply` wrote (it prints the path).
    journal: PathBuf,
    /// Refuse the journal unless it is for this registry.
    #[arg(long, value_name = "REGISTRY")]
    registry: Option<RegistryName>,
}

/// The journal at `path`: one that is not a journal of this version, or not for `registry`,
/// is refused (exit status 2), saying which; one that cannot be read is an error.
fn read(path: &Path, registry: Option<&RegistryName>) -> Result<JournalFile> {
    let journal = JournalFile::read(path).map_err(|e| match e {
        Error::InvalidInput(why) => Box::new(Refused(why)) as Box<_>,
        other => Box::new(other) as Box<dyn std::error::Error + Send + Sync>,
    })?;
    if let Some(registry) = registry {
        journal
            .check_registry(registry)
            .map_err(|e| Refused(format!("{}: {e}", path.display())))?;
    }
    Ok(journal)
}

pub async fn run(context: &Context, args: RestoreArgs) -> Result {
    let client = context.client()?;
    let journal = read(&args.journal, args.registry.as_ref())?;
    let shown = args.journal.display();
    if let Some(line) = journal.torn_line {
        eprintln!(
            "docr: {shown}: line {line} is cut short (a run stopped while writing it, before \
             its delete was sent): ignored"
        );
    }
    for gc in &journal.garbage_collections {
        eprintln!(
            "docr: {shown}: garbage collection {} ({}) was started at {} after these deletes: \
             images whose blobs it freed are lost",
            gc.uuid,
            gc.gc_type,
            gc.started_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    let report = client.restore(&journal).send().await?;
    for image in &report.images {
        for moved in &image.tags_moved {
            eprintln!(
                "docr: {}:{} points at {} now (pushed since the prune): left alone",
                image.repository, moved.tag, moved.now
            );
        }
    }
    if context.output.is_json() {
        output::json(&serde_json::json!({
            "journal": args.journal,
            "registry": journal.registry,
            "torn_line": journal.torn_line,
            "garbage_collections": journal.garbage_collections.iter().map(|gc| serde_json::json!({
                "uuid": gc.uuid, "type": gc.gc_type, "started_at": gc.started_at,
            })).collect::<Vec<_>>(),
            "report": report,
        }))?;
    } else {
        for image in &report.images {
            outln!("{}", line(image));
        }
        outln!(
            "restored {}, {} already there, {} lost, {} failed, in {} registry calls",
            images(report.restored()),
            report.already_there(),
            report.lost(),
            report.failed(),
            report.registry_calls
        );
    }
    if report.is_complete() {
        return Ok(());
    }
    Err(PartialFailure(incomplete(&report)).into())
}

/// One image's line.
fn line(image: &RestoredImage) -> String {
    let name = image.name();
    match &image.outcome {
        RestoreOutcome::Restored => {
            let mut line = format!(
                "restored {name}: {} of {} manifests pushed",
                image.manifests_pushed, image.manifests
            );
            if !image.tags_pushed.is_empty() {
                line.push_str(&format!(", tags {}", image.tags_pushed.join(", ")));
            }
            line
        }
        RestoreOutcome::AlreadyThere => format!("already there {name}"),
        RestoreOutcome::Lost { missing } => {
            let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
            format!("lost {name}: gone: {}", missing.join(", "))
        }
        RestoreOutcome::Failed { error } => format!("failed {name}: {error}"),
        #[allow(unreachable_patterns)]
        other => format!("{name}: {other:?}"),
    }
}

/// The line a restore that left images out ends with: the lost ones named.
fn incomplete(report: &RestoreReport) -> String {
    let named = |f: fn(&RestoreOutcome) -> bool| -> Vec<String> {
        (report.images.iter())
            .filter(|i| f(&i.outcome))
            .map(RestoredImage::name)
            .collect()
    };
    let lost = named(|o| matches!(o, RestoreOutcome::Lost { .. }));
    let failed = named(|o| matches!(o, RestoreOutcome::Failed { .. }));
    let mut parts = Vec::new();
    if !lost.is_empty() {
        parts.push(format!(
            "{} lost (a garbage collection freed their blobs; nothing of them was pushed): {}",
            images(lost.len()),
            lost.join(", ")
        ));
    }
    if !failed.is_empty() {
        parts.push(format!(
            "{} failed: {}",
            images(failed.len()),
            failed.join(", ")
        ));
    }
    parts.join("; ")
}

fn images(n: usize) -> String {
    format!("{n} {}", if n == 1 { "image" } else { "images" })
}
