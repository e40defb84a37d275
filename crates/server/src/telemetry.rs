//! Structured logs (tracing): pretty for people, JSON for collectors.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(config: &Config) {
    let filter =
        EnvFilter::try_from_env("APOYO_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    // Already installed (a second call in the same process) is fine.
    drop(result);
}
