//! The build figures, each from a clean build in a scratch target directory (dev profile):
//!
//! - `clean_build_seconds`: `cargo build --package docr --lib` of a copy of the workspace;
//! - `deps_only_build_seconds`: the same for a crate with docr's features, dependencies and
//!   build dependencies, an empty `lib.rs` and an empty `build.rs` (so that its build
//!   dependencies are built too), resolved from docr's `Cargo.lock`;
//! - `clean_build_vs_deps_only`: the first divided by the second;
//! - `build_script_seconds`: the run of docr's build script in the clean build, from cargo's
//!   `--timings` report (`build-script (run)` unit);
//! - `incremental_build_seconds`: a build after touching `src/ext/pagination.rs` of the copy.
//!
//! The copy keeps the workspace's own files untouched (touching one would make every other
//! build of it recompile docr).

use super::Figure;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

/// Top-level entries of the workspace not copied: build output, history, installed tools.
const NOT_COPIED: [&str; 4] = ["target", ".git", ".tools", "BENCHMARKS.md"];
/// The hand-written file touched for the incremental build.
const TOUCHED: &str = "src/ext/pagination.rs";
/// The sections of `Cargo.toml` the deps-only crate repeats.
const SECTIONS: [&str; 3] = ["[features]", "[dependencies]", "[build-dependencies]"];

pub fn run(workspace: &Path, scratch: &Path) -> Result<Vec<Figure>, String> {
    let copy = scratch.join("docr");
    let deps_only = scratch.join("deps-only");
    for dir in [&copy, &deps_only] {
        remove(dir)?;
    }
    copy_tree(workspace, &copy, true)?;
    write_deps_only(workspace, &deps_only)?;

    let docr_target = copy.join("target");
    let deps_target = deps_only.join("target");
    println!("# clean build of a crate with docr's dependencies and no code");
    let deps_seconds = build(&deps_only, &deps_target, &[])?;
    println!("# clean build of docr");
    let clean_seconds = build(&copy, &docr_target, &["--package", "docr"])?;
    let script_seconds = build_script_run(&docr_target.join("cargo-timings"))?;
    println!("# incremental build after touching {TOUCHED}");
    touch(&copy.join(TOUCHED))?;
    let incremental_seconds = build(&copy, &docr_target, &["--package", "docr"])?;

    // Several GB of build output: only the figures are kept.
    for dir in [&docr_target, &deps_target] {
        remove(dir)?;
    }
    Ok(vec![
        figure("build_script_seconds", script_seconds, "s"),
        figure("clean_build_seconds", clean_seconds, "s"),
        figure("deps_only_build_seconds", deps_seconds, "s"),
        figure(
            "clean_build_vs_deps_only",
            clean_seconds / deps_seconds,
            "x",
        ),
        figure("incremental_build_seconds", incremental_seconds, "s"),
    ])
}

fn figure(name: &str, value: f64, unit: &str) -> Figure {
    // Cargo's timings and wall clocks: hundredths of a second are all they resolve.
    Figure::new(name, (value * 100.0).round() / 100.0, unit)
}

/// `cargo build --lib --timings` in `dir` with its own target directory; wall seconds.
fn build(dir: &Path, target: &Path, extra: &[&str]) -> Result<f64, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let status = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // Everything is fetched already (xtask itself depends on docr): no network.
        .args(["build", "--quiet", "--offline", "--lib", "--timings"])
        .args(extra)
        .status()
        .map_err(|e| format!("cannot run cargo build in {}: {e}", dir.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!(
            "cargo build in {} failed ({status})",
            dir.display()
        ));
    }
    Ok(seconds)
}

