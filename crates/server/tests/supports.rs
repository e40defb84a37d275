//! Reception of supports: durable acceptance, idempotent resends, the reception order,
//! images (type, limits, metadata removal) and the refusals a collector can meet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use common::{Auth, EXIF_MARK, TestApp, World, jpeg, support_fields, support_images, with_exif};

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.db().await;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    n
}

/// A receipt without its verification result, which the background worker may fill in
/// at any moment (tests/verification.rs checks it).
fn receipt_only(body: &Value) -> Value {
    let mut body = body.clone();
    for field in ["outcome", "duplicate_of", "verified_at"] {
        body.as_object_mut().unwrap().remove(field);
    }
    body
}

/// A stored image's bytes, from wherever the app keeps them (directory or bucket).
async fn stored_blob(app: &TestApp, sha256: &str) -> Vec<u8> {
    app.blobs().await.get(sha256).await.unwrap()
}

async fn blob_files(app: &TestApp) -> usize {
    app.blobs().await.keys().await.unwrap().len()
}

/// CRC-32 (IEEE) of a PNG chunk's type and data.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JPEG that does not compress well (pseudo-random pixels).
fn noisy_jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let pixels = image::RgbImage::from_fn(width, height, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&pixels)
        .unwrap();
    out
}

#[backends]
async fn a_support_is_accepted_once_and_a_resend_gets_the_same_receipt() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let fields = support_fields("0190f1c2-aaaa-7000-8000-000000000001", 1);

    let first = app
        .send_support(&col_a, &fields, support_images(0))
        .await
        .expect(201);
    let receipt = &first.body;
    assert_eq!(receipt["sequence"], 1);
    assert_eq!(receipt["process_id"], world.process_id);
    assert_eq!(receipt["folio"], format!("{}-00000001", world.process_id));
    assert_eq!(receipt["client_id"], fields["client_id"]);
    assert!(receipt["received_at"].as_str().unwrap().ends_with('Z'));
    let kinds: Vec<&str> = receipt["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["front", "back", "live_photo", "signature"]);
    for image in receipt["images"].as_array().unwrap() {
        assert_eq!(image["content_type"], "image/jpeg");
        assert_eq!(
            (image["width"].as_i64(), image["height"].as_i64()),
            (Some(96), Some(64))
        );
        let stored = stored_blob(&app, image["sha256"].as_str().unwrap()).await;
        assert_eq!(hex_sha256(&stored), image["sha256"].as_str().unwrap());
        assert_eq!(Some(stored.len() as i64), image["bytes"].as_i64());
    }

    // The app retries (e.g. the answer was lost): same receipt, nothing stored twice.
    let again = app
        .send_support(&col_a, &fields, support_images(0))
        .await
        .expect(200);
    assert_eq!(receipt_only(&again.body), receipt_only(&first.body));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM support_images").await, 4);
    assert_eq!(blob_files(&app).await, 4);
    assert_eq!(
        count(
            &app,
            // Pending at first; the background worker may already have taken it.
            "SELECT COUNT(*) FROM verification_jobs"
        )
        .await,
        1,
        "the verification work is queued with the support"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'support.receive'"
        )
        .await,
        1
    );
    let db = app.db().await;
    let (credential, precheck, collector, aspirant): (String, String, i64, i64) = sqlx::query_as(
        "SELECT credential_json, precheck_json, collector_id, aspirant_id FROM supports",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    assert_eq!(
        serde_json::from_str::<Value>(&credential).unwrap(),
        fields["credential"]
    );
    assert_eq!(precheck, r#"["clave.name_letters"]"#);
    assert_eq!((collector, aspirant), (world.col_a_id, world.aspirant_a));

    // The same id with other content is not a resend.
    let mut changed = fields.clone();
    changed["credential"]["given_names"] = json!("JORGE");
    let conflict = app
        .send_support(&col_a, &changed, support_images(0))
        .await
        .expect_error(409, "conflict");
    assert!(
        conflict.message().contains("otro contenido"),
        "{}",
        conflict.text
    );
    let other_images = app
        .send_support(&col_a, &fields, support_images(7))
        .await
        .expect_error(409, "conflict");
    assert!(!other_images.message().is_empty());
    // Another collector may use the same client id for their own support.
    let col_b = world.col_b.session.bearer();
    let b = app
        .send_support(&col_b, &fields, support_images(0))
        .await
        .expect(201);
    assert_eq!(b.body["sequence"], 2);
    assert_eq!(
        blob_files(&app).await,
        4,
        "identical images are stored once"
    );

    // The receipt: the collector who sent it, their aspirant and staff; nobody else.
    let path = format!("/api/v1/supports/{}/receipt", receipt["support_id"]);
    for auth in [
        &col_a,
        &world.a.session.bearer(),
        &world.admin.session.bearer(),
        &world.reviewer.session.bearer(),
    ] {
        assert_eq!(
            receipt_only(&app.get(&path, auth).await.expect(200).body),
            receipt_only(&first.body)
        );
    }
    for auth in [&col_b, &world.b.session.bearer()] {
        app.get(&path, auth).await.expect_error(404, "not_found");
    }
    app.get(
        "/api/v1/supports/999999/receipt",
        &world.admin.session.bearer(),
    )
    .await
    .expect_error(404, "not_found");
}

#[backends]
async fn metadata_is_removed_and_the_recorded_hash_is_the_stored_image() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let original = jpeg(128, 96, 3);
    let tagged = with_exif(&original);
    assert!(tagged.windows(EXIF_MARK.len()).any(|w| w == EXIF_MARK));
    let mut images = support_images(50);
    images[0].1 = tagged;
    let reply = app
        .send_support(
            &world.col_a.session.bearer(),
            &support_fields("exif-test-0001", 2),
            images,
        )
        .await
        .expect(201);
    let front = &reply.body["images"][0];
    assert_eq!(front["kind"], "front");
    let sha = front["sha256"].as_str().unwrap();
    let stored = stored_blob(&app, sha).await;
    assert_eq!(hex_sha256(&stored), sha);
    assert!(
        !stored.windows(EXIF_MARK.len()).any(|w| w == EXIF_MARK),
        "GPS data removed"
    );
    assert!(
        !stored.windows(4).any(|w| w == b"Exif"),
        "the Exif segment removed"
    );
    assert_eq!(
        stored, original,
        "only the metadata segment removed: no recompression"
    );
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (128, 96));
    let db = app.db().await;
    let recorded: String =
        sqlx::query_scalar("SELECT sha256 FROM support_images WHERE kind = 'front'")
            .fetch_one(&db)
            .await
            .unwrap();
    let phash: String = sqlx::query_scalar("SELECT phash FROM support_images WHERE kind = 'front'")
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    assert_eq!(recorded, sha);
    // The perceptual hash of the decoded image is recorded and on the receipt.
    let expected = apoyo_server::images::clean(&original).unwrap().phash_hex();
    assert_eq!(phash, expected);
    assert_eq!(front["phash"], json!(expected));
    assert_eq!(phash.len(), 16);
    for image in reply.body["images"].as_array().unwrap() {
        assert!(
            image["phash"].as_str().is_some_and(|p| p.len() == 16),
            "{image}"
        );
    }
}

