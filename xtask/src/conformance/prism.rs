//! Stoplight Prism: installed with npm into `.tools/prism` (ignored by git), pinned, and run as
//! a validating mock server on 127.0.0.1 that is always stopped, with its process group.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The pinned release: the newest whose `engines` accepts Node 20 (5.15 and later ask for 24).
pub const VERSION: &str = "5.14.2";
const PACKAGE: &str = "@stoplight/prism-cli";
/// Loading DigitalOcean's whole spec takes a few seconds; a slow machine gets room.
const STARTUP: Duration = Duration::from_secs(120);

/// The installed command line, `node <prism-cli>/dist/index.js`.
pub struct Install {
    entry: PathBuf,
    pub folder: PathBuf,
}

/// Installs the pinned Prism into `folder`, or reuses the installation found there.
pub fn install(folder: &Path) -> Result<Install, String> {
    let package = folder.join("node_modules").join(PACKAGE);
    let entry = package.join("dist/index.js");
    let installed = std::fs::read_to_string(package.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|manifest| manifest["version"].as_str().map(str::to_string));
    if installed.as_deref() == Some(VERSION) && entry.is_file() {
        println!("prism: {PACKAGE}@{VERSION} already in {}", folder.display());
        return Ok(Install {
            entry,
            folder: folder.to_path_buf(),
        });
    }
    if let Some(other) = installed {
        println!("prism: replacing {PACKAGE}@{other} with {VERSION}");
    }
    println!(
        "prism: npm install {PACKAGE}@{VERSION} into {}",
        folder.display()
    );
    std::fs::create_dir_all(folder)
        .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    // `--ignore-scripts`: Prism needs none, and an install script would be code run unasked.
    let status = Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(folder)
        .args([
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--ignore-scripts",
            "--engine-strict",
            "--loglevel=error",
        ])
        .arg(format!("{PACKAGE}@{VERSION}"))
        .status()
        .map_err(|e| format!("cannot run npm (Node 20 and npm must be on PATH): {e}"))?;
    if !status.success() {
        return Err(format!("npm install {PACKAGE}@{VERSION} failed ({status})"));
    }
    if !entry.is_file() {
        return Err(format!(
            "npm installed {PACKAGE}@{VERSION} but {} is missing",
            entry.display()
        ));
    }
    Ok(Install {
        entry,
        folder: folder.to_path_buf(),
    })
}

/// A running Prism. Dropping it stops it and everything it started.
pub struct Server {
    pub addr: SocketAddr,
    pub log: PathBuf,
    child: Child,
}

impl Install {
    /// Starts `prism mock` on `spec` and waits until it accepts connections.
    ///
    /// `--errors=false`: a request the spec does not allow is still answered, with the status
    /// and body the spec gives for it, and Prism names the violation in an `sl-violations`
    /// header; the client then decodes a typed error and the header says exactly what was
    /// wrong, where `--errors` would answer every violation with Prism's own problem body.
    ///
    /// Dropping the future before it is ready stops Prism as well.
    pub async fn start(&self, label: &str, spec: &Path, dynamic: bool) -> Result<Server, String> {
        let port = free_port()?;
        let log = self.folder.join(format!("{label}.log"));
        let out =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot share {}: {e}", log.display()))?;
        let mut command = Command::new("node");
        command
            .arg(&self.entry)
            .arg("mock")
            .arg(spec)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--errors=false", "--cors=false", "--verboseLevel", "warn"])
            .arg(format!("--dynamic={dynamic}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so that stopping it reaches any child it forks.
            .process_group(0);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start Prism with node (is Node 20 on PATH?): {e}"))?;
        let mut server = Server {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            child,
        };
        server.wait_until_listening().await?;
        Ok(server)
    }
}

impl Server {
    async fn wait_until_listening(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "Prism exited ({status}) before listening on {}:\n{}",
                    self.addr,
                    self.log_tail()
                ));
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > STARTUP {
                return Err(format!(
                    "Prism did not listen on {} within {}s:\n{}",
                    self.addr,
                    STARTUP.as_secs(),
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The last lines Prism wrote, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n  ");
        format!("  {tail}\n  (full log: {})", self.log.display())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !signal("-TERM") {
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // The leader is gone; anything left in its group goes too.
                signal("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now (the kernel's choice, released for Prism to take).
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))
}
