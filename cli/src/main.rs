//! `docr`: the DigitalOcean Container Registry from the command line.
//!
//! Token from `--token`, `DIGITALOCEAN_TOKEN` or `DIGITALOCEAN_ACCESS_TOKEN`; API URL from
//! `--api-url` or `DIGITALOCEAN_API_URL`. Exit status 0 on success; otherwise one line on stderr
//! saying why.

/// `println!` for the command's output: a closed stdout (`docr ... | head`) ends the program
/// quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))
    };
}

mod credentials;
mod fake;
mod gc;
mod images;
mod output;
mod prune;
mod registry;

use clap::{Parser, Subcommand};
use docr::prelude::*;
use output::Format;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "docr",
    version,
    about = "The DigitalOcean Container Registry from the command line"
)]
struct Cli {
    /// The API URL (default: DIGITALOCEAN_API_URL, else https://api.digitalocean.com).
    #[arg(long, global = true, value_name = "URL")]
    api_url: Option<String>,
    /// The API token (default: DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Output for people (table) or for scripts (one JSON document on stdout).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Log each API call to stderr (never the token).
    #[arg(short = 'v', long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Registries of the account.
    #[command(subcommand)]
    Registries(registry::RegistriesCommand),
    /// Repositories of a registry.
    #[command(subcommand)]
    Repos(images::ReposCommand),
    /// Tags of a repository.
    #[command(subcommand)]
    Tags(images::TagsCommand),
    /// Manifests of a repository.
    #[command(subcommand)]
    Manifests(images::ManifestsCommand),
    /// Garbage collection.
    #[command(subcommand)]
    Gc(gc::GcCommand),
    /// Write Docker credentials for a registry into Docker's config.json.
    Login(credentials::LoginArgs),
    /// Remove DigitalOcean's registry from Docker's config.json.
    Logout,
    /// Print a Kubernetes Secret (kubernetes.io/dockerconfigjson) for a registry.
    K8sSecret(credentials::SecretArgs),
    /// Plan (and with --apply, carry out) a retention policy.
    Prune(prune::PruneArgs),
    /// Subscription tiers and regions available.
    Options,
    /// The account's registry subscription.
    #[command(subcommand)]
    Subscription(registry::SubscriptionCommand),
    /// Whether a registry name is free.
    ValidateName {
        /// The name to check.
        name: String,
    },
    /// The embedded DOCR, for trying docr and testing against it.
    #[command(subcommand)]
    Fake(fake::FakeCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose {
        tracing_subscriber::fmt()
            .with_env_filter("docr=debug")
            .with_writer(std::io::stderr)
            // Colour only for a terminal: a log saved from stderr stays plain text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docr: {}", output::one_line(&*e));
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn run(cli: Cli) -> Result {
    let format = cli.output;
    let client = || -> Result<Client> {
        let mut builder = ClientBuilder::new().from_env();
        if let Some(url) = &cli.api_url {
            builder = builder.api_url(url.clone());
        }
        if let Some(token) = &cli.token {
            builder = builder.token(token.clone());
        }
        builder.build().map_err(|e| match e {
            Error::MissingToken => "no DigitalOcean API token: pass --token or set \
                DIGITALOCEAN_TOKEN or DIGITALOCEAN_ACCESS_TOKEN"
                .into(),
            e => e.into(),
        })
    };
    match cli.command {
        Command::Registries(c) => registry::registries(&client()?, c, format).await,
        Command::Repos(c) => images::repos(&client()?, c, format).await,
        Command::Tags(c) => images::tags(&client()?, c, format).await,
        Command::Manifests(c) => images::manifests(&client()?, c, format).await,
        Command::Gc(c) => gc::gc(&client()?, c, format).await,
        Command::Login(args) => credentials::login(&client()?, args, format).await,
        Command::Logout => credentials::logout(format),
        Command::K8sSecret(args) => credentials::secret(&client()?, args).await,
        Command::Prune(args) => prune::prune(&client()?, args, format).await,
        Command::Options => registry::options(&client()?, format).await,
        Command::Subscription(c) => registry::subscription(&client()?, c, format).await,
        Command::ValidateName { name } => registry::validate_name(&client()?, &name, format).await,
        Command::Fake(c) => fake::fake(c, format).await,
    }
}
