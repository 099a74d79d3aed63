//! `subscription get|set`: the account's registry subscription, and changing its tier (a tier
//! the options call does not list is refused before the question).

use super::options::{self, TIER_COLUMNS, tier_cells};
use crate::Result;
use crate::api::answer;
use crate::confirm::Force;
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr::types;

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

pub async fn run(context: &Context, command: SubscriptionCommand) -> Result {
    let client = &context.client()?;
    let out = &context.output;
    let response = match command {
        SubscriptionCommand::Get => answer(client.registries_get_subscription().send()).await?,
        SubscriptionCommand::Set { tier, force } => {
            options::available(client).await?.check_tier(&tier)?;
            force.confirm(&format!(
                "change the registry subscription to tier {tier} (this changes what the account \
                 is billed)"
            ))?;
            answer(
                client
                    .registries_update_subscription()
                    .body(types::RegistriesUpdateSubscriptionBody {
                        tier_slug: Some(tier),
                    })
                    .send(),
            )
            .await?
        }
    };
    if out.is_json() {
        return output::json(&response);
    }
    let tier = response
        .subscription
        .and_then(|s| s.tier)
        .unwrap_or_default();
    out.table(&TIER_COLUMNS, &[tier_cells!(tier)])
}
