//! `logout`: the registry host's credentials erased through the credential helper, if
//! Docker's `config.json` names one, and its `auths` entry dropped. No token needed.

use crate::Result;
use crate::context::Context;
use crate::credential_helper::CredentialHelper;
use crate::output;
use clap::Args;
use docr::credentials::{docker_config_dir, merge_docker_config_for};
use serde_json::json;

#[derive(Args)]
#[command(after_help = "Example:\n  docr logout")]
pub struct LogoutArgs {}

pub fn run(context: &Context, LogoutArgs {}: LogoutArgs) -> Result {
    let host = context.registry_host()?;
    let dir = docker_config_dir()?;
    let helper = CredentialHelper::configured(&dir, &host)?;
    if let Some(helper) = &helper {
        helper.erase()?;
    }
    let path = merge_docker_config_for(&dir, &host, None)?;
    let program = helper.as_ref().map(CredentialHelper::program);
    if context.output.is_json() {
        return output::json(&match &program {
            Some(program) => json!({"config": path, "helper": program}),
            None => json!({"config": path}),
        });
    }
    match program {
        Some(program) => outln!(
            "logged out of {host} (erased by {program}; {})",
            path.display()
        ),
        None => outln!("logged out of {host} ({})", path.display()),
    }
    Ok(())
}
