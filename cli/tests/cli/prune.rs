//! `prune`: the plan, and deletes only with `--apply`.

use super::*;

#[tokio::test]
async fn prune_without_apply_deletes_nothing() {
    let (fake, docr, before) = with_docr(demo().await);

    // The newest 5 tagged images stay, and the 3 untagged ones: without --untagged the count
    // neither counts nor selects them.
    let table = docr.ok("prune acme --keep-last 5").await;
    table.assert_stdout_contains("web: delete 35 manifests, keep 8 images");
    let counted = docr.json("prune acme web --keep-last 5").await;
    let rows = &counted["plan"]["repositories"][0]["delete"];
    assert_eq!(rows.as_array().map(Vec::len), Some(35));
    assert!(
        (rows.as_array().unwrap().iter()).all(|r| !r["tags"].as_array().unwrap().is_empty()),
        "{rows:?}"
    );
    assert_eq!(
        table.lines().last().copied(),
        Some("dry run: nothing was deleted; add --apply to delete the above")
    );

    let dry = docr.json("prune acme --untagged --older-than 30d").await;
    assert_eq!(dry["applied"], false);
    assert!(!planned(&dry["plan"]).is_empty());

    // Planning reads the registry with read-only credentials it asks for; nothing else changes.
    assert_eq!(fake.snapshot().registries, before.registries);
    let issued = fake.snapshot().credentials;
    assert!(
        !issued.is_empty()
            && issued
                .iter()
                .all(|c| !c.read_write && c.expires_at.is_some())
    );
    assert_eq!(fake.calls().of("registries_delete_repositoryManifest"), 0);
    assert_eq!(fake.calls().of("registries_delete_repositoryTag"), 0);
}

#[tokio::test]
async fn prune_apply_deletes_exactly_what_the_plan_lists() {
    let (fake, docr, before) = with_docr(demo().await);

    let applied = docr
        .json("prune acme --keep-last 3 --keep-tag lts|stable --untagged --apply")
        .await;
    assert_eq!(applied["applied"], true);
    let planned = planned(&applied["plan"]);
    assert!(planned.len() > 10, "{planned:?}");
    let outcomes: Vec<&Value> = items(&applied["report"]["items"])
        .iter()
        .map(|i| &i["outcome"]["status"])
        .collect();
    assert_eq!(outcomes.len(), planned.len());
    assert!(outcomes.iter().all(|s| *s == "deleted"), "{outcomes:?}");
    assert_eq!(applied["garbage_collection"], Value::Null);

    let after = fake.snapshot();
    let was = manifests_of(&before, "acme");
    assert!(planned.iter().all(|p| was.contains_key(p)));
    let expected: BTreeMap<_, _> = was
        .into_iter()
        .filter(|(key, _)| !planned.contains(key))
        .collect();
    assert_eq!(manifests_of(&after, "acme"), expected);
    let web = after.repository("acme", "web").expect("kept");
    assert!(web.tagged("lts").is_some() && web.tagged("stable").is_some());
    for other in ["acme-staging", "acme-archive"] {
        assert_eq!(after.registry(other), before.registry(other));
    }

    // As a table, on another registry: the plan, then what was done.
    let sandbox = before
        .repository("acme-staging", "sandbox")
        .expect("demo")
        .manifests[0]
        .digest
        .clone();
    let run = docr.ok("prune acme-staging --untagged --apply").await;
    run.assert_stdout_contains("sandbox: delete 1 manifest, keep 0");
    assert!(
        run.lines()
            .last()
            .is_some_and(|l| l.starts_with("deleted 1 manifest") && l.contains("failed 0")),
        "{}",
        run.stdout
    );
    let staging = fake.snapshot();
    let sandbox_after = staging
        .repository("acme-staging", "sandbox")
        .map(|r| r.manifest(&sandbox).is_some());
    assert_ne!(sandbox_after, Some(true));
    assert_eq!(
        staging.repository("acme-staging", "team/api"),
        before.repository("acme-staging", "team/api")
    );
}