#[backends(flavor = "multi_thread", worker_threads = 4)]
async fn the_reception_order_is_strictly_increasing_under_concurrent_sends() {
    let app = Arc::new(TestApp::start().await);
    let world = app.world_in_period().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40u32 {
        let app = Arc::clone(&app);
        let auth = if i % 2 == 0 {
            world.col_a.session.bearer()
        } else {
            world.col_b.session.bearer()
        };
        tasks.spawn(async move {
            let fields = support_fields(&format!("concurrent-{i:04}"), 100 + i);
            let reply = app
                .send_support(&auth, &fields, support_images(u8::try_from(i).unwrap()))
                .await
                .expect(201);
            (
                reply.body["sequence"].as_i64().unwrap(),
                reply.body["received_at"].as_str().unwrap().to_owned(),
            )
        });
    }
    let mut received = Vec::new();
    while let Some(result) = tasks.join_next().await {
        received.push(result.unwrap());
    }
    received.sort();
    let sequences: Vec<i64> = received.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        sequences,
        (1..=40).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    assert!(
        received.windows(2).all(|w| w[0].1 <= w[1].1),
        "reception times follow the order: {received:?}"
    );
    let distinct: BTreeSet<i64> = sequences.into_iter().collect();
    assert_eq!(distinct.len(), 40);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT last FROM process_sequences WHERE process_id = {}",
                world.process_id
            )
        )
        .await,
        40
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM verification_jobs").await,
        40
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'support.receive'"
        )
        .await,
        40
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM support_images WHERE phash IS NOT NULL"
        )
        .await,
        160
    );
}

#[backends]
async fn deactivated_collectors_and_other_roles_cannot_send() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let fields = support_fields("deactivated-0001", 3);
    for auth in [
        world.admin.session.bearer(),
        world.reviewer.session.bearer(),
        world.a.session.bearer(),
    ] {
        app.send_support(&auth, &fields, support_images(0))
            .await
            .expect_error(403, "forbidden");
    }
    app.send_support(&Auth::None, &fields, support_images(0))
        .await
        .expect_error(401, "unauthenticated");

    // Deactivated in the store while a session is still open (the API also ends the
    // sessions; this is the store's own guard).
    let db = app.db().await;
    sqlx::query("UPDATE collectors SET active = 0 WHERE id = $1")
        .bind(world.col_a_id)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let refused = app
        .send_support(&world.col_a.session.bearer(), &fields, support_images(0))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("desactivada"),
        "{}",
        refused.text
    );

    // Deactivated through the API: the collector's sessions end at once.
    app.post_empty(
        &format!("/api/v1/collectors/{}/deactivate", world.col_b_id),
        &world.b.session.bearer(),
    )
    .await
    .expect(200);
    app.send_support(&world.col_b.session.bearer(), &fields, support_images(0))
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 0);
    assert_eq!(blob_files(&app).await, 0);
}

