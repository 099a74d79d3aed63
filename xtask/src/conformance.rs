//! `cargo xtask conformance`: every operation, driven through the generated client against
//! Stoplight Prism as a validating mock of the vendored fragment and of the full upstream spec,
//! first with the specs' examples, then with Prism's dynamic (schema-generated) answers.
//!
//! A call fails on a request the spec does not allow (Prism's `sl-violations` header, or a
//! query parameter or body the spec does not declare, which the relay between client and Prism
//! sees), on an answer the client cannot decode, and on any other error; an operation fails
//! when no call drives it. Against upstream, the calls that use what a patch of the fragment
//! adds are expected to be refused: each is named as a known gap, and the same operation
//! without the option must pass.

mod calls;
mod check;
mod path;
mod prism;
mod report;
mod spec;
mod tap;

use calls::Call;
use check::{Kind, Verdict};
use report::{OperationReport, Tally, join, print_operation};
use spec::Operations;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::signal::unix::{Signal, SignalKind, signal};

const UPSTREAM_FILE: &str = "DigitalOcean-public.v2.yaml";

/// One spec Prism serves.
struct Target {
    name: &'static str,
    file: PathBuf,
    operations: Operations,
    /// Upstream: the calls that use a patch's additions are known gaps.
    upstream: bool,
}

pub fn run(workspace: &Path, args: &[String]) -> Result<(), String> {
    let mut times = 20usize;
    let mut from = xtask::regen::default_upstream(workspace);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--times" => times = positive(it.next(), arg)?,
            "--from" => from = it.next().ok_or("--from needs a PATH")?.into(),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (see `cargo xtask --help`)"
                ));
            }
        }
    }

    let vendored_file = workspace.join(xtask::regen::SPEC_FILE);
    let mut targets = vec![Target {
        name: "vendored",
        operations: spec::vendored(&vendored_file)?,
        file: vendored_file,
        upstream: false,
    }];
    let upstream_file = from.join(UPSTREAM_FILE);
    if upstream_file.is_file() {
        targets.push(Target {
            name: "upstream",
            operations: spec::upstream(&upstream_file)?,
            file: upstream_file,
            upstream: true,
        });
    } else {
        println!(
            "conformance: no upstream spec at {} (the snapshot of github.com/digitalocean/openapi \
             is not beside the project): the upstream runs are SKIPPED",
            upstream_file.display()
        );
    }

    // Listening before any Prism starts, so that no interruption leaves one behind.
    let (runtime, mut stop) = Stop::with_runtime()?;
    let calls = calls::all();
    let prism = prism::install(&workspace.join(".tools/prism"))?;

    let mut total = Tally::default();
    let mut summaries = Vec::new();
    let mut all_passed = usize::MAX;
    let mut operations = 0;
    let mut failed = false;
    for dynamic in [false, true] {
        for target in &targets {
            let mode = if dynamic {
                format!("dynamic answers, {times} calls per operation")
            } else {
                "the spec's examples".to_string()
            };
            let what = format!("{} spec, {mode}", target.name);
            println!("\n== conformance: {what}: {}", target.file.display());
            let label = format!(
                "{}-{}",
                target.name,
                if dynamic { "dynamic" } else { "static" }
            );
            let server = runtime.block_on(async {
                tokio::select! {
                    server = prism.start(&label, &target.file, dynamic) => server,
                    signal = stop.requested() => Err(format!("interrupted by {signal}")),
                }
            })?;
            let started = Instant::now();
            let tally = runtime.block_on(async {
                tokio::select! {
                    tally = drive(target, &calls, server.addr, dynamic.then_some(times)) => tally,
                    signal = stop.requested() => Err(format!("interrupted by {signal}")),
                }
            });
            let tally = tally.map_err(|e| format!("{what}: {e}\n{}", server.log_tail()))?;
            drop(server);
            let line = tally.line(tally.passed, tally.operations, &what);
            println!("{line} in {:.1}s", started.elapsed().as_secs_f64());
            summaries.push(line);
            total.add(&tally);
            all_passed = all_passed.min(tally.passed);
            operations = operations.max(tally.operations);
            failed |= tally.failed();
        }
    }

    println!("\n== conformance: summary (Prism {})", prism::VERSION);
    for line in &summaries {
        println!("{line}");
    }
    let runs = format!("{} runs", summaries.len());
    let runs = if targets.iter().any(|t| t.upstream) {
        runs
    } else {
        format!("{runs}, upstream SKIPPED")
    };
    let last = total.line(all_passed, operations, &format!("every run: {runs}"));
    println!("{last}");
    if failed {
        return Err("conformance failed: see the FAIL lines above".into());
    }
    Ok(())
}