#[tokio::test]
async fn prune_apply_gc_wait_frees_the_space() {
    let (fake, docr, before) = with_docr(demo_stepping().await);
    let stored_before = before
        .registry("acme-staging")
        .expect("demo")
        .storage_usage_bytes;

    let run = docr
        .ok("prune acme-staging --untagged --apply --gc --wait")
        .await;
    let after = fake.snapshot();
    let staging = after.registry("acme-staging").expect("demo");
    let gc = &staging.garbage_collections[0];
    assert_eq!(gc.status, "succeeded");
    assert!(gc.freed_bytes > 12_345_678, "the left-behind blob and more");
    assert_eq!(staging.storage_usage_bytes, stored_before - gc.freed_bytes);
    // Said before it starts: the collection ends the way back; and recorded in the journal.
    let journals = docr.journals();
    assert_eq!(journals.len(), 1, "{journals:?}");
    assert_eq!(
        run.stderr,
        format!(
            "docr: the garbage collection ends the way back: once it has freed their blobs, the \
             images deleted above cannot be restored from {}\nstarted garbage collection {}\n",
            journals[0].display(),
            gc.uuid
        )
    );
    let recorded = std::fs::read_to_string(&journals[0]).expect("the journal");
    let last: Value = serde_json::from_str(recorded.lines().last().expect("a line")).expect("JSON");
    assert_eq!(last["record"], "garbage_collection");
    assert_eq!(last["uuid"], gc.uuid.as_str());
    run.assert_stdout_contains(&format!(
        "undo journal: {} (1 manifest recorded)",
        journals[0].display()
    ));
    assert!(
        run.lines().last().is_some_and(|l| l
            .starts_with(&format!("garbage collection {}: succeeded, ", gc.uuid))),
        "{}",
        run.stdout
    );
    assert_walked_in_order(&statuses_answered(&fake, &gc.uuid));
    // Every stored blob is referenced by a manifest that is left.
    let referenced: BTreeSet<&str> = staging
        .repositories
        .iter()
        .flat_map(|r| &r.manifests)
        .flat_map(|m| m.blobs.iter().map(|b| b.digest.as_str()))
        .collect();
    let stored: BTreeSet<&str> = staging.blobs.iter().map(|b| b.digest.as_str()).collect();
    assert_eq!(stored, referenced);

    // As JSON: the plan, the report, the journal and the finished collection in one document;
    // the warning on stderr.
    let run = docr
        .ok("-o json prune acme --untagged --apply --gc --wait")
        .await;
    assert!(
        run.stderr
            .starts_with("docr: the garbage collection ends the way back"),
        "{}",
        run.stderr
    );
    let applied = run.json();
    assert_eq!(applied["journal"]["manifests"], 5);
    let journal = PathBuf::from(text(&applied["journal"]["path"]));
    assert!(docr.journals().contains(&journal), "{journal:?}");
    let after = fake.snapshot();
    let gc = &after.registry("acme").expect("demo").garbage_collections[0];
    assert_eq!(applied["garbage_collection"]["uuid"], gc.uuid.as_str());
    assert_eq!(applied["garbage_collection"]["status"], "succeeded");
    assert_eq!(
        applied["garbage_collection"]["freed_bytes"],
        json!(gc.freed_bytes)
    );
    assert_eq!(
        planned(&applied["plan"]).len(),
        5,
        "3 untagged in web, 2 in team/api"
    );
}

#[tokio::test]
async fn prune_refuses_an_incomplete_command_before_any_request() {
    let fake = demo().await;
    let docr = Docr::for_fake(&fake);

    let why = docr.refused("prune acme").await;
    assert!(why.starts_with("no policy"), "{why}");
    let why = docr.usage("prune acme --untagged --keep-tag ([").await;
    assert!(why.contains("(["), "{why}");
    docr.refused_saying("prune acme Web --untagged", "invalid repository name `Web`")
        .await;

    // `--gc` without `--apply`: the argument parser says so.
    let run = docr.run("prune acme --untagged --gc").await;
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stderr.contains("--apply"), "{}", run.stderr);

    assert_eq!(fake.calls().total, 0);
}

