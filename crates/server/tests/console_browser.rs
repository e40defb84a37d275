//! Browser tests of the back office (`/console/`) in headless Chromium, driven by
//! `tests/browser/console.spec.mjs` (playwright-core, axe-core): the real server on a
//! random port with a fresh data directory, a process whose two aspirants have supports
//! (some found on the roll, some not), the whole sample under review and the hearing open.
//! A reviewer works the whole queue with the keyboard alone (twice the desk's claim of
//! the next support fails on the way, once only its answer lost), the aspirant contests a
//! rejection and sees it resolved, an aspirant is refused other aspirants' pages and staff
//! pages, the administrator creates an account; axe-core checks every page of every role
//! and any finding fails. Afterwards the API and the database are checked: every queued
//! support has exactly one desk decision, with what the spec pressed.
//!
//! Needs `chromium` (Debian) and `npm ci` in `tests/browser`; without them the test is
//! skipped with a message, unless `APOYO_BROWSER_TESTS=required` (CI), when it fails.
//! Every name and number here is synthetic (the harness roll of tests/common).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{Value, json};

use common::{Auth, TestApp, support_fields, support_images};

/// A support received from `collector` capturing the harness roll's credential `n`
/// (`i*10 + 1` is citizen `i`): (support id, folio).
async fn send(app: &TestApp, collector: &Auth, n: u32) -> (i64, String) {
    let client_id = format!("0190f1c2-cccc-7000-8000-{:012}", app.unique());
    let receipt = app
        .send_support(collector, &support_fields(&client_id, n), support_images(7))
        .await
        .expect(201)
        .body;
    (
        receipt["support_id"].as_i64().unwrap(),
        receipt["folio"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_by_keyboard_hearing_refusals_and_accessibility() {
    let Some(chromium) = common::chromium_or_skip("the console") else {
        return;
    };
    let started = Instant::now();
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let col_b = world.col_b.session.bearer();
    let admin = world.admin.session.bearer();
    let process = world.process_id;

    // Aspirant A (municipio 5): 21 citizens on the Lista Nominal (citizen 3's and 44's
    // cards were replaced, so not them), one only in the padrón (51), one removed (94)
    // and two credentials unknown to the roll: 25 supports, 21 for the desk.
    let mut queued = BTreeMap::new();
    let mut not_queued = BTreeMap::new();
    for i in [
        0u32, 1, 2, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 30, 31, 32, 33, 34, 40, 41,
    ] {
        let (id, folio) = send(&app, &col_a, i * 10 + 1).await;
        queued.insert(folio, id);
    }
    for n in [511, 941, 9_999_990, 9_999_980] {
        let (id, folio) = send(&app, &col_a, n).await;
        not_queued.insert(folio, id);
    }
    // Aspirant B (municipio 7): two on the Lista Nominal, one only in the padrón (5).
    let mut b_supports = Vec::new();
    for i in [6u32, 15, 5] {
        let (id, folio) = send(&app, &col_b, i * 10 + 1).await;
        if i == 5 {
            not_queued.insert(folio, id);
        } else {
            queued.insert(folio, id);
        }
        b_supports.push(id);
    }
    app.all_verified().await;
    let outcome = |id: i64| app.outcome(&admin, id);
    let mut roll_check = BTreeMap::new();
    for id in not_queued.values() {
        *roll_check.entry(outcome(*id).await).or_insert(0) += 1;
    }
    assert_eq!(roll_check.get("not_found"), Some(&2), "{roll_check:?}");
    assert!(
        roll_check.keys().all(|o| o != "valid"),
        "rejected by the roll check: {roll_check:?}"
    );
    for id in queued.values() {
        assert_eq!(outcome(*id).await, "valid");
    }

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
    let status = app
        .get(
            &format!("/api/v1/processes/{process}/review-status"),
            &admin,
        )
        .await
        .expect(200)
        .body;
    // The queue is filled when a reviewer asks for work: all of the found ones (100 %).
    let found: i64 = status
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["found"].as_i64().unwrap())
        .sum();
    assert_eq!(found, queued.len() as i64, "{status:#}");
    println!(
        "prepared {} supports ({} for the desk) in {:.1} s",
        queued.len() + not_queued.len(),
        queued.len(),
        started.elapsed().as_secs_f64()
    );

    let work = tempfile::tempdir().unwrap();
    let result_path = work.path().join("result.json");
    let account = |member: &common::Member| json!({"email": member.account.email, "password": member.account.password});
    let config = json!({
        "base": app.base,
        "chromium": chromium,
        "result": result_path,
        "process": process,
        "queued": queued.len(),
        "aspirant_a": world.aspirant_a,
        "aspirant_b": world.aspirant_b,
        "b_name": world.b_name,
        "b_support": b_supports[0],
        "admin": account(&world.admin),
        "reviewer": account(&world.reviewer),
        "aspirant": account(&world.a),
        "new_reviewer": {"email": app.unique_email("revisora"), "new_password": "revisora-nueva-2025"},
    });
    let config_path = work.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let browser_started = Instant::now();
    let (passed, result) =
        common::run_browser_spec("console.spec.mjs", config_path, &result_path).await;
    let browser_seconds = browser_started.elapsed().as_secs_f64();
    assert!(
        passed,
        "the browser spec failed (screenshots in {}): {result:#}",
        work.keep().display()
    );

    // The desk showed every queued support once, and nothing else.
    let decided: BTreeMap<String, &Value> = result["decided"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["folio"].as_str().unwrap().to_owned(), d))
        .collect();
    assert_eq!(
        decided.keys().collect::<BTreeSet<_>>(),
        queued.keys().collect::<BTreeSet<_>>(),
        "{result:#}"
    );

    // Through the API: one desk decision per queued support, as the spec pressed it
    // (the objection's resolution is a second record, of its own kind); none elsewhere.
    let reviewer = world.reviewer.session.bearer();
    let granted = result["objection"]["folio"].as_str().unwrap();
    for (folio, id) in &queued {
        let reviews = app
            .get(&format!("/api/v1/supports/{id}/reviews"), &reviewer)
            .await
            .expect(200)
            .body;
        let reviews = reviews.as_array().unwrap();
        let desk: Vec<&Value> = reviews.iter().filter(|r| r["kind"] == "review").collect();
        assert_eq!(desk.len(), 1, "{folio}: {reviews:?}");
        let pressed = decided[folio]["key"].as_str().unwrap();
        let desk = desk[0];
        assert_eq!(desk["reviewer_id"], world.reviewer.account.user_id);
        assert_eq!(
            desk["invalidates"],
            pressed != "V",
            "{folio} ({pressed}): {desk}"
        );
        assert_eq!(
            desk["inconsistencies"].as_array().unwrap().len(),
            usize::from(pressed != "V"),
            "{folio} ({pressed}): {desk}"
        );
        if pressed.starts_with('N') {
            assert_eq!(desk["note"], "Firma distinta a la de la credencial.");
        } else {
            assert_eq!(desk["note"], Value::Null, "{folio}: {desk}");
        }
        let others: Vec<&str> = reviews
            .iter()
            .filter(|r| r["kind"] != "review")
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        let expected: &[&str] = if folio == granted {
            &["objection"]
        } else {
            &[]
        };
        assert_eq!(others, expected, "{folio}: {reviews:?}");
    }
    for (folio, id) in &not_queued {
        let reviews = app
            .get(&format!("/api/v1/supports/{id}/reviews"), &reviewer)
            .await
            .expect(200)
            .body;
        assert_eq!(reviews, json!([]), "{folio} was not for the desk");
    }
    let status = app
        .get(
            &format!("/api/v1/processes/{process}/review-status"),
            &admin,
        )
        .await
        .expect(200)
        .body;
    let sum = |key: &str| -> i64 {
        status
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a[key].as_i64().unwrap())
            .sum()
    };
    assert_eq!(sum("queued"), 0, "{status:#}");
    assert_eq!(sum("reviewed"), queued.len() as i64, "{status:#}");

    // And in the database: no support decided twice at the desk; the marked ones are
    // out, but for the one whose objection was granted.
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM (SELECT support_id FROM reviews WHERE kind = 'review' \
             GROUP BY support_id HAVING COUNT(*) > 1) AS twice"
        )
        .await,
        0
    );
    let marked = decided.values().filter(|d| d["key"] != "V").count() as i64;
    assert!(marked >= 5, "{result:#}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM supports WHERE outcome = 'review_inconsistent'")
            .await,
        marked - 1
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM objections WHERE status = 'granted'")
            .await,
        1
    );
    assert_eq!(
        outcome(queued[granted]).await,
        "valid",
        "the granted support counts again"
    );

    // The account made with the form has the password chosen at its first login.
    let account = &result["account"];
    let session = app
        .login(
            account["email"].as_str().unwrap(),
            account["password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(session.user["role"], "reviewer");
    assert_eq!(session.user["must_change_password"], false);
    app.try_login(
        account["email"].as_str().unwrap(),
        account["one_time"].as_str().unwrap(),
    )
    .await
    .expect(401);

    let axe = result["axe"].as_object().unwrap();
    let roles: BTreeSet<&str> = axe.keys().map(|k| k.split(':').next().unwrap()).collect();
    assert!(axe.len() >= 35, "{} pages checked", axe.len());
    println!(
        "console: {} decisions by keyboard in {:.1} s; axe found nothing on {} pages ({}); \
         refused to the aspirant: {}; browser {:.1} s, whole test {:.1} s",
        decided.len(),
        result["desk_seconds"].as_f64().unwrap(),
        axe.len(),
        roles.into_iter().collect::<Vec<_>>().join(", "),
        result["refused"],
        browser_seconds,
        started.elapsed().as_secs_f64()
    );
    // What axe left undecided (short text, text over images) is for a person to look at.
    for (page, checked) in axe {
        let incomplete = checked["incomplete"].as_array().unwrap();
        if !incomplete.is_empty() {
            println!("axe, to check by eye on «{page}»: {incomplete:?}");
        }
    }
    app.stop().await.unwrap();
}
