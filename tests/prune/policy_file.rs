//! The policy file: each refusal at its line and column, which rule decides a repository, and
//! a plan made with the file against the demo registry, equal to the plans of each repository
//! under its rule's policy alone.

use docr::prelude::*;
use docr::{
    prune::Plan, prune::PolicyFile, prune::PolicyFileError, prune::PruneExt, prune::RepositoryPlan,
};
use std::collections::BTreeSet;

fn refused(text: &str) -> PolicyFileError {
    PolicyFile::from_toml("ops/retention.toml", text).expect_err("the file is refused")
}

/// Refused at `line:column`, saying `needle`; `Display` names the file there too.
fn assert_refused_at(text: &str, at: (usize, usize), needle: &str) {
    let e = refused(text);
    assert_eq!(e.at, Some(at), "{e}");
    assert!(e.message.contains(needle), "`{needle}` not in: {e}");
    let start = format!("ops/retention.toml:{}:{}: ", at.0, at.1);
    assert!(e.to_string().starts_with(&start), "{e}");
    assert_eq!(e.to_string().lines().count(), 1, "{e}");
}

fn name(repository: &str) -> RepositoryName {
    repository.parse().expect("a repository name")
}

#[test]
fn an_unknown_key_is_refused_at_the_key() {
    // In a rule: `keep_last`, written with an underscore.
    let text = "[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\n  keep_last = 3\n";
    assert_refused_at(text, (4, 3), "unknown field `keep_last`");
    // In the defaults.
    let text = "[defaults]\nuntaged = true\n\n[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\n";
    assert_refused_at(text, (2, 1), "unknown field `untaged`");
    // At the top: `[rules]` for `[[rule]]`.
    let text = "[rules]\nname = \"web\"\n";
    assert_refused_at(text, (1, 2), "unknown field `rules`");
}

#[test]
fn a_bad_duration_is_refused_at_the_value() {
    let text = "[[rule]]\nname = \"previews\"\nrepositories = [\"preview/*\"]\nolder-than = \"two weeks\"\n";
    assert_refused_at(
        text,
        (4, 14),
        "older-than: `two weeks` is not a duration like 90s, 15m, 2h or 30d",
    );
    let text = "[defaults]\nkeep-last = 3\ngrace =   \"1 fortnight\"\n[[rule]]\nname = \"x\"\nrepositories = [\"x\"]\n";
    assert_refused_at(text, (3, 11), "grace: `1 fortnight` is not a duration");
    // A number where a count goes: toml's own error, at the value.
    let text = "[[rule]]\nname = \"x\"\nrepositories = [\"x\"]\nkeep-last = -1\n";
    assert_refused_at(text, (4, 13), "-1");
}

#[test]
fn a_bad_pattern_is_refused_at_the_pattern() {
    // A repository glob with an unclosed class, second in its list.
    let text = "[[rule]]\nname = \"teams\"\nrepositories = [\"web\", \"team/[ab\"]\n";
    assert_refused_at(
        text,
        (3, 24),
        "repositories: `team/[ab` is not a repository pattern: unclosed character class",
    );
    // An exclusion that could never match: repository names are lower case.
    let text =
        "[[rule]]\nname = \"teams\"\nrepositories = [\"team/*\"]\nexclude = [\"Team/Legacy\"]\n";
    assert_refused_at(text, (4, 12), "repository names are lower case");
    // An alternation left open.
    let text = "[[rule]]\nname = \"teams\"\nrepositories = [\"team/{api,web\"]\n";
    assert_refused_at(
        text,
        (3, 17),
        "`team/{api,web` is not a repository pattern: unclosed alternate group",
    );
    // A tag pattern that is no regular expression.
    let text =
        "[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\nkeep-tags = [\"latest\", \"v(1\"]\n";
    assert_refused_at(
        text,
        (4, 24),
        "keep-tags: `v(1` is not a regular expression: unclosed group",
    );
    // An image reference that is none.
    let text = "[defaults]\nkeep-images = [\"web:1.0\", \"Web::\"]\n[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\n";
    assert_refused_at(text, (2, 27), "keep-images: `Web::`");
}

