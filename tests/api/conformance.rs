//! Replays the conformance vectors in `tests/vectors` (cases from the test suites of godo and
//! pydo, DigitalOcean's own clients; see the README there) through the generated client.
//!
//! For every registry vector a mock server on 127.0.0.1 accepts exactly the request the peer
//! sent (method, raw path, query, JSON body) and answers the peer's response; docr makes the
//! call the peer made, and the decoded value must hold what the peer asserted. Where a vector
//! and `spec/registry.yaml` disagree, the replay follows the spec and the case says what
//! differs. Every file must have a case: a new vector fails the suite until one is written.

/// A replay's check of a case's `result`: `ok`, or `decoded[..]` with the JSON pointers docr
/// drops; then optionally `then |got| { .. }` with more assertions on the decoded value.
macro_rules! check_replay {
    ($r:ident $v:ident $result:ident ok $(then |$got:ident| $after:block)?) => {{
        let _got = $r.ok($result).await;
        $(let $got = _got; $after)?
    }};
    ($r:ident $v:ident $result:ident decoded [$($skip:expr),*]
     $(then |$got:ident| $after:block)?) => {{
        let _got = $r.decoded(&$v, $result, &[$($skip),*]).await;
        $(let $got = _got; $after)?
    }};
}

mod common;
mod godo;
mod pydo;
mod replay;

use futures::FutureExt;
use futures::future::BoxFuture;
use replay::{VECTORS, Vector, vectors};

const FOLDERS: [&str; 2] = ["godo", "pydo"];

// ---------------------------------------------------------------------------------------------
// The runner

#[test]
fn every_vector_file_has_a_case() {
    let mut unhandled = Vec::new();
    for entry in std::fs::read_dir(VECTORS).expect("tests/vectors exists") {
        let name = entry.expect("a readable entry").file_name();
        let name = name.to_string_lossy();
        if name != "README.md" && !FOLDERS.contains(&name.as_ref()) {
            unhandled.push(format!("tests/vectors/{name}: not a folder any test reads"));
        }
    }
    for folder in FOLDERS {
        for v in vectors(folder) {
            if case(folder, &v.name).is_none() {
                unhandled.push(format!("{}: no case replays this vector", v.id()));
            }
        }
    }
    assert!(unhandled.is_empty(), "{}", unhandled.join("\n"));
}

#[tokio::test]
async fn godo_vectors_replay() {
    replay_folder("godo").await;
}

#[tokio::test]
async fn pydo_vectors_replay() {
    replay_folder("pydo").await;
}

