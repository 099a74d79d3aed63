//! `validate-name`: whether a registry name is free; the exit status says so in either
//! format (0 free, 1 taken), for scripts.

use crate::Result;
use crate::context::Context;
use crate::output;
use clap::Args;
use docr::prelude::*;
use docr::types;

#[derive(Args)]
#[command(after_help = "Example:\n  docr validate-name acme-next")]
pub struct ValidateNameArgs {
    /// The name to check.
    name: String,
}

pub async fn run(context: &Context, args: ValidateNameArgs) -> Result {
    let client = context.client()?;
    // The API's own rule first: a bad name is refused before any request.
    let name: RegistryName = args.name.parse()?;
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
    if context.output.is_json() {
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
