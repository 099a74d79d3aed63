//! What `prune` and `policy check` plan with, so that both read the same cache and refuse the
//! same files the same way: the manifest cache, a policy file's rules, the plan by those
//! rules, and the blocked repositories named on stderr.

use crate::Result;
use crate::exit::Refused;
use docr::prelude::*;
use docr::registry::ManifestCache;
use docr::{prune::BlockReason, prune::Plan, prune::PolicyFile, prune::RetentionRules};
use std::path::Path;

/// The manifest cache, unless `--no-cache`; without a usable directory, a note on stderr and
/// no cache (it only saves reads).
pub fn manifest_cache(no_cache: bool) -> Option<ManifestCache> {
    if no_cache {
        return None;
    }
    let Some(dir) = ManifestCache::default_dir() else {
        eprintln!("docr: no manifest cache: neither XDG_CACHE_HOME nor HOME is set");
        return None;
    };
    ManifestCache::open(&dir)
        .inspect_err(|e| eprintln!("docr: no manifest cache: {e}"))
        .ok()
}

/// The rules of `file` for `registry`, read before any request: a refused file, or an in-use
/// file it names that cannot be read, is one line naming file, line and column (exit 2).
/// The in-use files' notes go to stderr.
pub fn rules(file: &Path, registry: &RegistryName) -> Result<RetentionRules> {
    let rules = PolicyFile::read(file)
        .and_then(|f| f.for_registry(registry))
        .map_err(|e| Refused(e.to_string()))?;
    for (path, in_use) in rules.in_use_files() {
        for note in in_use.notes() {
            eprintln!("docr: in-use {}: {note}", path.display());
        }
        if let Some(summary) = in_use.summary() {
            eprintln!("docr: in-use {}: {summary}", path.display());
        }
    }
    Ok(rules)
}

/// Every repository of the registry (sorted), the rules checked against them (a rule deciding
/// none is refused, exit 2, before any manifest is read), and the plan (of those a rule
/// matches: the planner leaves the others alone).
pub async fn plan_by_rules(
    client: &Client,
    rules: &RetentionRules,
    cache: Option<ManifestCache>,
) -> Result<(Vec<RepositoryName>, Plan)> {
    let mut names: Vec<RepositoryName> = client
        .list_repositories(rules.registry())
        .collect()
        .await?
        .into_iter()
        .filter_map(|r| r.name?.parse().ok())
        .collect();
    names.sort();
    rules
        .check_repositories(&names)
        .map_err(|e| Refused(e.to_string()))?;
    // The planner leaves the repositories no rule matches alone.
    let mut planning = client
        .plan_prune(rules.registry(), rules)
        .repositories(names.iter().cloned());
    if let Some(cache) = cache {
        planning = planning.manifest_cache(cache);
    }
    let plan = planning.send().await?;
    Ok((names, plan))
}

/// Names each blocked repository on stderr, once, with its first reason; an unreachable
/// registry says how to point docr at the right one.
pub fn report_blocked(plan: &Plan) {
    for r in plan.repositories.iter().filter(|r| !r.blocked.is_empty()) {
        let first = &r.blocked[0];
        let more = match r.blocked.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more, in the plan)"),
        };
        let hint = match first {
            BlockReason::RegistryUnreadable { status: None, .. } => {
                "; set the registry's URL with --registry-url or DIGITALOCEAN_REGISTRY_URL"
            }
            _ => "",
        };
        eprintln!(
            "docr: {}: blocked, nothing deleted there: {first}{more}{hint}",
            r.repository
        );
    }
}
