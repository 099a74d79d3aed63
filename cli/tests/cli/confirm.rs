//! The question before deletes and billing changes: on a pseudo-terminal (util-linux
//! `script`, which gives the binary a real pty and passes our answer through it: no extra
//! crate, and it is on every Linux CI image), without one, and skipped with `--force`.

use super::*;

/// Each confirmed command, the operation it calls, and words its question must name.
const CONFIRMED: [(&str, &str, &[&str]); 8] = [
    (
        "registries delete acme-archive",
        "registries_delete",
        &["acme-archive"],
    ),
    (
        "repos delete acme team/worker",
        "registries_delete_repository",
        &["team/worker", "acme"],
    ),
    (
        "tags delete acme team/api v1 v2",
        "registries_delete_repositoryTag",
        &["v1 and v2", "acme/team/api"],
    ),
    (
        "manifests delete acme web MANIFEST",
        "registries_delete_repositoryManifest",
        &["acme/web", "MANIFEST"],
    ),
    (
        "gc start acme",
        "registries_run_garbageCollection",
        &["acme", "read-only"],
    ),
    (
        "subscription set professional",
        "registries_update_subscription",
        &["professional", "billed"],
    ),
    (
        "kubernetes remove acme --cluster c-1",
        "kubernetes_remove_registries",
        &["acme", "c-1"],
    ),
    (
        "kubernetes remove --cluster c-1,c-2",
        "kubernetes_remove_registry",
        &["every registry", "c-1 and c-2"],
    ),
];

/// `docr ARGS` on a pseudo-terminal, `answer` typed into it.
async fn on_terminal(docr: &Docr, args: &str, answer: &str) -> Run {
    let inner = docr.command(args);
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_docr"));
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let answer = answer.to_string();
    let output = tokio::task::spawn_blocking(move || output_with_stdin(&mut command, &answer))
        .await
        .expect("the blocking task ends");
    let run = Run {
        args: args.to_string(),
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).replace('\r', ""),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    run
}

fn args_for(fake: &FakeDocr, args: &str) -> String {
    let snapshot = fake.snapshot();
    let web = snapshot.repository("acme", "web").expect("demo");
    args.replace("MANIFEST", &web.manifests[0].digest)
}

#[tokio::test]
async fn without_a_terminal_and_without_force_nothing_changes() {
    let (fake, docr) = demo_with_docr().await;
    let before = fake.snapshot();
    for (args, operation, _) in CONFIRMED {
        let why = docr.usage(&args_for(&fake, args)).await;
        assert_eq!(fake.calls().of(operation), 0, "{args}");
        assert!(why.contains("pass --force"), "{args}: {why}");
    }
    assert_eq!(fake.snapshot(), before);
}

#[tokio::test]
async fn on_a_terminal_no_changes_nothing_and_the_question_names_what_goes() {
    if !tools_present(&["script"]) {
        return;
    }
    let (fake, docr) = demo_with_docr().await;
    let before = fake.snapshot();
    for (args, operation, named) in CONFIRMED {
        let args = args_for(&fake, args);
        for answer in ["n\n", "\n", "whatever\n"] {
            let run = on_terminal(&docr, &args, answer).await;
            assert_eq!(
                run.status.code(),
                Some(2),
                "{args}: {run:?}",
                run = run.stdout
            );
            assert!(
                run.stdout.contains("Continue? [y/N]"),
                "{args}: {}",
                run.stdout
            );
            run.assert_stdout_contains("not confirmed: nothing was changed");
            let named = named.iter().map(|n| {
                n.replace(
                    "MANIFEST",
                    &before.repository("acme", "web").expect("demo").manifests[0].digest,
                )
            });
            for word in named {
                assert!(
                    run.stdout.contains(&word),
                    "{args}: `{word}` not in {}",
                    run.stdout
                );
            }
        }
        assert_eq!(fake.calls().of(operation), 0, "{args}");
    }
    assert_eq!(fake.snapshot(), before);
}

#[tokio::test]
async fn on_a_terminal_yes_goes_ahead_and_force_skips_the_question() {
    if !tools_present(&["script"]) {
        return;
    }
    for (args, operation, _) in CONFIRMED {
        for force in [false, true] {
            let fake = demo().await;
            let docr = Docr::new(fake.url());
            let args = args_for(&fake, args);
            let run = if force {
                docr.run(&format!("{args} --force")).await
            } else {
                on_terminal(&docr, &args, "y\n").await
            };
            // The API may refuse (the demo's clusters are unknown, the tier is the same):
            // what matters is that the call was made.
            assert!(
                fake.calls().of(operation) >= 1,
                "{args} (force {force}): {}{}",
                run.stdout,
                run.stderr
            );
            assert_eq!(
                run.stdout.contains("Continue?"),
                !force,
                "{args}: {}",
                run.stdout
            );
        }
    }
}

/// Whether the real tools a test drives are installed; if not, the test fails naming them,
/// unless `DOCR_SKIP_REAL_TOOLS=1` (then it is skipped, saying so).
pub fn tools_present(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let skip = std::env::var("DOCR_SKIP_REAL_TOOLS").is_ok_and(|v| v == "1");
    assert!(
        skip,
        "missing {missing:?}: apt-get install util-linux skopeo buildah \
         golang-docker-credential-helpers pass gnupg (or set DOCR_SKIP_REAL_TOOLS=1 to skip)"
    );
    eprintln!("skipped: {missing:?} not installed and DOCR_SKIP_REAL_TOOLS=1");
    false
}
