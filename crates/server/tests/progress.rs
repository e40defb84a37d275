//! Progress per aspirant (counters kept by triggers), batch re-verification when a
//! process moves to a new roll snapshot, and one support with its images.
//!
//! Harness roll (tests/common/mod.rs): `send_credential(_, i*10 + emision)` captures
//! citizen `i`'s credential; citizens with `i % 10` in 0..=4 live in municipio 5 (office A).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeMap;

use apoyo_domain::Date;
use serde_json::{Value, json};

use common::{Auth, TestApp, roll_file};

async fn progress(app: &TestApp, auth: &Auth, aspirant: i64) -> Value {
    app.get(&format!("/api/v1/aspirants/{aspirant}/progress"), auth)
        .await
        .expect(200)
        .body
}

/// The counters recomputed the slow way, straight from the supports.
async fn counted(app: &TestApp, aspirant: i64) -> BTreeMap<String, i64> {
    let db = app.db().await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT COALESCE(outcome, 'pending'), COUNT(*) FROM supports WHERE aspirant_id = $1 GROUP BY 1",
    )
    .bind(aspirant)
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    rows.into_iter().collect()
}

fn figures(progress: &Value) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (key, field) in [("pending", "pending"), ("valid", "valid")] {
        let n = progress[field].as_i64().unwrap();
        if n > 0 {
            out.insert(key.to_owned(), n);
        }
    }
    for rejected in progress["rejected"].as_array().unwrap() {
        out.insert(
            rejected["outcome"].as_str().unwrap().to_owned(),
            rejected["supports"].as_i64().unwrap(),
        );
    }
    out
}