/// The duration of docr's `build-script (run)` unit in cargo's timings report.
fn build_script_run(timings: &Path) -> Result<f64, String> {
    let html = timings.join("cargo-timing.html");
    let text =
        std::fs::read_to_string(&html).map_err(|e| format!("reading {}: {e}", html.display()))?;
    let start = text
        .find("UNIT_DATA = ")
        .and_then(|at| text[at..].find('[').map(|open| at + open))
        .ok_or_else(|| format!("no UNIT_DATA in {}", html.display()))?;
    let units: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text[start..])
        .into_iter()
        .next()
        .ok_or("UNIT_DATA is empty")?
        .map_err(|e| format!("UNIT_DATA in {}: {e}", html.display()))?;
    units
        .iter()
        .find(|unit| {
            unit["name"] == "docr"
                && (unit["mode"] == "run-custom-build"
                    || unit["target"].as_str().is_some_and(|t| t.contains("(run)")))
        })
        .and_then(|unit| unit["duration"].as_f64())
        .ok_or_else(|| format!("no run of docr's build script in {}", html.display()))
}

/// A crate with docr's features and dependencies, and no code.
fn write_deps_only(workspace: &Path, dir: &Path) -> Result<(), String> {
    let manifest = read(&workspace.join("Cargo.toml"))?;
    let mut toml = String::from(
        "# Generated by `cargo xtask bench`: docr's dependencies, none of its code.\n\
         [package]\nname = \"docr-deps-only\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[workspace]\n",
    );
    let inherited = section_of(&manifest, "[workspace.dependencies]").unwrap_or_default();
    for section in SECTIONS {
        let body = section_of(&manifest, section)
            .ok_or_else(|| format!("Cargo.toml has no {section} section"))?;
        toml.push('\n');
        toml.push_str(section);
        toml.push('\n');
        toml.push_str(&inherit(&body, &inherited)?);
    }
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (file, contents) in [
        ("Cargo.toml", toml),
        ("Cargo.lock", read(&workspace.join("Cargo.lock"))?),
        ("build.rs", "fn main() {}\n".into()),
        ("src/lib.rs", String::new()),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, contents).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Replaces each `name.workspace = true` line with the workspace's own line for `name`: the
/// deps-only crate is outside the workspace.
fn inherit(body: &str, inherited: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in body.lines() {
        match line.trim().strip_suffix(".workspace = true") {
            Some(name) => {
                let own = inherited
                    .lines()
                    .find(|l| l.split('=').next().is_some_and(|n| n.trim() == name))
                    .ok_or_else(|| format!("[workspace.dependencies] has no {name}"))?;
                out.push_str(own);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// The lines of a top-level `[section]` of a manifest, up to the next header.
fn section_of(manifest: &str, header: &str) -> Option<String> {
    let mut lines = manifest.lines().skip_while(|l| l.trim() != header);
    lines.next()?;
    let body: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with('['))
        .collect();
    Some(body.join("\n") + "\n")
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = entry.file_name();
        if top && NOT_COPIED.iter().any(|n| name == *n) {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let target = to.join(&name);
        if kind.is_dir() && name != "target" {
            copy_tree(&entry.path(), &target, false)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Moves a file's modification time to now, as `touch` does.
fn touch(path: &Path) -> Result<(), String> {
    let file = std::fs::File::options()
        .append(true)
        .open(path)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    // A second ahead: coarse file-system clocks still see it as newer than the last build.
    file.set_modified(SystemTime::now() + Duration::from_secs(1))
        .map_err(|e| format!("touching {}: {e}", path.display()))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn remove(dir: &PathBuf) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_stop_at_the_next_header() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\na = \"1\"\nb = { version = \"2\" }\n\n[dev-dependencies]\nc = \"3\"\n";
        assert_eq!(
            section_of(manifest, "[dependencies]").as_deref(),
            Some("a = \"1\"\nb = { version = \"2\" }\n\n")
        );
        assert_eq!(section_of(manifest, "[build-dependencies]"), None);
    }

    #[test]
    fn inherited_dependencies_take_the_workspace_line() {
        let inherited =
            "docr = { path = \".\" }\ntokio = { version = \"1\", features = [\"rt\"] }\n";
        assert_eq!(
            inherit("tokio.workspace = true\nregress = \"0.12\"\n", inherited).as_deref(),
            Ok("tokio = { version = \"1\", features = [\"rt\"] }\nregress = \"0.12\"\n")
        );
        assert!(inherit("serde.workspace = true\n", inherited).is_err());
    }
}