#[backends]
async fn outside_the_collection_period_is_refused_but_the_grace_period_takes_late_sends() {
    let app = TestApp::start().await;
    let world = World::build(&app).await;
    let col_a = world.col_a.session.bearer();
    // The world's process collected in January 2025: over.
    let over = app
        .send_support(&col_a, &support_fields("late-0001", 4), support_images(0))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        over.message().contains("Fuera del periodo de captación"),
        "{}",
        over.text
    );
    // Not started yet.
    app.set_collection(world.process_id, 2, 30, 24).await;
    app.send_support(&col_a, &support_fields("early-0001", 5), support_images(0))
        .await
        .expect_error(422, "unprocessable");

    // Ended yesterday (local), 48 hours of grace: what was captured in time is received,
    // what was captured after the close is not.
    app.set_collection(world.process_id, -20, -1, 48).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let local_midnight = (now - 6 * 3600).div_euclid(86_400) * 86_400 + 6 * 3600;
    let at = |unix: i64| {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let mut in_time = support_fields("grace-0001", 6);
    in_time["captured_at"] = json!(at(local_midnight - 3600));
    app.send_support(&col_a, &in_time, support_images(0))
        .await
        .expect(201);
    let mut after_close = support_fields("grace-0002", 7);
    after_close["captured_at"] = json!(at(now - 1));
    let refused = app
        .send_support(&col_a, &after_close, support_images(9))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("después del cierre"),
        "{}",
        refused.text
    );

    // Captured before the period opened, or in the device's future.
    let mut early = support_fields("grace-0003", 8);
    early["captured_at"] = json!(at(now - 30 * 86_400));
    let refused = app
        .send_support(&col_a, &early, support_images(10))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("antes de que abriera"),
        "{}",
        refused.text
    );
    let mut future = support_fields("grace-0004", 9);
    future["captured_at"] = json!(at(now + 3 * 3600));
    let refused = app
        .send_support(&col_a, &future, support_images(11))
        .await
        .expect_error(400, "bad_request");
    assert!(refused.message().contains("futuro"), "{}", refused.text);

    // Once the period and its grace are over, a resend of what was received still answers.
    app.set_collection(world.process_id, -20, -10, 24).await;
    app.send_support(&col_a, &in_time, support_images(0))
        .await
        .expect(200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 1);
}

