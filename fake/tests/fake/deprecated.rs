//! `docr_fake`'s deprecated family (`/v2/registry*`): each of its 18 operations acting on the
//! account's one registry, and all of them answering 412 while the account has two.

use crate::support::calls::{At, answered, ok, refused, status};
use crate::support::{
    acme, assert_called, assert_do_error, assert_journal_conforms, call, decode_auth, plain_client,
    registry,
};
use docr::types;
use docr_fake::{FakeDocr, RegistrySeed, digest};
use std::time::Duration;

#[tokio::test]
async fn the_deprecated_family_acts_on_the_one_registry() {
    let fake = FakeDocr::builder()
        .registry(acme())
        .gc_step(Duration::from_secs(3_600))
        .start()
        .await
        .unwrap();
    let client = plain_client(&fake);
    let acme = registry("acme");

    let got = ok(client.registry_get().send().await).registry.unwrap();
    assert_eq!(got.name.as_deref().map(|n| n.as_str()), Some("acme"));
    assert!(
        got.subscription.is_some(),
        "the deprecated `registry` carries it"
    );
    let tier = |s: types::SubscriptionResponse| s.subscription.unwrap().tier.unwrap().slug.unwrap();
    let now = ok(client.registry_get_subscription().send().await);
    assert_eq!(tier(now), "professional");
    let update = |tier: types::RegistryUpdateSubscriptionBodyTierSlug| {
        client
            .registry_update_subscription()
            .body_map(move |b| b.tier_slug(Some(tier)))
            .send()
    };
    let starter = update(types::RegistryUpdateSubscriptionBodyTierSlug::Starter).await;
    assert_eq!(status(starter), 422, "two repositories");
    let basic = update(types::RegistryUpdateSubscriptionBodyTierSlug::Basic).await;
    assert_eq!(tier(ok(basic)), "basic");
    assert_eq!(fake.snapshot().tier, "basic");
    let options = ok(client.registry_get_options().send().await);
    let options = options.options.unwrap();
    assert_eq!(
        options.available_regions,
        ["nyc3", "sfo3", "ams3", "sgp1", "fra1"]
    );
    assert_eq!(
        options.subscription_tiers[0].eligibility_reasons,
        ["OverRepositoryLimit"]
    );
    let credentials = client.registry_get_docker_credentials().read_write(false);
    assert!(decode_auth(&ok(credentials.send().await)).ends_with(":acme.read-only.never"));
    let free = client
        .registry_validate_name()
        .body_map(|b| b.name("other"));
    assert_eq!(status(free.send().await), 204);

    let v1 = ok(client
        .registry_list_repositories()
        .registry_name(&acme)
        .send()
        .await);
    assert_eq!(v1.meta.total, 2);
    let latest = v1.repositories[0].latest_tag.as_ref().unwrap();
    assert_eq!(latest.tag.as_deref(), Some("latest"));
    let v2 = At::deprecated(&client, &acme).repositories().await;
    assert_eq!(v2.repositories.len(), 2);
    let tags = At::deprecated(&client, &acme).tags("team/app").await;
    assert_eq!(tags.meta.total, 3);
    At::deprecated(&client, &acme)
        .delete_tag("team/app", "latest")
        .await
        .unwrap();
    let manifests = At::deprecated(&client, &acme).manifests("team/app").await;
    assert_eq!(manifests.manifests[0].tags, ["v2"]);
    At::deprecated(&client, &acme)
        .delete_manifest("team/app", digest("app-2"))
        .await
        .unwrap();
    assert_eq!(
        fake.snapshot()
            .repository("acme", "team/app")
            .unwrap()
            .tags(),
        ["v1"]
    );

    let started = client
        .registry_run_garbage_collection()
        .registry_name(&acme);
    let started = ok(started.send().await).garbage_collection.unwrap();
    assert_eq!(started.type_.as_deref(), Some("unreferenced blobs only"));
    let active = At::deprecated(&client, &acme).active_collection().await;
    assert_eq!(active.garbage_collection.unwrap().uuid, started.uuid);
    let listed = At::deprecated(&client, &acme).collections().await;
    assert_eq!(listed.garbage_collections.len(), 1);
    let unchanged = At::deprecated(&client, &acme)
        .update_collection(started.uuid.clone().unwrap(), false)
        .await;
    assert_eq!(unchanged.as_deref(), Some("requested"));

    let second = client.registry_create().body_map(|b| {
        b.name("acme-two")
            .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Basic)
    });
    assert_eq!(status(second.send().await), 409);
    assert_eq!(status(client.registry_delete().send().await), 204);
    assert!(fake.snapshot().registries.is_empty());
    let create = client.registry_create().body_map(|b| {
        b.name("fresh")
            .subscription_tier_slug(types::RegistryCreateSubscriptionTierSlug::Starter)
            .region(Some(types::RegistryCreateRegion::Ams3))
    });
    let created = answered(create.send().await, 201).registry.unwrap();
    assert_eq!(created.region.as_deref(), Some("ams3"));
    assert_eq!(fake.snapshot().tier, "starter");

    assert_called(&fake, "registry_", 18);
    assert_journal_conforms(&fake);
}

