//! `prune`: plan (always shown), then apply only with `--apply`. A policy file's plan comes
//! from [`retention`], as `policy check`'s does. The library applies, and
//! with `--gc` collects; its hooks feed the progress bar and the collection's spinner.

use crate::Result;
use crate::args::{GcKind, parse_duration, repository};
use crate::context::Context;
use crate::exit::{PartialFailure, Refused};
use crate::output::{self, Format};
use crate::retention::{self, manifest_cache, report_blocked};
use clap::Args;
use docr::prelude::*;
use docr::undo::Journal;
use docr::{
    ImageReference, garbage_collection::GcStatus, garbage_collection::GcType, prune::ImagesInUse,
    prune::Plan, prune::RetentionPolicy, registry::ManifestCache, types,
};
use docr::{prune::ApplyReport, prune::GarbageCollectionOutcome, prune::ItemOutcome};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Args)]
#[command(after_help = "Examples:
  docr prune acme --keep-last 10 --older-than 30d --keep-tag 'latest|v.*' --untagged
  kubectl get pods,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs -A -o json > in-use.json
  docr prune acme --untagged --in-use in-use.json -o json > plan.json
  docr prune acme --from-plan plan.json --apply --gc --wait
  docr prune acme --policy retention.toml            # each repository under its rule
  docr restore ~/.local/state/docr/journals/acme-20250102T030405.678Z.jsonl

With --apply, each manifest is recorded in an undo journal (its path is printed) before its
delete is sent: `docr restore JOURNAL` pushes the images back, until a garbage collection
frees their blobs.

Images, not manifests: a multi-platform image (an index, its platform and attestation
manifests, its signatures and SBOMs) is kept or deleted whole, and the registry, not the
API listing, says what references what. A repository where anything cannot be read is
blocked: nothing is deleted there.")]
pub struct PruneArgs {
    /// The registry to prune (e.g. `acme`).
    registry: RegistryName,
    /// Repositories to prune (default: every repository of the registry).
    repositories: Vec<String>,
    /// Keep the newest N tagged images of each repository and select the other tagged ones
    /// (untagged images are neither counted nor selected: see --untagged).
    #[arg(long, value_name = "N")]
    keep_last: Option<usize>,
    /// Select tagged images older than this (90s, 15m, 2h, 30d); with it, every deletion must
    /// be older than this, untagged ones included.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    older_than: Option<Duration>,
    /// Always keep images with a tag matching this regex (whole tag); repeatable.
    #[arg(long = "keep-tag", value_name = "REGEX")]
    keep_tags: Vec<String>,
    /// Delete untagged images (left behind by a moved tag, or pushed by digest).
    #[arg(long)]
    untagged: bool,
    /// Always keep this image (`repo:tag`, `repo@sha256:...`, with or without
    /// `registry.digitalocean.com/<registry>/`); repeatable.
    #[arg(long = "keep-image", value_name = "REF")]
    keep_images: Vec<String>,
    /// Always keep the images in this file; repeatable. The JSON or YAML of `kubectl get
    /// pods,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs -A -o json` (every
    /// pod spec counts: a Deployment scaled to 0, a CronJob between runs), or references one
    /// per line. A file naming no image is refused.
    #[arg(long, value_name = "FILE")]
    in_use: Vec<PathBuf>,
    /// Never delete an untagged image younger than this (a push in progress lands its
    /// children before the index and its tag); 0 turns it off. Tagged images are complete.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    grace: Duration,
    /// List every kept image too, with why it stays (protected ones are always listed).
    #[arg(long)]
    show_kept: bool,
    /// Apply a plan saved with `-o json` instead of planning (checked again before deleting).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["keep_last", "older_than", "keep_tags", "untagged", "keep_images", "in_use", "repositories"])]
    from_plan: Option<PathBuf>,
    /// Plan with a policy file's rules instead of flags: each repository under the first
    /// rule matching it, one no rule matches left alone (see `docr policy check --help`). A
    /// rule deciding no repository of the registry is refused before any manifest is read.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["keep_last", "older_than", "keep_tags", "untagged", "keep_images", "in_use", "grace", "repositories", "from_plan"])]
    policy: Option<PathBuf>,
    /// Delete what the plan lists (without it, only the plan is shown).
    #[arg(long)]
    apply: bool,
    /// The undo journal to write, a new file (default: a new file in
    /// $XDG_STATE_HOME/docr/journals, else ~/.local/state/docr/journals). Each manifest is
    /// recorded there, on disk, before its delete is sent; `docr restore` reads it.
    #[arg(long, value_name = "FILE", requires = "apply")]
    journal: Option<PathBuf>,
    /// After applying, start a garbage collection to free the space.
    #[arg(long, requires = "apply")]
    gc: bool,
    /// The garbage collection's type (default: unreferenced blobs only, which deletes no
    /// manifest).
    #[arg(long, value_enum, requires = "gc", value_name = "TYPE")]
    gc_type: Option<GcKind>,
    /// Wait for that garbage collection to end.
    #[arg(long, requires = "gc")]
    wait: bool,
    /// Give up waiting after this long.
    #[arg(long, value_parser = parse_duration, default_value = "30m")]
    timeout: Duration,
    /// Read every manifest from the registry, without the manifest cache. The cache (in
    /// $XDG_CACHE_HOME/docr/manifests, else ~/.cache/docr/manifests; 256 MiB at most) keeps
    /// manifests by digest between runs, each checked against its digest when read; tags
    /// are always resolved at the registry.
    #[arg(long)]
    no_cache: bool,
}

