//! `restore`: what `prune --apply` deleted comes back from its undo journal, digests and tags;
//! a second run pushes nothing; after a garbage collection the lost images are named (exit
//! status 3) and nothing of them is pushed; a run killed with `kill -9` mid-apply leaves a
//! journal that restores everything it deleted; journals of another format version or
//! registry are refused (exit status 2) before any request.

use super::*;
use docr_fake::{Faults, ImageSeed};
use std::path::Path;

/// The journal path `prune --apply` printed (table output).
fn journal_printed(run: &Run) -> PathBuf {
    let line = run
        .lines()
        .into_iter()
        .find_map(|l| l.strip_prefix("undo journal: "))
        .unwrap_or_else(|| panic!("docr {}: no journal line in\n{}", run.args, run.stdout));
    PathBuf::from(line.split(" (").next().expect("a path"))
}

fn long_ago() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(19_000)
}

fn manifest_puts(fake: &FakeDocr) -> u64 {
    fake.calls().of_registry("PUT", "manifests")
}

#[tokio::test]
async fn restore_puts_back_what_prune_deleted_and_a_second_run_pushes_nothing() {
    let (fake, docr, before) = with_docr(demo().await);

    let run = docr
        .ok("prune acme --keep-last 3 --keep-tag lts|stable --untagged --apply")
        .await;
    let journal = journal_printed(&run);
    assert_eq!(docr.journals(), std::slice::from_ref(&journal));
    let deleted =
        manifests_of(&before, "acme").len() - manifests_of(&fake.snapshot(), "acme").len();
    assert!(deleted > 10, "{}", run.stdout);
    run.assert_stdout_contains(&format!("({deleted} manifests recorded)"));

    let shown = journal.display();
    let restored = docr.ok(&format!("restore {shown}")).await;
    assert_eq!(restored.stderr, "");
    assert_eq!(
        manifests_of(&fake.snapshot(), "acme"),
        manifests_of(&before, "acme"),
        "every manifest back, with its tags"
    );
    let last = restored.lines().last().copied().unwrap_or_default();
    assert!(
        last.starts_with(&format!(
            "restored {deleted} images, 0 already there, 0 lost, 0 failed"
        )),
        "{}",
        restored.stdout
    );
    let lines = restored.lines();
    assert_eq!(lines.len(), deleted + 1, "{}", restored.stdout);
    assert!(
        lines[..deleted].iter().all(|l| l.starts_with("restored ")
            && l.ends_with(": 1 of 1 manifests pushed")
            || l.contains(", tags ")),
        "{}",
        restored.stdout
    );
    // With read-write credentials of at most 15 minutes, asked for once.
    let issued = fake.snapshot().credentials;
    let writers: Vec<_> = issued.iter().filter(|c| c.read_write).collect();
    assert_eq!(writers.len(), 1, "{issued:?}");
    let lifetime = writers[0].expires_at.expect("they expire") - chrono::Utc::now();
    assert!(lifetime <= chrono::TimeDelta::minutes(15), "{lifetime}");

    // Again, as JSON: every image there already, nothing pushed.
    let puts = manifest_puts(&fake);
    let again = docr.json(&format!("restore {shown}")).await;
    assert_eq!(again["registry"], "acme");
    let statuses: BTreeSet<String> = items(&again["report"]["images"])
        .iter()
        .map(|i| text(&i["status"]))
        .collect();
    assert_eq!(statuses, BTreeSet::from(["already_there".to_string()]));
    assert_eq!(items(&again["report"]["images"]).len(), deleted);
    assert_eq!(manifest_puts(&fake), puts);
}

#[tokio::test]
async fn restore_brings_back_multi_arch_images_from_a_journal_named_on_the_command_line() {
    let (fake, docr, before) = with_docr(demo().await);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("archive.jsonl");
    let applied = docr
        .json(&format!(
            "prune acme-archive --keep-last 1 --untagged --grace 0 --apply --journal {}",
            file.display()
        ))
        .await;
    assert_eq!(applied["journal"]["path"], file.display().to_string());
    let gone = planned(&applied["plan"]);
    assert!(
        gone.len() >= 6,
        "indexes with their platforms and attestations: {gone:?}"
    );
    assert_eq!(number(&applied["journal"]["manifests"]), gone.len() as u64);
    assert!(docr.journals().is_empty(), "only the file named");

    docr.ok(&format!(
        "restore {} --registry acme-archive",
        file.display()
    ))
    .await;
    assert_eq!(
        manifests_of(&fake.snapshot(), "acme-archive"),
        manifests_of(&before, "acme-archive")
    );
    // Byte for byte: what the registry serves now is what it served before.
    let (was, now) = (before.registry("acme-archive"), fake.snapshot());
    let now = now.registry("acme-archive");
    for repository in &was.expect("demo").repositories {
        for m in &repository.manifests {
            let back = now
                .and_then(|r| r.repository(&repository.name))
                .and_then(|r| r.manifest(&m.digest))
                .expect("back");
            assert_eq!(back.content(), m.content(), "{}", m.digest);
        }
    }
}

