//! `cargo xtask <chore>`: the project's chores, in Rust so they run wherever cargo does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xtask::regen;

mod bench;
mod conformance;
mod schemathesis;

const USAGE: &str = "usage: cargo xtask regen [--from PATH] [--check]
       cargo xtask conformance [--times N] [--from PATH]
       cargo xtask schemathesis [--max-examples N] [--seed N]
       cargo xtask bench [--quick]

  regen    rebuild spec/ from DigitalOcean's split OpenAPI spec
           --from PATH  the upstream `specification` folder
                        (default: ../shared/digitalocean-openapi/specification)
           --check      write nothing; fail if spec/ differs from what regen would write

  conformance
           drive all 41 operations through the client against Stoplight Prism (installed,
           pinned, into .tools/prism), a validating mock of spec/registry.yaml and of the
           upstream spec, with the specs' examples and with dynamic answers
           --times N    calls per operation with dynamic answers (default 20)
           --from PATH  the upstream `specification` folder (default as for regen; the
                        upstream runs are skipped when it is absent)

  schemathesis
           run schemathesis (installed, pinned, into .tools/schemathesis-venv) against the
           embedded DOCR, served in-process on 127.0.0.1, on spec/registry.yaml: no 5xx,
           answers as the spec describes them, bad input refused with a 4xx in DigitalOcean's
           error shape; checks and per-operation exceptions in xtask/schemathesis.toml, the
           fake's answers in .tools/schemathesis/*-journal.ndjson
           --max-examples N  test cases per operation and phase (default 100)
           --seed N          schemathesis's random seed (default fixed, for repeatable runs)

  bench    run the benchmarks (benches/report, in the bench profile) and the clean builds,
           print one line per figure, `name value unit`, and write BENCHMARKS.md
           --quick  dev profile, small sizes, no clean builds; writes
                    target/bench/BENCHMARKS.quick.md (CI: the benchmarks keep working)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("regen") => run_regen(&args[1..]),
        Some("conformance") => conformance::run(&workspace(), &args[1..]),
        Some("schemathesis") => schemathesis::run(&workspace(), &args[1..]),
        Some("bench") => bench::run(&workspace(), &args[1..]),
        Some("-h" | "--help") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown chore `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn run_regen(args: &[String]) -> Result<(), String> {
    let root = workspace();
    let mut from = regen::default_upstream(&root);
    let mut check = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--from" => {
                from = it.next().ok_or("--from needs a PATH")?.into();
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let generated = regen::generate(&from)?;
    if check {
        let diffs = regen::differences(&root, &generated);
        if diffs.is_empty() {
            println!("regen --check: spec/ matches {}", from.display());
            return Ok(());
        }
        return Err(format!(
            "spec/ is out of date with {}:\n  {}\nrun `cargo xtask regen` and commit the result",
            from.display(),
            diffs.join("\n  ")
        ));
    }
    for (path, contents) in &generated.files {
        let target = root.join(path);
        let tmp = target.with_extension("tmp");
        std::fs::write(&tmp, contents).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &target).map_err(|e| format!("writing {}: {e}", target.display()))?;
        println!("wrote {path}");
    }
    Ok(())
}
