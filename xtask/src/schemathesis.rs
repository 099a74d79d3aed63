//! `cargo xtask schemathesis`: the embedded DOCR (`docr_fake`) against schemathesis, a
//! property-based tester installed, pinned, into `.tools/schemathesis-venv`, on the vendored
//! spec: no 5xx, every answer as the spec describes it (status, content type, headers, body),
//! and input the spec does not allow refused with a 4xx in DigitalOcean's error shape.
//!
//! The fake runs inside this process, on a port of 127.0.0.1 the kernel picks: nothing more to
//! build, no port to guess, rate limits off, and it stops with the chore whatever happens.
//! Two accounts: the demo one (several registries, so the deprecated `/v2/registry` family
//! answers 412) for all 41 operations, then one with a single registry for the deprecated
//! family. Each phase of schemathesis runs on its own against a fresh fake, and the deletion of
//! a whole registry runs last, so that no phase meets an account another one emptied. What is
//! relaxed for which operation, and why, is in `xtask/schemathesis.toml`.

mod account;
mod venv;

use crate::conformance::{Stop, positive};
use docr_fake::{FakeDocrBuilder, RateBudget};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const VENV: &str = ".tools/schemathesis-venv";
/// Where schemathesis runs, so that its caches stay out of the tree, and where the journals go.
const WORK: &str = ".tools/schemathesis";
const CONFIG: &str = "xtask/schemathesis.toml";
const TOKEN: &str = "schemathesis-token";

/// `examples` sends the spec's examples; `coverage` the boundary and invalid values of every
/// parameter and field and undeclared methods; `fuzzing` generated valid and invalid data
/// (`--mode all`); `stateful` chains of calls through the values answers give.
const PHASES: [&str; 4] = ["examples", "coverage", "fuzzing", "stateful"];
const DEFAULT_MAX_EXAMPLES: u32 = 100;
const DEFAULT_SEED: u64 = 20_240_301;
/// How many answers the fake keeps, all of a run's, for the summary and the journal file.
const JOURNAL: usize = 200_000;

/// An account schemathesis runs against, and which operations.
struct Pass {
    name: &'static str,
    what: &'static str,
    fake: fn() -> FakeDocrBuilder,
    /// Extra `schemathesis run` arguments (operation filters).
    filters: &'static [&'static str],
    /// The operation that deletes a whole registry. schemathesis may order it before the
    /// operations that need the registry (its dependency analysis sees no input it needs), so it
    /// runs last, in every phase, with only `creation` beside it.
    deletion: &'static str,
    /// The operation that creates a registry, which the one-registry account refuses (409) until
    /// `deletion` has run.
    creation: &'static str,
}

const PASSES: [Pass; 2] = [
    Pass {
        name: "demo",
        what: "every operation; the demo account and the spec examples' registry",
        fake: account::demo,
        filters: &[],
        deletion: "registries_delete",
        creation: "registries_create",
    },
    Pass {
        name: "single",
        what: "the deprecated /v2/registry family; an account with one registry",
        fake: account::single_registry,
        filters: &["--include-path-regex", "^/v2/registry(/|$)"],
        deletion: "registry_delete",
        creation: "registry_create",
    },
];

/// One schemathesis run of a pass: which phases, on which operations.
struct Step {
    label: String,
    phases: String,
    filters: Vec<String>,
}

impl Pass {
    /// Each phase on every operation but the deletion, then deletion and creation in every
    /// phase.
    fn steps(&self) -> Vec<Step> {
        let filters = |extra: [&str; 2]| -> Vec<String> {
            self.filters
                .iter()
                .chain(&extra)
                .map(|s| s.to_string())
                .collect()
        };
        let mut steps: Vec<Step> = PHASES
            .iter()
            .map(|phase| Step {
                label: phase.to_string(),
                phases: phase.to_string(),
                filters: filters(["--exclude-operation-id", self.deletion]),
            })
            .collect();
        steps.push(Step {
            label: "deletion".to_string(),
            phases: PHASES.join(","),
            filters: ["--include-operation-id", self.deletion]
                .into_iter()
                .chain(["--include-operation-id", self.creation])
                .map(String::from)
                .collect(),
        });
        steps
    }
}

/// What the chore needs to start one run.
struct Setup {
    workspace: PathBuf,
    schemathesis: PathBuf,
    work: PathBuf,
    max_examples: u32,
    seed: u64,
}

/// One step of one pass, as it went.
struct Outcome {
    pass: &'static str,
    step: String,
    status: ExitStatus,
    elapsed: Duration,
    /// Answers by class: 2xx, 4xx, 5xx.
    classes: [u64; 3],
    /// Operations called, and those that answered 2xx at least once.
    called: BTreeSet<String>,
    succeeded: BTreeSet<String>,
    journal: PathBuf,
}

