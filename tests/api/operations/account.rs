//! Kubernetes integration; the registry itself, its subscription, options, credentials and
//! name check, in both families.

use super::examples::{assert_credentials, assert_options, assert_registry};
use super::examples::{assert_registry_base, assert_subscription};
use super::exchange::{Api, Wire};
use crate::support::{CLUSTERS, FAMILIES, on_family};
use docr::{client::ApiFamily, types};
use serde_json::json;

fn clusters() -> Vec<String> {
    CLUSTERS.map(String::from).to_vec()
}

fn names(registries: &[&str]) -> Vec<String> {
    registries.iter().map(|name| name.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Kubernetes integration.

#[tokio::test]
async fn kubernetes_add_and_remove_registry() {
    for (op, method) in [
        ("kubernetes_add_registry", "POST"),
        ("kubernetes_remove_registry", "DELETE"),
    ] {
        let wire = Wire::new(op, method, "/v2/kubernetes/registry");
        let api = Api::expect(wire.body(json!({"cluster_uuids": CLUSTERS}))).await;
        let client = &api.client;
        let result = match method {
            "POST" => {
                client
                    .kubernetes_add_registry()
                    .body_map(|b| b.cluster_uuids(clusters()))
                    .send()
                    .await
            }
            _ => {
                client
                    .kubernetes_remove_registry()
                    .body_map(|b| b.cluster_uuids(clusters()))
                    .send()
                    .await
            }
        };
        api.finish(result).await;
    }
}

#[tokio::test]
async fn kubernetes_add_and_remove_registries() {
    for (op, method, registries) in [
        (
            "kubernetes_add_registries",
            "POST",
            &["registry-a", "registry-b"][..],
        ),
        (
            "kubernetes_remove_registries",
            "DELETE",
            &["registry-a"][..],
        ),
    ] {
        let wire = Wire::new(op, method, "/v2/kubernetes/registries")
            .body(json!({"cluster_uuids": CLUSTERS, "registries": registries}));
        let api = Api::expect(wire).await;
        let body = |b: types::builder::ClusterRegistries| {
            b.cluster_uuids(clusters()).registries(names(registries))
        };
        let result = match method {
            "POST" => {
                api.client
                    .kubernetes_add_registries()
                    .body_map(body)
                    .send()
                    .await
            }
            _ => {
                api.client
                    .kubernetes_remove_registries()
                    .body_map(body)
                    .send()
                    .await
            }
        };
        api.finish(result).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The registry: one of many (`/v2/registries/{name}`) or the account's one (`/v2/registry`).

#[tokio::test]
async fn registries_list() {
    let api = Api::expect(Wire::new("registries_list", "GET", "/v2/registries")).await;
    let list = api.finish(api.client.registries_list().send().await).await;
    let [registry] = list.registries.as_slice() else {
        panic!("registries_list: one registry, got {:?}", list.registries);
    };
    assert_registry("registries_list", registry);
}

#[tokio::test]
async fn registries_create_with_every_field_or_only_the_name() {
    // Regions and tiers are open strings on this call (regen patch open-request-regions-and-tiers).
    let every = json!({"name": "example", "subscription_tier_slug": "basic", "region": "fra1"});
    for (body, tier_and_region) in [
        (every, Some(("basic".to_string(), "fra1".to_string()))),
        (json!({"name": "example"}), None),
    ] {
        let wire = Wire::new("registries_create", "POST", "/v2/registries").body(body);
        let api = Api::expect(wire).await;
        let call = api
            .client
            .registries_create()
            .body_map(|b| match tier_and_region {
                Some((tier, region)) => b
                    .name("example")
                    .subscription_tier_slug(tier)
                    .region(region),
                None => b.name("example"),
            });
        let created = api.finish(call.send().await).await.registry;
        assert_registry_base(api.op(), &created.expect("registries_create: registry"));
    }
}

#[tokio::test]
async fn registry_create_with_or_without_a_region() {
    use types::{RegistryCreateRegion as Region, RegistryCreateSubscriptionTierSlug as Tier};
    for (body, tier, region) in [
        (
            json!({"subscription_tier_slug": "starter", "region": "ams3"}),
            Tier::Starter,
            Some(Region::Ams3),
        ),
        (
            json!({"subscription_tier_slug": "basic"}),
            Tier::Basic,
            None,
        ),
    ] {
        let mut body = body;
        body["name"] = json!("example");
        let api =
            Api::expect(Wire::new("registry_create", "POST", "/v2/registry").body(body)).await;
        let call = api.client.registry_create().body_map(|b| {
            let b = b.name("example").subscription_tier_slug(tier);
            match region {
                Some(region) => b.region(region),
                None => b,
            }
        });
        let registry = api.finish(call.send().await).await.registry;
        assert_registry(api.op(), &registry.expect("registry_create: registry"));
    }
}

#[tokio::test]
async fn registries_get() {
    let api = Api::expect(Wire::new("registries_get", "GET", "/v2/registries/example")).await;
    let call = api.client.registries_get().registry_name("example");
    let registry = api.finish(call.send().await).await.registry;
    assert_registry_base(api.op(), &registry.expect("registries_get: registry"));
}

#[tokio::test]
async fn registry_get() {
    let api = Api::expect(Wire::new("registry_get", "GET", "/v2/registry")).await;
    let registry = api
        .finish(api.client.registry_get().send().await)
        .await
        .registry;
    assert_registry(api.op(), &registry.expect("registry_get: registry"));
}

#[tokio::test]
async fn delete_the_registry() {
    for family in FAMILIES {
        let (op, path) = match family {
            ApiFamily::Registries => ("registries_delete", "/v2/registries/example"),
            ApiFamily::Registry => ("registry_delete", "/v2/registry"),
        };
        let api = Api::expect(Wire::new(op, "DELETE", path)).await;
        let result = match family {
            ApiFamily::Registries => {
                api.client
                    .registries_delete()
                    .registry_name("example")
                    .send()
                    .await
            }
            ApiFamily::Registry => api.client.registry_delete().send().await,
        };
        api.finish(result).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Subscription, options, credentials, names.

/// For each family, sends its `current | deprecated` GET at `under`, which takes no argument,
/// and runs `check` with the operation's name as `op` and the decoded answer as `got`.
macro_rules! each_family_get {
    ($rest:literal, $under:literal, $current:ident | $deprecated:ident,
     |$op:ident, $got:ident| $check:expr) => {
        for family in FAMILIES {
            let api = Api::expect(Wire::of(family, $rest, "GET", $under)).await;
            let result = on_family!(family, api.client, $current | $deprecated, |call| {
                call.send().await
            });
            let $got = api.finish(result).await;
            let $op = api.op();
            $check;
        }
    };
}

#[tokio::test]
async fn get_subscription() {
    each_family_get!(
        "get_subscription",
        "/subscription",
        registries_get_subscription | registry_get_subscription,
        |op, got| assert_subscription(op, &got.subscription.expect("subscription"))
    );
}

#[tokio::test]
async fn update_subscription() {
    use types::RegistryUpdateSubscriptionBodyTierSlug as DeprecatedTier;
    for (family, tier) in [
        (ApiFamily::Registries, "professional"),
        (ApiFamily::Registry, "basic"),
    ] {
        let wire = Wire::of(family, "update_subscription", "POST", "/subscription");
        let api = Api::expect(wire.body(json!({"tier_slug": tier}))).await;
        let client = &api.client;
        let result = match family {
            ApiFamily::Registries => {
                client
                    .registries_update_subscription()
                    .body_map(|b| b.tier_slug("professional".to_string()))
                    .send()
                    .await
            }
            ApiFamily::Registry => {
                client
                    .registry_update_subscription()
                    .body_map(|b| b.tier_slug(DeprecatedTier::Basic))
                    .send()
                    .await
            }
        };
        let subscription = api.finish(result).await.subscription;
        assert_subscription(api.op(), &subscription.expect("subscription"));
    }
}

#[tokio::test]
async fn get_options() {
    each_family_get!(
        "get_options",
        "/options",
        registries_get_options | registry_get_options,
        |op, got| assert_options(op, got)
    );
}

#[tokio::test]
async fn validate_name() {
    for family in FAMILIES {
        let wire = Wire::of(family, "validate_name", "POST", "/validate-name");
        let api = Api::expect(wire.body(json!({"name": "example"}))).await;
        let result = on_family!(
            family,
            api.client,
            registries_validate_name | registry_validate_name,
            |call| call.body_map(|b| b.name("example")).send().await
        );
        api.finish(result).await;
    }
}

/// Read-only by default; read-write and an expiry each on their own and together.
#[tokio::test]
async fn get_docker_credentials() {
    for family in FAMILIES {
        for (read_write, expiry) in [
            (None, None),
            (Some(true), None),
            (None, Some(3600)),
            (Some(true), Some(3600)),
        ] {
            let under = match family {
                ApiFamily::Registries => "/example/docker-credentials",
                ApiFamily::Registry => "/docker-credentials",
            };
            let mut wire = Wire::of(family, "get_dockerCredentials", "GET", under);
            if let Some(read_write) = read_write {
                wire = wire.query("read_write", read_write);
            }
            if let Some(seconds) = expiry {
                wire = wire.query("expiry_seconds", seconds);
            }
            let api = Api::expect(wire).await;
            macro_rules! with_options {
                ($call:expr) => {{
                    let mut call = $call;
                    if let Some(read_write) = read_write {
                        call = call.read_write(read_write);
                    }
                    if let Some(seconds) = expiry {
                        call = call.expiry_seconds(seconds);
                    }
                    call.send().await
                }};
            }
            let client = &api.client;
            let result = match family {
                ApiFamily::Registries => with_options!(
                    client
                        .registries_get_docker_credentials()
                        .registry_name("example")
                ),
                ApiFamily::Registry => with_options!(client.registry_get_docker_credentials()),
            };
            assert_credentials(api.op(), api.finish(result).await);
        }
    }
}