#[test]
fn rules_are_named_once_and_there_is_one_at_least() {
    let text = "[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\n\n[[rule]]\nname = \"web\"\nrepositories = [\"api\"]\n";
    assert_refused_at(text, (6, 8), "a second rule named `web`");
    assert_refused_at("[defaults]\nuntagged = true\n", (1, 1), "no rule");
    let text = "[[rule]]\nname = \"web\"\nrepositories = []\n";
    assert_refused_at(text, (3, 16), "rule `web` names no repository pattern");
    let e = PolicyFile::read("/nonexistent/retention.toml").expect_err("no such file");
    assert_eq!(e.at, None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/retention.toml: cannot read the policy file"),
        "{e}"
    );
}

/// Four rules; `team/*` stays within a segment, `**` does not.
const ORDERED: &str = r#"
[[rule]]
name = "frozen"
repositories = ["team/legacy"]

[[rule]]
name = "teams"
repositories = ["team/*"]
exclude = ["team/sandbox"]
keep-last = 3

[[rule]]
name = "previews"
repositories = ["preview/**", "team/sandbox"]
older-than = "14d"

[[rule]]
name = "web"
repositories = ["web", "web-{eu,us}"]
untagged = true
"#;

#[test]
fn the_first_matching_rule_decides_and_a_repository_no_rule_matches_is_left_alone() {
    let file = PolicyFile::from_toml("retention.toml", ORDERED).expect("a good file");
    let rule = |repository: &str| file.rule_for(&name(repository)).map(|r| r.name());
    // `team/legacy` matches `frozen` and `teams`: the first decides.
    assert_eq!(rule("team/legacy"), Some("frozen"));
    assert_eq!(rule("team/api"), Some("teams"));
    // Excluded by `teams`, taken by the next rule that matches.
    assert_eq!(rule("team/sandbox"), Some("previews"));
    // `*` does not cross a `/`; `**` does.
    assert_eq!(rule("team/api/v2"), None);
    assert_eq!(rule("preview/shop/pr-7"), Some("previews"));
    assert_eq!(rule("web-eu"), Some("web"));
    assert_eq!(rule("web-asia"), None);
    assert_eq!(rule("tools/runner"), None);
    // A rule with no deleting knob deletes nothing: it shields its repositories.
    assert_eq!(file.rules()[0].policy().to_string(), "delete nothing");
    assert_eq!(file.rules()[1].at(), (8, 16));
    assert_eq!(file.rules()[1].repositories(), ["team/*"]);
    assert_eq!(file.rules()[1].exclude(), ["team/sandbox"]);
}

#[test]
fn defaults_fill_the_unset_knobs_and_keep_lists_add_up() {
    let text = r#"
[defaults]
keep-last = 10
untagged = true
grace = "3h"
keep-tags = ["latest"]
keep-images = ["web:1.0"]

[[rule]]
name = "web"
repositories = ["web"]
keep-tags = ['v\d+']
keep-images = ["web@sha256:4f1c9b0e6d2a7c3b8e5f1a9d0c4b7e2f6a8d3c1b5e9f0a2d4c6b8e1f3a5c7d9b"]

[[rule]]
name = "caches"
repositories = ["cache/*"]
keep-last = 0
untagged = false
older-than = "1d"
grace = "0s"
"#;
    let file = PolicyFile::from_toml("retention.toml", text).expect("a good file");
    let policies: Vec<String> = (file.rules().iter())
        .map(|r| r.policy().to_string())
        .collect();
    assert_eq!(
        policies,
        [
            "keep the newest 10 tagged; keep tags matching `latest` or `v\\d+`; delete untagged; \
             keep 2 image(s) in use; grace 3h",
            "keep the newest 0 tagged; delete older than 1d; keep tags matching `latest`; \
             keep 1 image(s) in use; grace 0s",
        ]
    );
}