/// Runs every vector of `folder` in its own task, so one failure names itself and hides none.
async fn replay_folder(folder: &'static str) {
    let all = vectors(folder);
    assert!(!all.is_empty(), "no vectors in tests/vectors/{folder}");
    let mut runs = Vec::new();
    for v in all {
        let id = v.id();
        let Some(case) = case(folder, &v.name) else {
            panic!("{id}: no case replays this vector");
        };
        runs.push((id, tokio::spawn(case(v))));
    }
    let mut failures = Vec::new();
    for (id, run) in runs {
        if let Err(e) = run.await {
            let message = match e.try_into_panic() {
                Ok(p) => p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            failures.push(format!("{id}: {message}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

type Case = fn(Vector) -> BoxFuture<'static, ()>;

fn case(folder: &str, name: &str) -> Option<Case> {
    use {common::*, pydo::*};
    // godo's `registries_*` and `registry_*` vectors of one call share a case.
    let godo_call = name
        .strip_prefix("registries_")
        .or_else(|| name.strip_prefix("registry_"));
    let case: Case = match (folder, godo_call.unwrap_or(name)) {
        ("godo", "create") => |v| godo::create(v).boxed(),
        ("godo", "delete") => |v| godo::delete(v).boxed(),
        ("godo", "delete_manifest") => |v| godo::delete_manifest(v).boxed(),
        ("godo", "delete_tag") => |v| godo::delete_tag(v).boxed(),
        ("godo", "docker_credentials_default_readonly") => {
            |v| godo::docker_credentials(v, false, None).boxed()
        }
        ("godo", "docker_credentials_read_write") => {
            |v| godo::docker_credentials(v, true, None).boxed()
        }
        ("godo", "docker_credentials_read_write_expiry3600") => {
            |v| godo::docker_credentials(v, true, Some(3600)).boxed()
        }
        ("godo", "docker_credentials_readonly_expiry3600") => {
            |v| godo::docker_credentials(v, false, Some(3600)).boxed()
        }
        ("godo", "gc_cancel") => |v| godo::gc_cancel(v).boxed(),
        ("godo", "gc_get_active") => |v| godo::gc_get_active(v).boxed(),
        ("godo", "gc_list") => |v| godo::gc_list(v).boxed(),
        ("godo", "gc_start_default") => |v| godo::gc_start(v).boxed(),
        ("godo", "get") => |v| godo::get(v).boxed(),
        ("godo", "get_options") => |v| godo::get_options(v).boxed(),
        ("godo", "get_subscription") => |v| godo::subscription(v).boxed(),
        ("godo", "list") if name == "registries_list" => |v| godo::registries_list(v).boxed(),
        ("godo", "list_manifests") => |v| godo::manifests(v).boxed(),
        ("godo", "list_repositories_v1") if name.starts_with("registry_") => {
            |v| godo::registry_repos_v1(v).boxed()
        }
        ("godo", "list_repositories_v2") => |v| godo::repos_v2(v).boxed(),
        ("godo", "list_repository_tags") => |v| godo::tags(v).boxed(),
        ("godo", "update_subscription") => |v| godo::upgrade(v).boxed(),
        ("godo", "validate_name") => |v| godo::validate_name(v).boxed(),
        ("godo", "common_error_no_body") => |v| godo_error_no_body(v).boxed(),
        ("godo", "common_error_no_request_id") => |v| godo_error_body(v).boxed(),
        ("godo", "common_error_request_id_both") => |v| godo_error_body(v).boxed(),
        ("godo", "common_error_request_id_in_body") => |v| godo_error_body(v).boxed(),
        ("godo", "common_error_request_id_in_header") => |v| godo_error_body(v).boxed(),
        ("godo", "common_rate_limit_headers") => |v| godo_rate_limit_on_success(v).boxed(),
        ("godo", "common_rate_limit_on_error") => |v| godo_rate_limit_on_error(v).boxed(),
        ("godo", "common_retry_give_up_500") => |v| godo_retry_give_up_500(v).boxed(),
        ("pydo", "container_registry_create") => |v| pydo_create(v).boxed(),
        ("pydo", "container_registry_delete") => |v| pydo_delete(v).boxed(),
        ("pydo", "container_registry_get") => |v| pydo_get(v).boxed(),
        ("pydo", "container_registry_get_docker_creds") => |v| pydo_docker_credentials(v).boxed(),
        ("pydo", "container_registry_get_subscription_info") => |v| pydo_subscription(v).boxed(),
        ("pydo", "container_registry_list_garbage_collection") => |v| pydo_gc_list(v).boxed(),
        ("pydo", "container_registry_list_repositories") => |v| pydo_repos_v2(v).boxed(),
        ("pydo", "container_registry_list_repositories_tags") => |v| pydo_tags(v).boxed(),
        ("pydo", "container_registry_list_repository_manifests") => |v| pydo_manifests(v).boxed(),
        ("pydo", "container_registry_options") => |v| pydo_options(v).boxed(),
        ("pydo", "container_registry_repository_delete") => |v| pydo_delete_manifest(v).boxed(),
        ("pydo", "container_registry_start_garbage_collection") => |v| pydo_gc_start(v).boxed(),
        ("pydo", "container_registry_tag_delete") => |v| pydo_delete_tag(v).boxed(),
        ("pydo", "container_registry_update_garbage_collection") => |v| pydo_gc_cancel(v).boxed(),
        ("pydo", "container_registry_update_subscription") => |v| pydo_upgrade(v).boxed(),
        ("pydo", "container_registry_validate_name") => |v| pydo_validate_name(v).boxed(),
        ("pydo", "kubernetes_add_container_registry") => |v| pydo_kubernetes_add(v).boxed(),
        ("pydo", "kubernetes_remove_container_registry") => |v| pydo_kubernetes_remove(v).boxed(),
        _ => return None,
    };
    Some(case)
}