#[tokio::test]
async fn restore_refuses_journals_of_another_version_or_registry_before_any_request() {
    let (fake, docr, _) = with_docr(demo().await);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("staging.jsonl");
    docr.ok(&format!(
        "prune acme-staging --untagged --apply --journal {}",
        file.display()
    ))
    .await;
    let plan = dir.path().join("plan.json");
    let dry = docr.json("prune acme --untagged").await;
    std::fs::write(&plan, dry.to_string()).expect("written");
    let text = std::fs::read_to_string(&file).expect("the journal");
    let newer = dir.path().join("newer.jsonl");
    let bumped = text.replacen("\"format_version\":1", "\"format_version\":7", 1);
    std::fs::write(&newer, bumped).expect("written");
    let calls = (fake.calls().total, fake.calls().registry_total());
    let shown = file.display().to_string();

    let why = docr
        .usage(&format!("restore {shown} --registry acme"))
        .await;
    assert_eq!(
        why,
        format!("{shown}: the journal is for registry acme-staging, not acme")
    );
    let why = docr.usage(&format!("restore {}", newer.display())).await;
    assert!(
        why.starts_with(&format!(
            "{}: the journal is of format version 7; this docr reads journals of version 1",
            newer.display()
        )),
        "{why}"
    );
    let why = docr.usage(&format!("restore {}", plan.display())).await;
    assert_eq!(
        why,
        format!("{}: it is not a docr undo journal", plan.display())
    );
    let missing = dir.path().join("none.jsonl");
    let why = docr
        .refused(&format!("restore {}", missing.display()))
        .await;
    assert!(why.starts_with("cannot read the undo journal"), "{why}");

    // And prune never writes over a file: refused before it plans.
    let why = docr
        .usage(&format!("prune acme --untagged --apply --journal {shown}"))
        .await;
    assert!(why.contains("the file exists"), "{why}");
    assert_eq!(
        (fake.calls().total, fake.calls().registry_total()),
        calls,
        "no request"
    );
}

/// `kept` is tagged and new; `twin` is its image with another annotation (its blobs are
/// kept's); `solo` and `index` have blobs of their own. All but `kept` are old.
fn collected_app() -> (RepositorySeed, [ManifestSeed; 3], docr_fake::IndexSeed) {
    let kept = ImageSeed::new("web").seed().tag("1.0");
    let twin = ImageSeed::new("web")
        .annotation("org.example.rebuilt", "yes")
        .seed()
        .updated_at(long_ago());
    let solo = ImageSeed::new("solo")
        .seed()
        .tag("0.1")
        .updated_at(long_ago());
    let index = docr_fake::IndexSeed::new()
        .image(ImageSeed::new("i-amd64"))
        .image(ImageSeed::new("i-arm64").platform("linux", "arm64"))
        .tag("0.9")
        .updated_at(long_ago());
    let repo = RepositorySeed::new("app")
        .manifest(kept.clone())
        .manifest(twin.clone())
        .manifest(solo.clone())
        .index(index.clone());
    (repo, [kept, twin, solo], index)
}

#[tokio::test]
async fn after_prune_gc_restore_names_exactly_the_lost_images_and_pushes_nothing_of_them() {
    let (repo, [kept, twin, solo], index) = collected_app();
    let fake = start(
        builder()
            .gc_step(GC_STEP)
            .registry(RegistrySeed::new("acme").repository(repo)),
    )
    .await;
    let docr = Docr::for_fake(&fake);
    let run = docr
        .ok("prune acme --older-than 1d --untagged --grace 0 --apply --gc --wait")
        .await;
    let journal = journal_printed(&run);
    let uuid = collections(&fake, "acme")[0].uuid.clone();

    let puts = manifest_puts(&fake);
    let restored = docr.run(&format!("restore {}", journal.display())).await;
    assert_eq!(restored.status.code(), Some(3), "{}", restored.stderr);
    let lost_solo = format!("app:0.1@{}", solo.digest());
    let lost_index = format!("app:0.9@{}", index.digest());
    let lines = restored.lines();
    assert_eq!(lines.len(), 4, "{}", restored.stdout);
    let starting = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        starting(&format!("lost {lost_index}: gone: blob ")),
        1,
        "{lines:?}"
    );
    assert_eq!(
        starting(&format!("lost {lost_solo}: gone: blob ")),
        1,
        "{lines:?}"
    );
    let twin_line = format!("restored app@{}: 1 of 1 manifests pushed", twin.digest());
    assert!(lines.contains(&twin_line.as_str()), "{lines:?}");
    assert!(
        lines[3].starts_with("restored 1 image, 0 already there, 2 lost, 0 failed"),
        "{lines:?}"
    );
    let stderr: Vec<&str> = restored.stderr.lines().collect();
    assert_eq!(stderr.len(), 2, "{}", restored.stderr);
    assert!(
        stderr[0].contains(&format!(
            "garbage collection {uuid} (unreferenced blobs only) was started at"
        )),
        "{}",
        stderr[0]
    );
    assert!(
        stderr[1].starts_with(
            "docr: 2 images lost (a garbage collection freed their blobs; nothing of them was \
             pushed): "
        ) && stderr[1].contains(&lost_solo)
            && stderr[1].contains(&lost_index),
        "{}",
        stderr[1]
    );
    assert_eq!(manifest_puts(&fake) - puts, 1, "the twin alone");
    let snapshot = fake.snapshot();
    let app = snapshot.repository("acme", "app").expect("kept");
    let left: BTreeSet<&str> = app.manifests.iter().map(|m| m.digest.as_str()).collect();
    assert_eq!(left, BTreeSet::from([kept.digest(), twin.digest()]));
}

