//! What a scheduled prune can trust: its exit status says whether everything planned was
//! done, a blocked repository is named on stderr, and an unreachable registry is one line per
//! repository naming the URL tried and how to set it.

use super::*;

/// A loopback URL where nothing listens.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// `run` exited with `code`, its last line on stderr `last`.
fn ends_with(run: &Run, code: i32, last: &str) {
    assert_eq!(
        run.status.code(),
        Some(code),
        "docr {}:\n{}{}",
        run.args,
        run.stdout,
        run.stderr
    );
    assert_eq!(run.stderr.lines().last(), Some(last), "docr {}", run.args);
}

#[tokio::test]
async fn an_unreachable_registry_blocks_every_repository_once_and_an_apply_exits_3() {
    let fake = demo().await;
    let url = closed_url();
    let docr = Docr {
        registry_url: Some(url.clone()),
        ..Docr::new(fake.url())
    };
    let snapshot = fake.snapshot();
    let acme = snapshot
        .registries
        .iter()
        .find(|r| r.name == "acme")
        .unwrap();
    let mut repositories: Vec<String> = acme.repositories.iter().map(|r| r.name.clone()).collect();
    repositories.sort();
    assert!(repositories.len() > 1, "{repositories:?}");

    // A dry run shows the plan, names each blocked repository on stderr, and exits 0.
    let dry = docr.ok("prune acme --keep-last 1 --untagged").await;
    let blocked: Vec<&str> = dry
        .stdout
        .lines()
        .filter(|l| l.contains("BLOCKED"))
        .collect();
    assert_eq!(
        blocked.len(),
        repositories.len(),
        "one line each:\n{}",
        dry.stdout
    );
    assert!(blocked.iter().all(|l| l.contains(&url)), "{blocked:?}");
    let named: Vec<&str> = dry.stderr.lines().collect();
    assert_eq!(named.len(), repositories.len(), "{}", dry.stderr);
    for (line, repository) in named.iter().zip(&repositories) {
        assert!(
            line.starts_with(&format!("docr: {repository}: blocked, nothing deleted there: the registry at {url} could not be reached")),
            "{line}"
        );
        assert!(
            line.ends_with(
                "set the registry's URL with --registry-url or DIGITALOCEAN_REGISTRY_URL"
            ),
            "{line}"
        );
    }

    // Under --apply, nothing deleted is not success.
    let applied = docr
        .run("prune acme --keep-last 1 --untagged --apply")
        .await;
    ends_with(
        &applied,
        3,
        &format!(
            "docr: {} repositories blocked, 0 items skipped because the registry changed, 0 failed",
            repositories.len()
        ),
    );
    assert_eq!(fake.calls().of("registries_delete_repositoryManifest"), 0);
}

#[tokio::test]
async fn an_apply_exits_0_only_when_everything_planned_was_done() {
    let fake = demo().await;
    let docr = Docr::for_fake(&fake);
    // web holds 40 tagged images: the 10 beyond the newest 30 go, all of them.
    let done = docr.ok("prune acme web --keep-last 30 --apply").await;
    done.assert_stdout_contains("deleted 10 manifests");
    done.assert_stdout_contains("skipped 0, failed 0");
    assert_eq!(fake.calls().of("registries_delete_repositoryManifest"), 10);
}

#[tokio::test]
async fn an_apply_that_skips_an_item_because_the_registry_changed_exits_3_and_counts_it() {
    let fake = demo().await;
    let docr = Docr::for_fake(&fake);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let plan = docr.json("prune acme web --keep-last 30").await;
    std::fs::write(&saved, plan.to_string()).unwrap();
    // The oldest planned image loses its tag after the plan: its reasons may no longer hold.
    let rows = plan["plan"]["repositories"][0]["delete"]
        .as_array()
        .unwrap();
    let tagged = rows
        .iter()
        .find(|r| r["tags"].as_array().is_some_and(|t| t.len() == 1))
        .expect("a planned image with one tag");
    let tag = tagged["tags"][0].as_str().unwrap();
    docr.ok(&format!("tags delete acme web {tag} --force"))
        .await;

    let applied = docr
        .run(&format!(
            "prune acme --from-plan {} --apply",
            saved.display()
        ))
        .await;
    ends_with(
        &applied,
        3,
        "docr: 0 repositories blocked, 1 item skipped because the registry changed, 0 failed",
    );
    assert_eq!(
        fake.calls().of("registries_delete_repositoryManifest"),
        rows.len() as u64 - 1
    );
}