pub fn run(workspace: &Path, args: &[String]) -> Result<(), String> {
    let mut max_examples = DEFAULT_MAX_EXAMPLES;
    let mut seed = DEFAULT_SEED;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--max-examples" => max_examples = positive(it.next(), arg)?,
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--seed needs a number")?;
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}` (see `cargo xtask --help`)"
                ));
            }
        }
    }

    let setup = Setup {
        workspace: workspace.to_path_buf(),
        schemathesis: venv::install(&workspace.join(VENV))?,
        work: workspace.join(WORK),
        max_examples,
        seed,
    };
    std::fs::create_dir_all(&setup.work)
        .map_err(|e| format!("cannot create {}: {e}", setup.work.display()))?;
    let (runtime, mut stop) = Stop::with_runtime()?;

    let started = Instant::now();
    let mut outcomes = Vec::new();
    for pass in &PASSES {
        for step in pass.steps() {
            println!(
                "\n== schemathesis: {} pass, {} ({})",
                pass.name, step.label, pass.what
            );
            let outcome = runtime.block_on(async {
                tokio::select! {
                    outcome = run_step(&setup, pass, &step) => outcome,
                    signal = stop.requested() => Err(format!("interrupted by {signal}")),
                }
            })?;
            outcomes.push(outcome);
        }
    }
    summarize(&setup, &outcomes, started.elapsed())
}

/// Starts a fresh fake, runs one step against it, and stops both (dropping the future, on an
/// interruption, kills schemathesis and stops the fake as well).
async fn run_step(setup: &Setup, pass: &Pass, step: &Step) -> Result<Outcome, String> {
    let fake = (pass.fake)()
        .token(TOKEN)
        // schemathesis sends thousands of requests a minute; DigitalOcean's budget would 429.
        .rate_limit(RateBudget::UNLIMITED)
        .gc_step(Duration::from_millis(200))
        .journal_length(JOURNAL)
        .start()
        .await
        .map_err(|e| format!("cannot start the embedded DOCR: {e}"))?;
    account::write_dictionaries(&fake.snapshot(), &setup.work.join(account::DICTIONARIES))?;
    let mut command = Command::new(&setup.schemathesis);
    command
        .arg("--config-file")
        .arg(setup.workspace.join(CONFIG))
        .arg("run")
        .arg(setup.workspace.join(xtask::regen::SPEC_FILE))
        .args(["--url", fake.url()])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--phases", &step.phases])
        .args(["--mode", "all"])
        .args(["--max-examples", &setup.max_examples.to_string()])
        .args(["--seed", &setup.seed.to_string()])
        // One worker: schemathesis's threads gain little against a fake that answers in
        // microseconds, and under Python 3.11 they race in `ast.parse` (CPython gh-106905,
        // "AST constructor recursion depth mismatch"), which errors an operation now and then.
        .args(["--workers", "1"])
        .arg("--no-color")
        .args(&step.filters)
        .current_dir(&setup.work)
        .stdin(Stdio::null());
    println!("$ {}", shown(&command, &setup.workspace));
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", setup.schemathesis.display()))?;
    let status = wait(child).await?;
    let elapsed = started.elapsed();

    let journal = fake.journal();
    fake.shutdown().await;
    let mut classes = [0; 3];
    let mut succeeded = BTreeSet::new();
    let called = journal
        .iter()
        .filter_map(|e| e.operation_id.clone())
        .collect();
    for exchange in &journal {
        match exchange.status {
            200..=299 => {
                classes[0] += 1;
                succeeded.extend(exchange.operation_id.clone());
            }
            400..=499 => classes[1] += 1,
            500..=599 => classes[2] += 1,
            _ => {}
        }
    }
    let file = setup
        .work
        .join(format!("{}-{}-journal.ndjson", pass.name, step.label));
    account::write_journal(&journal, &file)?;
    Ok(Outcome {
        pass: pass.name,
        step: step.label.clone(),
        status,
        elapsed,
        classes,
        called,
        succeeded,
        journal: file,
    })
}

fn summarize(setup: &Setup, outcomes: &[Outcome], elapsed: Duration) -> Result<(), String> {
    println!(
        "\n== schemathesis: summary (schemathesis {}, at most {} examples per operation and \
         phase, seed {})",
        venv::VERSION,
        setup.max_examples,
        setup.seed
    );
    let mut failures = Vec::new();
    for outcome in outcomes {
        let verdict = if outcome.status.success() {
            "ok  "
        } else {
            failures.push(format!(
                "{} {} (the fake's answers: {})",
                outcome.pass,
                outcome.step,
                outcome.journal.display()
            ));
            "FAIL"
        };
        let [ok, refused, broken] = outcome.classes;
        println!(
            "{verdict}  {:6} {:8} {:5} requests: {ok:5} 2xx, {refused:5} 4xx, {broken} 5xx \
             in {:4.1}s",
            outcome.pass,
            outcome.step,
            ok + refused + broken,
            outcome.elapsed.as_secs_f64()
        );
    }
    for pass in &PASSES {
        let of_pass = || outcomes.iter().filter(|o| o.pass == pass.name);
        let called: BTreeSet<&String> = of_pass().flat_map(|o| &o.called).collect();
        let succeeded: BTreeSet<&String> = of_pass().flat_map(|o| &o.succeeded).collect();
        println!(
            "{}: {} of the {} operations called answered 2xx at least once",
            pass.name,
            succeeded.len(),
            called.len()
        );
    }
    let requests: u64 = outcomes.iter().flat_map(|o| o.classes).sum();
    let server_errors: u64 = outcomes.iter().map(|o| o.classes[2]).sum();
    println!(
        "schemathesis: {} runs, {} failed, {requests} requests, {server_errors} 5xx, in {:.0}s",
        outcomes.len(),
        failures.len(),
        elapsed.as_secs_f64()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "schemathesis found failures (see its reports above) in:\n  {}",
            failures.join("\n  ")
        ))
    }
}

/// Waits for schemathesis; dropping the future kills it.
async fn wait(child: Child) -> Result<ExitStatus, String> {
    let mut child = KillOnDrop(child);
    loop {
        match child.0.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => return Err(format!("cannot wait for schemathesis: {e}")),
        }
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The command line as one would type it, paths relative to the workspace.
fn shown(command: &Command, workspace: &Path) -> String {
    let prefix = format!("{}/", workspace.display());
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| {
            let word = word.to_string_lossy();
            let word = word.strip_prefix(&prefix).unwrap_or(&word);
            if word.is_empty() || word.contains([' ', '$', '^', '(', '|', '"', '\'']) {
                format!("'{}'", word.replace('\'', r"'\''"))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