#[backends]
async fn progress_is_exact_and_follows_a_new_roll_snapshot() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let aspirant = world.a.session.bearer();

    let first_valid = app.send_credential(&col_a, 1).await; // citizen 0
    let second_valid = app.send_credential(&col_a, 11).await; // citizen 1
    let duplicate = app.send_credential(&col_a, 11).await;
    app.send_credential(&col_a, 511).await; // padrón only
    app.send_credential(&col_a, 71).await; // baja
    app.send_credential(&col_a, 9_999_990).await; // not found
    app.send_credential(&col_a, 61).await; // lives in another municipio
    let before = progress(&app, &aspirant, world.aspirant_a).await;
    assert_eq!(before["received"], 7);
    app.all_verified().await;

    let now = progress(&app, &aspirant, world.aspirant_a).await;
    assert_eq!(now["received"], 7);
    assert_eq!(now["pending"], 0);
    assert_eq!(now["valid"], 2);
    assert_eq!(figures(&now), counted(&app, world.aspirant_a).await);
    let expected: BTreeMap<String, i64> = [
        ("valid", 2),
        ("duplicate_same_aspirant", 1),
        ("register_only", 1),
        ("removed:suspension_derechos", 1),
        ("not_found", 1),
        ("out_of_territory", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(figures(&now), expected);
    let labels: Vec<&str> = now["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.iter().all(|l| !l.is_empty() && !l.contains('_')),
        "{labels:?}"
    );
    // Threshold: 3 % of municipio 5's roll, rounded up.
    let required = now["required_supports"].as_i64().unwrap();
    assert_eq!(
        required,
        (app.roll.lista_nominal_of_municipality(5) * 300 + 9_999) / 10_000
    );
    assert_eq!(now["missing"], (required - 2).max(0));
    assert_eq!(now["threshold_reached"], required <= 2);
    // Dispersion: each sección with a valid support is counted in its own row.
    let dispersion = &now["dispersion"];
    let sections = dispersion["sections"].as_array().unwrap();
    assert_eq!(
        sections.len(),
        app.roll.sections_of(5).len(),
        "one row per sección of the office"
    );
    let valid_in_rows: i64 = sections.iter().map(|s| s["valid"].as_i64().unwrap()).sum();
    assert_eq!(valid_in_rows, 2);
    let reached = sections.iter().filter(|s| s["reached"] == true).count() as i64;
    assert_eq!(dispersion["sections_reached"], reached);
    assert_eq!(
        dispersion["reached"],
        reached >= dispersion["sections_needed"].as_i64().unwrap()
    );
    for section in sections {
        assert!(section["needs"].as_i64().unwrap() >= 1);
        assert!(section["lista_nominal"].as_i64().unwrap() > 0);
    }

    // A new cut where citizens 0 and 1 died: every support naming them is a baja now.
    let (file, _) = roll_file();
    let file: String = file
        .lines()
        .map(|line| {
            let dies = line.contains(",200000001,") || line.contains(",200000011,");
            if dies {
                assert!(line.ends_with(",lista_nominal,"), "{line}");
                format!(
                    "{}baja,defuncion\n",
                    line.trim_end_matches("lista_nominal,")
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    app.import_snapshot("corte-2025-01-15", Date::new(2025, 1, 15).unwrap(), file)
        .await;
    let admin = world.admin.session.bearer();
    let changed = app
        .put(
            &format!("/api/v1/processes/{}/roll-snapshot", world.process_id),
            &admin,
            json!({ "roll_snapshot": "corte-2025-01-15" }),
        )
        .await
        .expect(202);
    assert_eq!(changed.body["process"]["roll_snapshot"], "corte-2025-01-15");
    assert_eq!(changed.body["reverification"]["status"], "pending");
    // The threshold is the cut's: a new snapshot does not move it.
    assert_eq!(
        progress(&app, &aspirant, world.aspirant_a).await["required_supports"],
        required
    );
    app.all_reverified().await;

    let runs = app
        .get(
            &format!("/api/v1/processes/{}/reverifications", world.process_id),
            &admin,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(runs[0]["status"], "done", "{runs}");
    assert_eq!(runs[0]["supports"], 7);
    assert_eq!(runs[0]["changed"], 3);
    for support in [first_valid, second_valid, duplicate] {
        assert_eq!(
            app.outcome(&world.admin.session.bearer(), support).await,
            "removed:defuncion"
        );
    }
    let after = progress(&app, &aspirant, world.aspirant_a).await;
    assert_eq!(after["valid"], 0);
    assert_eq!(figures(&after), counted(&app, world.aspirant_a).await);
    assert_eq!(figures(&after)["removed:defuncion"], 3);
    assert_eq!(after["dispersion"]["sections_reached"], 0);
    let rows: i64 = after["dispersion"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["valid"].as_i64().unwrap())
        .sum();
    assert_eq!(rows, 0);

    // The history keeps both decisions, each with its snapshot.
    let detail = app
        .get(&format!("/api/v1/supports/{duplicate}"), &admin)
        .await
        .expect(200)
        .body;
    let history: Vec<(&str, Option<i64>)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["outcome"].as_str().unwrap(), h["duplicate_of"].as_i64()))
        .collect();
    let first_sequence = app
        .get(&format!("/api/v1/supports/{second_valid}"), &admin)
        .await
        .expect(200)
        .body["receipt"]["sequence"]
        .as_i64();
    assert_eq!(
        history,
        vec![
            ("duplicate_same_aspirant", first_sequence),
            ("removed:defuncion", None)
        ]
    );
    let snapshots: Vec<i64> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["snapshot_id"].as_i64().unwrap())
        .collect();
    assert_ne!(snapshots[0], snapshots[1]);

    // Running it again changes nothing and adds no history.
    app.put(
        &format!("/api/v1/processes/{}/roll-snapshot", world.process_id),
        &admin,
        json!({ "roll_snapshot": "corte-2025-01-15" }),
    )
    .await
    .expect(202);
    app.all_reverified().await;
    let runs = app
        .get(
            &format!("/api/v1/processes/{}/reverifications", world.process_id),
            &admin,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(runs[0]["changed"], 0, "{runs}");
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM support_outcomes").await,
        7 + 3,
        "one entry per support, plus one per change"
    );
    // An unknown snapshot is refused in Spanish, and nothing changes.
    let refused = app
        .put(
            &format!("/api/v1/processes/{}/roll-snapshot", world.process_id),
            &admin,
            json!({ "roll_snapshot": "no-existe" }),
        )
        .await
        .expect(422);
    assert!(
        refused.message().contains("no-existe"),
        "{}",
        refused.message()
    );
    // The change is in the audit log.
    let audit = app
        .get("/api/v1/audit?action=process.roll_snapshot", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(audit.as_array().map(Vec::len), Some(2), "{audit}");
}

#[backends]
async fn one_support_with_its_images_for_staff_and_masked_for_the_aspirant() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let support = app.send_credential(&world.col_a.session.bearer(), 1).await;
    app.all_verified().await;
    let admin = world.admin.session.bearer();
    let reviewer = world.reviewer.session.bearer();

    let full = app
        .get(&format!("/api/v1/supports/{support}"), &reviewer)
        .await
        .expect(200)
        .body;
    assert_eq!(full["receipt"]["outcome"], "valid");
    assert_eq!(
        full["outcome_label"].as_str().map(str::is_empty),
        Some(false)
    );
    assert_eq!(full["credential"]["cic"], "200000001");
    assert!(full["captured_at"].is_string());
    let clave = full["citizen_clave"].as_str().unwrap();
    assert_eq!(clave.len(), 18);
    assert!(!clave.contains('*'));
    assert!(full["citizen_section"].is_i64());
    let urls = full["image_urls"].as_object().unwrap();
    assert_eq!(urls.len(), 4);
    for image in full["receipt"]["images"].as_array().unwrap() {
        let kind = image["kind"].as_str().unwrap();
        let url = urls[kind].as_str().unwrap();
        let response = app
            .http
            .get(app.url(url))
            .bearer_auth(match &reviewer {
                Auth::Bearer(token) => token.clone(),
                _ => unreachable!(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            image["content_type"].as_str().unwrap()
        );
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        let bytes = response.bytes().await.unwrap();
        assert_eq!(
            apoyo_store::sha256_hex(&bytes),
            image["sha256"].as_str().unwrap()
        );
    }
    app.get(&format!("/api/v1/supports/{support}/images/selfie"), &admin)
        .await
        .expect_error(404, "not_found");

    // The aspirant: outcome and masked clave, nothing captured, no images.
    let aspirant = world.a.session.bearer();
    let masked = app
        .get(&format!("/api/v1/supports/{support}"), &aspirant)
        .await
        .expect(200)
        .body;
    assert_eq!(masked["receipt"]["outcome"], "valid");
    assert!(masked["citizen_clave"].as_str().unwrap().contains('*'));
    for hidden in [
        "credential",
        "precheck_failed",
        "captured_at",
        "location",
        "image_urls",
    ] {
        assert!(masked[hidden].is_null(), "{hidden}: {masked}");
    }
    app.get(
        &format!("/api/v1/supports/{support}/images/front"),
        &aspirant,
    )
    .await
    .expect_error(403, "forbidden");

    // Every staff look is in the audit log.
    let audit = app
        .get("/api/v1/audit?action=support.image.view", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(audit.as_array().map(Vec::len), Some(4), "{audit}");
    let views = app
        .get("/api/v1/audit?action=support.view", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(views.as_array().map(Vec::len), Some(1), "{views}");
}
