//! `fake serve`: the embedded DOCR, with demo data or (`--empty`) none, until interrupted.

use crate::Result;
use crate::args::parse_duration;
use crate::context::Context;
use crate::output;
use clap::Subcommand;
use docr_fake::FakeDocr;
use std::time::Duration;

#[derive(Subcommand)]
pub enum FakeCommand {
    /// Serve the embedded DOCR (with demo data, unless --empty) on 127.0.0.1 until Ctrl-C.
    Serve {
        /// The port (default: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The bearer token clients must send.
        #[arg(long, default_value = "fake-token")]
        token: String,
        /// How long each garbage-collection status lasts.
        #[arg(long, value_parser = parse_duration, default_value = "2s")]
        gc_step: Duration,
        /// No demo data: an account without any registry (on the basic tier), where
        /// `registries create` makes the first.
        #[arg(long)]
        empty: bool,
    },
}

pub async fn run(context: &Context, command: FakeCommand) -> Result {
    let FakeCommand::Serve {
        port,
        token,
        gc_step,
        empty,
    } = command;
    let mut builder = FakeDocr::builder();
    if !empty {
        builder = builder.demo_data();
    }
    let fake = builder
        .port(port)
        .token(token)
        .gc_step(gc_step)
        .start()
        .await?;
    if context.output.is_json() {
        output::json(&serde_json::json!({
            "url": fake.url(),
            "registry_url": fake.registry_url(),
            "token": fake.token(),
        }))?;
    } else {
        let data = if empty {
            "empty: no registry"
        } else {
            "demo data"
        };
        outln!("embedded DOCR on {} ({data})", fake.url());
        outln!(
            "and its registry (OCI distribution API) on {}, as {}/<registry>/<repository>",
            fake.registry_url(),
            fake.registry_host()
        );
        outln!("try:");
        let first = if empty {
            "registries create acme --tier basic"
        } else {
            "repos list acme"
        };
        outln!(
            "  DIGITALOCEAN_API_URL={} DIGITALOCEAN_TOKEN={} docr {first}",
            fake.url(),
            fake.token()
        );
        outln!("Ctrl-C stops it");
    }
    tokio::signal::ctrl_c().await?;
    fake.shutdown().await;
    Ok(())
}
