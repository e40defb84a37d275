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

use serde_json::json;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, roll_file};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_a_roll_from_the_page() {
    let Some(chromium) = common::chromium_or_skip("the Lista Nominal page") else {
        return;
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
    let (passed, result) =
        common::run_browser_spec("roll.spec.mjs", config_path, &result_path).await;
    assert!(
        passed,
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
