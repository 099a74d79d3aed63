//! The garbage-collection operations: start one (at most one active per registry), show the
//! active one, list them all (newest first), cancel one.

use super::call::{Call, registry, registry_name};
use super::input::{ApiError, ApiResult, JsonBody, Reply};
use super::pagination;
use super::render;
use super::state::{Collection, State};
use docr::garbage_collection::GcType;
use serde_json::{Value, json};

/// The collection type the API names, parsed.
fn parse_type(name: &str) -> Option<GcType> {
    [
        GcType::UntaggedManifests,
        GcType::UnreferencedBlobs,
        GcType::Both,
    ]
    .into_iter()
    .find(|t| t.as_str() == name)
}

fn rendered(state: &State, collection: &Collection, call: &Call<'_>) -> Value {
    render::collection(
        collection,
        &collection.view(call.now.instant, state.gc_step),
    )
}

/// The active collection, or 404 once there is none (the list still shows it).
pub(crate) fn active(state: &mut State, call: &Call<'_>, named: &str) -> ApiResult {
    let name = registry_name(state, call.family, Some(named))?;
    let collection = state
        .registries
        .get(&name)
        .and_then(|r| r.active_collection())
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no garbage collection is active for registry `{name}`"
            ))
        })?;
    Ok(Reply::ok(
        json!({ "garbage_collection": rendered(state, collection, call) }),
    ))
}

pub(crate) fn run(state: &mut State, call: &Call<'_>, named: &str) -> ApiResult {
    let body = JsonBody::parse(call.body, false)?;
    let kind = match body.string("type")? {
        None => GcType::UnreferencedBlobs,
        Some(name) => parse_type(name).ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown garbage collection type `{name}` (one of `{}`, `{}`, `{}`)",
                GcType::UntaggedManifests.as_str(),
                GcType::UnreferencedBlobs.as_str(),
                GcType::Both.as_str()
            ))
        })?,
    };
    let name = registry_name(state, call.family, Some(named))?;
    let uuid = state.new_uuid();
    let registry = registry(state, call.family, Some(&name))?;
    if let Some(active) = registry.active_collection() {
        return Err(ApiError::conflict(format!(
            "garbage collection {} is already active for registry `{name}`",
            active.uuid
        )));
    }
    registry
        .collections
        .push(Collection::new(uuid, name.clone(), kind, call.now));
    // With a zero step it has already ended.
    state.advance(call.now.instant);
    let collection = state
        .registries
        .get(&name)
        .and_then(|r| r.collections.last())
        .ok_or_else(|| ApiError::not_found(format!("registry `{name}` not found")))?;
    Ok(Reply::created(
        json!({ "garbage_collection": rendered(state, collection, call) }),
    ))
}

pub(crate) fn list(state: &mut State, call: &Call<'_>, named: &str) -> ApiResult {
    let name = registry_name(state, call.family, Some(named))?;
    let items: Vec<Value> = state
        .registries
        .get(&name)
        .map(|r| {
            r.collections
                .iter()
                .rev()
                .map(|c| rendered(state, c, call))
                .collect()
        })
        .unwrap_or_default();
    let page = pagination::by_number(items, call.query, call.links)?;
    Ok(page.reply("garbage_collections", |item| item))
}

/// `{"cancel": true}` moves an active collection to `cancelling`; other bodies change nothing.
pub(crate) fn update(state: &mut State, call: &Call<'_>, named: &str, uuid: &str) -> ApiResult {
    let body = JsonBody::parse(call.body, true)?;
    let cancel = body.boolean("cancel")?.unwrap_or(false);
    let name = registry_name(state, call.family, Some(named))?;
    let registry = registry(state, call.family, Some(&name))?;
    let collection = registry
        .collections
        .iter_mut()
        .find(|c| c.uuid == uuid)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "garbage collection {uuid} not found in registry `{name}`"
            ))
        })?;
    if cancel {
        collection.cancel(call.now).map_err(|status| {
            ApiError::conflict(format!(
                "garbage collection {uuid} has already ended ({status})"
            ))
        })?;
    }
    state.advance(call.now.instant);
    let collection = state
        .registries
        .get(&name)
        .and_then(|r| r.collections.iter().find(|c| c.uuid == uuid))
        .ok_or_else(|| ApiError::not_found(format!("garbage collection {uuid} not found")))?;
    Ok(Reply::ok(
        json!({ "garbage_collection": rendered(state, collection, call) }),
    ))
}
