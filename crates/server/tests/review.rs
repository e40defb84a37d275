//! The Mesa de Control over HTTP: the queue built from the policy (sample, then full review
//! when the sample shows too many inconsistencies), two reviewers never holding the same
//! support, decisions that change outcomes and counters, a supervisor's re-review, and the
//! hearing (an aspirant contests a rejection and a reviewer resolves it).
//!
//! Harness roll (tests/common/mod.rs): `send_credential(_, i*10 + 1)` captures citizen
//! `i`'s credential; citizens with `i % 10` in 0..=4 live in municipio 5 (office A).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use common::{Auth, TestApp, World};

async fn next(app: &TestApp, who: &Auth, process: i64, exclude: &[i64]) -> Option<Value> {
    let reply = app
        .post(
            &format!("/api/v1/processes/{process}/review/next"),
            who,
            json!({ "exclude": exclude }),
        )
        .await;
    match reply.status {
        200 => Some(reply.body),
        204 => None,
        other => panic!("next: {other} {}", reply.text),
    }
}

/// The counters recomputed from the supports.
async fn recount(app: &TestApp, aspirant: i64) -> BTreeMap<String, i64> {
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

async fn counters(app: &TestApp, aspirant: i64) -> BTreeMap<String, i64> {
    let db = app.db().await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT outcome, supports FROM aspirant_progress WHERE aspirant_id = $1 AND supports > 0",
    )
    .bind(aspirant)
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    rows.into_iter().collect()
}

