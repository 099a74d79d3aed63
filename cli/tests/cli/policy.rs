//! `policy check` and `prune --policy`: a policy file of three rules against the demo data,
//! each refusal named at its line and column before anything is read, and the flags that do
//! not mix with a file.

use super::*;

/// Three rules over `acme`: `tools/ci/runner` matches none.
const RULES: &str = include_str!("../../../examples/acme-retention.toml");

/// The same, one rule at a time as flags of `docr prune`.
const AS_FLAGS: [&str; 3] = [
    "web --keep-last 30 --keep-tag latest --keep-tag lts|stable --untagged --grace 2h",
    "team/api --keep-last 3 --older-than 14d --keep-tag latest --untagged --grace 2h",
    "team/worker --keep-last 1 --keep-tag latest --grace 2h",
];

/// `text` written to `name` in `dir`; its path.
fn policy_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("written");
    path.display().to_string()
}

#[tokio::test]
async fn policy_check_without_a_registry_lists_the_rules_and_needs_no_token() {
    let (fake, docr) = demo_with_docr().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = policy_file(&dir, "retention.toml", RULES);

    let mut command = docr.command(&format!("policy check {file}"));
    command.env_remove("DIGITALOCEAN_TOKEN");
    let run = execute(command).await;
    run.assert_success();
    assert_eq!(
        run.lines(),
        [
            "RULE      REPOSITORIES  EXCLUDE      POLICY",
            "releases  web           -            keep the newest 30 tagged; keep tags matching `latest` or `lts|stable`; delete untagged; grace 2h",
            "teams     team/*        team/worker  keep the newest 3 tagged; delete older than 14d; keep tags matching `latest`; delete untagged; grace 2h",
            "workers   team/worker   -            keep the newest 1 tagged; keep tags matching `latest`; grace 2h",
            &format!(
                "{file}: 3 rules; the first rule matching a repository decides it; a repository no rule matches is left alone"
            ),
        ]
    );

    let json = docr.json(&format!("policy check {file}")).await;
    assert_eq!(json["file"], file.as_str());
    let rules = items(&json["rules"]);
    let names: Vec<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["releases", "teams", "workers"]);
    assert_eq!(rules[1]["exclude"], json!(["team/worker"]));
    assert_eq!(
        (&rules[1]["line"], &rules[1]["column"]),
        (&json!(18), &json!(16))
    );
    assert_eq!(fake.calls().total, 0, "no registry, no request");
}

#[tokio::test]
async fn policy_check_against_a_registry_shows_each_rule_and_what_it_would_delete() {
    let (fake, docr, before) = with_docr(demo().await);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = policy_file(&dir, "retention.toml", RULES);

    let table = docr.ok(&format!("policy check {file} acme")).await;
    assert_eq!(
        table.lines()[..5],
        [
            "REPOSITORY       RULE      DELETE IMAGES  DELETE MANIFESTS  DELETE TAGS  KEEP IMAGES  NOTE",
            "team/api         teams     5              5                 3            3",
            "team/worker      workers   2              2                 2            1",
            "tools/ci/runner  -         -              -                 -            -            no rule matches: left alone",
            "web              releases  13             13                10           30",
        ]
    );
    assert!(
        table.lines()[5].starts_with("Total: delete 20 manifests in 20 images (15 tags)"),
        "{}",
        table.stdout
    );

    let json = docr.json(&format!("policy check {file} acme")).await;
    let repositories = items(&json["repositories"]);
    let rules: Vec<(&str, &Value)> = (repositories.iter())
        .map(|r| (r["repository"].as_str().unwrap(), &r["rule"]))
        .collect();
    assert_eq!(
        rules,
        [
            ("team/api", &json!("teams")),
            ("team/worker", &json!("workers")),
            ("tools/ci/runner", &Value::Null),
            ("web", &json!("releases")),
        ]
    );
    assert_eq!(repositories[2]["left_alone"], true);
    // The digests listed per repository are the plan's.
    let listed: BTreeSet<(String, String)> = (repositories.iter())
        .flat_map(|r| {
            let name = text(&r["repository"]);
            (r["delete"].as_array().into_iter().flatten()).map(move |d| (name.clone(), text(d)))
        })
        .collect();
    let plan = planned(&json["plan"]);
    assert_eq!(listed, plan);
    // And the union of the three rules run one repository at a time as flags.
    let mut union = BTreeSet::new();
    for flags in AS_FLAGS {
        union.extend(planned(
            &docr.json(&format!("prune acme {flags}")).await["plan"],
        ));
    }
    assert_eq!(plan, union);

    // Read only.
    assert_eq!(fake.snapshot().registries, before.registries);
    assert_eq!(fake.calls().of("registries_delete_repositoryManifest"), 0);
}

