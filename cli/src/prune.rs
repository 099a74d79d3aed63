//! `prune`: plan (always shown), then apply only with `--apply`.

use crate::Result;
use crate::images::repository;
use crate::output::{self, Format};
use clap::Args;
use docr::prelude::*;
use docr::{ApplyReport, ItemOutcome};
use docr::{Plan, RetentionPolicy};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

#[derive(Args)]
pub struct PruneArgs {
    registry: RegistryName,
    /// Repositories to prune (default: every repository of the registry).
    repositories: Vec<String>,
    /// Keep the newest N manifests of each repository.
    #[arg(long, value_name = "N")]
    keep_last: Option<usize>,
    /// Delete manifests older than this (90s, 15m, 2h, 30d).
    #[arg(long, value_name = "DURATION", value_parser = output::parse_duration)]
    older_than: Option<Duration>,
    /// Always keep manifests with a tag matching this regex (whole tag); repeatable.
    #[arg(long = "keep-tag", value_name = "REGEX")]
    keep_tags: Vec<String>,
    /// Delete untagged manifests.
    #[arg(long)]
    untagged: bool,
    /// Delete what the plan lists (without it, only the plan is shown).
    #[arg(long)]
    apply: bool,
    /// After applying, start a garbage collection to free the space.
    #[arg(long, requires = "apply")]
    gc: bool,
    /// Wait for that garbage collection to end.
    #[arg(long, requires = "gc")]
    wait: bool,
    /// Give up waiting after this long.
    #[arg(long, value_parser = output::parse_duration, default_value = "30m")]
    timeout: Duration,
}

pub async fn prune(client: &Client, args: PruneArgs, format: Format) -> Result {
    if args.keep_last.is_none() && args.older_than.is_none() && !args.untagged {
        return Err("no policy: give --keep-last, --older-than and/or --untagged".into());
    }
    let mut policy = RetentionPolicy::new().delete_untagged(args.untagged);
    if let Some(n) = args.keep_last {
        policy = policy.keep_last(n);
    }
    if let Some(age) = args.older_than {
        policy = policy.older_than(age);
    }
    for pattern in &args.keep_tags {
        policy = policy.keep_tags_matching(pattern)?;
    }
    let repositories = args
        .repositories
        .iter()
        .map(|r| repository(&args.registry, r))
        .collect::<Result<Vec<_>>>()?;
    let mut planning = client.plan_prune(&args.registry, &policy);
    if !repositories.is_empty() {
        planning = planning.repositories(repositories);
    }
    let plan = planning.send().await?;
    if format == Format::Table {
        outln!("{plan}");
    }
    if !args.apply {
        if format == Format::Json {
            return output::json(&serde_json::json!({ "plan": plan, "applied": false }));
        }
        if !plan.is_empty() {
            outln!("dry run: nothing was deleted; add --apply to delete the above");
        }
        return Ok(());
    }

    let report = apply(client, &plan).await?;
    let mut collection = None;
    if args.gc && report.deleted() > 0 {
        let started = client
            .start_garbage_collection(&args.registry)
            .attach_to_running(false)
            .send()
            .await?;
        if format == Format::Table {
            eprintln!("started garbage collection {}", started.uuid);
        }
        collection = Some(if args.wait {
            crate::gc::wait_with_progress(client, &args.registry, &started.uuid, args.timeout)
                .await?
        } else {
            started.collection
        });
    }
    if format == Format::Json {
        output::json(&serde_json::json!({
            "plan": plan,
            "applied": true,
            "report": report,
            "garbage_collection": collection,
        }))?;
    } else {
        outln!(
            "deleted {} manifests ({}), skipped {}, failed {}, in {} API calls",
            report.deleted(),
            output::bytes(i64::try_from(report.deleted_compressed_size_bytes()).ok()),
            report.skipped(),
            report.failed(),
            report.api_calls
        );
        if let Some(gc) = &collection {
            outln!(
                "garbage collection {}: {}, {} freed",
                gc.uuid.as_deref().unwrap_or("?"),
                gc.status.as_deref().unwrap_or("?"),
                output::bytes(gc.freed_bytes)
            );
        }
    }
    if report.is_complete() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} planned deletions failed or could not be verified",
            report.failed() + report.repository_errors.len(),
            plan.deletions().count()
        )
        .into())
    }
}

async fn apply(client: &Client, plan: &Plan) -> Result<ApplyReport> {
    let bar = ProgressBar::new(plan.deletions().count() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let item_bar = bar.clone();
    let report = client
        .apply_prune(plan)
        .on_item(move |applied| {
            item_bar.inc(1);
            match &applied.outcome {
                ItemOutcome::Deleted => {}
                other => {
                    let line = format!(
                        "{}@{}: {}",
                        applied.item.repository,
                        applied.item.digest,
                        describe(other)
                    );
                    // A hidden bar (not a terminal) prints nothing: say it on stderr anyway.
                    if item_bar.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        item_bar.println(line);
                    }
                }
            }
        })
        .send()
        .await;
    bar.finish_and_clear();
    Ok(report?)
}

fn describe(outcome: &ItemOutcome) -> String {
    match outcome {
        ItemOutcome::Deleted => "deleted".into(),
        ItemOutcome::Skipped { why } => format!("skipped: {why}"),
        ItemOutcome::Failed { error } => format!("failed: {}", output::one_line(error)),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}
