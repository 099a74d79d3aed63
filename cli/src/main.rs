//! `docr`: the DigitalOcean Container Registry from the command line.
//!
//! Token from `--token`, `DIGITALOCEAN_TOKEN` or `DIGITALOCEAN_ACCESS_TOKEN`; API URL from
//! `--api-url` or `DIGITALOCEAN_API_URL`. Exit status 0 on success; otherwise one line on stderr
//! saying why, and the status of [`exit`] (documented in `docr --help`).

/// `println!` for the command's output: a closed stdout (`docr ... | head`) ends the program
/// quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))
    };
}

mod batch;
mod confirm;
mod credential_helper;
mod credentials;
mod exit;
mod fake;
mod gc;
mod images;
mod kubernetes;
mod output;
mod policy;
mod prune;
mod registry;
mod restore;

use clap::{CommandFactory, Parser, Subcommand};
use docr::prelude::*;
use output::Format;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "docr",
    version,
    about = "The DigitalOcean Container Registry from the command line",
    after_help = exit::FOOTER
)]
struct Cli {
    /// The API URL (default: DIGITALOCEAN_API_URL, else https://api.digitalocean.com).
    #[arg(long, global = true, value_name = "URL")]
    api_url: Option<String>,
    /// The registry URL, where `prune` reads manifests and whose host `login`, `logout`,
    /// `docker-config` and `k8s-secret` name (default: DIGITALOCEAN_REGISTRY_URL, else
    /// https://registry.digitalocean.com).
    #[arg(long, global = true, value_name = "URL")]
    registry_url: Option<String>,
    /// The API token (default: DIGITALOCEAN_TOKEN, else DIGITALOCEAN_ACCESS_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Output for people (table) or for scripts (one JSON document on stdout).
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Table columns to show, in this order (e.g. `name,region`; see each table's header).
    #[arg(long, global = true, value_name = "COL,...", value_delimiter = ',')]
    format: Vec<String>,
    /// Tables without their header line (and without a footer).
    #[arg(long, global = true)]
    no_header: bool,
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
    /// Store Docker credentials for a registry (through Docker's credential helper, if set).
    #[command(
        after_help = "Examples:\n  docr login acme\n  docr login acme --read-write --expiry 2h\n\n\
        With `credHelpers` for the registry's host (registry.digitalocean.com, or that of\n\
        --registry-url) or a `credsStore` in Docker's config.json, the credentials go to\n\
        docker-credential-<name> (as `docker login` does); otherwise into config.json's `auths`\n\
        (mode 0600). Credentials expire after 30 days unless told otherwise."
    )]
    Login(credentials::CredentialArgs),
    /// Remove the registry host's credentials (from the credential helper and config.json).
    #[command(after_help = "Example:\n  docr logout")]
    Logout,
    /// Print a Docker config.json holding credentials for a registry; writes nothing.
    #[command(after_help = "Example:\n  docr docker-config acme --expiry 1h > config.json")]
    DockerConfig(credentials::CredentialArgs),
    /// Print a Kubernetes Secret (kubernetes.io/dockerconfigjson) for a registry.
    #[command(
        after_help = "Example:\n  docr k8s-secret acme --namespace apps | kubectl apply -f -"
    )]
    K8sSecret(credentials::SecretArgs),
    /// The registry integration of DigitalOcean Kubernetes clusters.
    #[command(subcommand)]
    Kubernetes(kubernetes::KubernetesCommand),
    /// Plan (and with --apply, carry out) a retention policy.
    Prune(prune::PruneArgs),
    /// Retention as code: check a policy file, and what it would do to a registry.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Push back what a `prune --apply` deleted, from its undo journal.
    Restore(restore::RestoreArgs),
    /// Subscription tiers and regions available.
    #[command(after_help = "Example:\n  docr options")]
    Options,
    /// The account's registry subscription.
    #[command(subcommand)]
    Subscription(registry::SubscriptionCommand),
    /// Whether a registry name is free (exit status 0 if it is, 1 if taken).
    #[command(after_help = "Example:\n  docr validate-name acme-next")]
    ValidateName {
        /// The name to check.
        name: String,
    },
    /// The embedded DOCR, for trying docr and testing against it.
    #[command(subcommand)]
    Fake(fake::FakeCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  docr completions bash > ~/.local/share/bash-completion/completions/docr\n  \
        docr completions zsh > \"${fpath[1]}/_docr\""
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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
    output::configure_tables(output::TableOptions {
        columns: cli.format.clone(),
        no_header: cli.no_header,
    });
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docr: {}", output::one_line(&*e));
            ExitCode::from(exit::code(&*e))
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
        if let Some(url) = &cli.registry_url {
            builder = builder.registry_url(url.clone());
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
    let host = || credentials::registry_host(cli.registry_url.as_deref());
    match cli.command {
        Command::Registries(c) => registry::registries(&client()?, c, format).await,
        Command::Repos(c) => images::repos(&client()?, c, format).await,
        Command::Tags(c) => images::tags(&client()?, c, format).await,
        Command::Manifests(c) => images::manifests(&client()?, c, format).await,
        Command::Gc(c) => gc::gc(&client()?, c, format).await,
        Command::Login(args) => credentials::login(&client()?, &host()?, args, format).await,
        Command::Logout => credentials::logout(&host()?, format),
        Command::DockerConfig(args) => credentials::docker_config(&client()?, &host()?, args).await,
        Command::K8sSecret(args) => credentials::secret(&client()?, &host()?, args).await,
        Command::Kubernetes(c) => kubernetes::kubernetes(&client()?, c, format).await,
        Command::Prune(args) => prune::prune(&client()?, args, format).await,
        // Without a registry, no token is needed: the client is made only for one.
        Command::Policy(c) => policy::policy(c, client, format).await,
        Command::Restore(args) => restore::restore(&client()?, args, format).await,
        Command::Options => registry::options(&client()?, format).await,
        Command::Subscription(c) => registry::subscription(&client()?, c, format).await,
        Command::ValidateName { name } => registry::validate_name(&client()?, &name, format).await,
        Command::Fake(c) => fake::fake(c, format).await,
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "docr", &mut out);
            outln!("{}", String::from_utf8_lossy(&out).trim_end());
            Ok(())
        }
    }
}
