//! Repositories, tags and manifests, in both families. Names with `/` leave encoded once.

use super::examples::{assert_manifests, assert_repositories_v2, assert_tags};
use super::exchange::{Api, Paging, Wire, at, paged};
use crate::support::{DIGEST, FAMILIES, on_family};

const ONE_PAGE: Paging = Paging {
    page: Some(1),
    per_page: None,
};

/// Each token as given and as it must leave, form-encoded once in the query.
#[tokio::test]
async fn list_repositories_v2_by_token_by_page_and_without_paging() {
    let by_page = Paging {
        page: Some(3),
        per_page: None,
    };
    let cases = [
        (
            Paging {
                per_page: Some(1),
                ..Paging::NONE
            },
            Some(("JPZm+Zz/ZX==", "JPZm%2BZz%2FZX%3D%3D")),
        ),
        (
            Paging::page(2, 1),
            Some(("JPZmZzZXQiOjB9", "JPZmZzZXQiOjB9")),
        ),
        (by_page, None),
        (Paging::NONE, None),
    ];
    for family in FAMILIES {
        for (paging, token) in cases {
            let mut wire = Wire::of(
                family,
                "list_repositoriesV2",
                "GET",
                "/example/repositoriesV2",
            )
            .paged(paging);
            if let Some((token, _)) = token {
                wire = wire.query("page_token", token);
            }
            let api = Api::expect(wire).await;
            let result = on_family!(
                family,
                api.client,
                registries_list_repositories_v2 | registry_list_repositories_v2,
                |call| {
                    let call = paged!(call.registry_name("example"), paging);
                    match token {
                        Some((token, _)) => call.page_token(token).send().await,
                        None => call.send().await,
                    }
                }
            );
            if let Some((_, encoded)) = token {
                let received = api.server.received_requests().await.unwrap_or_default();
                let raw_query = received
                    .first()
                    .and_then(|r| r.url.query().map(String::from));
                assert!(
                    raw_query
                        .as_deref()
                        .is_some_and(|q| q.contains(&format!("page_token={encoded}"))),
                    "{}: the page token is not encoded once: {raw_query:?}",
                    api.op()
                );
            }
            assert_repositories_v2(api.op(), api.finish(result).await);
        }
    }
}

#[tokio::test]
async fn registries_delete_repository() {
    let path = "/v2/registries/example/repositories/team%2Fapp";
    let api = Api::expect(Wire::new("registries_delete_repository", "DELETE", path)).await;
    let call = api
        .client
        .registries_delete_repository()
        .registry_name("example");
    api.finish(call.repository_name("team/app").send().await)
        .await;
}

#[tokio::test]
async fn registry_list_repositories_with_and_without_paging() {
    for paging in [Paging::page(1, 20), Paging::NONE] {
        let wire = Wire::new(
            "registry_list_repositories",
            "GET",
            "/v2/registry/example/repositories",
        );
        let api = Api::expect(wire.paged(paging)).await;
        let call = paged!(
            api.client
                .registry_list_repositories()
                .registry_name("example"),
            paging
        );
        let list = api.finish(call.send().await).await;
        let op = api.op();
        assert_eq!(list.meta.total, 1, "{op}: meta.total");
        let [repository] = list.repositories.as_slice() else {
            panic!("{op}: one repository, got {:?}", list.repositories);
        };
        assert_eq!(repository.name.as_deref(), Some("repo-1"), "{op}: name");
        assert_eq!(repository.tag_count, Some(1), "{op}: tag_count");
        let latest = repository.latest_tag.as_ref().expect("latest_tag");
        assert_eq!(latest.tag.as_deref(), Some("latest"), "{op}: latest_tag");
        assert_eq!(
            latest.updated_at,
            Some(at("2020-04-09T23:54:25Z")),
            "{op}: updated_at"
        );
    }
}

#[tokio::test]
async fn list_repository_tags_with_and_without_paging() {
    let page_size = Paging {
        page: None,
        per_page: Some(5),
    };
    for family in FAMILIES {
        for paging in [Paging::page(2, 5), page_size, Paging::NONE] {
            let under = "/example/repositories/team%2Fapp/tags";
            let api =
                Api::expect(Wire::of(family, "list_repositoryTags", "GET", under).paged(paging))
                    .await;
            let result = on_family!(
                family,
                api.client,
                registries_list_repository_tags | registry_list_repository_tags,
                |call| {
                    paged!(
                        call.registry_name("example").repository_name("team/app"),
                        paging
                    )
                    .send()
                    .await
                }
            );
            assert_tags(api.op(), api.finish(result).await);
        }
    }
}

#[tokio::test]
async fn delete_repository_tag() {
    for family in FAMILIES {
        for tag in ["v1.2", "latest"] {
            let under = format!("/example/repositories/team%2Fapp/tags/{tag}");
            let api = Api::expect(Wire::of(family, "delete_repositoryTag", "DELETE", &under)).await;
            let result = on_family!(
                family,
                api.client,
                registries_delete_repository_tag | registry_delete_repository_tag,
                |call| {
                    call.registry_name("example")
                        .repository_name("team/app")
                        .repository_tag(tag)
                        .send()
                        .await
                }
            );
            api.finish(result).await;
        }
    }
}

#[tokio::test]
async fn list_repository_manifests_of_plain_and_nested_names() {
    let cases = [
        ("team/sub/app", "team%2Fsub%2Fapp", Paging::page(2, 1)),
        ("team/app", "team%2Fapp", ONE_PAGE),
        ("team/app", "team%2Fapp", Paging::NONE),
    ];
    for family in FAMILIES {
        for (name, raw, paging) in cases {
            let under = format!("/example/repositories/{raw}/digests");
            let api = Api::expect(
                Wire::of(family, "list_repositoryManifests", "GET", &under).paged(paging),
            )
            .await;
            let result = on_family!(
                family,
                api.client,
                registries_list_repository_manifests | registry_list_repository_manifests,
                |call| {
                    paged!(call.registry_name("example").repository_name(name), paging)
                        .send()
                        .await
                }
            );
            assert_manifests(api.op(), api.finish(result).await);
        }
    }
}

#[tokio::test]
async fn delete_repository_manifest() {
    for family in FAMILIES {
        let under = format!("/example/repositories/team%2Fapp/digests/{DIGEST}");
        let api = Api::expect(Wire::of(
            family,
            "delete_repositoryManifest",
            "DELETE",
            &under,
        ))
        .await;
        let result = on_family!(
            family,
            api.client,
            registries_delete_repository_manifest | registry_delete_repository_manifest,
            |call| {
                call.registry_name("example")
                    .repository_name("team/app")
                    .manifest_digest(DIGEST)
                    .send()
                    .await
            }
        );
        api.finish(result).await;
    }
}