#[tokio::test]
async fn prune_with_a_policy_plans_each_repository_under_its_rule_and_applies_it() {
    let (fake, docr, before) = with_docr(demo().await);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = policy_file(&dir, "retention.toml", RULES);

    let dry = docr.ok(&format!("prune acme --policy {file}")).await;
    for line in [
        "team/api (rule teams): delete 5 manifests, keep 3 images (3 manifests)",
        "team/worker (rule workers): delete 2 manifests, keep 1 image (1 manifest)",
        "web (rule releases): delete 13 manifests, keep 30 images (30 manifests)",
        "  releases (web): keep the newest 30 tagged; keep tags matching `latest` or `lts|stable`; delete untagged; grace 2h",
    ] {
        assert!(
            dry.lines().contains(&line),
            "`{line}` not in\n{}",
            dry.stdout
        );
    }
    assert!(!dry.stdout.contains("tools/ci/runner"), "{}", dry.stdout);
    assert_eq!(
        dry.lines().last().copied(),
        Some("dry run: nothing was deleted; add --apply to delete the above")
    );
    assert_eq!(fake.snapshot().registries, before.registries);

    let json = docr.json(&format!("prune acme --policy {file}")).await;
    assert_eq!(json["applied"], false);
    let rules: Vec<&Value> = (items(&json["plan"]["repositories"]).iter())
        .map(|r| &r["rule"])
        .collect();
    assert_eq!(
        rules,
        [&json!("teams"), &json!("workers"), &json!("releases")]
    );
    let plan = planned(&json["plan"]);
    assert_eq!(plan.len(), 20);

    let applied = docr
        .json(&format!("prune acme --policy {file} --apply"))
        .await;
    assert_eq!(planned(&applied["plan"]), plan);
    let was = manifests_of(&before, "acme");
    let expected: BTreeMap<_, _> = was
        .into_iter()
        .filter(|(key, _)| !plan.contains(key))
        .collect();
    assert_eq!(manifests_of(&fake.snapshot(), "acme"), expected);
}

#[tokio::test]
async fn the_policy_file_and_retention_flags_do_not_mix() {
    let (fake, docr) = demo_with_docr().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = policy_file(&dir, "retention.toml", RULES);
    for flags in [
        "--keep-last 3",
        "--older-than 30d",
        "--keep-tag latest",
        "--untagged",
        "--keep-image web:1.0.0",
        "--in-use in-use.json",
        "--grace 2h",
        "--from-plan plan.json",
        "web",
    ] {
        let run = docr
            .run(&format!("prune acme --policy {file} {flags}"))
            .await;
        assert_eq!(run.status.code(), Some(2), "{flags}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot be used with"),
            "{flags}: {}",
            run.stderr
        );
    }
    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn a_refused_policy_file_names_line_and_column_before_any_request() {
    let (fake, docr) = demo_with_docr().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let rule = "[[rule]]\nname = \"web\"\nrepositories = [\"web\"]\n";
    for (name, text, at, message) in [
        (
            "unknown-key.toml",
            format!("{rule}keep-lats = 3\n"),
            "4:1",
            "unknown field `keep-lats`, expected one of",
        ),
        (
            "bad-duration.toml",
            format!("{rule}older-than = \"a month\"\n"),
            "4:14",
            "older-than: `a month` is not a duration like 90s, 15m, 2h or 30d",
        ),
        (
            "bad-pattern.toml",
            "[[rule]]\nname = \"web\"\nrepositories = [\"web\", \"team/[ab\"]\n".to_string(),
            "3:24",
            "repositories: `team/[ab` is not a repository pattern: unclosed character class",
        ),
    ] {
        let file = policy_file(&dir, name, &text);
        let expected = format!("{file}:{at}: {message}");
        for args in [
            format!("policy check {file}"),
            format!("policy check {file} acme"),
            format!("prune acme --policy {file}"),
        ] {
            let why = docr.usage(&args).await;
            assert!(why.starts_with(&expected), "docr {args}: {why}");
        }
    }
    assert_eq!(fake.calls().total, 0);

    // A rule that matches nothing: known once the repositories are listed, refused before a
    // manifest is read.
    let file = policy_file(
        &dir,
        "nothing.toml",
        &format!(
            "{RULES}\n[[rule]]\nname = \"previews\"\nrepositories = [\"preview/**\"]\nuntagged = true\n"
        ),
    );
    let expected = format!(
        "{file}:31:16: rule `previews` matches no repository of registry acme (preview/**)"
    );
    for args in [
        format!("policy check {file} acme"),
        format!("prune acme --policy {file} --apply"),
    ] {
        assert_eq!(docr.usage(&args).await, expected, "docr {args}");
    }
    assert_eq!(fake.calls().of("registries_list_repositoryManifests"), 0);
    assert_eq!(fake.calls().registry_total(), 0);
    // Without a registry, it is not known: the file is good.
    docr.ok(&format!("policy check {file}")).await;
}
