//! Docker's `config.json` survives a crash mid-write and stays private: a child process
//! (`examples/config_writer.rs`) merges credentials into a large config over and over and is
//! killed with SIGKILL at many different moments; after each kill the file is a complete old or
//! new version, mode 0600.
//!
//! What a kill leaves besides: the temporary file of the write it interrupted
//! (`.config.json.XXXXXX`, beside the config) stays behind, as no code runs after SIGKILL. The
//! merge never reads those files and they are mode 0600 like the config; the test counts them
//! and checks both facts.

use base64::Engine;
use docr::credentials::merge_docker_config;
use docr::names::REGISTRY_HOST;
use serde_json::{Value, json};
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const KILLS: u64 = 30;
const TEMP_PREFIX: &str = ".config.json.";

/// Builds `examples/config_writer.rs` in this test's profile (a no-op when it
/// is fresh; `cargo test --test layer` alone does not build examples) and returns its
/// path.
fn config_writer() -> PathBuf {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--package", "docr", "--example", "config_writer"])
        .arg("--message-format=json");
    if !cfg!(debug_assertions) {
        cargo.arg("--release");
    }
    let output = cargo.stderr(Stdio::inherit()).output().unwrap();
    assert!(
        output.status.success(),
        "cannot build examples/config_writer.rs"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "config_writer")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the example's executable")
}

/// A config as a busy machine has it: about 1 MB of other registries' entries and settings.
fn large_config() -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let auths: serde_json::Map<String, Value> = (0..2_200)
        .map(|i| {
            let secret: String = (0..300)
                .map(|j| char::from(b'a' + ((i * 7 + j) % 26) as u8))
                .collect();
            (
                format!("registry-{i}.example.com"),
                json!({ "auth": b64.encode(&secret), "email": format!("ci-{i}@example.com") }),
            )
        })
        .collect();
    json!({
        "auths": auths,
        "credsStore": "desktop",
        "psFormat": "table {{.ID}}\\t{{.Image}}",
        "HttpHeaders": { "User-Agent": "Docker-Client/24.0" },
    })
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The generation in DigitalOcean's entry of `config` (removing the entry), checking its shape.
fn take_generation(config: &mut Value) -> u64 {
    let entry = config["auths"]
        .as_object_mut()
        .unwrap()
        .remove(REGISTRY_HOST)
        .expect("DigitalOcean's entry is there");
    let auth = entry["auth"].as_str().unwrap();
    assert_eq!(entry, json!({ "auth": auth }), "the entry as written");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    String::from_utf8(decoded)
        .unwrap()
        .strip_prefix("docr-writer:gen-")
        .and_then(|n| n.parse().ok())
        .expect("an auth the writer wrote")
}

/// The files of `dir` other than `config.json`.
fn others(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "config.json"))
        .collect();
    files.sort();
    files
}

/// The child's first `wrote <n>`.
fn first_write(wrote: &Receiver<u64>) -> u64 {
    wrote
        .recv_timeout(Duration::from_secs(60))
        .expect("the writer wrote nothing (hang guard)")
}

/// Every `wrote <n>` line of the child, as it comes.
fn progress(child: &mut Child) -> Receiver<u64> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("wrote ").and_then(|n| n.parse().ok())
                && tx.send(n).is_err()
            {
                break;
            }
        }
    });
    rx
}

#[test]
fn a_config_killed_mid_write_is_the_old_or_the_new_one_and_stays_private() {
    let writer = config_writer();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.json");
    let original = large_config();
    std::fs::write(&config_path, serde_json::to_vec_pretty(&original).unwrap()).unwrap();
    assert!(std::fs::metadata(&config_path).unwrap().len() > 1_000_000);

    // Generation 0, written here.
    let auth0 = base64::engine::general_purpose::STANDARD.encode("docr-writer:gen-0");
    let started = Instant::now();
    merge_docker_config(dir.path(), Some(&json!({ "auth": auth0 }))).unwrap();
    // Only to spread the kills over a write's phases; nothing asserts on time.
    let one_write = started.elapsed();
    assert_eq!(mode(&config_path), 0o600);

    let mut generation = 0;
    let (mut writes, mut kills_before_a_write) = (0, 0);
    for round in 0..KILLS {
        let mut child = Command::new(&writer)
            .arg(dir.path())
            .arg((generation + 1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let wrote = progress(&mut child);
        let mut reported = Vec::new();
        let leaked_before = others(dir.path());
        // Kills come at three kinds of moment: early (the child starting or reading), as soon
        // as a write's temporary file appears (plus up to half a millisecond), and at a spread of
        // moments up to three writes long after its first write.
        let share = ((round * 7_919 + round * round * 131) % 1_000) as f64 / 1_000.0;
        match round % 3 {
            _ if round.is_multiple_of(5) => {}
            1 => {
                reported.push(first_write(&wrote));
                let watching = Instant::now();
                while others(dir.path()) == leaked_before
                    && watching.elapsed() < Duration::from_secs(2)
                {
                    std::hint::spin_loop();
                }
                std::thread::sleep(Duration::from_micros((share * 500.0) as u64));
            }
            _ => {
                reported.push(first_write(&wrote));
                std::thread::sleep(one_write.mul_f64(3.0 * share));
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "killed, not finished");
        drop(child.stdin.take());
        reported.extend(wrote.iter());
        let last_reported = reported.last().copied().unwrap_or(generation);
        writes += reported.len() as u64;

        // Parses, holds everything else as it was, and is the last reported version or the
        // one being written when the kill came: never torn.
        let bytes = std::fs::read(&config_path).unwrap();
        let mut config: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: config.json is torn ({e})"));
        let found = take_generation(&mut config);
        assert_eq!(
            config, original,
            "round {round}: the other entries are intact"
        );
        assert!(
            found == last_reported || found == last_reported + 1,
            "round {round}: generation {found}, last reported {last_reported}"
        );
        assert_eq!(mode(&config_path), 0o600, "round {round}: still private");

        // Leftovers: only the interrupted write's temporary file, private too.
        let leftovers = others(dir.path());
        for file in &leftovers {
            let name = file.file_name().unwrap().to_string_lossy();
            assert!(
                name.starts_with(TEMP_PREFIX),
                "round {round}: unexpected {name}"
            );
            assert_eq!(mode(file), 0o600, "round {round}: {name} is private");
        }
        if found == generation {
            kills_before_a_write += 1;
        }
        assert!(
            leftovers.len() <= leaked_before.len() + 1,
            "round {round}: at most one per kill"
        );
        generation = found;
    }

    // The leftovers do not disturb the next merge, which reads config.json alone.
    let leaked = others(dir.path()).len();
    let next = generation + 1;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("docr-writer:gen-{next}"));
    merge_docker_config(dir.path(), Some(&json!({ "auth": auth }))).unwrap();
    let mut config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    assert_eq!(take_generation(&mut config), next);
    assert_eq!(config, original);
    assert_eq!(mode(&config_path), 0o600);
    assert_eq!(
        others(dir.path()).len(),
        leaked,
        "a clean merge leaves nothing"
    );

    eprintln!(
        "{KILLS} kills over {writes} completed writes (one write: {one_write:?}): {leaked} \
         temporary files left by kills mid-write, {kills_before_a_write} kills before the first \
         new version; config.json intact every time"
    );
    assert!(
        writes > KILLS / 2,
        "the kills came while the writer was writing"
    );
}
