//! `apoyo admin create`: the first OPL administrator of a fresh installation.

use std::path::PathBuf;
use std::process::ExitCode;

use apoyo_domain::access::Role;
use apoyo_server::auth;
use apoyo_store::{Actor, NewUser, Store};
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    #[arg(
        long,
        env = "APOYO_DATA_DIR",
        default_value = "apoyo-data",
        global = true
    )]
    data_dir: PathBuf,
    /// PostgreSQL database (`postgres://…`) instead of the embedded SQLite file.
    #[arg(long, env = "APOYO_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an administrator account and print its one-time password.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

pub(crate) fn run(args: AdminArgs) -> ExitCode {
    let result = crate::serve::runtime().and_then(|runtime| {
        runtime.block_on(async {
            let store = Store::open(args.database_url.as_deref(), &args.data_dir).await?;
            match args.command {
                AdminCommand::Create { email, name } => {
                    let (password, hash) = auth::one_time_password().await?;
                    let user = store
                        .create_user(
                            &Actor::system(),
                            NewUser {
                                email,
                                name,
                                role: Role::Admin,
                                password_hash: hash,
                                must_change_password: true,
                            },
                        )
                        .await?;
                    println!(
                        "Administrator {} created. One-time password: {password}",
                        user.email
                    );
                    println!("It must be changed at first login.");
                }
            }
            store.close().await;
            anyhow::Ok(())
        })
    });
    crate::exit_code(result)
}