/// The positive number given after `flag`.
pub(crate) fn positive<T: std::str::FromStr + PartialOrd + Default>(
    value: Option<&String>,
    flag: &str,
) -> Result<T, String> {
    value
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("{flag} needs a positive number"))
}

/// SIGINT and SIGTERM: either ends the run, and leaving `run` stops Prism.
pub(crate) struct Stop {
    interrupt: Signal,
    terminate: Signal,
}

impl Stop {
    /// A single-threaded runtime for a run, and the signals listened for inside it.
    pub(crate) fn with_runtime() -> Result<(tokio::runtime::Runtime, Stop), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        let stop = {
            let _context = runtime.enter();
            Stop::listen().map_err(|e| format!("cannot listen for SIGINT/SIGTERM: {e}"))?
        };
        Ok((runtime, stop))
    }

    fn listen() -> std::io::Result<Stop> {
        Ok(Stop {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    pub(crate) async fn requested(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// Drives every operation of `target` once per call (static) or `times` times (dynamic).
async fn drive(
    target: &Target,
    calls: &[Call],
    prism: std::net::SocketAddr,
    times: Option<usize>,
) -> Result<Tally, String> {
    let tap = tap::Tap::start(prism)
        .await
        .map_err(|e| format!("cannot start the relay to Prism: {e}"))?;
    let client = docr::Client::builder()
        .token("conformance")
        .api_url(format!("http://{}", tap.addr))
        .retry_policy(docr::client::RetryPolicy::disabled())
        .pacing(None)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build the client: {e}"))?;

    // The operations in the order the calls list them, then any the calls miss.
    let mut order: Vec<&str> = Vec::new();
    for call in calls {
        if !order.contains(&call.operation) {
            order.push(call.operation);
        }
    }
    for id in target.operations.keys() {
        if !order.contains(&id.as_str()) {
            order.push(id);
        }
    }
    let width = order.iter().map(|o| o.len()).max().unwrap_or(0);

    let mut tally = Tally {
        operations: target.operations.len(),
        ..Tally::default()
    };
    for id in order {
        let variants: Vec<&Call> = calls.iter().filter(|c| c.operation == id).collect();
        let Some(operation) = target.operations.get(id) else {
            println!(
                "FAIL  {id:width$}  the {} spec has no such operation",
                target.name
            );
            tally.other_failures += 1;
            continue;
        };
        if variants.is_empty() {
            println!("FAIL  {id:width$}  not driven: no call in xtask/src/conformance/calls");
            tally.other_failures += 1;
            continue;
        }
        let rounds = times.unwrap_or(variants.len());
        let mut report = OperationReport::default();
        for round in 0..rounds {
            let call = variants[round % variants.len()];
            tap.take();
            let decoded = (call.send)(&client).await;
            let exchanges = tap.take();
            if let [exchange] = exchanges.as_slice()
                && let Ok(response) = &exchange.response
            {
                report.answers.insert(response.body.clone());
            }
            let findings = check::findings(operation, &exchanges, &decoded);
            let gap = call.upstream_gap.filter(|_| target.upstream);
            let sent = exchanges
                .first()
                .map(|e| check::excerpt(&e.summary(), 300))
                .unwrap_or_else(|| "nothing".to_string());
            report.calls += 1;
            if !report.variants.contains(&call.variant) {
                report.variants.push(call.variant);
            }
            match check::verdict(findings, gap) {
                Verdict::Pass => {
                    let text = format!("ok [{}]: nothing the spec does not allow", call.variant);
                    OperationReport::note(&mut report.passes, text, sent);
                }
                Verdict::KnownGap(gap, findings) => {
                    tally.known_gaps += 1;
                    let text = format!(
                        "known gap [{}] (patch {}: {}): {}",
                        call.variant,
                        gap.patch,
                        gap.what,
                        join(&findings)
                    );
                    OperationReport::note(&mut report.gaps, text, sent);
                }
                Verdict::Fail(findings) => {
                    if findings.iter().any(|f| f.kind() == Kind::Request) {
                        tally.violations += 1;
                    } else if findings.iter().any(|f| f.kind() == Kind::Decode) {
                        tally.decode_failures += 1;
                    } else {
                        tally.other_failures += 1;
                    }
                    let text = format!("FAIL [{}]: {}", call.variant, join(&findings));
                    OperationReport::note(&mut report.failures, text, sent);
                }
            }
        }
        tally.calls += report.calls;
        print_operation(id, width, &report, times.is_some());
        if report.failures.is_empty() {
            tally.passed += 1;
        }
    }
    Ok(tally)
}
