//! The image cross-check (issue 9): the server reads the MRZ on each support's back image
//! in the background and records whether the typed data agrees with it; the Mesa de
//! Control sees the result on the support.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::time::Duration;

use apoyo_domain::Date;
use apoyo_domain::catalog::Sex;
use apoyo_domain::mrz::{MrzData, format_mrz};
use apoyo_synth::{Difficulty, render_card};
use serde_json::Value;

use common::{Auth, TestApp, World, support_fields, support_images};

/// A photo of the back of a credential whose MRZ carries this CIC and OCR, and the
/// names `support_fields` types (GARCIA TORRES, LUIS).
fn back_photo(cic: &str, ocr: &str, seed: u64) -> Vec<u8> {
    let lines = format_mrz(&MrzData {
        cic: cic.into(),
        ocr: ocr.into(),
        birth_date: Date::new(1980, 1, 1).unwrap(),
        sex: Sex::H,
        expiry_date: Date::new(2031, 12, 31).unwrap(),
        issue_number: 1,
        optional_digits: "00000".into(),
        surnames: vec!["GARCIA".into(), "TORRES".into()],
        given_names: vec!["LUIS".into()],
    });
    render_card(&lines, Difficulty::Easy, seed, 0).unwrap().jpeg
}

async fn send_with_back(app: &TestApp, world: &World, n: u32, back: Vec<u8>) -> i64 {
    let mut images = support_images(2);
    for image in &mut images {
        if image.0 == "back" {
            image.1 = back.clone();
        }
    }
    app.send_support(
        &world.col_a.session.bearer(),
        &support_fields(&format!("cruce-imagen-{n:04}"), n),
        images,
    )
    .await
    .expect(201)
    .body["support_id"]
        .as_i64()
        .unwrap()
}

async fn check_of(app: &TestApp, auth: &Auth, support: i64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let body = app
            .get(&format!("/api/v1/supports/{support}"), auth)
            .await
            .expect(200)
            .body;
        if !body["image_check"].is_null() {
            return body["image_check"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "support {support} never cross-checked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[backends]
async fn the_back_image_is_read_and_compared_with_what_was_typed() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let reviewer = world.reviewer.session.bearer();

    // support_fields(_, 1) types CIC 200000001, identificador 100000001, sección 301.
    let agreeing =
        send_with_back(&app, &world, 1, back_photo("200000001", "0301100000001", 1)).await;
    let differing = send_with_back(
        &app,
        &world,
        11,
        back_photo("200000001", "0301100000001", 2),
    )
    .await;
    let unreadable = app.send_credential(&world.col_a.session.bearer(), 21).await;

    let check = check_of(&app, &reviewer, agreeing).await;
    assert_eq!(check["status"], "agrees", "{check}");
    assert!(check["mrz"].as_str().unwrap().starts_with("IDMEX200000001"));
    assert_eq!(check["differences"], Value::Array(vec![]));

    let check = check_of(&app, &reviewer, differing).await;
    assert_eq!(check["status"], "differs", "{check}");
    assert_eq!(
        check["label"],
        "Los datos capturados no coinciden con la imagen"
    );
    let messages: Vec<&str> = check["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|m| m.contains("CIC")), "{messages:?}");

    // The harness's tiny images carry no MRZ: a person must look.
    let check = check_of(&app, &reviewer, unreadable).await;
    assert_eq!(check["status"], "unreadable", "{check}");

    // Only OPL staff see the cross-check.
    let aspirant = app
        .get(
            &format!("/api/v1/supports/{differing}"),
            &world.a.session.bearer(),
        )
        .await
        .expect(200)
        .body;
    assert!(aspirant["image_check"].is_null());
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM image_checks").await,
        3,
        "each support checked once"
    );
}
