//! What the tests with real tools share: whether the tools are here, and a temp folder.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's CNCF distribution registry.
pub const DISTRIBUTION: &str = "/usr/bin/docker-registry";

/// Whether skopeo (and, with `distribution`, docker-registry) is here; fails the test when a
/// tool is missing and `DOCR_SKIP_REAL_TOOLS=1` does not say to skip.
pub fn present(distribution: bool) -> bool {
    let skopeo = Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if skopeo && (!distribution || Path::new(DISTRIBUTION).exists()) {
        return true;
    }
    let (tools, packages) = if distribution {
        ("skopeo and docker-registry are", "skopeo docker-registry")
    } else {
        ("skopeo is", "skopeo")
    };
    if std::env::var("DOCR_SKIP_REAL_TOOLS").as_deref() == Ok("1") {
        eprintln!("skipped: a real tool is missing and DOCR_SKIP_REAL_TOOLS=1");
        return false;
    }
    panic!(
        "{tools} needed: run `apt-get install {packages}` (or set DOCR_SKIP_REAL_TOOLS=1 to skip)"
    );
}

/// A folder under the system's temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("docr-fake-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