#[backends]
async fn wrong_images_and_malformed_fields_are_refused_with_clear_errors() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let fields = support_fields("refusals-0001", 8);
    let with_front = |bytes: Vec<u8>| {
        let mut images = support_images(0);
        images[0].1 = bytes;
        images
    };

    let gif = app
        .send_support(
            &col_a,
            &fields,
            with_front(b"GIF89a\x60\0\x60\0\0\0\0;".to_vec()),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(
        gif.message().contains("«front»") && gif.message().contains("GIF"),
        "{}",
        gif.text
    );
    let text = app
        .send_support(
            &col_a,
            &fields,
            with_front(b"no soy una imagen, aunque me llame front.jpg".to_vec()),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(text.message().contains("no es una imagen"), "{}", text.text);
    let mut truncated = jpeg(96, 64, 0);
    truncated.truncate(truncated.len() / 2);
    let damaged = app
        .send_support(&col_a, &fields, with_front(truncated))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        damaged.message().contains("JPEG válida"),
        "{}",
        damaged.text
    );
    // Whole container, cut pixel data: only decoding tells.
    let whole = noisy_jpeg(256, 192, 5);
    let mut cut = whole[..whole.len() / 2].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let undecodable = app
        .send_support(&col_a, &fields, with_front(cut))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        undecodable.message().contains("«front»")
            && undecodable.message().contains("no se pueden decodificar"),
        "{}",
        undecodable.text
    );
    // A PNG whose header promises more rows than its data holds.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(100, 80, image::Rgb([10, 200, 30]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..24].copy_from_slice(&[0, 0, 0, 100, 0, 0, 0, 160]);
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let short_png = app
        .send_support(&col_a, &fields, with_front(png))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        short_png.message().contains("PNG válida"),
        "{}",
        short_png.text
    );
    let tiny = app
        .send_support(&col_a, &fields, with_front(jpeg(32, 32, 0)))
        .await
        .expect_error(422, "unprocessable");
    assert!(tiny.message().contains("32×32"), "{}", tiny.text);
    let mut huge = jpeg(96, 64, 0);
    huge.resize(2 * 1024 * 1024 + 10, 0);
    let oversize = app
        .send_support(&col_a, &fields, with_front(huge))
        .await
        .expect_error(422, "unprocessable");
    assert!(oversize.message().contains("2 MiB"), "{}", oversize.text);

    let mut three = support_images(0);
    three.pop();
    let missing = app
        .send_support(&col_a, &fields, three)
        .await
        .expect_error(400, "bad_request");
    assert!(missing.message().contains("signature"), "{}", missing.text);

    let mut bad_cic = fields.clone();
    bad_cic["credential"]["cic"] = json!("12AB");
    let malformed = app
        .send_support(&col_a, &bad_cic, support_images(0))
        .await
        .expect_error(400, "bad_request");
    assert!(malformed.message().contains("CIC"), "{}", malformed.text);
    let mut unknown = fields.clone();
    unknown["credential"]["color_de_ojos"] = json!("cafés");
    app.send_support(&col_a, &unknown, support_images(0))
        .await
        .expect_error(400, "bad_request");
    let mut bad_id = fields.clone();
    bad_id["client_id"] = json!("x");
    app.send_support(&col_a, &bad_id, support_images(0))
        .await
        .expect_error(400, "bad_request");
    let mut bad_place = fields.clone();
    bad_place["location"] = json!({"latitude": 124.0, "longitude": 0.0});
    app.send_support(&col_a, &bad_place, support_images(0))
        .await
        .expect_error(400, "bad_request");
    app.send_support(&col_a, &json!("{not json"), support_images(0))
        .await
        .expect_error(400, "bad_request");
    let mut padded = fields.clone();
    padded["credential"]["given_names"] = json!("A".repeat(70 * 1024));
    let too_long = app
        .send_support(&col_a, &padded, support_images(0))
        .await
        .expect_error(400, "bad_request");
    assert!(
        too_long.message().contains("«support»"),
        "{}",
        too_long.text
    );
    let json_body = app
        .call(Method::POST, "/api/v1/supports", &col_a, Some(&fields))
        .await
        .expect_error(400, "bad_request");
    assert!(
        json_body.message().contains("multipart/form-data"),
        "{}",
        json_body.text
    );

    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM process_sequences").await,
        0
    );
}

#[backends]
async fn an_oversize_body_is_refused_while_it_streams() {
    let app = TestApp::start_with(|config| config.max_support_bytes = 200 * 1024).await;
    let world = app.world_in_period().await;
    let mut images = support_images(0);
    // Under the 2 MiB image limit, over the 200 KiB body limit.
    images[0].1.resize(300 * 1024, 0);
    app.send_support(
        &world.col_a.session.bearer(),
        &support_fields("oversize-0001", 9),
        images,
    )
    .await
    .expect_error(413, "payload_too_large");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 0);
    // A body under the limit is received as usual afterwards.
    app.send_support(
        &world.col_a.session.bearer(),
        &support_fields("oversize-0002", 10),
        support_images(0),
    )
    .await
    .expect(201);
}

#[backends]
async fn the_support_limit_is_larger_than_the_json_limit() {
    // 600 KiB of images, over the 256 KiB JSON limit, under the 10 MiB support limit.
    let app = TestApp::start().await;
    assert!(app.config.max_json_bytes < 600 * 1024);
    let world = app.world_in_period().await;
    let mut images = support_images(0);
    for (n, image) in images.iter_mut().enumerate() {
        image.1 = noisy_jpeg(500, 500, n as u32);
    }
    let total: usize = images.iter().map(|i| i.1.len()).sum();
    assert!(total > app.config.max_json_bytes, "{total}");
    app.send_support(
        &world.col_a.session.bearer(),
        &support_fields("large-body-0001", 11),
        images,
    )
    .await
    .expect(201);
}

#[backends(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_sends_of_one_support_store_it_once() {
    let app = Arc::new(TestApp::start().await);
    let world = app.world_in_period().await;
    let fields = support_fields("simultaneous-0001", 12);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let app = Arc::clone(&app);
        let auth = world.col_a.session.bearer();
        let fields = fields.clone();
        tasks.spawn(async move { app.send_support(&auth, &fields, support_images(0)).await });
    }
    let mut replies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        replies.push(result.unwrap());
    }
    let created = replies.iter().filter(|r| r.status == 201).count();
    let repeated = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!((created, repeated), (1, 5), "{replies:?}");
    // The worker may verify the support between two answers: compare the receipts alone.
    assert!(
        replies
            .iter()
            .all(|r| receipt_only(&r.body) == receipt_only(&replies[0].body))
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM supports").await, 1);
    assert_eq!(count(&app, "SELECT last FROM process_sequences").await, 1);
    assert_eq!(blob_files(&app).await, 4);
}
