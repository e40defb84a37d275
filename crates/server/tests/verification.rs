//! Verification of received supports by the background worker: outcomes against the
//! harness's roll, duplicates by the citizen's roll identity, the outcome history, the
//! independence from job order, and jobs surviving a restart.
//!
//! The harness's roll (tests/common/mod.rs): citizen `i` has credential rows with CIC
//! `200_000_000 + i*10 + emision` and identificador `100_000_000 + i*10 + emision`, so
//! `support_fields(_, i*10 + emision)` captures that credential. Citizens with
//! `i % 10` in 0..=4 live in municipio 5 (Durango, the world's office A).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use apoyo_server::worker::MAX_ATTEMPTS;
use serde_json::Value;

use common::{TestApp, World};

async fn sequence(app: &TestApp, support_id: i64) -> i64 {
    app.scalar(&format!(
        "SELECT sequence FROM supports WHERE id = {support_id}"
    ))
    .await
}

async fn receipt(app: &TestApp, world: &World, support_id: i64) -> Value {
    app.get(
        &format!("/api/v1/supports/{support_id}/receipt"),
        &world.admin.session.bearer(),
    )
    .await
    .expect(200)
    .body
}

/// (outcome, duplicate_of) from the receipt.
async fn outcome(app: &TestApp, world: &World, support_id: i64) -> (String, Option<i64>) {
    let body = receipt(app, world, support_id).await;
    assert!(body["verified_at"].as_str().unwrap().ends_with('Z'));
    (
        body["outcome"].as_str().unwrap().to_owned(),
        body["duplicate_of"].as_i64(),
    )
}

fn expect(outcome: &str) -> (String, Option<i64>) {
    (outcome.to_owned(), None)
}

#[backends]
async fn supports_are_verified_in_the_background_with_duplicates_and_history() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    // A second aspirant for office A (Durango), with a collector: B is on another office.
    let (aspirant_c, mut c_account) = app
        .register_aspirant(
            &world.admin.session,
            world.process_id,
            world.office_a,
            "Carmen Corral Cruz",
        )
        .await;
    let c_session = app.activate(&mut c_account).await;
    let (_, _, mut col_c_account) = app
        .register_collector(&c_session, aspirant_c, "Elisa Estrada Elías")
        .await;
    let col_c = app.activate(&mut col_c_account).await.bearer();

    let valid = app.send_credential(&col_a, 1).await; // citizen 0, lista nominal, Durango
    let not_found = app.send_credential(&col_a, 9_999_990).await; // no such CIC, no clave captured
    let padron = app.send_credential(&col_a, 511).await; // citizen 51: padrón only
    let baja = app.send_credential(&col_a, 71).await; // citizen 7: baja, suspensión de derechos
    let superseded = app.send_credential(&col_a, 31).await; // citizen 3: emisión 01 reemplazada by 02
    let elsewhere = app.send_credential(&col_a, 61).await; // citizen 6 lives in municipio 7
    let same_first = app.send_credential(&col_a, 11).await; // citizen 1, twice to aspirant A
    let same_second = app.send_credential(&col_a, 11).await;
    let other_first = app.send_credential(&col_a, 21).await; // citizen 2: A first, then C
    let other_second = app.send_credential(&col_c, 21).await;
    // Citizen 6 for B's office (Gómez Palacio, municipio 7): another office never conflicts.
    let other_office = app.send_credential(&world.col_b.session.bearer(), 61).await;
    app.all_verified().await;

    let same_first_seq = sequence(&app, same_first).await;
    let other_first_seq = sequence(&app, other_first).await;
    assert_eq!(outcome(&app, &world, valid).await, expect("valid"));
    assert_eq!(outcome(&app, &world, not_found).await, expect("not_found"));
    assert_eq!(outcome(&app, &world, padron).await, expect("register_only"));
    assert_eq!(
        outcome(&app, &world, baja).await,
        expect("removed:suspension_derechos")
    );
    assert_eq!(
        outcome(&app, &world, superseded).await,
        expect("superseded_credential")
    );
    assert_eq!(
        outcome(&app, &world, elsewhere).await,
        expect("out_of_territory")
    );
    assert_eq!(outcome(&app, &world, other_office).await, expect("valid"));
    assert_eq!(outcome(&app, &world, same_first).await, expect("valid"));
    assert_eq!(
        outcome(&app, &world, same_second).await,
        ("duplicate_same_aspirant".to_owned(), Some(same_first_seq))
    );
    assert_eq!(outcome(&app, &world, other_first).await, expect("valid"));
    assert_eq!(
        outcome(&app, &world, other_second).await,
        ("duplicate_other_aspirant".to_owned(), Some(other_first_seq))
    );
    // The collector who sent it sees the outcome too.
    let seen = app
        .get(&format!("/api/v1/supports/{baja}/receipt"), &col_a)
        .await
        .expect(200);
    assert_eq!(seen.body["outcome"], "removed:suspension_derechos");

    // Jobs ran in reception order: one outcome each so far.
    let store = app.store().await;
    for id in [valid, same_first, same_second, other_second] {
        let history = store.support_outcome_history(id).await.unwrap();
        assert_eq!(history.len(), 1, "support {id}: {history:?}");
    }

    // Verify the duplicate groups again from scratch, latest received first (as if the
    // workers had finished them in that order): the same outcomes.
    let group = [same_first, same_second, other_first, other_second];
    let ids = group.map(|id| id.to_string()).join(", ");
    app.execute_sql(&format!(
        "UPDATE supports SET citizen_clave = NULL, preliminary_outcome = NULL, outcome = NULL, \
             duplicate_of = NULL, verified_at = NULL WHERE id IN ({ids})"
    ))
    .await;
    for id in group.iter().rev() {
        store.verify_support(*id).await.unwrap();
    }
    assert_eq!(outcome(&app, &world, same_first).await, expect("valid"));
    assert_eq!(
        outcome(&app, &world, same_second).await,
        ("duplicate_same_aspirant".to_owned(), Some(same_first_seq))
    );
    assert_eq!(outcome(&app, &world, other_first).await, expect("valid"));
    assert_eq!(
        outcome(&app, &world, other_second).await,
        ("duplicate_other_aspirant".to_owned(), Some(other_first_seq))
    );

    // The later support was valid while alone in its group, then a duplicate: its
    // history keeps every outcome it had, one entry per change.
    let history: Vec<(String, Option<i64>)> = store
        .support_outcome_history(same_second)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.outcome, h.duplicate_of))
        .collect();
    assert_eq!(
        history,
        [
            ("duplicate_same_aspirant".to_owned(), Some(same_first_seq)),
            expect("valid"),
            ("duplicate_same_aspirant".to_owned(), Some(same_first_seq)),
        ]
    );
    // Verifying again changes nothing and records nothing.
    let before = app.scalar("SELECT COUNT(*) FROM support_outcomes").await;
    for id in group {
        store.verify_support(id).await.unwrap();
    }
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM support_outcomes").await,
        before
    );
    store.close().await;
    app.stop().await.unwrap();
}

