//! What every command shares: the help, the token and URL, errors, `-v`, `fake serve`.

use super::*;
#[cfg(feature = "fake")]
use std::io::{BufRead, BufReader};
#[cfg(feature = "fake")]
use std::process::{Child, ChildStdout};

#[tokio::test]
async fn every_command_of_the_help_is_covered_here() {
    let (fake, docr) = demo_with_docr().await;
    let help = docr.ok("--help").await;
    let commands: Vec<&str> = COVERED.iter().map(|(command, _)| *command).collect();
    assert_eq!(commands_in_help(&help.stdout), commands);
    for &(command, subcommands) in COVERED {
        let help = docr.ok(&format!("{command} --help")).await;
        assert_eq!(
            commands_in_help(&help.stdout),
            subcommands,
            "docr {command}"
        );
    }
    assert_eq!(fake.calls().total, 0);
}

/// The lines of `help`'s section under `heading` (up to the next blank line).
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

#[tokio::test]
async fn global_options_have_their_own_heading_in_every_help() {
    let (fake, docr) = demo_with_docr().await;
    let global = [
        "--api-url",
        "--registry-url",
        "--token",
        "--output",
        "--format",
        "--no-header",
        "--verbose",
    ];
    let mut paths = vec![String::new()];
    for &(command, subcommands) in COVERED {
        paths.push(command.to_string());
        paths.extend(subcommands.iter().map(|s| format!("{command} {s}")));
    }
    for path in paths {
        let help = docr.ok(&format!("{path} --help")).await.stdout;
        let flags = |heading| -> Vec<String> {
            section(&help, heading)
                .iter()
                .flat_map(|l| l.split([' ', ',']))
                .filter(|w| w.starts_with("--"))
                .map(String::from)
                .collect()
        };
        // `fake serve --token` is the token the fake asks for, its own option.
        let shadowed: &[&str] = if path == "fake serve" {
            &["--token"]
        } else {
            &[]
        };
        let expected: Vec<&str> = (global.iter().copied())
            .filter(|f| !shadowed.contains(f))
            .collect();
        assert_eq!(flags("Global options:"), expected, "docr {path} --help");
        let own = flags("Options:");
        assert!(own.contains(&"--help".to_string()), "docr {path} --help");
        assert!(
            !own.iter().any(|f| expected.contains(&f.as_str())),
            "docr {path} --help: a global option among the command's own: {own:?}"
        );
    }
    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn a_missing_token_names_the_variables() {
    let (fake, docr) = demo_with_docr().await;
    let mut command = docr.command("repos list acme");
    command.env_remove("DIGITALOCEAN_TOKEN");
    let run = execute(command).await;
    let why = run.assert_refused();
    for name in ["--token", "DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN"] {
        assert!(why.contains(name), "{why}");
    }
    assert_eq!(fake.calls().total, 0);
}

#[tokio::test]
async fn the_token_and_url_come_from_flags_or_either_variable() {
    let (fake, docr) = demo_with_docr().await;
    let expected = docr.ok("registries list").await.stdout;

    let mut flags = docr.command(&format!(
        "--api-url {} --token {TOKEN} registries list",
        fake.url()
    ));
    flags
        .env_remove("DIGITALOCEAN_TOKEN")
        .env_remove("DIGITALOCEAN_API_URL");
    let run = execute(flags).await;
    run.assert_success();
    assert_eq!(run.stdout, expected);

    let mut access_token = docr.command("registries list");
    access_token
        .env_remove("DIGITALOCEAN_TOKEN")
        .env("DIGITALOCEAN_ACCESS_TOKEN", TOKEN);
    let run = execute(access_token).await;
    run.assert_success();
    assert_eq!(run.stdout, expected);

    // A wrong token: the API's 401 on one line, and that token is not repeated either.
    let run = docr.run("--token dop_v1_wrong-one registries list").await;
    let why = run.assert_refused();
    assert!(why.contains("401"), "{why}");
    assert!(!why.contains("dop_v1_wrong-one"), "{why}");
    assert_eq!(fake.calls().of("registries_list"), 4);
}

#[tokio::test]
async fn an_unknown_registry_gives_the_reason_on_one_line() {
    let (_fake, docr) = demo_with_docr().await;
    let unknown = [
        "registries get",
        "repos list",
        "registries delete -f",
        "gc list",
    ];
    for command in unknown {
        let why = docr.refused(&format!("{command} nope")).await;
        assert!(why.contains("404") && why.contains("nope"), "{why}");
    }
}

#[tokio::test]
async fn verbose_logs_each_call_on_stderr_and_nothing_else_changes() {
    let (_fake, docr) = demo_with_docr().await;
    let quiet = docr.ok("repos list acme").await;
    assert_eq!(quiet.stderr, "");

    let verbose = docr.ok("-v repos list acme").await;
    assert_eq!(verbose.stdout, quiet.stdout);
    assert!(
        verbose.stderr.lines().any(
            |l| l.contains("operation=\"registries_list_repositories_v2\"")
                && l.contains("status=200")
        ),
        "{}",
        verbose.stderr
    );
    assert!(
        !verbose.stderr.contains('\u{1b}'),
        "colour codes in a log that is not a terminal:\n{}",
        verbose.stderr
    );

    // The token given as a flag stays out of the log, failure or not.
    let mut flag = docr.command(&format!("-v --token {TOKEN} registries get nope"));
    flag.env_remove("DIGITALOCEAN_TOKEN");
    let run = execute(flag).await;
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("operation=\"registries_get\""));
    assert!(run.stderr.contains("status=404"), "{}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("docr: ") && l.contains("404")),
        "{}",
        run.stderr
    );
}

