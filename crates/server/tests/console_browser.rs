//! Browser tests of the back office (`/console/`) in headless Chromium, driven by
//! `tests/browser/console.spec.mjs` (playwright-core, axe-core): the real server on a
//! random port with a fresh data directory, a process with supports and an open hearing.
//! A reviewer works the whole queue with the keyboard alone, the aspirant contests a
//! rejection and sees it resolved, an aspirant is refused other aspirants' pages and staff
//! pages, the administrator creates an account; axe-core checks every page. Afterwards
//! the database is checked: every queued support has exactly one desk decision.
//!
//! Needs `chromium` (Debian) and `npm ci` in `tests/browser`; without them the test is
//! skipped with a message, unless `APOYO_BROWSER_TESTS=required` (CI), when it fails.
//! Every name and number here is synthetic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use common::TestApp;

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
async fn review_by_keyboard_hearing_and_accessibility() {
    let chromium = match prerequisites() {
        Ok(path) => path,
        Err(why) => {
            if std::env::var("APOYO_BROWSER_TESTS").as_deref() == Ok("required") {
                panic!("browser tests required (APOYO_BROWSER_TESTS=required) but {why}");
            }
            eprintln!("SKIPPED: browser tests of the console: {why}");
            return;
        }
    };
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let admin = world.admin.session.bearer();
    let process = world.process_id;

    // Sixteen citizens of office A on the roll (citizen 3's card was replaced), two
    // credentials unknown to the roll, and one support of aspirant B.
    for i in [
        0u32, 1, 2, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 30, 31,
    ] {
        app.send_credential(&col_a, i * 10 + 1).await;
    }
    for n in [9_999_990, 9_999_980] {
        app.send_credential(&col_a, n).await;
    }
    let b_support = app.send_credential(&world.col_b.session.bearer(), 51).await;
    app.all_verified().await;
    let today = apoyo_server::api::review::today().days_since_epoch();
    let day = |offset: i64| apoyo_domain::Date::from_days_since_epoch(today + offset).to_string();
    app.put(
        &format!("/api/v1/processes/{process}/review-settings"),
        &admin,
        json!({"sample_percent": 100, "full_review_trigger_percent": 100,
               "hearing_opens_on": day(-1), "hearing_closes_on": day(30)}),
    )
    .await
    .expect(204);

    let work = tempfile::tempdir().unwrap();
    let result_path = work.path().join("result.json");
    let account = |member: &common::Member| json!({"email": member.account.email, "password": member.account.password});
    let config = json!({
        "base": app.base,
        "chromium": chromium,
        "result": result_path,
        "process": process,
        "aspirant_a": world.aspirant_a,
        "aspirant_b": world.aspirant_b,
        "b_support": b_support,
        "admin": account(&world.admin),
        "reviewer": account(&world.reviewer),
        "aspirant": account(&world.a),
        "new_reviewer_email": app.unique_email("revisora"),
    });
    let config_path = work.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let spec = repo_root().join("tests/browser/console.spec.mjs");
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
    assert!(status.success(), "the browser spec failed: {result:#}");

    // Every support found on the roll was queued (sample 100 %) and decided once at the
    // desk, with the key the spec pressed.
    let decided = result["decided"].as_array().unwrap();
    let queued = app.scalar("SELECT COUNT(*) FROM review_items").await;
    assert_eq!(queued, 16, "{result:#}");
    assert_eq!(decided.len() as i64, queued, "{result:#}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reviews WHERE kind = 'review'")
            .await,
        queued
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM (SELECT support_id FROM reviews WHERE kind = 'review' \
             GROUP BY support_id HAVING COUNT(*) > 1) AS twice"
        )
        .await,
        0
    );
    let marked = decided.iter().filter(|d| d["key"] != "V").count() as i64;
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reviews WHERE kind = 'review' AND invalidates = 1")
            .await,
        marked
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM reviews WHERE note LIKE 'Firma distinta%'")
            .await,
        1
    );
    // The objection was granted: the support counts again.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM objections WHERE status = 'granted'")
            .await,
        1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM supports WHERE outcome = 'review_inconsistent'")
            .await,
        marked - 1
    );
    // The account made with the form logs in with its one-time password.
    let session = app
        .login(
            result["account"]["email"].as_str().unwrap(),
            result["account"]["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(session.user["role"], "reviewer");
    assert_eq!(session.user["must_change_password"], true);
    let axe = result["axe"].as_object().unwrap();
    println!(
        "console: {} decisions by keyboard, {} pages checked with axe",
        decided.len(),
        axe.len()
    );
    // Moderate and minor findings do not fail the test; they are printed to be seen.
    for (page, findings) in axe.iter().filter(|(_, f)| f != &&json!([])) {
        println!("axe (not failing) on «{page}»: {findings}");
    }
    app.stop().await.unwrap();
}
