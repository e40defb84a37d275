//! Configuration layering (defaults, then a TOML file, then `APOYO_*` variables) and its
//! documentation in docs/configuration.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// figment::Jail's closures return figment::Error, which is large.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use apoyo_server::Config;
use apoyo_server::config::LogFormat;
use figment::Jail;

/// Field names, as the file and the environment spell them.
fn fields() -> BTreeSet<String> {
    serde_json::to_value(Config::default())
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn load(file: Option<&str>) -> figment::error::Result<Config> {
    Config::load(file.map(Path::new)).map_err(|e| e.to_string().into())
}

#[test]
fn the_defaults_work_out_of_the_box() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        let config = load(None)?;
        assert_eq!(
            serde_json::to_value(&config).unwrap(),
            serde_json::to_value(Config::default()).unwrap()
        );
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("apoyo-data"));
        assert!(!config.cookies_secure());
        Ok(())
    });
}

#[test]
fn every_field_comes_from_the_file_and_the_environment_wins() {
    let file = [
        ("listen", "\"0.0.0.0:9000\""),
        ("data_dir", "\"/var/lib/apoyo\""),
        (
            "database_url",
            "\"postgres://apoyo:secreto@db.example/apoyo\"",
        ),
        ("object_store_url", "\"s3://apoyo-imagenes/dgo\""),
        ("public_url", "\"https://apoyo.iepc-dgo.example\""),
        ("secure_cookies", "false"),
        ("session_hours", "8"),
        ("login_max_failures", "4"),
        ("login_max_failures_per_client", "20"),
        ("login_window_minutes", "30"),
        ("trust_forwarded_for", "true"),
        ("max_json_bytes", "65536"),
        ("max_support_bytes", "5242880"),
        ("max_roll_upload_bytes", "1073741824"),
        ("job_lease_seconds", "120"),
        (
            "authority_name",
            "\"Instituto Electoral y de Participación Ciudadana de Durango\"",
        ),
        ("log_format", "\"json\""),
        ("log_level", "\"apoyo_server=debug,info\""),
    ];
    let environment = [
        ("listen", "127.0.0.1:7000"),
        ("data_dir", "/srv/apoyo"),
        ("database_url", "postgres://apoyo@127.0.0.1:5433/apoyo"),
        ("object_store_url", "s3://otro-bucket"),
        ("public_url", "http://localhost:7000"),
        ("secure_cookies", "true"),
        ("session_hours", "2"),
        ("login_max_failures", "9"),
        ("login_max_failures_per_client", "99"),
        ("login_window_minutes", "5"),
        ("trust_forwarded_for", "false"),
        ("max_json_bytes", "1024"),
        ("max_support_bytes", "2048"),
        ("max_roll_upload_bytes", "4096"),
        ("job_lease_seconds", "30"),
        ("authority_name", "IEPC Durango"),
        ("log_format", "pretty"),
        ("log_level", "warn"),
    ];
    let named = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, _)| (*k).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(named(&file), fields(), "this test sets every field");
    assert_eq!(named(&environment), fields(), "this test sets every field");

    Jail::expect_with(|jail| {
        jail.clear_env();
        let toml: String = file.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        jail.create_file("apoyo.toml", &toml)?;
        jail.create_file("otro.toml", "session_hours = 3\n")?;

        let config = load(None)?;
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/apoyo"));
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://apoyo:secreto@db.example/apoyo")
        );
        assert!(
            !format!("{config:?}").contains("secreto"),
            "the database password never reaches a log"
        );
        assert_eq!(
            config.object_store_url.as_deref(),
            Some("s3://apoyo-imagenes/dgo")
        );
        assert_eq!(config.public_url, "https://apoyo.iepc-dgo.example");
        assert_eq!(config.secure_cookies, Some(false));
        assert!(
            !config.cookies_secure(),
            "an explicit false wins over an https public_url"
        );
        assert_eq!(config.session_hours, 8);
        assert_eq!(config.login_max_failures, 4);
        assert_eq!(config.login_max_failures_per_client, 20);
        assert_eq!(config.login_window_minutes, 30);
        assert!(config.trust_forwarded_for);
        assert_eq!(config.max_json_bytes, 65_536);
        assert_eq!(config.max_support_bytes, 5_242_880);
        assert_eq!(config.max_roll_upload_bytes, 1_073_741_824);
        assert_eq!(config.job_lease_seconds, 120);
        assert_eq!(
            config.authority_name,
            "Instituto Electoral y de Participación Ciudadana de Durango"
        );
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.log_level, "apoyo_server=debug,info");

        // A named file replaces ./apoyo.toml; defaults fill the rest.
        let config = load(Some("otro.toml"))?;
        assert_eq!(config.session_hours, 3);
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(
            load(Some("no-existe.toml")).is_err(),
            "a named file must exist"
        );

        for (key, value) in environment {
            jail.set_env(format!("APOYO_{}", key.to_uppercase()), value);
        }
        let config = load(None)?;
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.data_dir, PathBuf::from("/srv/apoyo"));
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://apoyo@127.0.0.1:5433/apoyo")
        );
        assert_eq!(config.object_store_url.as_deref(), Some("s3://otro-bucket"));
        assert_eq!(config.public_url, "http://localhost:7000");
        assert_eq!(config.secure_cookies, Some(true));
        assert!(config.cookies_secure());
        assert_eq!(config.session_hours, 2);
        assert_eq!(config.login_max_failures, 9);
        assert_eq!(config.login_max_failures_per_client, 99);
        assert_eq!(config.login_window_minutes, 5);
        assert!(!config.trust_forwarded_for);
        assert_eq!(config.max_json_bytes, 1024);
        assert_eq!(config.max_support_bytes, 2048);
        assert_eq!(config.max_roll_upload_bytes, 4096);
        assert_eq!(config.job_lease_seconds, 30);
        assert_eq!(config.authority_name, "IEPC Durango");
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.log_level, "warn");
        Ok(())
    });
}

#[test]
fn apoyo_variables_that_are_not_configuration_do_not_break_it() {
    Jail::expect_with(|jail| {
        jail.clear_env();
        // The log filter (telemetry) and the test oracle of crates/domain share the prefix.
        jail.set_env("APOYO_LOG", "apoyo_server=debug");
        jail.set_env("APOYO_ORACLE_PYTHON", "/usr/bin/python3");
        jail.set_env("APOYO_BROWSER_TESTS", "required");
        jail.set_env("APOYO_OFFICE_TESTS", "required");
        let config = load(None)?;
        assert_eq!(config.log_level, "info");
        // A misspelt field is still refused, by name.
        jail.set_env("APOYO_SESION_HOURS", "4");
        let error = load(None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("sesion_hours"), "{error}");
        Ok(())
    });
}

#[test]
fn every_field_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    for field in fields() {
        let variable = format!("`APOYO_{}`", field.to_uppercase());
        assert!(
            doc.contains(&format!("`{field}`")),
            "docs/configuration.md does not document `{field}`"
        );
        assert!(
            doc.contains(&variable),
            "docs/configuration.md does not name {variable}"
        );
    }
    assert!(
        doc.contains("`APOYO_LOG`"),
        "docs/configuration.md does not document APOYO_LOG"
    );
}

#[test]
fn the_documented_example_file_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc
        .find("```toml\n")
        .expect("docs/configuration.md has an example apoyo.toml")
        + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    Jail::expect_with(|jail| {
        jail.clear_env();
        jail.create_file("apoyo.toml", example)?;
        let config = load(None)?;
        assert!(config.cookies_secure());
        assert_eq!(config.log_format, LogFormat::Json);
        Ok(())
    });
}
