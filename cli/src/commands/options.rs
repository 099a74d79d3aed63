//! `options`: the subscription tiers and regions available. Also the check of a tier or
//! region against that list, which `registries create` and `subscription set` make before
//! they change anything, and a tier's table cells, which `subscription` shows too.

use crate::Result;
use crate::api::answer;
use crate::context::Context;
use crate::exit::Refused;
use crate::output;
use clap::Args;
use docr::prelude::*;
use docr::types;

#[derive(Args)]
#[command(after_help = "Example:\n  docr options")]
pub struct OptionsArgs {}

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
            $crate::output::bytes($t.included_storage_bytes),
            $t.monthly_price_in_cents
                .map(|c| format!("${}.{:02}", c / 100, c % 100))
                .unwrap_or_default(),
        ]
    };
}
pub(crate) use tier_cells;

/// The columns of [`tier_cells`].
pub const TIER_COLUMNS: [&str; 4] = ["TIER", "REPOSITORIES", "STORAGE", "MONTHLY"];

pub async fn run(context: &Context, OptionsArgs {}: OptionsArgs) -> Result {
    let client = context.client()?;
    let out = &context.output;
    let options = answer(client.registries_get_options().send()).await?;
    if out.is_json() {
        return output::json(&options);
    }
    let options = options.options.unwrap_or_default();
    if out.with_header() {
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
    out.table(&columns, &rows)
}

/// The options call's answer: regions and tiers open and close, so they are checked
/// against it rather than against the spec's enums.
pub async fn available(client: &Client) -> Result<Available> {
    Ok(Available(
        answer(client.registries_get_options().send())
            .await?
            .options
            .unwrap_or_default(),
    ))
}

/// What the options call lists.
pub struct Available(types::RegistryOptionsResponseOptions);

impl Available {
    /// Refuses a tier the API does not list, naming those it does.
    pub fn check_tier(&self, tier: &str) -> Result {
        let slugs: Vec<String> = (self.0.subscription_tiers.iter())
            .filter_map(|t| t.slug.clone())
            .collect();
        check_listed("tier", tier, &slugs)
    }

    /// Refuses a region the API does not list, naming those it does.
    pub fn check_region(&self, region: &str) -> Result {
        check_listed("region", region, &self.0.available_regions)
    }
}

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
