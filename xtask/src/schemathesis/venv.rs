//! schemathesis, pinned, in a virtualenv under `.tools/` (ignored by git): made with
//! `python3 -m venv` and filled with pip the first time, reused while it holds the pinned version.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned release (the newest when the chore was written; it needs Python 3.9 or later).
pub const VERSION: &str = "4.32.5";

/// The virtualenv's `schemathesis`, installed at [`VERSION`] if it is not there yet.
pub fn install(venv: &Path) -> Result<PathBuf, String> {
    let bin = venv.join("bin");
    let schemathesis = bin.join("schemathesis");
    let installed = Command::new(&schemathesis)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(installed) = &installed {
        if installed.ends_with(&format!("version {VERSION}")) {
            println!("schemathesis: {VERSION} already in {}", venv.display());
            return Ok(schemathesis);
        }
        println!("schemathesis: replacing `{installed}` with {VERSION}");
    }
    if !bin.join("python").is_file() {
        println!("schemathesis: python3 -m venv {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(venv)
            .status()
            .map_err(|e| {
                format!("cannot run python3 (Python 3.9 or later must be on PATH): {e}")
            })?;
        if !status.success() {
            return Err(format!(
                "python3 -m venv {} failed ({status})",
                venv.display()
            ));
        }
    }
    println!(
        "schemathesis: pip install schemathesis=={VERSION} into {}",
        venv.display()
    );
    let status = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .arg(format!("schemathesis=={VERSION}"))
        .status()
        .map_err(|e| format!("cannot run pip in {}: {e}", venv.display()))?;
    if !status.success() {
        return Err(format!(
            "pip install schemathesis=={VERSION} failed ({status})"
        ));
    }
    if !schemathesis.is_file() {
        return Err(format!(
            "pip installed schemathesis=={VERSION} but {} is missing",
            schemathesis.display()
        ));
    }
    Ok(schemathesis)
}
