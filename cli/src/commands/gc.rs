//! `gc`: start, wait with a progress line, status, list, cancel.

use crate::Result;
use crate::api::answer;
use crate::args::{GcKind, parse_duration};
use crate::confirm::Force;
use crate::context::Context;
use crate::output::{self, Output};
use clap::Subcommand;
use docr::prelude::*;
use docr::types;
use docr::{client::ApiFamily, garbage_collection::GcId, garbage_collection::GcStatus};
use std::time::Duration;

#[derive(Subcommand)]
pub enum GcCommand {
    /// Start a garbage collection (joins the one running, if any); the registry is read-only
    /// until it ends.
    #[command(
        after_help = "Example:\n  docr gc start acme --type unreferenced-blobs --wait --force"
    )]
    Start {
        /// The registry's name.
        registry: RegistryName,
        /// What to collect (default: the server's default, unreferenced blobs today).
        #[arg(long = "type", value_enum)]
        kind: Option<GcKind>,
        /// Wait for it to end.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this long (90s, 15m, 2h).
        #[arg(long, value_parser = parse_duration, default_value = "30m")]
        timeout: Duration,
        #[command(flatten)]
        force: Force,
    },
    /// The running garbage collection.
    #[command(after_help = "Example:\n  docr gc status acme")]
    Status {
        /// The registry's name.
        registry: RegistryName,
    },
    /// Every garbage collection of a registry.
    #[command(after_help = "Example:\n  docr gc list acme --format uuid,status,freed")]
    List {
        /// The registry's name.
        registry: RegistryName,
    },
    /// Cancel a garbage collection (the running one if no UUID is given).
    #[command(after_help = "Example:\n  docr gc cancel acme")]
    Cancel {
        /// The registry's name.
        registry: RegistryName,
        /// The collection's UUID (default: the running one).
        uuid: Option<GcId>,
    },
}

pub async fn run(context: &Context, command: GcCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    match command {
        GcCommand::Start {
            registry,
            kind,
            wait,
            timeout,
            force,
        } => {
            force.confirm(&format!(
                "start a garbage collection on registry {registry}: it is read-only (no push) \
                 until the collection ends"
            ))?;
            let start = client.start_garbage_collection(&registry);
            let started = match kind {
                Some(kind) => start.gc_type(kind.into()),
                None => start.server_default_type(),
            }
            .send()
            .await?;
            if !wait {
                return show(&[started.collection], out);
            }
            if !out.is_json() {
                let verb = if started.attached {
                    "joined running"
                } else {
                    "started"
                };
                eprintln!("{verb} garbage collection {}", started.uuid);
            }
            let done = wait_with_progress(client, &registry, &started.uuid, timeout).await?;
            if !out.is_json() {
                outln!(
                    "garbage collection {} succeeded: {} blobs deleted, {} freed",
                    started.uuid,
                    done.blobs_deleted.unwrap_or(0),
                    output::bytes(done.freed_bytes)
                );
                return Ok(());
            }
            output::json(&done)
        }
        GcCommand::Status { registry } => {
            let active = client
                .active_garbage_collection(&registry, ApiFamily::Registries)
                .await?;
            match (active, out.is_json()) {
                (Some(gc), _) => show(&[gc], out),
                (None, true) => output::json(&serde_json::Value::Null),
                (None, false) => {
                    outln!("no garbage collection is running on {registry}");
                    Ok(())
                }
            }
        }
        GcCommand::List { registry } => {
            let all = client.list_garbage_collections(&registry).collect().await?;
            show(&all, out)
        }
        GcCommand::Cancel { registry, uuid } => {
            let uuid: String = match uuid {
                Some(uuid) => uuid.into(),
                None => client
                    .active_garbage_collection(&registry, ApiFamily::Registries)
                    .await?
                    .and_then(|gc| gc.uuid)
                    .ok_or_else(|| format!("no garbage collection is running on {registry}"))?,
            };
            let response = answer(
                client
                    .registries_update_garbage_collection()
                    .registry_name(&registry)
                    .garbage_collection_uuid(uuid.as_str())
                    .body(types::UpdateRegistry { cancel: Some(true) })
                    .send(),
            )
            .await?;
            let gc = response.garbage_collection.unwrap_or_default();
            show(&[gc], out)
        }
    }
}

/// Waits, drawing one progress line on stderr when it is a terminal.
async fn wait_with_progress(
    client: &Client,
    registry: &RegistryName,
    uuid: &GcId,
    timeout: Duration,
) -> Result<types::GarbageCollection> {
    let bar = output::gc_spinner()?;
    let status_bar = bar.clone();
    let result = client
        .wait_for_garbage_collection(registry, uuid)
        .on_status(move |gc| status_bar.set_message(GcStatus::of(gc).to_string()))
        .wait(timeout)
        .await;
    bar.finish_and_clear();
    Ok(result?)
}

fn show(collections: &[types::GarbageCollection], out: &Output) -> Result {
    out.show(
        collections,
        &[
            "UUID",
            "STATUS",
            "TYPE",
            "BLOBS DELETED",
            "FREED",
            "CREATED",
        ],
        |gc| {
            vec![
                gc.uuid.clone().unwrap_or_default(),
                GcStatus::of(gc).to_string(),
                gc.type_.clone().unwrap_or_default(),
                output::count(gc.blobs_deleted),
                output::bytes(gc.freed_bytes),
                output::time(gc.created_at),
            ]
        },
    )
}
