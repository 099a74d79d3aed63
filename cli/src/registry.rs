//! `registries`, `options`, `subscription`, `validate-name`.

use crate::Result;
use crate::output::{self, Format};
use clap::Subcommand;
use docr::prelude::*;
use docr::types;

#[derive(Subcommand)]
pub enum RegistriesCommand {
    /// Every registry of the account.
    List,
    /// One registry.
    Get { name: RegistryName },
    /// Create a registry.
    Create {
        name: RegistryName,
        /// Subscription tier: starter, basic or professional.
        #[arg(long, value_name = "SLUG")]
        tier: String,
        /// Region slug (nyc3, sfo3, ams3, sgp1, fra1, ...); DigitalOcean picks one if unset.
        #[arg(long, value_name = "R")]
        region: Option<String>,
    },
    /// Delete a registry and everything in it.
    Delete { name: RegistryName },
}

#[derive(Subcommand)]
pub enum SubscriptionCommand {
    /// The current subscription.
    Get,
    /// Change the subscription tier.
    Set {
        /// starter, basic or professional.
        tier: String,
    },
}

pub async fn registries(client: &Client, command: RegistriesCommand, format: Format) -> Result {
    match command {
        RegistriesCommand::List => {
            let list = client
                .registries_list()
                .send()
                .await
                .map_err(Error::from)?
                .into_inner();
            if format == Format::Json {
                return output::json(&list);
            }
            let rows: Vec<_> = list
                .registries
                .iter()
                .map(|r| {
                    vec![
                        r.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                        r.region.clone().unwrap_or_default(),
                        output::bytes(r.storage_usage_bytes),
                        output::time(r.created_at),
                    ]
                })
                .collect();
            output::table(&["NAME", "REGION", "STORAGE", "CREATED"], &rows);
            Ok(())
        }
        RegistriesCommand::Get { name } => {
            let info = client
                .registries_get()
                .registry_name(&name)
                .send()
                .await
                .map_err(Error::from)?
                .into_inner();
            if format == Format::Json {
                return output::json(&info);
            }
            let r = info.registry.map(|r| r.0).unwrap_or_default();
            output::table(
                &["NAME", "REGION", "STORAGE", "CREATED"],
                &[vec![
                    r.name.map(|n| n.to_string()).unwrap_or_default(),
                    r.region.unwrap_or_default(),
                    output::bytes(r.storage_usage_bytes),
                    output::time(r.created_at),
                ]],
            );
            Ok(())
        }
        RegistriesCommand::Create { name, tier, region } => {
            let body = types::MultiregistryCreate {
                name: types::MultiregistryCreateName::try_from(name.as_str())?,
                subscription_tier_slug: Some(tier_slug(&tier)?),
                region: region
                    .as_deref()
                    .map(|r| {
                        types::MultiregistryCreateRegion::try_from(r)
                            .map_err(|_| format!("unknown region `{r}`"))
                    })
                    .transpose()?,
            };
            let info = client
                .registries_create()
                .body(body)
                .send()
                .await
                .map_err(Error::from)?
                .into_inner();
            if format == Format::Json {
                return output::json(&info);
            }
            outln!("created registry {name}");
            Ok(())
        }
        RegistriesCommand::Delete { name } => {
            client
                .registries_delete()
                .registry_name(&name)
                .send()
                .await
                .map_err(Error::from)?;
            if format == Format::Json {
                return output::json(&serde_json::json!({"deleted": name.as_str()}));
            }
            outln!("deleted registry {name}");
            Ok(())
        }
    }
}

fn tier_slug(tier: &str) -> Result<types::MultiregistryCreateSubscriptionTierSlug> {
    types::MultiregistryCreateSubscriptionTierSlug::try_from(tier)
        .map_err(|_| format!("unknown tier `{tier}`: use starter, basic or professional").into())
}

pub async fn options(client: &Client, format: Format) -> Result {
    let options = client
        .registries_get_options()
        .send()
        .await
        .map_err(Error::from)?
        .into_inner();
    if format == Format::Json {
        return output::json(&options);
    }
    let options = options.options.unwrap_or_default();
    outln!("regions: {}", options.available_regions.join(", "));
    let rows: Vec<_> = options
        .subscription_tiers
        .iter()
        .map(|t| {
            vec![
                t.slug.clone().unwrap_or_default(),
                t.included_repositories
                    .map(|n| {
                        if n == 0 {
                            "unlimited".to_string()
                        } else {
                            n.to_string()
                        }
                    })
                    .unwrap_or_default(),
                output::bytes(t.included_storage_bytes),
                t.monthly_price_in_cents
                    .map(|c| format!("${}.{:02}", c / 100, c % 100))
                    .unwrap_or_default(),
                match t.eligible {
                    Some(true) => "yes".into(),
                    Some(false) => format!("no ({})", t.eligibility_reasons.join(", ")),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    output::table(
        &["TIER", "REPOSITORIES", "STORAGE", "MONTHLY", "ELIGIBLE"],
        &rows,
    );
    Ok(())
}

pub async fn subscription(client: &Client, command: SubscriptionCommand, format: Format) -> Result {
    let response = match command {
        SubscriptionCommand::Get => client.registries_get_subscription().send().await,
        SubscriptionCommand::Set { tier } => {
            let slug = types::RegistriesUpdateSubscriptionBodyTierSlug::try_from(tier.as_str())
                .map_err(|_| {
                    format!("unknown tier `{tier}`: use starter, basic or professional")
                })?;
            client
                .registries_update_subscription()
                .body(types::RegistriesUpdateSubscriptionBody {
                    tier_slug: Some(slug),
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
    output::table(
        &["TIER", "REPOSITORIES", "STORAGE", "MONTHLY"],
        &[vec![
            tier.slug.unwrap_or_default(),
            tier.included_repositories
                .map(|n| {
                    if n == 0 {
                        "unlimited".to_string()
                    } else {
                        n.to_string()
                    }
                })
                .unwrap_or_default(),
            output::bytes(tier.included_storage_bytes),
            tier.monthly_price_in_cents
                .map(|c| format!("${}.{:02}", c / 100, c % 100))
                .unwrap_or_default(),
        ]],
    );
    Ok(())
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
