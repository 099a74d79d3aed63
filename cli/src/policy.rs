//! `policy check`: a policy file checked before it is trusted with deletes; with a registry,
//! the rule each repository gets and what it would delete. Also the reading and planning that
//! `prune --policy` shares with it, so that both refuse the same files the same way.

use crate::Result;
use crate::exit::Refused;
use crate::output::{self, Format};
use clap::{Args, Subcommand};
use docr::prelude::*;
use docr::{
    HumanBytes, prune::Plan, prune::PolicyFile, prune::PolicyRule, prune::RetentionRules,
    registry::ManifestCache,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file; with a registry, show the rule each repository gets and what it
    /// would delete (reads the registry, deletes nothing).
    #[command(after_help = "Examples:
  docr policy check retention.toml
  docr policy check retention.toml acme
  docr -o json policy check retention.toml acme > plan.json
  docr prune acme --from-plan plan.json --apply

A policy file is TOML: [defaults], then [[rule]] tables in order of priority, each with
a name, `repositories` globs (`*` within a path segment, `**` across), optional `exclude`
globs and the knobs of `docr prune` (keep-last, older-than, keep-tags, untagged, grace,
keep-images, in-use). The first rule matching a repository decides it; a repository no
rule matches is left alone. A refused file is named with its line and column (exit 2);
with a registry, so is a rule that decides no repository there. See the README.")]
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// The policy file (TOML).
    file: PathBuf,
    /// A registry to check it against: its repositories are listed and planned, nothing is
    /// deleted.
    registry: Option<RegistryName>,
    /// Read every manifest from the registry, without the manifest cache (see `docr prune
    /// --help`).
    #[arg(long)]
    no_cache: bool,
}

pub async fn policy(
    command: PolicyCommand,
    client: impl FnOnce() -> Result<Client>,
    format: Format,
) -> Result {
    let PolicyCommand::Check(args) = command;
    let Some(registry) = &args.registry else {
        let file = PolicyFile::read(&args.file).map_err(|e| Refused(e.to_string()))?;
        return summary(&file, format);
    };
    let rules = rules(&args.file, registry)?;
    let client = client()?;
    let cache = crate::prune::manifest_cache(args.no_cache);
    let (names, plan) = plan(&client, &rules, cache).await?;
    crate::prune::report_blocked(&plan);
    against_registry(&rules, &names, &plan, format)
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
/// none is refused, exit 2, before any manifest is read), and the plan of those a rule
/// matches.
pub async fn plan(
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
    let matched: Vec<RepositoryName> = (names.iter())
        .filter(|n| rules.rule_for(n).is_some())
        .cloned()
        .collect();
    let mut planning = client
        .plan_prune(rules.registry(), rules)
        .repositories(matched);
    if let Some(cache) = cache {
        planning = planning.manifest_cache(cache);
    }
    let plan = planning.send().await?;
    Ok((names, plan))
}

/// A rule as JSON: its name, patterns, policy in words and where it is written.
fn rule_json(rule: &PolicyRule) -> Value {
    let (line, column) = rule.at();
    json!({
        "name": rule.name(),
        "repositories": rule.repositories(),
        "exclude": rule.exclude(),
        "policy": rule.policy().to_string(),
        "line": line,
        "column": column,
    })
}

const HOW_RULES_APPLY: &str =
    "the first rule matching a repository decides it; a repository no rule matches is left alone";

/// The file checked, no registry: its rules.
fn summary(file: &PolicyFile, format: Format) -> Result {
    if format == Format::Json {
        let rules: Vec<Value> = file.rules().iter().map(rule_json).collect();
        return output::json(&json!({ "file": file.path(), "rules": rules }));
    }
    let rows: Vec<Vec<String>> = (file.rules().iter())
        .map(|r| {
            vec![
                r.name().to_string(),
                r.repositories().join(", "),
                or_dash(r.exclude().join(", ")),
                r.policy().to_string(),
            ]
        })
        .collect();
    output::table(&["RULE", "REPOSITORIES", "EXCLUDE", "POLICY"], &rows)?;
    if output::with_header() {
        outln!(
            "{}: {} {}; {HOW_RULES_APPLY}",
            file.path().display(),
            file.rules().len(),
            if file.rules().len() == 1 {
                "rule"
            } else {
                "rules"
            }
        );
    }
    Ok(())
}

/// The file against a registry: each repository's rule, and what the plan deletes there.
fn against_registry(
    rules: &RetentionRules,
    names: &[RepositoryName],
    plan: &Plan,
    format: Format,
) -> Result {
    let planned = |name: &RepositoryName| plan.repositories.iter().find(|r| r.repository == *name);
    if format == Format::Json {
        let repositories: Vec<Value> = (names.iter())
            .map(|name| match planned(name) {
                Some(r) => {
                    let t = r.totals();
                    json!({
                        "repository": name.as_str(),
                        "rule": r.rule,
                        "deleted_images": t.images,
                        "deleted_manifests": t.manifests,
                        "deleted_tags": t.tags,
                        "kept_images": r.kept_images,
                        "blocked": !r.blocked.is_empty(),
                        "delete": r.delete.iter().map(|d| d.digest.as_str()).collect::<Vec<_>>(),
                    })
                }
                None => json!({
                    "repository": name.as_str(),
                    "rule": null,
                    "left_alone": true,
                }),
            })
            .collect();
        let rule_list: Vec<Value> = rules.rules().iter().map(rule_json).collect();
        return output::json(&json!({
            "file": rules.path(),
            "registry": rules.registry().as_str(),
            "rules": rule_list,
            "repositories": repositories,
            "plan": plan,
        }));
    }
    let rows: Vec<Vec<String>> = (names.iter())
        .map(|name| match planned(name) {
            Some(r) => {
                let t = r.totals();
                vec![
                    name.to_string(),
                    r.rule.clone().unwrap_or_default(),
                    t.images.to_string(),
                    t.manifests.to_string(),
                    t.tags.to_string(),
                    r.kept_images.to_string(),
                    if r.blocked.is_empty() {
                        String::new()
                    } else {
                        "blocked: nothing deleted here".into()
                    },
                ]
            }
            None => {
                let mut row = vec![name.to_string()];
                row.extend(["-"; 5].map(String::from));
                row.push("no rule matches: left alone".into());
                row
            }
        })
        .collect();
    output::table(
        &[
            "REPOSITORY",
            "RULE",
            "DELETE IMAGES",
            "DELETE MANIFESTS",
            "DELETE TAGS",
            "KEEP IMAGES",
            "NOTE",
        ],
        &rows,
    )?;
    if output::with_header() {
        let t = &plan.totals;
        outln!(
            "Total: delete {} manifests in {} images ({} tags); a garbage collection then frees {}",
            t.manifests,
            t.images,
            t.tags,
            HumanBytes(t.gc_frees_bytes)
        );
        outln!(
            "nothing was deleted: `docr prune {} --policy {}` lists each deletion, and deletes \
             them with --apply",
            rules.registry(),
            rules.path().display()
        );
    }
    Ok(())
}

fn or_dash(text: String) -> String {
    if text.is_empty() { "-".into() } else { text }
}
