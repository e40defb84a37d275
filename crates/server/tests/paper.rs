//! Paper supports (régimen de excepción) captured by OPL staff: reception, idempotency,
//! refusals, and verification against the municipios where paper is allowed.
//!
//! Harness roll: `support_fields(_, i*10 + 1)` captures citizen `i`'s credential; citizens
//! with `i % 10` in 0..=4 live in municipio 5 (office A). The harness process allows paper
//! in municipio 12 only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use common::{TestApp, support_fields, support_images};
use serde_json::json;

#[backends]
async fn paper_supports_are_received_once_and_verified_against_the_paper_municipios() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let reviewer = world.reviewer.session.bearer();
    let admin = world.admin.session.bearer();

    // Citizen 0 lives in municipio 5, where paper is not allowed.
    let cedula = support_fields("papel-0000-0001", 1);
    let refused = app
        .send_paper_support(&reviewer, world.aspirant_a, &cedula)
        .await
        .expect(201);
    assert_eq!(refused.body["folio"].as_str().unwrap().len(), 1 + 1 + 8);
    // The same cédula sent again: same receipt, stored once.
    let again = app
        .send_paper_support(&reviewer, world.aspirant_a, &cedula)
        .await
        .expect(200);
    assert_eq!(again.body["support_id"], refused.body["support_id"]);
    // The same client id with other content is a conflict.
    app.send_paper_support(
        &reviewer,
        world.aspirant_a,
        &support_fields("papel-0000-0001", 11),
    )
    .await
    .expect_error(409, "conflict");
    // Another staff member may use the same client id: it is theirs.
    app.send_paper_support(
        &admin,
        world.aspirant_a,
        &support_fields("papel-0000-0001", 21),
    )
    .await
    .expect(201);

    // Municipio 5 becomes a paper municipio: citizen 4's cédula, verified after, counts.
    app.all_verified().await;
    app.execute_sql(&format!(
        "INSERT INTO process_paper_municipalities (process_id, state, municipality) VALUES ({}, 10, 5)",
        world.process_id
    ))
    .await;
    let allowed = app
        .send_paper_support(
            &reviewer,
            world.aspirant_a,
            &support_fields("papel-0000-0002", 31 + 10),
        )
        .await
        .expect(201);
    app.all_verified().await;
    let outcome = |id: i64| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.get(&format!("/api/v1/supports/{id}"), &admin)
                .await
                .expect(200)
                .body
        }
    };
    let first = outcome(refused.body["support_id"].as_i64().unwrap()).await;
    assert_eq!(first["receipt"]["outcome"], "paper_not_allowed", "{first}");
    assert_eq!(first["paper"], true);
    assert!(
        first["image_urls"]
            .as_object()
            .unwrap()
            .contains_key("signature")
    );
    assert!(
        !first["image_urls"]
            .as_object()
            .unwrap()
            .contains_key("live_photo")
    );
    let second = outcome(allowed.body["support_id"].as_i64().unwrap()).await;
    assert_eq!(second["receipt"]["outcome"], "valid", "{second}");

    // The aspirant's list marks them as paper with no collector.
    let list = app
        .get(
            &format!("/api/v1/aspirants/{}/supports", world.aspirant_a),
            &world.a.session.bearer(),
        )
        .await
        .expect(200)
        .body;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|i| i["paper"] == true && i["collector_id"].is_null())
    );
    let audit = app
        .get("/api/v1/audit?action=support.paper.receive", &admin)
        .await
        .expect(200)
        .body;
    assert_eq!(audit.as_array().map(Vec::len), Some(3));
}

#[backends]
async fn paper_supports_refuse_what_does_not_belong_on_paper() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let reviewer = world.reviewer.session.bearer();
    let path = format!("/api/v1/aspirants/{}/paper-supports", world.aspirant_a);
    let mut fields = support_fields("papel-0000-0100", 1);
    fields.as_object_mut().unwrap().remove("location");

    // A live photo has no place on paper, and the signed cédula is required.
    let with_live = app
        .send_multipart(&path, &reviewer, &fields, support_images(1))
        .await
        .expect_error(400, "bad_request");
    assert!(
        with_live.message().contains("live_photo"),
        "{}",
        with_live.message()
    );
    let without_signature: Vec<_> = support_images(1)
        .into_iter()
        .filter(|(n, ..)| *n == "front" || *n == "back")
        .collect();
    let missing = app
        .send_multipart(&path, &reviewer, &fields, without_signature)
        .await
        .expect_error(400, "bad_request");
    assert!(
        missing.message().contains("signature"),
        "{}",
        missing.message()
    );
    // A location is refused rather than dropped.
    let mut located = support_fields("papel-0000-0101", 1);
    located["location"] = json!({"latitude": 24.0, "longitude": -104.6});
    let parts: Vec<_> = support_images(1)
        .into_iter()
        .filter(|(n, ..)| *n != "live_photo")
        .collect();
    app.send_multipart(&path, &reviewer, &located, parts)
        .await
        .expect_error(400, "bad_request");
    // Signed before the period opened.
    let mut early = support_fields("papel-0000-0102", 1);
    early["captured_at"] = json!("2020-01-01T10:00:00-06:00");
    let reply = app
        .send_paper_support(&reviewer, world.aspirant_a, &early)
        .await
        .expect_error(422, "unprocessable");
    assert!(reply.message().contains("periodo"), "{}", reply.message());
    // Collectors and aspirants cannot capture paper; unknown aspirants are 404.
    app.send_paper_support(
        &world.col_a.session.bearer(),
        world.aspirant_a,
        &support_fields("papel-0000-0103", 1),
    )
    .await
    .expect_error(403, "forbidden");
    app.send_paper_support(&reviewer, 999_999, &support_fields("papel-0000-0104", 1))
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.scalar("SELECT COUNT(*) FROM supports").await, 0);
}
