//! `cargo xtask bench`: runs the benchmark report (`benches/report`, built in the bench
//! profile), adds the build figures (clean builds in scratch target directories), prints one
//! line per figure, `name value unit`, and writes `BENCHMARKS.md`.
//!
//! `--quick` (CI) builds the report in the dev profile, runs it with small sizes, skips the
//! clean builds, and writes `target/bench/BENCHMARKS.quick.md` instead: it keeps the benchmark
//! code working; its numbers are not the published ones.

mod builds;
mod markdown;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One figure, as the report prints it.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    /// The value as printed (its precision is the report's).
    pub text: String,
    pub unit: String,
}

impl Figure {
    pub fn new(name: &str, value: f64, unit: &str) -> Self {
        let text = if value.fract() == 0.0 && unit != "x" {
            format!("{value:.0}")
        } else {
            format!("{value:.2}")
        };
        Self {
            name: name.into(),
            value,
            text,
            unit: unit.into(),
        }
    }

    fn line(&self) -> String {
        format!("{} {} {}", self.name, self.text, self.unit)
    }

    /// Reads a `name value unit` line; anything else is not a figure.
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        let (name, text, unit) = (words.next()?, words.next()?, words.next()?);
        if words.next().is_some() {
            return None;
        }
        Some(Self {
            name: name.to_string(),
            value: text.parse().ok()?,
            text: text.to_string(),
            unit: unit.to_string(),
        })
    }
}

/// Where the scratch work goes: builds, copies, the quick report.
fn scratch(workspace: &Path) -> PathBuf {
    workspace.join("target").join("bench")
}

pub fn run(workspace: &Path, args: &[String]) -> Result<(), String> {
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            other => {
                return Err(format!(
                    "unknown argument `{other}` (see `cargo xtask --help`)"
                ));
            }
        }
    }
    let command = if quick {
        "cargo xtask bench --quick"
    } else {
        "cargo xtask bench"
    };
    let started = Instant::now();
    let machine = markdown::Machine::now(workspace);
    let mut figures = report(workspace, quick)?;
    if quick {
        println!(
            "# --quick: dev profile and small sizes, to keep the benchmarks working; clean-build figures skipped"
        );
    } else {
        let scratch = scratch(workspace);
        for figure in builds::run(workspace, &scratch)? {
            println!("{}", figure.line());
            figures.push(figure);
        }
    }
    let document = markdown::document(
        &figures,
        &machine,
        command,
        started.elapsed(),
        quick,
        &markdown::Machine::load(),
    );
    let target = if quick {
        let dir = scratch(workspace);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        dir.join("BENCHMARKS.quick.md")
    } else {
        workspace.join("BENCHMARKS.md")
    };
    std::fs::write(&target, document).map_err(|e| format!("writing {}: {e}", target.display()))?;
    println!("# wrote {}", target.display());
    let missed: Vec<String> = figures
        .iter()
        .filter_map(|f| markdown::goal(&f.name).map(|g| (f, g)))
        .filter(|(f, g)| !g.met(f.value))
        .map(|(f, g)| format!("{} (goal {g})", f.line()))
        .collect();
    if !missed.is_empty() && !quick {
        // Reported, not failed: the numbers depend on the machine and its load.
        println!("# goals missed in this run: {}", missed.join("; "));
    }
    Ok(())
}

/// Builds and runs the report, echoing its figures as they come.
fn report(workspace: &Path, quick: bool) -> Result<Vec<Figure>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace).args([
        "bench",
        "--quiet",
        "--package",
        "docr",
        "--bench",
        "report",
    ]);
    if quick {
        command.args(["--profile", "dev", "--", "--quick"]);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo bench has no stdout")?;
    let mut figures = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the report: {e}"))?;
        println!("{line}");
        if let Some(figure) = Figure::parse(&line) {
            figures.push(figure);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo bench: {e}"))?;
    if !status.success() {
        return Err(format!("the benchmark report failed ({status})"));
    }
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_back_as_printed() {
        let figure = Figure::parse("list_speedup_vs_sequential 5.871 x").unwrap();
        assert_eq!(figure.name, "list_speedup_vs_sequential");
        assert_eq!(figure.value, 5.871);
        assert_eq!(figure.line(), "list_speedup_vs_sequential 5.871 x");
        assert_eq!(
            Figure::parse("prune_calls 4601 calls").unwrap().line(),
            "prune_calls 4601 calls"
        );
        assert!(Figure::parse("bench: prune: the per-tag baseline").is_none());
        assert!(Figure::parse("# wrote BENCHMARKS.md").is_none());
    }
}
