//! Merges credentials into a Docker config folder over and over, until killed: the child
//! process of `tests/config_crash.rs`, which kills it mid-write and checks what is left.
//!
//! ```text
//! cargo run --example config_writer -- <docker config folder> <first generation>
//! ```
//!
//! Generation `n` sets `auths."registry.digitalocean.com".auth` to the base64 of
//! `docr-writer:gen-<n>`; after each merge it prints `wrote <n>`. It stops by itself when its
//! standard input closes, so that it never outlives a test that died.

use base64::Engine;
use docr::credentials::merge_docker_config;
use std::io::{BufRead, Write};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: config_writer <dir> <generation>")?,
    );
    let first: u64 = args.next().ok_or("missing the first generation")?.parse()?;

    std::thread::spawn(|| {
        let stdin = std::io::stdin();
        for _ in stdin.lock().lines() {}
        std::process::exit(0);
    });

    let mut stdout = std::io::stdout().lock();
    for generation in first.. {
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("docr-writer:gen-{generation}"));
        merge_docker_config(&dir, Some(&serde_json::json!({ "auth": auth })))?;
        writeln!(stdout, "wrote {generation}")?;
        stdout.flush()?;
    }
    Ok(())
}
