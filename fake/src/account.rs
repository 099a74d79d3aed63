//! Account-level operations: registries, the subscription and its options, name validation,
//! Docker credentials and Kubernetes integrations.

use super::call::{Call, not_found_registry, registry, registry_name};
use super::input::{ApiError, ApiResult, JsonBody, Reply};
use super::render;
use super::routes::RESERVED_NAMES;
use super::state::{IssuedCredentials, Registry, State};
use super::tiers::{self, Usage};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use docr::{RegistryName, client::ApiFamily};
use serde_json::json;

fn is_taken(state: &State, name: &str) -> bool {
    state.registries.contains_key(name) || RESERVED_NAMES.contains(&name)
}

/// A well-formed registry name from the body's `name`, or 422.
fn checked_name(body: &JsonBody) -> Result<&str, ApiError> {
    let name = body
        .string("name")?
        .ok_or_else(|| ApiError::unprocessable("name is required"))?;
    RegistryName::new(name).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(name)
}

pub(crate) fn list_registries(state: &State) -> ApiResult {
    let registries: Vec<_> = state
        .registries
        .values()
        .map(|r| render::registry(r, Some(&state.subscription)))
        .collect();
    Ok(Reply::ok(json!({ "registries": registries })))
}

fn registry_reply(state: &State, family: ApiFamily, registry: &Registry) -> serde_json::Value {
    // The deprecated family's `registry` schema carries the subscription; `multiregistry` not.
    let subscription = (family == ApiFamily::Registry).then_some(&state.subscription);
    json!({ "registry": render::registry(registry, subscription) })
}

pub(crate) fn create_registry(state: &mut State, call: &Call<'_>) -> ApiResult {
    let body = JsonBody::parse(call.body, true)?;
    let name = checked_name(&body)?;
    let legacy = call.family == ApiFamily::Registry;
    let slug = body.string("subscription_tier_slug")?;
    if legacy && slug.is_none() {
        return Err(ApiError::unprocessable(
            "subscription_tier_slug is required",
        ));
    }
    let tier = match slug {
        Some(slug) => tiers::tier(slug).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown subscription_tier_slug `{slug}` (one of {})",
                tiers::slugs()
            ))
        })?,
        None => state.subscription.tier,
    };
    let regions: &[&str] = if legacy {
        &tiers::LEGACY_REGIONS
    } else {
        &tiers::REGIONS
    };
    let region = body.string("region")?.unwrap_or("nyc3");
    if !regions.contains(&region) {
        return Err(ApiError::unprocessable(format!(
            "unknown region `{region}` (one of {})",
            regions.join(", ")
        )));
    }
    if legacy && !state.registries.is_empty() {
        return Err(ApiError::conflict(
            "the account already has a registry; create more with POST /v2/registries",
        ));
    }
    if is_taken(state, name) {
        return Err(ApiError::conflict(format!(
            "registry name `{name}` is already taken"
        )));
    }
    let usage = Usage {
        registries: state.registries.len() + 1,
        ..state.usage()
    };
    let reasons = tier.ineligibility(usage);
    if !reasons.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "the {} subscription does not allow another registry ({})",
            tier.slug,
            reasons.join(", ")
        )));
    }
    if tier.slug != state.subscription.tier.slug {
        state.subscription.tier = tier;
        state.subscription.updated_at = call.now.wall;
    }
    let registry = Registry::new(name.to_string(), region.to_string(), call.now.wall);
    let body = registry_reply(state, call.family, &registry);
    state.registries.insert(name.to_string(), registry);
    Ok(Reply::created(body))
}

pub(crate) fn get_registry(state: &mut State, call: &Call<'_>, named: Option<&str>) -> ApiResult {
    let name = registry_name(state, call.family, named)?;
    let registry = state
        .registries
        .get(&name)
        .ok_or_else(|| not_found_registry(&name))?;
    Ok(Reply::ok(registry_reply(state, call.family, registry)))
}

pub(crate) fn delete_registry(
    state: &mut State,
    call: &Call<'_>,
    named: Option<&str>,
) -> ApiResult {
    let name = registry_name(state, call.family, named)?;
    state.remove_registry(&name);
    Ok(Reply::NoContent)
}

