//! `apoyo`: the one binary of the system, with a subcommand per job.

mod admin;
mod card_images;
mod credential;
mod demo;
mod demo_supports;
mod roll;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "apoyo",
    version,
    about = "Collect and verify citizen support (apoyo de la ciudadanía) for electoral processes."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Voter credential (credencial para votar) tools.
    #[command(subcommand)]
    Credential(credential::CredentialCommand),
    /// Electoral roll (Lista Nominal) snapshots: generate, import, list, show.
    Roll(roll::RollArgs),
    /// Run the server (API) on the configured data directory.
    Serve(serve::ServeArgs),
    /// Administration from the command line (first administrator account).
    Admin(admin::AdminArgs),
    /// Prepare a demo (synthetic Durango roll, process, accounts) and serve it.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Credential(command) => credential::run(command),
        Command::Roll(args) => roll::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Demo(args) => demo::run(args),
    }
}

/// Success, or the error chain on standard error (English: operators read it) and failure.
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