#[test]
fn a_rule_deciding_no_repository_is_refused_at_its_repositories() {
    let file = PolicyFile::from_toml("retention.toml", ORDERED).expect("a good file");
    let rules = file
        .for_registry(&"acme".parse().expect("a registry"))
        .expect("no in-use file to read");
    let names = |list: &[&str]| list.iter().map(|n| name(n)).collect::<Vec<_>>();

    let every = names(&["team/legacy", "team/api", "preview/a", "web"]);
    rules
        .check_repositories(&every)
        .expect("each rule decides one");

    // `previews` matches nothing here.
    let e = rules
        .check_repositories(&names(&["team/legacy", "team/api", "web"]))
        .expect_err("refused");
    assert_eq!(e.at, Some((14, 16)));
    assert_eq!(
        e.to_string(),
        "retention.toml:14:16: rule `previews` matches no repository of registry acme \
         (preview/**, team/sandbox)"
    );
    // `teams` matches `team/legacy` only, which `frozen` takes first.
    let e = rules
        .check_repositories(&names(&["team/legacy", "preview/a", "web"]))
        .expect_err("refused");
    assert_eq!(e.at, Some((8, 16)));
    assert!(
        e.message.contains(
            "rule `teams` decides no repository of registry acme: each it matches \
             (team/legacy) goes to an earlier rule (`frozen`)"
        ),
        "{e}"
    );
}

/// The demo registry `acme` under three rules; `tools/ci/runner` matches none.
const DEMO: &str = include_str!("../../examples/acme-retention.toml");

async fn demo() -> (docr_fake::FakeDocr, Client) {
    let fake = docr_fake::FakeDocr::builder()
        .demo_data()
        .start()
        .await
        .expect("the fake starts");
    let client = fake.client().expect("a client");
    (fake, client)
}

#[tokio::test]
async fn a_plan_by_policy_file_is_the_union_of_the_one_rule_plans() {
    let (_fake, client) = demo().await;
    let acme = crate::acme();
    let rules = PolicyFile::from_toml("retention.toml", DEMO)
        .expect("a good file")
        .for_registry(&acme)
        .expect("no in-use file");
    let plan = client
        .plan_prune(&acme, &rules)
        .send()
        .await
        .expect("a plan");

    let decided: Vec<(&str, Option<&str>)> = (plan.repositories.iter())
        .map(|r| (r.repository.as_str(), r.rule.as_deref()))
        .collect();
    assert_eq!(
        decided,
        [
            ("team/api", Some("teams")),
            ("team/worker", Some("workers")),
            ("web", Some("releases")),
        ],
        "tools/ci/runner matches no rule: left alone, not planned"
    );
    // Every rule deletes something here, so that the comparison below says something.
    for r in &plan.repositories {
        assert!(!r.delete.is_empty(), "{} deletes nothing", r.repository);
    }

    // Each repository planned alone under its rule's policy, as one `RetentionPolicy`.
    let mut alone: Vec<RepositoryPlan> = Vec::new();
    for r in &plan.repositories {
        let rule = rules.rule_for(&r.repository).expect("a rule decided it");
        let one = client
            .plan_prune(&acme, rule.policy())
            .repositories([r.repository.clone()])
            .send()
            .await
            .expect("a plan");
        assert_eq!(one.repositories.len(), 1);
        alone.extend(one.repositories);
    }
    let union = Plan::new(acme.clone(), &"the union", plan.planned_at, alone);
    let without_rules: Vec<RepositoryPlan> = (plan.repositories.iter().cloned())
        .map(|mut r| {
            r.rule = None;
            r
        })
        .collect();
    assert_eq!(without_rules, union.repositories);
    assert_eq!(plan.totals, union.totals);
    let deleted = |p: &Plan| -> BTreeSet<(String, String)> {
        p.deletions()
            .map(|d| (d.repository.to_string(), d.digest.to_string()))
            .collect()
    };
    assert_eq!(deleted(&plan), deleted(&union));

    // The plan says so, in words and in JSON.
    let text = plan.to_string();
    assert!(
        text.contains("web (rule releases): delete")
            && text.contains("team/worker (rule workers): delete 2 manifests"),
        "{text}"
    );
    assert!(
        text.contains("\n  teams (team/* except team/worker): keep the newest 3 tagged; delete older than 14d; keep tags matching `latest`; delete untagged; grace 2h"),
        "{text}"
    );
    let json = serde_json::to_value(&plan).expect("a plan serializes");
    assert_eq!(json["repositories"][0]["rule"], "teams");
    let read: Plan = serde_json::from_value(json).expect("and reads back");
    assert_eq!(read.repositories[0].rule.as_deref(), Some("teams"));
}

