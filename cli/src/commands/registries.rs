//! `registries list|get|create|delete`: the account's registries (a tier or region
//! `options` does not list is refused before the create).

use super::options;
use crate::Result;
use crate::api::answer;
use crate::confirm::Force;
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr::prelude::*;
use docr::types;

#[derive(Subcommand)]
pub enum RegistriesCommand {
    /// Every registry of the account, and the storage they use together.
    #[command(after_help = "Example:\n  docr registries list --format name,storage --no-header")]
    List,
    /// One registry.
    #[command(after_help = "Example:\n  docr registries get acme")]
    Get {
        /// The registry's name.
        name: RegistryName,
    },
    /// Create a registry.
    #[command(
        after_help = "Example:\n  docr registries create acme --tier basic --region fra1\n\n\
        Regions and tiers are those `docr options` lists; a wrong one is refused with that list."
    )]
    Create {
        /// The registry's name: lowercase letters, digits and `-`, globally unique.
        name: RegistryName,
        /// Subscription tier (starter, basic, professional, ...: see `docr options`).
        #[arg(long, value_name = "SLUG")]
        tier: String,
        /// Region (nyc3, sfo3, ams3, sgp1, fra1, ...: see `docr options`); DigitalOcean picks
        /// one if unset.
        #[arg(long, value_name = "SLUG")]
        region: Option<String>,
    },
    /// Delete a registry and everything in it.
    #[command(after_help = "Example:\n  docr registries delete acme-old --force")]
    Delete {
        /// The registry's name.
        name: RegistryName,
        #[command(flatten)]
        force: Force,
    },
}

const REGISTRY_COLUMNS: [&str; 4] = ["NAME", "REGION", "STORAGE", "CREATED"];

/// A registry's row; `Registry` (listing) and `RegistryBase` (one) share these fields.
macro_rules! registry_row {
    ($r:expr) => {
        vec![
            $r.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            $r.region.clone().unwrap_or_default(),
            output::bytes($r.storage_usage_bytes),
            output::time($r.created_at),
        ]
    };
}

pub async fn run(context: &Context, command: RegistriesCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    match command {
        RegistriesCommand::List => {
            let list = answer(client.registries_list().send()).await?;
            if out.is_json() {
                return output::json(&list);
            }
            let rows: Vec<_> = list.registries.iter().map(|r| registry_row!(r)).collect();
            out.table(&REGISTRY_COLUMNS, &rows)?;
            if out.with_header() && list.total_storage_usage_bytes.is_some() {
                outln!(
                    "total storage: {}",
                    output::bytes(list.total_storage_usage_bytes)
                );
            }
            Ok(())
        }
        RegistriesCommand::Get { name } => {
            let info = answer(client.registries_get().registry_name(&name).send()).await?;
            if out.is_json() {
                return output::json(&info);
            }
            let r = info.registry.map(|r| r.0).unwrap_or_default();
            out.table(&REGISTRY_COLUMNS, &[registry_row!(r)])
        }
        RegistriesCommand::Create { name, tier, region } => {
            let available = options::available(client).await?;
            available.check_tier(&tier)?;
            if let Some(region) = &region {
                available.check_region(region)?;
            }
            let body = types::MultiregistryCreate {
                name: types::MultiregistryCreateName::try_from(name.as_str())?,
                subscription_tier_slug: Some(tier),
                region,
            };
            let info = answer(client.registries_create().body(body).send()).await?;
            if out.is_json() {
                return output::json(&info);
            }
            outln!("created registry {name}");
            Ok(())
        }
        RegistriesCommand::Delete { name, force } => {
            force.confirm(&format!(
                "delete registry {name} with every repository, manifest and tag in it"
            ))?;
            answer(client.registries_delete().registry_name(&name).send()).await?;
            if out.is_json() {
                return output::json(&serde_json::json!({"deleted": name.as_str()}));
            }
            outln!("deleted registry {name}");
            Ok(())
        }
    }
}