/// `acme-archive` of the demo holds buildx-style indexes (tagged `1.0`, `1.1`, and one
/// untagged), a Docker manifest list sharing `1.1`'s platforms, and a signed image.
#[tokio::test]
async fn prune_keeps_multi_arch_children_and_images_in_use_and_applies_a_saved_plan() {
    let (fake, docr, before) = with_docr(demo().await);
    let web = before.repository("acme-archive", "shop/web").expect("demo");
    let untagged = web
        .manifests
        .iter()
        .find(|m| m.tags.is_empty() && m.is_index())
        .expect("an untagged index")
        .digest
        .clone();
    let key = |d: &str| ("shop/web".to_string(), d.to_string());

    let dry = docr.json("prune acme-archive --untagged --grace 0").await;
    let plan = planned(&dry["plan"]);
    assert!(plan.contains(&key(&untagged)), "{plan:?}");
    for tagged in web.manifests.iter().filter(|m| !m.tags.is_empty()) {
        assert!(!plan.contains(&key(&tagged.digest)));
        for child in &tagged.children {
            assert!(
                !plan.contains(&key(child)),
                "a child of {:?} is planned",
                tagged.tags
            );
        }
    }
    assert!(
        plan.iter().all(|(repo, _)| repo == "shop/web"),
        "signed/api keeps its signature and SBOM: {plan:?}"
    );

    // In use, as `kubectl get pods -A -o json` reports it: the untagged index stays.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let id =
        format!("docker-pullable://registry.digitalocean.com/acme-archive/shop/web@{untagged}");
    let list = serde_json::json!({"items": [{"status": {"containerStatuses": [{"image": "nginx:1", "imageID": id}]}}]});
    let pods = written(&dir, "pods.json", &list);
    let in_use = docr
        .run(&format!(
            "prune acme-archive --untagged --grace 0 --in-use {pods} -o json"
        ))
        .await;
    let kept: Value = serde_json::from_str(&in_use.stdout).expect("JSON");
    assert!(!planned(&kept["plan"]).contains(&key(&untagged)));
    assert_eq!(
        in_use.stderr,
        "docr: --in-use: 1 reference to other registries ignored (nginx:1)\n"
    );

    // Saved, then applied later: exactly what was saved goes.
    let saved = written(&dir, "plan.json", &dry);
    let applied = docr
        .json(&format!("prune acme-archive --from-plan {saved} --apply"))
        .await;
    assert_eq!(planned(&applied["plan"]), plan);
    let after = fake.snapshot();
    let web_after = after.repository("acme-archive", "shop/web").expect("kept");
    assert!(web_after.manifest(&untagged).is_none());
    for tagged in web.manifests.iter().filter(|m| !m.tags.is_empty()) {
        assert!(web_after.manifest(&tagged.digest).is_some());
        for child in &tagged.children {
            assert!(web_after.manifest(child).is_some());
        }
    }
    // A plan for another registry, or of another format version, is refused (exit status 2)
    // before any request, saying which.
    let calls = fake.calls().total;
    let why = docr
        .usage(&format!("prune acme --from-plan {saved} --apply"))
        .await;
    assert_eq!(
        why,
        format!("{saved}: the plan is for registry acme-archive, not acme")
    );
    let mut newer = dry.clone();
    newer["plan"]["format_version"] = json!(2);
    let newer = written(&dir, "newer.json", &newer);
    let why = docr
        .usage(&format!("prune acme-archive --from-plan {newer} --apply"))
        .await;
    assert!(
        why.starts_with(&format!(
            "{newer}: the plan is of format version 2; this docr reads plans of version 1"
        )),
        "{why}"
    );
    let mut unversioned = dry.clone();
    unversioned["plan"]
        .as_object_mut()
        .expect("a plan")
        .remove("format_version");
    let unversioned = written(&dir, "unversioned.json", &unversioned);
    let why = docr
        .usage(&format!(
            "prune acme-archive --from-plan {unversioned} --apply"
        ))
        .await;
    assert!(why.contains("the plan has no format version"), "{why}");
    assert_eq!(fake.calls().total, calls);
}

