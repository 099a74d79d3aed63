//! `peak_rss_mb_stream_100k_tags`: the peak resident memory of a process that streams every
//! tag of a repository of 100,000 (500 pages) and keeps none.
//!
//! The fake, which holds the 100,000 tags, runs in this process; the client runs in a child
//! process (this same binary, `rss-child`), which reads its own peak (`VmHWM` in
//! `/proc/self/status`) before and after streaming. Linux only; elsewhere it says so.

use crate::listing::repository_of;
use crate::support::{Failure, FakeThread, Figure, chain, progress, report, runtime};
use docr::Client;
use docr::prelude::*;
use docr_fake::{FakeDocr, RateBudget, RegistrySeed};
use futures::TryStreamExt;
use std::process::{Command, ExitCode, Stdio};

/// The child's first argument.
pub const CHILD: &str = "rss-child";
const REGISTRY: &str = "bench";
const REPOSITORY: &str = "team/app";
const STATUS: &str = "/proc/self/status";

pub fn run(quick: bool) -> Result<(), Failure> {
    let tags: usize = if quick { 20_000 } else { 100_000 };
    if std::fs::metadata(STATUS).is_err() {
        progress(format!("memory: skipped, no {STATUS} on this system"));
        return Ok(());
    }
    progress(format!("memory: streaming {tags} tags in a child process"));
    let server = FakeThread::start(
        FakeDocr::builder()
            .registry(RegistrySeed::new(REGISTRY).repository(repository_of(REPOSITORY, tags)))
            .rate_limit(RateBudget::UNLIMITED)
            .journal_length(0),
    )?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let output = Command::new(exe)
        .arg(CHILD)
        .arg(server.fake().url())
        .arg(tags.to_string())
        .env("DIGITALOCEAN_TOKEN", server.fake().token())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    drop(server);
    if !output.status.success() {
        return Err(format!("the child failed ({})", output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |key: &str| -> Result<f64, Failure> {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
            .ok_or_else(|| format!("the child did not report `{key}`: {text}"))
    };
    let before = value("before_kb")?;
    let peak = value("peak_kb")?;
    let label = if tags == 100_000 {
        "100k".to_string()
    } else {
        format!("{}k", tags / 1_000)
    };
    report(Figure::new("rss_mb_before_stream", before / 1024.0, "MB"));
    report(Figure::new(
        format!("peak_rss_mb_stream_{label}_tags"),
        peak / 1024.0,
        "MB",
    ));
    Ok(())
}

/// The child: `rss-child URL TAGS`, the token in `DIGITALOCEAN_TOKEN`.
pub fn child(args: &[String]) -> ExitCode {
    match stream_in_child(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {CHILD}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn stream_in_child(args: &[String]) -> Result<(), Failure> {
    let [url, tags] = args else {
        return Err(format!("usage: {CHILD} URL TAGS"));
    };
    let expected: usize = tags.parse().map_err(|_| format!("TAGS `{tags}`"))?;
    let runtime = runtime(false)?;
    let client: Client = Client::builder()
        .from_env()
        .api_url(url.as_str())
        .pacing(None)
        .build()
        .map_err(|e| chain(&e))?;
    let registry: RegistryName = REGISTRY.parse().map_err(|e| chain(&e))?;
    let repository: RepositoryName = REPOSITORY.parse().map_err(|e| chain(&e))?;
    let before = peak_kb()?;
    let count = runtime.block_on(
        client
            .list_tags(&registry, &repository)
            .stream()
            .try_fold(0usize, |n, _tag| async move { Ok(n + 1) }),
    );
    let count = count.map_err(|e| chain(&e))?;
    if count != expected {
        return Err(format!("streamed {count} tags, expected {expected}"));
    }
    println!("before_kb {before}");
    println!("peak_kb {}", peak_kb()?);
    Ok(())
}

/// The process's peak resident set so far, in KiB.
fn peak_kb() -> Result<u64, Failure> {
    let status =
        std::fs::read_to_string(STATUS).map_err(|e| format!("cannot read {STATUS}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in {STATUS}"))
}