#[backends]
async fn verification_jobs_survive_a_restart() {
    let mut app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let valid = app.send_credential(&col_a, 41).await; // citizen 4, Durango
    let first = app.send_credential(&col_a, 81).await; // citizen 8 lives in municipio 12
    let padron = app.send_credential(&col_a, 51).await; // citizen 5: padrón only
    let broken = app.send_credential(&col_a, 91).await;
    app.all_verified().await;
    app.stop_server().await;

    // As if the process had died with one job in hand and two not started (claimed long
    // ago: on PostgreSQL a job is taken back only once its lease has run out).
    app.execute_sql(
        "UPDATE supports SET citizen_clave = NULL, preliminary_outcome = NULL, outcome = NULL, \
         duplicate_of = NULL, verified_at = NULL",
    )
    .await;
    app.execute_sql(&format!(
            "UPDATE verification_jobs SET status = CASE support_id WHEN {valid} THEN 'running' ELSE 'pending' END, \
             attempts = CASE support_id WHEN {broken} THEN 0 ELSE attempts END, \
             updated_at = '2026-01-01T00:00:00Z'"
        ),
    )
    .await;
    // A support the worker cannot read: retried, then left failed.
    app.execute_sql(&format!(
        "UPDATE supports SET credential_json = 'not json' WHERE id = {broken}"
    ))
    .await;
    app.start_server().await;
    app.all_verified().await;
    assert_eq!(outcome(&app, &world, valid).await, expect("valid"));
    assert_eq!(
        outcome(&app, &world, first).await,
        expect("out_of_territory")
    );
    assert_eq!(outcome(&app, &world, padron).await, expect("register_only"));
    // The interrupted job was taken again: a second attempt.
    assert_eq!(
        app.scalar(&format!(
            "SELECT attempts FROM verification_jobs WHERE support_id = {valid}"
        ))
        .await,
        2
    );
    let failed = app.db().await;
    let (status, attempts, error): (String, i64, String) = sqlx::query_as(
        "SELECT status, attempts, last_error FROM verification_jobs WHERE support_id = $1",
    )
    .bind(broken)
    .fetch_one(&failed)
    .await
    .unwrap();
    failed.close().await;
    assert_eq!((status.as_str(), attempts), ("failed", MAX_ATTEMPTS));
    assert!(error.contains("credential"), "{error}");
    let body = receipt(&app, &world, broken).await;
    assert!(body["outcome"].is_null() && body["verified_at"].is_null());

    // The administrator sees the failed job with its error, fixes the cause and retries it.
    let admin = world.admin.session.bearer();
    let jobs = app
        .get("/api/v1/verification/jobs?status=failed", &admin)
        .await
        .expect(200)
        .body;
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["support_id"], broken);
    assert!(
        jobs[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("credential")
    );
    let job = jobs[0]["id"].as_i64().unwrap();
    app.get("/api/v1/verification/jobs?status=lost", &admin)
        .await
        .expect_error(400, "bad_request");
    app.execute_sql(&format!(
        "UPDATE supports SET credential_json = (SELECT credential_json FROM supports WHERE id = {valid}) \
         WHERE id = {broken}"
    ))
    .await;
    app.post_empty(&format!("/api/v1/verification/jobs/{job}/retry"), &admin)
        .await
        .expect(204);
    // Only a failed job can be retried.
    app.post_empty(&format!("/api/v1/verification/jobs/{job}/retry"), &admin)
        .await
        .expect_error(404, "not_found");
    app.all_verified().await;
    let body = receipt(&app, &world, broken).await;
    assert!(body["outcome"].is_string(), "{body}");
    let audit = app
        .get("/api/v1/audit?action=verification_job.retry", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(audit.as_array().map(Vec::len), Some(1));
    app.stop().await.unwrap();
}