pub async fn run(context: &Context, args: PruneArgs) -> Result {
    let client = &context.client()?;
    let format = context.output.format;
    if args.apply {
        journal_destination(&args)?;
    }
    let cache = manifest_cache(args.no_cache);
    let plan = match (&args.from_plan, &args.policy) {
        (Some(file), _) => saved_plan(file, &args.registry)?,
        (None, Some(file)) => {
            let rules = retention::rules(file, &args.registry)?;
            retention::plan_by_rules(client, &rules, cache.clone())
                .await?
                .1
        }
        (None, None) => plan(client, &args, cache.clone()).await?,
    };
    if format == Format::Table {
        if args.show_kept {
            outln!("{plan:#}");
        } else {
            outln!("{plan}");
        }
    }
    report_blocked(&plan);
    if !args.apply {
        if format == Format::Json {
            return output::json(&serde_json::json!({ "plan": plan, "applied": false }));
        }
        if !plan.is_empty() {
            outln!("dry run: nothing was deleted; add --apply to delete the above");
        }
        return Ok(());
    }
    // Before any delete: nothing is deleted that is not recorded.
    let journal = match plan.is_empty() {
        true => None,
        false => Some(open_journal(&args)?),
    };
    applied(client, &args, &plan, cache, journal, format).await
}

/// Where the undo journal goes, checked before any request: `--journal FILE` (a new file),
/// else the default directory.
enum Destination {
    File(PathBuf),
    Dir(PathBuf),
}

fn journal_destination(args: &PruneArgs) -> Result<Destination> {
    match &args.journal {
        Some(file) if file.exists() => Err(Refused(format!(
            "--journal {}: the file exists, and a journal is never written over: name a new file",
            file.display()
        ))
        .into()),
        Some(file) => Ok(Destination::File(file.clone())),
        None => Journal::default_dir().map(Destination::Dir).ok_or_else(|| {
            Refused(
                "no place for the undo journal: neither XDG_STATE_HOME nor HOME is set; pass \
                 --journal FILE"
                    .into(),
            )
            .into()
        }),
    }
}

/// The undo journal, created (its header on disk) before the first delete.
fn open_journal(args: &PruneArgs) -> Result<Journal> {
    Ok(match journal_destination(args)? {
        Destination::File(file) => Journal::create(file, &args.registry)?,
        Destination::Dir(dir) => Journal::create_in(&dir, &args.registry)?,
    })
}

/// A plan saved with `-o json` (the whole document, or the plan alone), for this registry;
/// one of another format version or registry is refused (exit status 2), saying which.
fn saved_plan(file: &Path, registry: &RegistryName) -> Result<Plan> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the plan {}: {e}", file.display()))?;
    let refused = |e: &dyn std::fmt::Display| Refused(format!("{}: {e}", file.display()));
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| refused(&format!("the plan is not JSON: {e}")))?;
    let plan = json.get("plan").cloned().unwrap_or(json);
    Ok(Plan::from_json(&plan.to_string(), registry).map_err(|e| refused(&e))?)
}