/// Waits until `done` holds, for up to ten seconds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting until {what}");
}

/// The digests a journal file records, as written so far.
fn recorded(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|r| r["digest"].as_str().map(str::to_string))
        .collect()
}

/// `kill -9` while manifests are recorded but their deletes are not through: the API answers
/// every request 429 from the first record on, so the deletes recorded wait for a retry
/// (nothing else of the run stops). The journal restores every manifest the run deleted;
/// a last line cut short is ignored, and said so.
#[cfg(unix)]
#[tokio::test]
async fn a_prune_killed_between_a_journal_write_and_its_delete_leaves_a_journal_that_restores() {
    let repo = (0..40).fold(RepositorySeed::new("app"), |repo, n| {
        repo.manifest(
            ImageSeed::new(format!("old-{n}"))
                .seed()
                .updated_at(long_ago()),
        )
    });
    let latency = Duration::from_millis(50);
    let fake = start(builder().registry(RegistrySeed::new("acme").repository(repo))).await;
    fake.set_faults(Faults {
        latency,
        ..Faults::default()
    });
    let (fake, docr, before) = with_docr(fake);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("killed.jsonl");
    let mut command = docr.command(&format!(
        "prune acme --untagged --grace 0 --apply --journal {}",
        file.display()
    ));
    command
        .env("DIGITALOCEAN_REGISTRY_URL", fake.registry_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("docr starts");

    let present = |digest: &str| {
        fake.snapshot()
            .repository("acme", "app")
            .is_some_and(|r| r.manifest(digest).is_some())
    };
    until("a recorded manifest is deleted", || {
        recorded(&file).iter().any(|d| !present(d))
    })
    .await;
    fake.set_faults(Faults {
        latency,
        burst_429: 1_000_000,
        ..Faults::default()
    });
    until("a recorded manifest waits for its delete", || {
        recorded(&file).iter().any(|d| present(d))
    })
    .await;
    child.kill().expect("kill -9");
    let status = child.wait().expect("it ends");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // Requests that reached the fake before the kill are answered (and done) within the
    // latency: let them end before looking.
    tokio::time::sleep(latency * 10).await;
    fake.set_faults(Faults::default());

    // Nothing deleted that is not recorded; something recorded that is not deleted.
    let journaled: BTreeSet<String> = recorded(&file).into_iter().collect();
    let was = manifests_of(&before, "acme");
    let now = manifests_of(&fake.snapshot(), "acme");
    let deleted: BTreeSet<String> = (was.keys())
        .filter(|k| !now.contains_key(*k))
        .map(|(_, d)| d.clone())
        .collect();
    assert!(!deleted.is_empty(), "the run deleted before it was killed");
    assert!(
        deleted.is_subset(&journaled),
        "{deleted:?} vs {journaled:?}"
    );
    assert!(
        journaled.len() > deleted.len(),
        "a record whose delete was never done"
    );
    assert!(journaled.len() < was.len(), "killed mid-run");

    // A last line cut short, as a kill during a write leaves it.
    let text = std::fs::read_to_string(&file).expect("the journal");
    let lines = text.lines().count();
    let first = text.lines().nth(1).expect("a record").to_string();
    let mut cut = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .expect("the journal");
    std::io::Write::write_all(&mut cut, &first.as_bytes()[..first.len() / 2]).expect("written");

    let restored = docr.ok(&format!("restore {}", file.display())).await;
    assert_eq!(
        restored.stderr,
        format!(
            "docr: {}: line {} is cut short (a run stopped while writing it, before its delete \
             was sent): ignored\n",
            file.display(),
            lines + 1
        )
    );
    assert_eq!(
        manifests_of(&fake.snapshot(), "acme"),
        was,
        "everything deleted is back"
    );
    let last = restored
        .lines()
        .last()
        .copied()
        .unwrap_or_default()
        .to_string();
    let already = journaled.len() - deleted.len();
    assert!(
        last.starts_with(&format!(
            "restored {} image{}, {already} already there, 0 lost, 0 failed",
            deleted.len(),
            if deleted.len() == 1 { "" } else { "s" }
        )),
        "{last}: {} deleted, {} journaled",
        deleted.len(),
        journaled.len()
    );
}
