//! The benchmark report: `cargo xtask bench` builds and runs this (in the bench profile) and
//! collects its figures, one line each on stdout, `name value unit`; progress goes to stderr.
//!
//! ```text
//! cargo bench --bench report -- [--quick] [--only overhead,listing,prune,prune_images,gc,memory]
//! ```
//!
//! Ratios are taken within one run, against a baseline measured beside it on the same machine;
//! nothing here asserts on a time. `--quick` (CI) runs smaller sizes and fewer repetitions, to
//! keep the code working rather than to publish its numbers.

mod gc;
mod listing;
mod memory;
mod overhead;
mod prune;
mod prune_images;
mod support;

use std::process::ExitCode;
use support::Failure;

type Benchmark = fn(bool) -> Result<(), Failure>;

const BENCHMARKS: [(&str, Benchmark); 6] = [
    ("overhead", overhead::run),
    ("listing", listing::run),
    ("prune", prune::run),
    ("prune_images", prune_images::run),
    ("gc", gc::run),
    ("memory", memory::run),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(memory::CHILD) {
        return memory::child(&args[1..]);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(str::to_string).collect());
    if let Some(unknown) = only
        .iter()
        .flatten()
        .find(|name| !BENCHMARKS.iter().any(|(known, _)| known == name))
    {
        eprintln!(
            "bench: unknown benchmark `{unknown}` (one of {})",
            BENCHMARKS.map(|(name, _)| name).join(", ")
        );
        return ExitCode::FAILURE;
    }
    for (name, benchmark) in BENCHMARKS {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        if let Err(e) = benchmark(quick) {
            eprintln!("bench: {name} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