#[tokio::test]
async fn the_planner_refuses_a_rule_deciding_nothing_before_reading_a_manifest() {
    let (fake, client) = demo().await;
    let acme = crate::acme();
    let text = format!(
        "{DEMO}\n[[rule]]\nname = \"previews\"\nrepositories = [\"preview/**\"]\nuntagged = true\n"
    );
    let rules = PolicyFile::from_toml("retention.toml", &text)
        .expect("a good file")
        .for_registry(&acme)
        .expect("no in-use file");
    let Err(docr::Error::PolicyFile(e)) = client.plan_prune(&acme, &rules).send().await else {
        panic!("refused as a policy file error");
    };
    assert_eq!(e.at, Some((31, 16)), "{e}");
    assert!(
        e.message
            .contains("rule `previews` matches no repository of registry acme")
    );
    assert_eq!(fake.calls().of("registries_list_repositoryManifests"), 0);
    assert_eq!(fake.calls().registry_total(), 0);

    // Named repositories: the rules are not checked against them, and those no rule matches
    // are left out.
    let plan = client
        .plan_prune(&acme, &rules)
        .repositories([name("web"), name("tools/ci/runner")])
        .send()
        .await
        .expect("a plan");
    assert_eq!(plan.repositories.len(), 1);
    assert_eq!(plan.repositories[0].rule.as_deref(), Some("releases"));

    // Rules made for another registry are refused.
    let staging: RegistryName = "acme-staging".parse().expect("a registry");
    let Err(docr::Error::InvalidInput(why)) = client.plan_prune(&staging, &rules).send().await
    else {
        panic!("refused");
    };
    assert!(
        why.contains("made for registry acme, not acme-staging"),
        "{why}"
    );
}

#[tokio::test]
async fn in_use_files_are_read_relative_to_the_policy_file_and_protect_under_their_rule() {
    let (_fake, client) = demo().await;
    let acme = crate::acme();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let policy = dir.path().join("retention.toml");
    // Named by the defaults and the rule both: read once, protecting once.
    let text = "[defaults]\nin-use = [\"cluster/in-use.txt\"]\n\n[[rule]]\nname = \"workers\"\nrepositories = [\"team/worker\"]\nkeep-last = 1\nin-use = [\"cluster/in-use.txt\"]\n";
    std::fs::write(&policy, text).expect("written");
    let file = PolicyFile::read(&policy).expect("a good file");

    // Not there yet: refused at its entry.
    let e = file.for_registry(&acme).expect_err("no in-use file yet");
    assert_eq!(e.at, Some((2, 11)), "{e}");
    assert!(e.message.starts_with("in-use file "), "{e}");
    assert!(e.message.contains("cluster/in-use.txt: cannot read"), "{e}");

    // `r0`, the oldest, is in use: only `r1` goes.
    std::fs::create_dir(dir.path().join("cluster")).expect("a folder");
    std::fs::write(dir.path().join("cluster/in-use.txt"), "team/worker:r0\n").expect("written");
    let rules = file.for_registry(&acme).expect("read");
    assert_eq!(rules.in_use_files().count(), 1);
    assert_eq!(rules.rules()[0].policy().kept_images().len(), 1);
    let plan = client
        .plan_prune(&acme, &rules)
        .send()
        .await
        .expect("a plan");
    let tags: Vec<&str> = (plan.deletions())
        .flat_map(|d| d.tags.iter().map(String::as_str))
        .collect();
    assert_eq!(tags, ["r1"]);
}