/// One request for each of the 18 deprecated operations.
const DEPRECATED: [(&str, &str, Option<&str>); 18] = [
    ("GET", "/v2/registry", None),
    (
        "POST",
        "/v2/registry",
        Some(r#"{"name":"x","subscription_tier_slug":"basic"}"#),
    ),
    ("DELETE", "/v2/registry", None),
    ("GET", "/v2/registry/subscription", None),
    (
        "POST",
        "/v2/registry/subscription",
        Some(r#"{"tier_slug":"basic"}"#),
    ),
    ("GET", "/v2/registry/docker-credentials", None),
    (
        "POST",
        "/v2/registry/validate-name",
        Some(r#"{"name":"x"}"#),
    ),
    ("GET", "/v2/registry/options", None),
    ("GET", "/v2/registry/acme/repositories", None),
    ("GET", "/v2/registry/acme/repositoriesV2", None),
    ("GET", "/v2/registry/acme/repositories/web/tags", None),
    (
        "DELETE",
        "/v2/registry/acme/repositories/web/tags/stable",
        None,
    ),
    ("GET", "/v2/registry/acme/repositories/web/digests", None),
    (
        "DELETE",
        "/v2/registry/acme/repositories/web/digests/sha256:00",
        None,
    ),
    ("POST", "/v2/registry/acme/garbage-collection", None),
    ("GET", "/v2/registry/acme/garbage-collection", None),
    ("GET", "/v2/registry/acme/garbage-collections", None),
    (
        "PUT",
        "/v2/registry/acme/garbage-collection/x",
        Some(r#"{"cancel":true}"#),
    ),
];

#[tokio::test]
async fn the_deprecated_family_answers_412_with_two_registries() {
    let fake = FakeDocr::builder()
        .registry(acme())
        .registry(RegistrySeed::new("beta"))
        .start()
        .await
        .unwrap();
    let before = fake.snapshot();
    for (method, path, body) in DEPRECATED {
        let answer = call(&fake, method, path, body).await;
        assert_do_error(&answer, 412, "precondition_failed");
    }
    assert_eq!(fake.snapshot(), before, "nothing changed");
    let calls = fake.calls();
    assert_eq!(calls.total, 18);
    assert!(
        calls
            .by_operation
            .keys()
            .all(|op| op.starts_with("registry_"))
    );
    assert_eq!(calls.by_operation.len(), 18);

    // The current family, and the client's error, say what to do.
    let client = plain_client(&fake);
    let refused = refused(client.registry_get().send().await);
    assert!(refused.to_string().contains("412"), "{refused}");
    assert_eq!(
        ok(client.registries_list().send().await).registries.len(),
        2
    );
    assert_journal_conforms(&fake);
}
