//! Browser test of the Lista Nominal page (`/console/roll`) in headless Chromium, driven
//! by `tests/browser/roll.spec.mjs` (playwright-core, axe-core): the administrator uploads
//! a good roll file with the page's form and sees it imported, then a file with a broken
//! line and sees the line named; axe-core checks the page in each state. Afterwards the
//! API is checked: the good snapshot exists with every row, the broken one does not.
//!
//! Needs `chromium` (Debian) and `npm ci` in `tests/browser`; without them the test is
//! skipped with a message, unless `APOYO_BROWSER_TESTS=required` (CI), when it fails.
//! Every name and number here is synthetic (the harness roll of tests/common).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, roll_file};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Chromium, node and the npm packages, or why the test cannot run.
fn prerequisites() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "{} not found (apt-get install chromium, or set CHROMIUM_PATH)",
            chromium.display()
        ));
    }
    if !Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("node not found".into());
    }
    let modules = repo_root().join("tests/browser/node_modules");
    for package in ["playwright-core", "axe-core"] {
        if !modules.join(package).is_dir() {
            return Err(format!(
                "{package} not installed (cd tests/browser && npm ci)"
            ));
        }
    }
    Ok(chromium)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_a_roll_from_the_page() {
    let chromium = match prerequisites() {
        Ok(path) => path,
        Err(why) => {
            if std::env::var("APOYO_BROWSER_TESTS").as_deref() == Ok("required") {
                panic!("browser tests required (APOYO_BROWSER_TESTS=required) but {why}");
            }
            eprintln!("SKIPPED: browser test of the Lista Nominal page: {why}");
            return;
        }
    };
    let app = TestApp::start().await;
    let work = tempfile::tempdir().unwrap();
    let (file, roll) = roll_file();
    let good = work.path().join("lista-nominal.csv");
    std::fs::write(&good, &file).unwrap();
    // Line 5 (the header is line 1) gets a sexo that is neither H nor M.
    let mut lines: Vec<String> = file.lines().map(str::to_owned).collect();
    let mut fields: Vec<&str> = lines[4].split(',').collect();
    fields[5] = "X";
    lines[4] = fields.join(",");
    let broken = work.path().join("lista-nominal-rota.csv");
    std::fs::write(&broken, lines.join("\n") + "\n").unwrap();

    let result_path = work.path().join("result.json");
    let config = json!({
        "base": app.base,
        "chromium": chromium,
        "result": result_path,
        "admin": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        "good_file": good,
        "good_name": "LN-navegador",
        "broken_file": broken,
        "broken_name": "LN-navegador-rota",
    });
    let config_path = work.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let spec = repo_root().join("tests/browser/roll.spec.mjs");
    let status = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(spec)
            .arg(config_path)
            .current_dir(repo_root().join("tests/browser"))
            .status()
    })
    .await
    .unwrap()
    .unwrap();
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(&result_path).unwrap_or_default())
            .unwrap_or(Value::Null);
    assert!(
        status.success(),
        "the browser spec failed (screenshot in {}): {result:#}",
        work.keep().display()
    );
    assert_eq!(result["axe"].as_object().unwrap().len(), 4, "{result:#}");
    let rows = roll.rows.to_string();
    let done = result["done"].as_str().unwrap();
    let grouped = format!("{},{}", &rows[..rows.len() - 3], &rows[rows.len() - 3..]);
    assert!(done.contains(&rows) || done.contains(&grouped), "{done}");
    assert!(
        result["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "Importación terminada"),
        "{result:#}"
    );

    let admin = app.login_admin().await.bearer();
    let snapshots = app.get("/api/v1/roll/snapshots", &admin).await.expect(200);
    let found: Vec<(&str, i64)> = snapshots
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["rows"].as_i64().unwrap()))
        .collect();
    assert!(
        found.contains(&("LN-navegador", roll.rows as i64)),
        "{found:?}"
    );
    assert!(!found.iter().any(|(name, _)| *name == "LN-navegador-rota"));
}