#[backends]
async fn sample_full_review_exclusive_claims_and_rereview() {
    let app = TestApp::start().await;
    let world: World = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let admin = world.admin.session.bearer();
    let reviewer = world.reviewer.session.bearer();
    let process = world.process_id;

    // Ten citizens of office A (citizen 3's card was replaced: not one of them), then citizen 0 again (a duplicate that does not count).
    let mut supports = Vec::new();
    for i in [0u32, 1, 2, 4, 10, 11, 12, 13, 14, 20] {
        supports.push(app.send_credential(&col_a, i * 10 + 1).await);
    }
    let duplicate = app.send_credential(&col_a, 1).await;
    app.all_verified().await;
    assert_eq!(
        app.outcome(&admin, duplicate).await,
        "duplicate_same_aspirant"
    );

    // 20 % sample of 11 found on the roll = 3; more than 10 % inconsistent → full review.
    app.put(
        &format!("/api/v1/processes/{process}/review-settings"),
        &admin,
        json!({"sample_percent": 20, "full_review_trigger_percent": 10, "hearing_opens_on": null, "hearing_closes_on": null}),
    )
    .await
    .expect(204);
    // Bad policies are refused in Spanish.
    let bad = app
        .put(
            &format!("/api/v1/processes/{process}/review-settings"),
            &admin,
            json!({"sample_percent": 0, "full_review_trigger_percent": 10, "hearing_opens_on": null, "hearing_closes_on": null}),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(bad.message().contains("muestra"), "{}", bad.message());

    // The reviewer and the administrator take different supports; a third call by the
    // reviewer, with both of theirs on screen, gets the last sampled one, then nothing.
    let first = next(&app, &reviewer, process, &[]).await.unwrap();
    let first_id = first["support_id"].as_i64().unwrap();
    assert!(first["roll"]["name"].as_str().is_some(), "{first}");
    assert!(first["image_urls"]["front"].as_str().is_some());
    // Asking again without excluding it gives the same support back (still held).
    let again = next(&app, &reviewer, process, &[]).await.unwrap();
    assert_eq!(again["support_id"], first_id);
    let by_admin = next(&app, &admin, process, &[]).await.unwrap();
    let admin_id = by_admin["support_id"].as_i64().unwrap();
    assert_ne!(
        admin_id, first_id,
        "two reviewers never hold the same support"
    );
    let second = next(&app, &reviewer, process, &[first_id]).await.unwrap();
    let second_id = second["support_id"].as_i64().unwrap();
    assert!(![first_id, admin_id].contains(&second_id));
    assert!(
        next(&app, &reviewer, process, &[first_id, second_id])
            .await
            .is_none()
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM review_items").await, 3);

    // Someone else's support cannot be decided; an unknown code is refused.
    app.post(
        &format!("/api/v1/supports/{admin_id}/review"),
        &reviewer,
        json!({"inconsistencies": []}),
    )
    .await
    .expect_error(409, "conflict");
    let unknown = app
        .post(
            &format!("/api/v1/supports/{first_id}/review"),
            &reviewer,
            json!({"inconsistencies": ["no_existe"]}),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(unknown.message().contains("no_existe"));

    // A photocopy: the support stops counting; 1 of a 3-sample exceeds 10 % → full review.
    let decided = app
        .post(
            &format!("/api/v1/supports/{first_id}/review"),
            &reviewer,
            json!({"inconsistencies": ["photocopy"], "note": "Imagen en blanco y negro."}),
        )
        .await
        .expect(200);
    assert_eq!(decided.body["invalidates"], true);
    assert_eq!(decided.body["outcome"], "review_inconsistent");
    assert_eq!(decided.body["full_review_started"], true);
    // When the invalidated support was citizen 0's, the later capture counts instead.
    if first_id == supports[0] {
        assert_eq!(app.outcome(&admin, duplicate).await, "valid");
    }
    assert_eq!(
        counters(&app, world.aspirant_a).await,
        recount(&app, world.aspirant_a).await
    );

    let status = app
        .get(
            &format!("/api/v1/processes/{process}/review-status"),
            &admin,
        )
        .await
        .expect(200);
    let a = status
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["aspirant_id"] == world.aspirant_a)
        .unwrap()
        .clone();
    assert_eq!(a["full_review"], true, "{a}");
    assert_eq!(a["invalidated"], 1);

    // Full review: every support found on the roll reaches the queue; work it to the end.
    app.post(
        &format!("/api/v1/supports/{admin_id}/review"),
        &admin,
        json!({"inconsistencies": []}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/supports/{second_id}/review"),
        &reviewer,
        json!({}),
    )
    .await
    .expect(200);
    let mut decided_in_full = 0;
    while let Some(task) = next(&app, &reviewer, process, &[]).await {
        let id = task["support_id"].as_i64().unwrap();
        app.post(
            &format!("/api/v1/supports/{id}/review"),
            &reviewer,
            json!({"inconsistencies": []}),
        )
        .await
        .expect(200);
        decided_in_full += 1;
        assert!(decided_in_full <= 20, "the queue does not end");
    }
    // 11 found on the roll (the duplicate too), 3 of them in the sample.
    assert_eq!(decided_in_full, 8);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM review_items WHERE status = 'done'")
            .await,
        11
    );

    // The supervisor re-reviews the photocopy: valid after all; the duplicate is a
    // duplicate again.
    let rereview = app
        .post(
            &format!("/api/v1/supports/{first_id}/review"),
            &admin,
            json!({"inconsistencies": [], "note": "La imagen es legible en el original."}),
        )
        .await
        .expect(200);
    assert_eq!(rereview.body["outcome"], "valid");
    assert_eq!(
        app.outcome(&admin, duplicate).await,
        "duplicate_same_aspirant"
    );
    let history = app
        .get(&format!("/api/v1/supports/{first_id}/reviews"), &admin)
        .await
        .expect(200);
    let kinds: Vec<&str> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["review", "rereview"]);
    // The aspirant sees the decisions without the reviewers' names.
    let seen = app
        .get(
            &format!("/api/v1/supports/{first_id}/reviews"),
            &world.a.session.bearer(),
        )
        .await
        .expect(200);
    assert!(
        !seen.text.contains(&world.reviewer.account.email),
        "{}",
        seen.text
    );

    // Decisions per reviewer per hour add up to every decision.
    let hours = app.get("/api/v1/reviewers/hours", &admin).await.expect(200);
    let total: i64 = hours
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["decisions"].as_i64().unwrap())
        .sum();
    assert_eq!(total, app.scalar("SELECT COUNT(*) FROM reviews").await);
    assert_eq!(
        counters(&app, world.aspirant_a).await,
        recount(&app, world.aspirant_a).await
    );

    // Collectors and aspirants cannot take reviews.
    app.post(
        &format!("/api/v1/processes/{process}/review/next"),
        &col_a,
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/processes/{process}/review/next"),
        &world.a.session.bearer(),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
}

#[backends]
async fn an_aspirant_contests_rejections_and_a_reviewer_resolves_them() {
    let app = TestApp::start().await;
    let world: World = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let admin = world.admin.session.bearer();
    let reviewer = world.reviewer.session.bearer();
    let aspirant = world.a.session.bearer();
    let process = world.process_id;

    let valid = app.send_credential(&col_a, 1).await;
    let not_found = app.send_credential(&col_a, 9_999_990).await;
    let b_support = app.send_credential(&world.col_b.session.bearer(), 51).await;
    app.all_verified().await;
    app.put(
        &format!("/api/v1/processes/{process}/review-settings"),
        &admin,
        json!({"sample_percent": 100, "full_review_trigger_percent": 100, "hearing_opens_on": null, "hearing_closes_on": null}),
    )
    .await
    .expect(204);
    let task = next(&app, &reviewer, process, &[]).await.unwrap();
    assert_eq!(task["support_id"], valid);
    app.post(
        &format!("/api/v1/supports/{valid}/review"),
        &reviewer,
        json!({"inconsistencies": ["screen_image", "no_signature"]}),
    )
    .await
    .expect(200);
    assert_eq!(app.outcome(&admin, valid).await, "review_inconsistent");

    let argument = json!({"argument": "La credencial es física; la foto se tomó con poca luz y la firma está al reverso."});
    // Before the hearing opens: refused, saying why.
    let closed = app
        .post(
            &format!("/api/v1/supports/{valid}/objections"),
            &aspirant,
            argument.clone(),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(
        closed.message().contains("audiencia"),
        "{}",
        closed.message()
    );
    app.get(&format!("/api/v1/supports/{valid}/images/front"), &aspirant)
        .await
        .expect_error(403, "forbidden");

    let today = apoyo_server::api::review::today();
    let window = json!({
        "sample_percent": 100, "full_review_trigger_percent": 100,
        "hearing_opens_on": apoyo_domain::Date::from_days_since_epoch(today.days_since_epoch() - 1).to_string(), "hearing_closes_on": apoyo_domain::Date::from_days_since_epoch(today.days_since_epoch() + 2).to_string(),
    });
    app.put(
        &format!("/api/v1/processes/{process}/review-settings"),
        &admin,
        window,
    )
    .await
    .expect(204);
    // The aspirant sees the rejected support's images during the hearing (audited)...
    app.get(&format!("/api/v1/supports/{valid}/images/front"), &aspirant)
        .await
        .expect(200);
    // ...but not another aspirant's support, nor the review desk.
    app.get(
        &format!("/api/v1/supports/{b_support}/images/front"),
        &aspirant,
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/supports/{b_support}/objections"),
        &aspirant,
        argument.clone(),
    )
    .await
    .expect_error(404, "not_found");
    // Too short an argument.
    app.post(
        &format!("/api/v1/supports/{valid}/objections"),
        &aspirant,
        json!({"argument": "Está bien."}),
    )
    .await
    .expect_error(422, "unprocessable");

    let filed = app
        .post(
            &format!("/api/v1/supports/{valid}/objections"),
            &aspirant,
            argument.clone(),
        )
        .await
        .expect(201);
    let objection = filed.body["id"].as_i64().unwrap();
    assert_eq!(filed.body["status"], "open");
    assert_eq!(filed.body["outcome_at_filing"], "review_inconsistent");
    app.post(
        &format!("/api/v1/supports/{valid}/objections"),
        &aspirant,
        argument.clone(),
    )
    .await
    .expect_error(409, "conflict");
    let roll_objection = app
        .post(
            &format!("/api/v1/supports/{not_found}/objections"),
            &aspirant,
            argument.clone(),
        )
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();

    // Open objections for the desk; the aspirant sees theirs.
    let open = app
        .get("/api/v1/objections?status=open", &reviewer)
        .await
        .expect(200);
    assert_eq!(open.body.as_array().unwrap().len(), 2);
    let of_b = app
        .get("/api/v1/objections", &world.b.session.bearer())
        .await
        .expect(200);
    assert_eq!(of_b.body, json!([]));

    // A roll rejection cannot be granted; it is answered.
    app.post(
        &format!("/api/v1/objections/{roll_objection}/resolution"),
        &reviewer,
        json!({"granted": true, "note": "Se revisó la captura."}),
    )
    .await
    .expect_error(422, "unprocessable");
    app.post(
        &format!("/api/v1/objections/{roll_objection}/resolution"),
        &reviewer,
        json!({"granted": false, "note": "La credencial no aparece en la Lista Nominal del corte."}),
    )
    .await
    .expect(200);

    // The review rejection is granted: the support counts again.
    let resolved = app
        .post(
            &format!("/api/v1/objections/{objection}/resolution"),
            &reviewer,
            json!({"granted": true, "note": "Con el argumento se confirma que es la credencial física."}),
        )
        .await
        .expect(200);
    assert_eq!(resolved.body["status"], "granted");
    assert_eq!(app.outcome(&admin, valid).await, "valid");
    app.post(
        &format!("/api/v1/objections/{objection}/resolution"),
        &admin,
        json!({"granted": false, "note": "Segundo intento de resolver."}),
    )
    .await
    .expect_error(409, "conflict");

    // Both sides see the whole record.
    let seen = app
        .get(&format!("/api/v1/objections/{objection}"), &aspirant)
        .await
        .expect(200);
    assert_eq!(seen.body["status_label"], "Procedente");
    assert!(
        seen.body["resolution_note"]
            .as_str()
            .unwrap()
            .contains("credencial física")
    );
    let kinds: Vec<String> = app
        .get(&format!("/api/v1/supports/{valid}/reviews"), &aspirant)
        .await
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["review", "objection"]);
    let actions = app.audit_actions("objection", &admin).await;
    assert_eq!(
        actions.iter().filter(|a| **a == "objection.file").count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "objection.resolve")
            .count(),
        2
    );
    assert_eq!(
        counters(&app, world.aspirant_a).await,
        recount(&app, world.aspirant_a).await
    );
}