/// The README's example policy file: the first ```toml block after its heading.
fn readme_example() -> &'static str {
    let readme = include_str!("../../README.md");
    let section = readme
        .split_once("### Retention as code: a policy file")
        .expect("the README's section")
        .1;
    let block = section.split_once("```toml\n").expect("a toml block").1;
    block.split_once("```").expect("closed").0
}

#[test]
fn the_readme_example_reads_and_says_what_the_readme_says() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let policy = dir.path().join("retention.toml");
    std::fs::write(&policy, readme_example()).expect("written");
    let in_use = r#"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"namespace": "shop", "name": "web-1"},
        "spec": {"containers": [{"image": "registry.digitalocean.com/acme/web:1.3.9"}]}}]}"#;
    std::fs::write(dir.path().join("in-use.json"), in_use).expect("written");

    let file = PolicyFile::read(&policy).expect("the example reads");
    let rule = |repository: &str| file.rule_for(&name(repository)).map(|r| r.name());
    assert_eq!(rule("tools/ci/runner"), Some("frozen"));
    assert_eq!(rule("web"), Some("releases"));
    assert_eq!(rule("team/api"), Some("releases"));
    assert_eq!(rule("team/worker"), Some("previews"));
    assert_eq!(rule("preview/shop/pr-12"), Some("previews"));
    assert_eq!(rule("cache"), Some("caches"));
    assert_eq!(rule("ci/build/cache"), Some("caches"));
    assert_eq!(rule("team/api/cache"), Some("caches"));
    assert_eq!(rule("shop"), None);
    let policies: Vec<String> = (file.rules().iter())
        .map(|r| r.policy().to_string())
        .collect();
    assert_eq!(
        policies,
        [
            "keep tags matching `latest`; grace 2h",
            "keep the newest 30 tagged; keep tags matching `latest` or `v\\d+\\.\\d+\\.\\d+` or \
             `lts|stable`; delete untagged; grace 2h",
            "keep the newest 3 tagged; delete older than 14d; keep tags matching `latest`; \
             delete untagged; keep 1 image(s) in use; grace 2h",
            "delete older than 1d; keep tags matching `latest`; delete untagged; grace 2h",
        ]
    );

    // The defaults' in-use file protects under every rule.
    let rules = file
        .for_registry(&crate::acme())
        .expect("in-use.json reads");
    for r in rules.rules() {
        assert!(
            (r.policy().kept_images().iter()).any(|i| i.to_string().ends_with("acme/web:1.3.9")),
            "{}",
            r.name()
        );
    }
    // The demo registry has no cache: the README's refusal, word for word.
    let demo = ["web", "team/api", "team/worker", "tools/ci/runner"].map(name);
    let e = rules
        .check_repositories(&demo)
        .expect_err("caches matches none");
    assert!(
        e.message
            .starts_with("rule `caches` matches no repository of registry acme (**/cache)")
    );
    // And the README's duration refusal, at the line and column it names.
    let text = readme_example().replace("\"14d\"", "\"two weeks\"");
    let e = PolicyFile::from_toml("retention.toml", &text).expect_err("refused");
    assert!(
        e.to_string().starts_with(
            "retention.toml:23:14: older-than: `two weeks` is not a duration like 90s, 15m, 2h or 30d"
        ),
        "{e}"
    );
}
