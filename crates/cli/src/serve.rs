//! `apoyo serve`: run the server with layered configuration.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use apoyo_server::{App, Config, shutdown_signal, telemetry};
use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file (default: ./apoyo.toml when present). Environment
    /// variables APOYO_<FIELD> override it; see docs/configuration.md.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub(crate) fn load_config(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
    Config::load(file).context("cannot load the configuration")
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn run(args: ServeArgs) -> ExitCode {
    let result = (|| -> anyhow::Result<()> {
        let config = load_config(args.config.as_deref())?;
        telemetry::init(&config);
        tracing::info!(?config, "configuration");
        runtime()?.block_on(async {
            let app = App::build(config).await?;
            eprintln!("apoyo escuchando en http://{}", app.address);
            app.serve(shutdown_signal()).await?;
            anyhow::Ok(())
        })
    })();
    crate::exit_code(result)
}