/// A Docker `config.json` whose `auth` is base64 of
/// `docr-fake-<serial>:<registry>.<read-only|read-write>.<expiry unix seconds|never>`, the
/// expiry as asked but within the fake's credentials lifetime, if it has one.
pub(crate) fn docker_credentials(
    state: &mut State,
    call: &Call<'_>,
    named: Option<&str>,
) -> ApiResult {
    let read_write = call.query.boolean("read_write")?.unwrap_or(false);
    let expiry = call
        .query
        .integer_at_least("expiry_seconds", 0)?
        .unwrap_or(0);
    let registry = registry(state, call.family, named)?.name.clone();
    // An expiry beyond any date chrono holds (the spec sets no maximum) is as good as never.
    let asked = (expiry > 0)
        .then(|| {
            let seconds = i64::try_from(expiry).unwrap_or(i64::MAX);
            chrono::TimeDelta::try_seconds(seconds)
                .and_then(|d| call.now.wall.checked_add_signed(d))
        })
        .flatten();
    // A server may grant less than asked: the builder's cap, if any, bounds every expiry.
    let cap = state.credentials_lifetime.and_then(|lifetime| {
        chrono::TimeDelta::from_std(lifetime)
            .ok()
            .and_then(|d| call.now.wall.checked_add_signed(d))
    });
    let expires_at = match (asked, cap) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    };
    let username = format!("docr-fake-{}", state.next_serial());
    let access = if read_write {
        "read-write"
    } else {
        "read-only"
    };
    let expiry = expires_at.map_or_else(|| "never".to_string(), |at| at.timestamp().to_string());
    let auth = STANDARD.encode(format!("{username}:{registry}.{access}.{expiry}"));
    state.remember_credentials(IssuedCredentials {
        registry,
        username,
        read_write,
        expires_at,
    });
    Ok(Reply::ok(json!({
        "auths": { "registry.digitalocean.com": { "auth": auth } }
    })))
}

pub(crate) fn get_subscription(state: &State) -> ApiResult {
    Ok(Reply::ok(
        json!({ "subscription": render::subscription(&state.subscription) }),
    ))
}

pub(crate) fn update_subscription(state: &mut State, call: &Call<'_>) -> ApiResult {
    let body = JsonBody::parse(call.body, false)?;
    let slug = body
        .string("tier_slug")?
        .ok_or_else(|| ApiError::unprocessable("tier_slug is required"))?;
    let tier = tiers::tier(slug).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "unknown tier_slug `{slug}` (one of {})",
            tiers::slugs()
        ))
    })?;
    let reasons = tier.ineligibility(state.usage());
    if !reasons.is_empty() {
        return Err(ApiError::unprocessable(format!(
            "the account is not eligible for the {slug} subscription: {}",
            reasons.join(", ")
        )));
    }
    state.subscription.tier = tier;
    state.subscription.updated_at = call.now.wall;
    get_subscription(state)
}

pub(crate) fn options(state: &State, call: &Call<'_>) -> ApiResult {
    let regions: &[&str] = match call.family {
        ApiFamily::Registries => &tiers::REGIONS,
        ApiFamily::Registry => &tiers::LEGACY_REGIONS,
    };
    let usage = state.usage();
    let tiers: Vec<_> = tiers::TIERS
        .iter()
        .map(|t| render::tier_option(t, usage))
        .collect();
    Ok(Reply::ok(json!({
        "options": { "available_regions": regions, "subscription_tiers": tiers }
    })))
}

/// 204 when the name is well formed and free, 409 when taken, 422 when malformed.
pub(crate) fn validate_name(state: &State, call: &Call<'_>) -> ApiResult {
    let body = JsonBody::parse(call.body, true)?;
    let name = checked_name(&body)?;
    if is_taken(state, name) {
        return Err(ApiError::conflict(format!(
            "registry name `{name}` is already taken"
        )));
    }
    Ok(Reply::NoContent)
}

/// Integrates registries with clusters (or removes them). The singular call acts on every
/// registry of the account; the plural one on those its body names.
pub(crate) fn kubernetes(state: &mut State, call: &Call<'_>, plural: bool, add: bool) -> ApiResult {
    let body = JsonBody::parse(call.body, false)?;
    let clusters = body.strings("cluster_uuids")?;
    if clusters.is_empty() || clusters.iter().any(|c| c.trim().is_empty()) {
        return Err(ApiError::unprocessable(
            "cluster_uuids must name at least one cluster, and no empty one",
        ));
    }
    let registries = if plural {
        let named = body.strings("registries")?;
        if named.is_empty() {
            return Err(ApiError::unprocessable(
                "registries must name at least one registry",
            ));
        }
        if let Some(missing) = named.iter().find(|r| !state.registries.contains_key(*r)) {
            return Err(not_found_registry(missing));
        }
        named
    } else {
        if state.registries.is_empty() {
            return Err(ApiError::not_found("the account has no registry"));
        }
        state.registries.keys().cloned().collect()
    };
    for cluster in clusters {
        let integrated = state.kubernetes.entry(cluster).or_default();
        for registry in &registries {
            if add {
                integrated.insert(registry.clone());
            } else {
                integrated.remove(registry);
            }
        }
    }
    state.kubernetes.retain(|_, regs| !regs.is_empty());
    Ok(Reply::NoContent)
}