/// `--in-use`, twice: a Deployment scaled to 0 (JSON, as `kubectl get deployments -o json`
/// prints it) and a CronJob between runs (YAML) keep images the policy would delete; a file
/// naming no image, or one that cannot be read, is refused before any request.
#[tokio::test]
async fn prune_keeps_the_images_of_workloads_in_use_and_refuses_a_file_naming_none() {
    let (fake, docr, before) = with_docr(demo().await);
    let dry = docr.json("prune acme --keep-last 5").await;
    let plan = planned(&dry["plan"]);
    let web = before.repository("acme", "web").expect("demo");
    let mut tagged = web
        .manifests
        .iter()
        .filter(|m| !m.tags.is_empty() && plan.contains(&("web".into(), m.digest.clone())));
    let (by_tag, by_digest) = (
        tagged.next().expect("a tagged image planned"),
        tagged.next().expect("another"),
    );

    let dir = tempfile::tempdir().expect("a temporary folder");
    let deployments = json!({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"namespace": "shop", "name": "web"},
        "spec": {"replicas": 0, "template": {"spec": {"containers": [
            {"name": "web", "image": format!("{REGISTRY_HOST}/acme/web:{}", by_tag.tags[0])}
        ]}}}
    }]});
    let deployments = written(&dir, "deployments.json", &deployments);
    let cronjobs = dir.path().join("cronjobs.yaml");
    let yaml = format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: nightly, namespace: shop}}\n\
         spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
         containers:\n          - image: {REGISTRY_HOST}/acme/web@{}\n          - image: nginx:1\n",
        by_digest.digest
    );
    std::fs::write(&cronjobs, yaml).expect("written");
    let cronjobs = cronjobs.display().to_string();

    let run = docr
        .ok(&format!(
            "-o json prune acme --keep-last 5 --in-use {deployments} --in-use {cronjobs}"
        ))
        .await;
    let kept: BTreeSet<_> = [&by_tag.digest, &by_digest.digest]
        .into_iter()
        .map(|d| ("web".to_string(), d.clone()))
        .collect();
    assert_eq!(planned(&run.json()["plan"]), &plan - &kept);
    assert_eq!(
        run.stderr,
        "docr: --in-use: 1 reference to other registries ignored (nginx:1)\n"
    );

    // Refused, naming the file, before any request.
    let calls = fake.calls().total;
    let empty = written(&dir, "empty.json", &json!({"kind": "List", "items": []}));
    let why = docr
        .usage(&format!(
            "prune acme --keep-last 5 --in-use {deployments} --in-use {empty}"
        ))
        .await;
    assert_eq!(
        why,
        format!("--in-use {empty}: no image reference found: an empty List (no objects)")
    );
    let missing = dir.path().join("missing.json").display().to_string();
    let why = docr
        .usage(&format!("prune acme --keep-last 5 --in-use {missing}"))
        .await;
    assert!(
        why.starts_with(&format!("--in-use {missing}: cannot read: ")),
        "{why}"
    );
    assert_eq!(fake.calls().total, calls);
    assert_eq!(fake.snapshot().registries, before.registries);
}

/// Writes `value` as JSON to `name` in `dir`; the file's path, for a command line.
fn written(dir: &tempfile::TempDir, name: &str, value: &Value) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, value.to_string()).expect("written");
    path.display().to_string()
}

#[tokio::test]
async fn a_second_prune_reads_its_manifests_from_the_cache_unless_no_cache() {
    let (fake, docr, _) = with_docr(demo().await);
    let first = docr.json("prune acme --keep-last 5").await;
    fake.reset_calls();
    let second = docr.json("prune acme --keep-last 5").await;
    assert_eq!(planned(&second["plan"]), planned(&first["plan"]));
    assert_eq!(
        fake.calls().of_registry("GET", "manifests"),
        0,
        "every digest was cached"
    );
    assert!(
        fake.calls().of_registry("HEAD", "manifests") > 0,
        "tags resolved"
    );
    fake.reset_calls();
    let uncached = docr.json("prune acme --keep-last 5 --no-cache").await;
    assert_eq!(planned(&uncached["plan"]), planned(&first["plan"]));
    assert!(fake.calls().of_registry("GET", "manifests") > 0);
}