/// A child process killed (and reaped) however the test ends.
#[cfg(feature = "fake")]
struct Serving(Child);

#[cfg(feature = "fake")]
impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `docr fake serve` with `extra` arguments, running, its first line of output, and the
/// reader of the rest (kept open: a closed stdout would end the server).
#[cfg(feature = "fake")]
async fn fake_serve(extra: &[&str]) -> (Serving, String, BufReader<ChildStdout>) {
    let child = Command::new(env!("CARGO_BIN_EXE_docr"))
        .args(["fake", "serve", "--port", "0", "--token", TOKEN])
        .args(extra)
        .env_remove("DIGITALOCEAN_TOKEN")
        .env_remove("DIGITALOCEAN_ACCESS_TOKEN")
        .env_remove("DIGITALOCEAN_API_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("docr fake serve starts");
    let mut serving = Serving(child);
    let stdout = serving.0.stdout.take().expect("stdout is piped");
    let (first_line, reader) = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read stdout");
        (line, reader)
    })
    .await
    .expect("the blocking task ends");
    assert!(
        first_line.starts_with("embedded DOCR on http://127.0.0.1:"),
        "{first_line}"
    );
    assert!(!first_line.contains(TOKEN));
    (serving, first_line, reader)
}

/// The API URL in `fake serve`'s first line.
#[cfg(feature = "fake")]
fn served_url(first_line: &str) -> &str {
    first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("a URL")
}

#[cfg(feature = "fake")]
#[tokio::test]
async fn fake_serve_answers_docr_until_killed() {
    let (mut serving, first_line, _reader) = fake_serve(&[]).await;
    assert!(first_line.contains("(demo data)"), "{first_line}");

    let docr = Docr::new(served_url(&first_line));
    let repositories = docr.json("repos list acme").await;
    let names: Vec<&str> = items(&repositories)
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["team/api", "team/worker", "tools/ci/runner", "web"]);
    let table = docr.ok("repos list acme").await;
    assert_eq!(
        table.first_column(),
        [
            "REPOSITORY",
            "team/api",
            "team/worker",
            "tools/ci/runner",
            "web"
        ]
    );

    serving.0.kill().expect("kill docr fake serve");
    let status = serving.0.wait().expect("reap docr fake serve");
    assert!(!status.success(), "{status}");
}

#[cfg(feature = "fake")]
#[tokio::test]
async fn fake_serve_empty_serves_an_account_without_registries() {
    let (_serving, first_line, _reader) = fake_serve(&["--empty"]).await;
    assert!(first_line.contains("(empty: no registry)"), "{first_line}");

    let docr = Docr::new(served_url(&first_line));
    assert_eq!(
        docr.ok("registries list").await.first_column(),
        ["NAME"],
        "the header alone"
    );
    let listed = docr.json("registries list").await;
    assert!(
        listed["registries"].as_array().is_none_or(Vec::is_empty),
        "{listed}"
    );
    let why = docr.refused("repos list acme").await;
    assert!(why.contains("404"), "{why}");
    // The first registry is the user's to create.
    docr.prints(
        "registries create acme --tier basic",
        "created registry acme\n",
    )
    .await;
    assert_eq!(
        docr.ok("registries list --no-header --format name")
            .await
            .lines(),
        ["acme"]
    );
}

/// Built without the feature `fake`, the binary has no `fake` command.
#[cfg(not(feature = "fake"))]
#[tokio::test]
async fn a_lean_binary_has_no_fake_command() {
    let (fake, docr) = demo_with_docr().await;
    let help = docr.ok("--help").await;
    assert!(!commands_in_help(&help.stdout).contains(&"fake"));
    let run = docr.run("fake serve").await;
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("unrecognized subcommand 'fake'"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.calls().total, 0);
}
