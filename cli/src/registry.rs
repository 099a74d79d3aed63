//! `registries`, `options`, `subscription`, `validate-name`.

use crate::Result;
use crate::confirm::Force;
use crate::exit::Refused;
use crate::output::{self, Format};
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

#[derive(Subcommand)]
pub enum SubscriptionCommand {
    /// The current subscription.
    #[command(after_help = "Example:\n  docr subscription get")]
    Get,
    /// Change the subscription tier (this changes what the account is billed).
    #[command(after_help = "Example:\n  docr subscription set professional --force")]
    Set {
        /// The tier (starter, basic, professional, ...: see `docr options`).
        tier: String,
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

pub async fn registries(client: &Client, command: RegistriesCommand, format: Format) -> Result {
    match command {
        RegistriesCommand::List => {
            let list = answer(client.registries_list().send()).await?;
            if format == Format::Json {
                return output::json(&list);
            }
            let rows: Vec<_> = list.registries.iter().map(|r| registry_row!(r)).collect();
            output::table(&REGISTRY_COLUMNS, &rows)?;
            if output::with_header() && list.total_storage_usage_bytes.is_some() {
                outln!(
                    "total storage: {}",
                    output::bytes(list.total_storage_usage_bytes)
                );
            }
            Ok(())
        }
        RegistriesCommand::Get { name } => {
            let info = answer(client.registries_get().registry_name(&name).send()).await?;
            if format == Format::Json {
                return output::json(&info);
            }
            let r = info.registry.map(|r| r.0).unwrap_or_default();
            output::table(&REGISTRY_COLUMNS, &[registry_row!(r)])
        }
        RegistriesCommand::Create { name, tier, region } => {
            let options = options_of(client).await?;
            check_listed("tier", &tier, &options.tier_slugs())?;
            if let Some(region) = &region {
                check_listed("region", region, &options.available_regions)?;
            }
            let body = types::MultiregistryCreate {
                name: types::MultiregistryCreateName::try_from(name.as_str())?,
                subscription_tier_slug: Some(tier),
                region,
            };
            let info = answer(client.registries_create().body(body).send()).await?;
            if format == Format::Json {
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
            if format == Format::Json {
                return output::json(&serde_json::json!({"deleted": name.as_str()}));
            }
            outln!("deleted registry {name}");
            Ok(())
        }
    }
}

/// A call's answer, its error as the library's.
async fn answer<T>(
    call: impl Future<
        Output = std::result::Result<
            docr::client::ResponseValue<T>,
            docr::client::GeneratedError<types::Error>,
        >,
    >,
) -> Result<T> {
    Ok(call.await.map_err(Error::from)?.into_inner())
}

/// The options call's answer: regions and tiers open and close, so they are checked
/// against it rather than against the spec's enums.
async fn options_of(client: &Client) -> Result<types::RegistryOptionsResponseOptions> {
    Ok(answer(client.registries_get_options().send())
        .await?
        .options
        .unwrap_or_default())
}

trait TierSlugs {
    fn tier_slugs(&self) -> Vec<String>;
}

impl TierSlugs for types::RegistryOptionsResponseOptions {
    fn tier_slugs(&self) -> Vec<String> {
        self.subscription_tiers
            .iter()
            .filter_map(|t| t.slug.clone())
            .collect()
    }
}

/// Refuses a value the options call does not list, naming those it does.
fn check_listed(what: &str, value: &str, available: &[String]) -> Result {
    if available.iter().any(|a| a == value) {
        return Ok(());
    }
    Err(Refused(format!(
        "unknown {what} `{value}`: the API offers {}",
        available.join(", ")
    ))
    .into())
}

/// Slug, repositories, storage and price of a tier, as table cells; the options call's tiers
/// and the subscription's tier are different types with these fields.
macro_rules! tier_cells {
    ($t:expr) => {
        vec![
            $t.slug.clone().unwrap_or_default(),
            $t.included_repositories
                .map(|n| match n {
                    0 => "unlimited".to_string(),
                    n => n.to_string(),
                })
                .unwrap_or_default(),
            output::bytes($t.included_storage_bytes),
            $t.monthly_price_in_cents
                .map(|c| format!("${}.{:02}", c / 100, c % 100))
                .unwrap_or_default(),
        ]
    };
}

const TIER_COLUMNS: [&str; 4] = ["TIER", "REPOSITORIES", "STORAGE", "MONTHLY"];

pub async fn options(client: &Client, format: Format) -> Result {
    let options = answer(client.registries_get_options().send()).await?;
    if format == Format::Json {
        return output::json(&options);
    }
    let options = options.options.unwrap_or_default();
    if output::with_header() {
        outln!("regions: {}", options.available_regions.join(", "));
    }
    let rows: Vec<_> = options
        .subscription_tiers
        .iter()
        .map(|t| {
            let mut cells: Vec<String> = tier_cells!(t);
            cells.push(match t.eligible {
                Some(true) => "yes".into(),
                Some(false) => format!("no ({})", t.eligibility_reasons.join(", ")),
                None => "-".into(),
            });
            cells
        })
        .collect();
    let mut columns = TIER_COLUMNS.to_vec();
    columns.push("ELIGIBLE");
    output::table(&columns, &rows)
}

pub async fn subscription(client: &Client, command: SubscriptionCommand, format: Format) -> Result {
    let response = match command {
        SubscriptionCommand::Get => client.registries_get_subscription().send().await,
        SubscriptionCommand::Set { tier, force } => {
            let options = options_of(client).await?;
            check_listed("tier", &tier, &options.tier_slugs())?;
            force.confirm(&format!(
                "change the registry subscription to tier {tier} (this changes what the account \
                 is billed)"
            ))?;
            client
                .registries_update_subscription()
                .body(types::RegistriesUpdateSubscriptionBody {
                    tier_slug: Some(tier),
                })
                .send()
                .await
        }
    }
    .map_err(Error::from)?
    .into_inner();
    if format == Format::Json {
        return output::json(&response);
    }
    let tier = response
        .subscription
        .and_then(|s| s.tier)
        .unwrap_or_default();
    output::table(&TIER_COLUMNS, &[tier_cells!(tier)])
}

pub async fn validate_name(client: &Client, name: &str, format: Format) -> Result {
    // The API's own rule first: a bad name is refused before any request.
    let name: RegistryName = name.parse()?;
    let body = types::ValidateRegistry {
        name: types::ValidateRegistryName::try_from(name.as_str())?,
    };
    let result = client
        .registries_validate_name()
        .body(body)
        .send()
        .await
        .map_err(Error::from);
    let available = match result {
        Ok(_) => true,
        Err(e) if e.status() == Some(reqwest::StatusCode::CONFLICT) => false,
        Err(e) => return Err(e.into()),
    };
    // The exit status says the same in either format: scripts test it.
    if format == Format::Json {
        output::json(&serde_json::json!({"name": name.as_str(), "available": available}))?;
    } else if available {
        outln!("{name} is available");
    }
    if available {
        Ok(())
    } else {
        Err(format!("{name} is taken").into())
    }
}