async fn plan(client: &Client, args: &PruneArgs, cache: Option<ManifestCache>) -> Result<Plan> {
    if args.keep_last.is_none() && args.older_than.is_none() && !args.untagged {
        return Err(
            "no policy: give --keep-last, --older-than and/or --untagged, or --policy FILE".into(),
        );
    }
    // Read first: a file refused ends the command before any request.
    let in_use = images_in_use(&args.in_use, &args.registry)?;
    let kept = args
        .keep_images
        .iter()
        .map(|r| {
            r.parse::<ImageReference>()
                .map_err(|e| format!("--keep-image {r}: {e}"))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let policy = RetentionPolicy::new()
        .delete_untagged(args.untagged)
        .grace(args.grace)
        .keep_images(kept)
        .keep_images_in_use(in_use);
    let mut policy = policy;
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
    if let Some(cache) = cache {
        planning = planning.manifest_cache(cache);
    }
    Ok(planning.send().await?)
}

/// The images in use that `files` name, merged; notes per file and the other registries'
/// summary once, on stderr. A file unreadable, or naming no image at all, is refused.
fn images_in_use(files: &[PathBuf], registry: &RegistryName) -> Result<ImagesInUse> {
    let mut all = ImagesInUse::default();
    for file in files {
        let refused = |why: String| Refused(format!("--in-use {}: {why}", file.display()));
        let text =
            std::fs::read_to_string(file).map_err(|e| refused(format!("cannot read: {e}")))?;
        let in_use =
            ImagesInUse::parse(&text, registry).map_err(|e| refused(output::one_line(&e)))?;
        for note in in_use.notes() {
            eprintln!("docr: --in-use {}: {note}", file.display());
        }
        all.merge(in_use);
    }
    if let Some(summary) = all.summary() {
        eprintln!("docr: --in-use: {summary}");
    }
    Ok(all)
}

async fn applied(
    client: &Client,
    args: &PruneArgs,
    plan: &Plan,
    cache: Option<ManifestCache>,
    journal: Option<Journal>,
    format: Format,
) -> Result {
    let report = apply(client, args, plan, cache, journal.clone(), format).await?;
    let collection = match &report.garbage_collection {
        GarbageCollectionOutcome::Succeeded(gc) | GarbageCollectionOutcome::Started(gc) => {
            Some(gc.as_ref().clone())
        }
        _ => None,
    };
    // A collection that could not start, or ended badly, ends the command with its error.
    if let GarbageCollectionOutcome::Failed(e) = report.garbage_collection {
        return Err(e.into());
    }
    if format == Format::Json {
        let journal = journal
            .as_ref()
            .map(|j| serde_json::json!({"path": j.path(), "manifests": j.manifests()}));
        output::json(&serde_json::json!({
            "plan": plan,
            "applied": true,
            "report": report,
            "journal": journal,
            "garbage_collection": collection,
        }))?;
    } else {
        if let Some(journal) = &journal {
            outln!(
                "undo journal: {} ({} recorded); `docr restore` with it puts them back until a \
                 garbage collection frees their blobs",
                journal.path().display(),
                manifests(journal.manifests())
            );
        }
        outln!(
            "deleted {} manifests ({}), skipped {}, failed {}, in {} API calls and {} registry reads",
            report.deleted(),
            output::bytes(i64::try_from(report.deleted_compressed_size_bytes()).ok()),
            report.skipped(),
            report.failed(),
            report.api_calls,
            report.registry_calls
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
    let blocked = plan.totals.blocked_repositories;
    if report.is_complete() && blocked == 0 {
        return Ok(());
    }
    Err(PartialFailure(incomplete(&report, blocked)).into())
}

/// The line a run that left something planned undone ends with: each cause counted.
fn incomplete(report: &ApplyReport, blocked: usize) -> String {
    let mut line = format!(
        "{blocked} {} blocked, {} {} skipped because the registry changed",
        if blocked == 1 {
            "repository"
        } else {
            "repositories"
        },
        report.changed(),
        items(report.changed()),
    );
    if report.not_verified() > 0 {
        line.push_str(&format!(
            ", {} {} not checked again (the repository could not be read)",
            report.not_verified(),
            items(report.not_verified())
        ));
    }
    if report.stayed_with_their_image() > 0 {
        line.push_str(&format!(
            ", {} {} kept with an image that stayed",
            report.stayed_with_their_image(),
            items(report.stayed_with_their_image())
        ));
    }
    if report.not_recorded() > 0 {
        line.push_str(&format!(
            ", {} {} not deleted (not recorded in the undo journal)",
            report.not_recorded(),
            items(report.not_recorded())
        ));
    }
    line.push_str(&format!(", {} failed", report.failed()));
    line
}

fn manifests(n: usize) -> String {
    format!("{n} {}", if n == 1 { "manifest" } else { "manifests" })
}

fn items(n: usize) -> &'static str {
    if n == 1 { "item" } else { "items" }
}

/// Applies the plan with a progress bar of its items, then, with `--gc`, starts the
/// collection (and with `--wait` waits for it, drawing its status) through the library.
async fn apply(
    client: &Client,
    args: &PruneArgs,
    plan: &Plan,
    cache: Option<ManifestCache>,
    journal: Option<Journal>,
    format: Format,
) -> Result<ApplyReport> {
    let bar = ProgressBar::new(plan.deletions().count() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let item_bar = bar.clone();
    let mut applying = client.apply_prune(plan);
    if let Some(cache) = cache {
        applying = applying.manifest_cache(cache);
    }
    if let Some(journal) = &journal {
        applying = applying.journal(journal.clone());
    }
    let spinner = Arc::new(Mutex::new(None));
    if args.gc {
        let gc_type = args.gc_type.map_or(GcType::UnreferencedBlobs, GcType::from);
        applying = match args.wait {
            true => applying.garbage_collect(gc_type, args.timeout),
            false => applying.garbage_collect_without_waiting(gc_type),
        };
        let mut progress = CollectionProgress {
            items: bar.clone(),
            spinner: args.wait.then(|| spinner.clone()),
            journal,
            warn_untagged: gc_type != GcType::UnreferencedBlobs && plan.holds_indexes(),
            table: format == Format::Table,
            started: false,
        };
        applying = applying.on_garbage_collection_status(move |gc| progress.status(gc));
    }
    let report = applying
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
    if let Some(spinner) = lock(&spinner).take() {
        spinner.finish_and_clear();
    }
    Ok(report?)
}

/// What `prune --gc` says of its collection, told by the library's status hook: at the
/// start, the warnings and the collection's UUID; with `--wait`, a spinner line of its
/// status until it ends.
struct CollectionProgress {
    /// The items' bar, done once the collection starts.
    items: ProgressBar,
    /// Where the spinner goes (with `--wait`), for `apply` to clear it.
    spinner: Option<Arc<Mutex<Option<ProgressBar>>>>,
    journal: Option<Journal>,
    /// A collection of untagged manifests on a registry with multi-platform images.
    warn_untagged: bool,
    table: bool,
    started: bool,
}

impl CollectionProgress {
    fn status(&mut self, gc: &types::GarbageCollection) {
        if !self.started {
            self.started = true;
            self.start(gc);
        }
        if let Some(spinner) = &self.spinner
            && let Some(bar) = lock(spinner).as_ref()
        {
            bar.set_message(GcStatus::of(gc).to_string());
        }
    }

    fn start(&mut self, gc: &types::GarbageCollection) {
        self.items.finish_and_clear();
        if self.warn_untagged {
            eprintln!(
                "docr: warning: a garbage collection of untagged manifests on a registry with \
                 multi-platform images: the registry lists an index's platform and attestation \
                 manifests as untagged, and how DigitalOcean's collection treats them is not \
                 documented"
            );
        }
        let uuid = gc.uuid.as_deref().unwrap_or("?");
        if let Some(journal) = &self.journal {
            eprintln!(
                "docr: the garbage collection ends the way back: once it has freed their blobs, \
                 the images deleted above cannot be restored from {}",
                journal.path().display()
            );
            if journal.garbage_collections() == 0 {
                eprintln!(
                    "docr: warning: the garbage collection is not recorded in the journal (a \
                     write to it failed; -v says why)"
                );
            }
        }
        if self.table {
            eprintln!("started garbage collection {uuid}");
        }
        if let Some(spinner) = &self.spinner {
            *lock(spinner) = output::gc_spinner().ok();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while drawing cannot leave a progress bar half-written.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn describe(outcome: &ItemOutcome) -> String {
    match outcome {
        ItemOutcome::Deleted => "deleted".into(),
        ItemOutcome::Skipped { why } => format!("skipped: {why}"),
        ItemOutcome::Failed { error } => format!("failed: {}", output::one_line(error)),
        ItemOutcome::NotRecorded { error } => format!(
            "not deleted: it could not be recorded in the undo journal: {}",
            output::one_line(error)
        ),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}
