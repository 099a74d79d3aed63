//! `login`, `logout`, `k8s-secret`.

use super::*;

#[tokio::test]
async fn login_merges_credentials_and_logout_removes_only_them() {
    let (fake, docr) = demo_with_docr().await;
    let config = docr.config_json();

    // Into an empty folder: the file is created, private.
    let run = docr.ok("login acme --never-expire").await;
    assert_eq!(
        run.stdout,
        format!("logged in to {REGISTRY_HOST} ({})\n", config.display())
    );
    assert_private(&config);
    let issued = fake.snapshot().credentials;
    assert_eq!(issued.len(), 1);
    assert!(!issued[0].read_write && issued[0].expires_at.is_none());
    let written = read_json(&config);
    assert_eq!(
        decoded_auth(&written),
        format!("{}:acme.read-only.never", issued[0].username)
    );

    // Into a file with other entries: those are kept as they were.
    let others = json!({
        "auths": {
            "ghcr.io": {"auth": "Z2g6dG9rZW4="},
            REGISTRY_HOST: {"auth": "b2xkOm9sZA=="}
        },
        "detachKeys": "ctrl-q,q",
        "currentContext": "default"
    });
    std::fs::write(&config, others.to_string()).expect("write config.json");
    let logged_in = docr.json("login acme --read-write --expiry 1h").await;
    assert_eq!(logged_in, json!({"config": config, "registry": "acme"}));
    assert_private(&config);
    let written = read_json(&config);
    assert_eq!(written["auths"]["ghcr.io"], others["auths"]["ghcr.io"]);
    assert_eq!(written["detachKeys"], "ctrl-q,q");
    assert_eq!(written["currentContext"], "default");
    let issued = fake.snapshot().credentials;
    let last = issued.last().expect("issued");
    assert!(last.read_write && last.expires_at.is_some());
    let auth = decoded_auth(&written);
    assert!(
        auth.starts_with(&format!("{}:acme.read-write.", last.username))
            && !auth.ends_with("never"),
        "{auth}"
    );

    let run = docr.ok("logout").await;
    assert_eq!(
        run.stdout,
        format!("logged out of {REGISTRY_HOST} ({})\n", config.display())
    );
    let written = read_json(&config);
    assert_eq!(
        written,
        json!({
            "auths": {"ghcr.io": {"auth": "Z2g6dG9rZW4="}},
            "detachKeys": "ctrl-q,q",
            "currentContext": "default"
        })
    );
    assert_private(&config);

    // Logged out already: nothing to change.
    let before = std::fs::read(&config).expect("config.json");
    assert_eq!(docr.json("logout").await, json!({"config": config}));
    assert_eq!(std::fs::read(&config).expect("config.json"), before);
    assert_eq!(fake.snapshot().credentials.len(), 2, "logout asks nothing");
}

#[tokio::test]
async fn k8s_secret_prints_a_docker_config_secret() {
    let (fake, docr) = demo_with_docr().await;

    let run = docr.ok("k8s-secret acme").await;
    assert_eq!(run.stderr, "");
    assert!(
        run.stdout
            .lines()
            .all(|l| !l.trim().is_empty() && !l.contains('\t') && l.trim_end() == l),
        "{}",
        run.stdout
    );
    let secret: serde_yaml::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(secret["apiVersion"].as_str(), Some("v1"));
    assert_eq!(secret["kind"].as_str(), Some("Secret"));
    assert_eq!(
        secret["type"].as_str(),
        Some("kubernetes.io/dockerconfigjson")
    );
    assert_eq!(secret["metadata"]["name"].as_str(), Some("registry-acme"));
    assert_eq!(secret["metadata"]["namespace"].as_str(), Some("default"));
    let payload = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("the payload");
    let config: Value =
        serde_json::from_slice(&BASE64.decode(payload).expect("base64")).expect("JSON");
    let issued = fake.snapshot().credentials;
    assert_eq!(
        decoded_auth(&config),
        format!("{}:acme.read-only.never", issued[0].username)
    );
    assert_eq!(config["auths"].as_object().map(|a| a.len()), Some(1));
    assert!(!docr.config_json().exists(), "k8s-secret writes no file");

    let run = docr
        .ok("k8s-secret acme-staging --name pull.acme --namespace apps")
        .await;
    let secret: serde_yaml::Value = serde_yaml::from_str(&run.stdout).expect("YAML");
    assert_eq!(secret["metadata"]["name"].as_str(), Some("pull.acme"));
    assert_eq!(secret["metadata"]["namespace"].as_str(), Some("apps"));

    // A bad argument: a usage error.
    let why = docr.usage("k8s-secret acme --namespace Apps").await;
    assert!(why.contains("invalid Kubernetes namespace `Apps`"), "{why}");
}
