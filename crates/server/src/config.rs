//! Configuration, layered: built-in defaults, then a TOML file, then `APOYO_*`
//! environment variables (documented in docs/configuration.md).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Directory of the embedded database and files.
    pub data_dir: PathBuf,
    /// `postgres://user:password@host/db` to use PostgreSQL (several instances may share
    /// it) instead of the embedded SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// `s3://bucket[/prefix]` to keep support images in S3-compatible object storage
    /// (credentials from the standard `AWS_*` environment) instead of `data_dir`.
    pub object_store_url: Option<String>,
    /// The address people use to reach the server (for links and cookie security).
    pub public_url: String,
    /// Mark cookies `Secure` (only sent over HTTPS). Default: when public_url is https.
    pub secure_cookies: Option<bool>,
    /// Hours a session lasts.
    pub session_hours: u32,
    /// Failed logins per account within `login_window_minutes` before it is throttled.
    pub login_max_failures: u32,
    /// Failed logins per client address within the window before it is throttled.
    pub login_max_failures_per_client: u32,
    pub login_window_minutes: u32,
    /// Trust the first address of `X-Forwarded-For` (only behind a proxy you run).
    pub trust_forwarded_for: bool,
    /// Largest request body accepted by the JSON API, in bytes.
    pub max_json_bytes: usize,
    /// Largest support upload (`POST /api/v1/supports`: fields and four images), in bytes.
    pub max_support_bytes: usize,
    /// Largest roll file uploaded from the console (`POST /api/v1/roll/imports`), in bytes;
    /// it streams to a temporary file in `data_dir`, never into memory.
    pub max_roll_upload_bytes: u64,
    /// Seconds a verification job claimed by an instance stays its own before another
    /// instance may take it back (PostgreSQL; SQLite takes them all back at start-up).
    pub job_lease_seconds: u64,
    /// The electoral body's name, printed at the top of reports and determinations.
    pub authority_name: String,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// tracing filter, e.g. `info` or `apoyo_server=debug,info`.
    pub log_level: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("apoyo-data"),
            database_url: None,
            object_store_url: None,
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: None,
            session_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_client: 30,
            login_window_minutes: 15,
            trust_forwarded_for: false,
            max_json_bytes: 256 * 1024,
            max_support_bytes: 10 * 1024 * 1024,
            max_roll_upload_bytes: 8 * 1024 * 1024 * 1024,
            job_lease_seconds: 300,
            authority_name: "Organismo Público Local Electoral".into(),
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
        }
    }
}

/// `APOYO_*` variables that are not fields: the log filter (`APOYO_LOG`, telemetry.rs),
/// the test oracle of crates/domain/tests/differential.rs (`APOYO_ORACLE_PYTHON`, set by
/// .ci/run), the switch of the capture app's browser tests (`APOYO_BROWSER_TESTS`,
/// crates/server/tests/browser.rs), the switch of the report tests that open the files in
/// LibreOffice (`APOYO_OFFICE_TESTS`, crates/server/tests/console.rs); and every `APOYO_TEST_*` variable (the services the
/// tests run against, started by .ci/run). Any other unknown `APOYO_*` variable is
/// refused like an unknown file key.
const NOT_CONFIGURATION: &[&str] = &["log", "oracle_python", "browser_tests", "office_tests"];

/// `APOYO_TEST_*` variables belong to the test harness and .ci/run, never to the server.
fn is_configuration(key: &str) -> bool {
    !key.to_ascii_lowercase().starts_with("test_")
}

/// A connection URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{user}:***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Config {
    /// Defaults, then `file` (if given, it must exist; otherwise `apoyo.toml` if present),
    /// then environment variables `APOYO_<FIELD>` (e.g. `APOYO_LISTEN=0.0.0.0:8080`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("apoyo.toml")),
        }
        figment = figment.merge(
            Env::prefixed("APOYO_")
                .ignore(NOT_CONFIGURATION)
                .filter(|key| is_configuration(key.as_str())),
        );
        figment.extract().map_err(|e| ConfigError(Box::new(e)))
    }

    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| self.public_url.starts_with("https://"))
    }
}

// Written by hand so that a future secret field is never printed by accident.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("public_url", &self.public_url)
            .field("secure_cookies", &self.cookies_secure())
            .field("session_hours", &self.session_hours)
            .field("login_max_failures", &self.login_max_failures)
            .field("login_window_minutes", &self.login_window_minutes)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("max_json_bytes", &self.max_json_bytes)
            .field("max_support_bytes", &self.max_support_bytes)
            .field("max_roll_upload_bytes", &self.max_roll_upload_bytes)
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field("log_format", &self.log_format)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
// figment::Jail's closures return figment::Error, which is large; fine in tests.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_file_and_environment_over_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "session_hours = 4\nlisten = \"0.0.0.0:9000\"\n",
            )?;
            jail.set_env("APOYO_SESSION_HOURS", "6");
            let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.session_hours, 6, "environment wins over the file");
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.login_max_failures, 5, "defaults fill the rest");
            assert!(!config.cookies_secure());
            jail.set_env("APOYO_PUBLIC_URL", "https://apoyo.example.org");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert!(config.cookies_secure());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("apoyo.toml", "sesion_hours = 4\n")?;
            let error = Config::load(None)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains("sesion_hours"), "{error}");
            Ok(())
        });
    }
}
