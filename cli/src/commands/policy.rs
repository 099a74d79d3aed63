//! `policy check`: a policy file checked before it is trusted with deletes; with a registry,
//! the rule each repository gets and what it would delete. It reads and plans as `prune
//! --policy` does, through [`retention`].

use crate::Result;
use crate::context::Context;
use crate::exit::Refused;
use crate::output::{self, Output};
use crate::retention;
use clap::{Args, Subcommand};
use docr::prelude::*;
use docr::{HumanBytes, prune::Plan, prune::PolicyFile, prune::PolicyRule, prune::RetentionRules};
use serde_json::{Value, json};
use std::path::PathBuf;

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

pub async fn run(context: &Context, command: PolicyCommand) -> Result {
    let PolicyCommand::Check(args) = command;
    let out = &context.output;
    let Some(registry) = &args.registry else {
        let file = PolicyFile::read(&args.file).map_err(|e| Refused(e.to_string()))?;
        return summary(&file, out);
    };
    let rules = retention::rules(&args.file, registry)?;
    // Without a registry, no token is needed: the client is made only for one.
    let client = context.client()?;
    let cache = retention::manifest_cache(args.no_cache);
    let (names, plan) = retention::plan_by_rules(&client, &rules, cache).await?;
    retention::report_blocked(&plan);
    against_registry(&rules, &names, &plan, out)
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
fn summary(file: &PolicyFile, out: &Output) -> Result {
    if out.is_json() {
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
    out.table(&["RULE", "REPOSITORIES", "EXCLUDE", "POLICY"], &rows)?;
    if out.with_header() {
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
    out: &Output,
) -> Result {
    let planned = |name: &RepositoryName| plan.repositories.iter().find(|r| r.repository == *name);
    if out.is_json() {
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
    out.table(
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
    if out.with_header() {
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
