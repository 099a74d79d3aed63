//! `docr`: the DigitalOcean Container Registry from the command line.
//!
//! This file parses the command line, builds the [`Context`](context::Context) from the
//! global options and hands it, with the command's own arguments, to the command's module in
//! [`commands`] (one per command of `docr --help`). What several commands share:
//! [`args`] (arguments parsed one way), [`context`], [`output`] (tables and JSON),
//! [`confirm`] (the question before a change), [`batch`] (deleting several targets),
//! [`retention`] (what `prune` and `policy check` plan with), [`api`], [`credential_helper`]
//! and [`exit`] (which error ends with which status).
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

mod api;
mod args;
mod batch;
mod commands;
mod confirm;
mod context;
mod credential_helper;
mod exit;
mod output;
mod retention;

use clap::{CommandFactory, Parser, Subcommand};
use commands::*;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "docr",
    version,
    about = "The DigitalOcean Container Registry from the command line",
    after_help = exit::FOOTER
)]
struct Cli {
    #[command(flatten)]
    global: args::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// The commands, in the order of `docr --help`; each variant's doc line is its summary there.
#[derive(Subcommand)]
enum Command {
    /// Registries of the account.
    #[command(subcommand)]
    Registries(registries::RegistriesCommand),
    /// Repositories of a registry.
    #[command(subcommand)]
    Repos(repos::ReposCommand),
    /// Tags of a repository.
    #[command(subcommand)]
    Tags(tags::TagsCommand),
    /// Manifests of a repository.
    #[command(subcommand)]
    Manifests(manifests::ManifestsCommand),
    /// Garbage collection.
    #[command(subcommand)]
    Gc(gc::GcCommand),
    /// Store Docker credentials for a registry (through Docker's credential helper, if set).
    Login(login::LoginArgs),
    /// Remove the registry host's credentials (from the credential helper and config.json).
    Logout(logout::LogoutArgs),
    /// Print a Docker config.json holding credentials for a registry; writes nothing.
    DockerConfig(docker_config::DockerConfigArgs),
    /// Print a Kubernetes Secret (kubernetes.io/dockerconfigjson) for a registry.
    K8sSecret(k8s_secret::SecretArgs),
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
    Options(options::OptionsArgs),
    /// The account's registry subscription.
    #[command(subcommand)]
    Subscription(subscription::SubscriptionCommand),
    /// Whether a registry name is free (exit status 0 if it is, 1 if taken).
    ValidateName(validate_name::ValidateNameArgs),
    /// The embedded DOCR, for trying docr and testing against it.
    #[cfg(feature = "fake")]
    #[command(subcommand)]
    Fake(fake::FakeCommand),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let context = cli.global.into_context();
    if context.verbose {
        tracing_subscriber::fmt()
            .with_env_filter("docr=debug")
            .with_writer(std::io::stderr)
            // Colour only for a terminal: a log saved from stderr stays plain text.
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    match run(&context, cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("docr: {}", output::one_line(&*e));
            ExitCode::from(exit::code(&*e))
        }
    }
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn run(context: &context::Context, command: Command) -> Result {
    match command {
        Command::Registries(c) => registries::run(context, c).await,
        Command::Repos(c) => repos::run(context, c).await,
        Command::Tags(c) => tags::run(context, c).await,
        Command::Manifests(c) => manifests::run(context, c).await,
        Command::Gc(c) => gc::run(context, c).await,
        Command::Login(args) => login::run(context, args).await,
        Command::Logout(args) => logout::run(context, args),
        Command::DockerConfig(args) => docker_config::run(context, args).await,
        Command::K8sSecret(args) => k8s_secret::run(context, args).await,
        Command::Kubernetes(c) => kubernetes::run(context, c).await,
        Command::Prune(args) => prune::run(context, args).await,
        Command::Policy(c) => policy::run(context, c).await,
        Command::Restore(args) => restore::run(context, args).await,
        Command::Options(args) => options::run(context, args).await,
        Command::Subscription(c) => subscription::run(context, c).await,
        Command::ValidateName(args) => validate_name::run(context, args).await,
        #[cfg(feature = "fake")]
        Command::Fake(c) => fake::run(context, c).await,
        Command::Completions(args) => completions::run(args, Cli::command()),
    }
}
