//! The rest of the surface: partial failures, `repos delete`, `kubernetes add`,
//! `docker-config`, `--format`/`--no-header`, `completions`, and golden outputs
//! (`EXPECTORATE=overwrite cargo test -p docr-cli` rewrites them).

use super::*;

#[tokio::test]
async fn a_delete_of_several_targets_goes_on_past_failures_and_exits_3() {
    let (fake, docr) = demo_with_docr().await;

    let run = docr.run("tags delete -f acme team/api v1 nope v2").await;
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    assert_eq!(run.lines(), ["deleted team/api:v1", "deleted team/api:v2"]);
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    assert!(errors[0].starts_with("docr: deleting tag nope:") && errors[0].contains("404"));
    assert!(
        errors[1].contains("1 of 3 tags could not be deleted: nope"),
        "{}",
        errors[1]
    );
    let api = fake.snapshot();
    let api = api.repository("acme", "team/api").expect("demo");
    assert!(api.tagged("v1").is_none() && api.tagged("v2").is_none());

    let run = docr
        .run("-o json tags delete -f acme team/api v3 gone")
        .await;
    assert_eq!(run.status.code(), Some(3));
    let doc = run.json();
    assert_eq!(doc["deleted_tags"], json!(["v3"]));
    assert_eq!(doc["failed"][0]["tag"], "gone");

    // All of several failed: exit 1.
    let run = docr.run("tags delete -f acme team/api gone1 gone2").await;
    assert_eq!(run.status.code(), Some(1));
}

#[tokio::test]
async fn repos_delete_removes_repositories() {
    let (fake, docr) = demo_with_docr().await;
    docr.prints_lines(
        "repos delete -f acme team/worker tools/ci/runner",
        &["deleted acme/team/worker", "deleted acme/tools/ci/runner"],
    )
    .await;
    let after = fake.snapshot();
    assert!(after.repository("acme", "team/worker").is_none());
    assert!(after.repository("acme", "web").is_some());
    docr.prints_json(
        "repos delete -f acme web",
        json!({"registry": "acme", "deleted_repositorys": ["web"], "failed": []}),
    )
    .await;
}

#[tokio::test]
async fn kubernetes_add_and_remove_integrate_clusters() {
    let (fake, docr) = demo_with_docr().await;
    let add = "kubernetes add acme acme-staging --cluster c-1 --cluster c-2";
    let added = "added acme and acme-staging to clusters c-1 and c-2\n";
    docr.prints(add, added).await;
    assert_eq!(fake.snapshot().kubernetes["c-1"], ["acme", "acme-staging"]);
    docr.ok("kubernetes remove -f acme --cluster c-1").await;
    assert_eq!(fake.snapshot().kubernetes["c-1"], ["acme-staging"]);
    docr.prints_json(
        "kubernetes add --cluster c-3",
        json!({"added": true, "registries": null, "clusters": ["c-3"]}),
    )
    .await;
    assert_eq!(fake.snapshot().kubernetes["c-3"].len(), 3, "every registry");
    assert_eq!(fake.calls().of("kubernetes_add_registry"), 1);
}

#[tokio::test]
async fn docker_config_prints_credentials_and_writes_nothing() {
    let (fake, docr) = demo_with_docr().await;
    let run = docr.ok("docker-config acme --never-expire").await;
    let config: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let issued = fake.snapshot().credentials;
    assert_eq!(
        decoded_auth(&config),
        format!("{}:acme.read-only.never", issued[0].username)
    );
    assert!(!docr.config_json().exists());
    docr.ok("docker-config acme").await;
    assert!(
        fake.snapshot().credentials[1].expires_at.is_some(),
        "30 days by default"
    );
}

#[tokio::test]
async fn tables_take_format_and_no_header() {
    let (_fake, docr) = demo_with_docr().await;
    let run = docr
        .ok("registries list --format region,name --no-header")
        .await;
    assert_eq!(
        run.lines()[0].split_whitespace().collect::<Vec<_>>(),
        ["nyc3", "acme"]
    );
    assert_eq!(run.lines().len(), 3);
    let run = docr
        .ok("repos list acme --format latest_size,REPOSITORY")
        .await;
    assert!(
        run.lines()[0].starts_with("LATEST SIZE  REPOSITORY"),
        "{}",
        run.stdout
    );
    let why = docr.usage("gc list acme --format nope").await;
    for needle in ["no column `nope`", "UUID,STATUS"] {
        assert!(why.contains(needle), "{why}");
    }
}

#[tokio::test]
async fn completions_and_help_cover_every_argument() {
    let (_fake, docr) = demo_with_docr().await;
    let bash = docr.ok("completions bash").await;
    assert!(bash.stdout.contains("_docr()") && bash.stdout.contains("kubernetes"));
    let help = docr.ok("--help").await;
    help.assert_stdout_contains("Exit status: 0 success");
    // prune and fake serve have their own owners' help.
    for &(command, subcommands) in COVERED
        .iter()
        .filter(|(c, _)| !["prune", "fake"].contains(c))
    {
        let paths: Vec<String> = if subcommands.is_empty() {
            vec![command.to_string()]
        } else {
            subcommands
                .iter()
                .map(|s| format!("{command} {s}"))
                .collect()
        };
        for path in paths {
            let help = docr.ok(&format!("{path} --help")).await.stdout;
            assert!(
                help.contains("Example"),
                "docr {path} --help has no example"
            );
            // Every argument line has a description after it.
            for line in help
                .lines()
                .skip_while(|l| !l.starts_with("Arguments:"))
                .skip(1)
            {
                if line.trim().is_empty() {
                    break;
                }
                assert!(
                    line.trim().split_once("  ").is_some(),
                    "docr {path}: `{line}` undescribed"
                );
            }
        }
    }
}

#[tokio::test]
async fn table_and_json_outputs_match_their_golden_files() {
    let (_fake, docr) = demo_with_docr().await;
    for (name, args) in [
        (
            "registries-list",
            "registries list --format name,region,storage",
        ),
        ("options", "options"),
        ("subscription-get", "subscription get"),
        (
            "repos-list",
            "repos list acme --format repository,tags,manifests,latest_size",
        ),
        (
            "tags-list",
            "tags list acme team/api --format tag,digest,size",
        ),
    ] {
        let table = docr.ok(args).await.stdout;
        expectorate::assert_contents(format!("tests/cli/golden/{name}.txt"), &table);
    }
    let options = docr.json("options").await;
    expectorate::assert_contents(
        "tests/cli/golden/options.json",
        &serde_json::to_string_pretty(&options).expect("JSON"),
    );
}
