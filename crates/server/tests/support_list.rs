//! `GET /api/v1/aspirants/{id}/supports`: the list of an aspirant's supports by outcome,
//! paginated by sequence, with the clave de elector masked for the aspirant.
//!
//! Credential numbers as in tests/verification.rs: `support_fields(_, i*10 + emision)`
//! captures citizen `i`'s credential of that emisión.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use serde_json::Value;

use common::{Auth, TestApp};

async fn list(app: &TestApp, auth: &Auth, aspirant: i64, query: &str) -> Value {
    app.get(
        &format!("/api/v1/aspirants/{aspirant}/supports{query}"),
        auth,
    )
    .await
    .expect(200)
    .body
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["support_id"].as_i64().unwrap())
        .collect()
}

fn item(page: &Value, support_id: i64) -> Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["support_id"] == support_id)
        .unwrap_or_else(|| panic!("support {support_id} not listed"))
        .clone()
}

#[backends]
async fn lists_by_outcome_with_the_clave_masked_for_the_aspirant() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let admin = world.admin.session.bearer();
    let a = world.a.session.bearer();

    let valid = app.send_credential(&col_a, 1).await; // citizen 0: lista nominal, Durango
    let not_found = app.send_credential(&col_a, 9_999_990).await;
    let padron = app.send_credential(&col_a, 511).await; // citizen 51: padrón only
    let same_first = app.send_credential(&col_a, 11).await; // citizen 1, twice
    let same_second = app.send_credential(&col_a, 11).await;
    let later = app.send_credential(&col_a, 41).await; // citizen 4: made pending below
    let of_b = app.send_credential(&world.col_b.session.bearer(), 61).await;
    app.all_verified().await;
    app.execute_sql(&format!("UPDATE supports SET outcome = NULL, duplicate_of = NULL, verified_at = NULL WHERE id = {later}"),
    )
    .await;

    // Everything of A, in sequence order, nothing of B.
    let all = list(&app, &admin, world.aspirant_a, "").await;
    assert_eq!(
        ids(&all),
        vec![valid, not_found, padron, same_first, same_second, later]
    );
    assert!(!ids(&all).contains(&of_b));
    assert!(all["next_after_sequence"].is_null());
    let sequences: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sequence"].as_i64().unwrap())
        .collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]));

    // Filters.
    let by = |q: &'static str| {
        let app = &app;
        let admin = admin.clone();
        let aspirant = world.aspirant_a;
        async move { ids(&list(app, &admin, aspirant, q).await) }
    };
    assert_eq!(by("?outcome=valid").await, vec![valid, same_first]);
    assert_eq!(by("?outcome=not_found").await, vec![not_found]);
    assert_eq!(by("?outcome=register_only").await, vec![padron]);
    assert_eq!(by("?outcome=pending").await, vec![later]);
    assert_eq!(by("?outcome=removed:defuncion").await, Vec::<i64>::new());
    let duplicates = list(
        &app,
        &admin,
        world.aspirant_a,
        "?outcome=duplicate_same_aspirant",
    )
    .await;
    assert_eq!(ids(&duplicates), vec![same_second]);
    let first_seq = item(&all, same_first)["sequence"].clone();
    assert_eq!(duplicates["items"][0]["duplicate_of"], first_seq);
    assert_eq!(
        duplicates["items"][0]["outcome_label"],
        "Duplicado (mismo aspirante)"
    );

    // Unknown outcome and bad limits.
    let refused = app
        .get(
            &format!(
                "/api/v1/aspirants/{}/supports?outcome=valido",
                world.aspirant_a
            ),
            &admin,
        )
        .await
        .expect(400);
    for code in [
        "valid",
        "removed:defuncion",
        "duplicate_other_aspirant",
        "pending",
    ] {
        assert!(refused.message().contains(code), "{}", refused.message());
    }
    for limit in [0, 501, -1] {
        app.get(
            &format!(
                "/api/v1/aspirants/{}/supports?limit={limit}",
                world.aspirant_a
            ),
            &admin,
        )
        .await
        .expect(400);
    }

    // Staff see the clave; the aspirant sees it masked; never the captured credential.
    let staff_item = item(&all, valid);
    let clave = staff_item["citizen_clave"].as_str().unwrap().to_owned();
    assert_eq!(clave.len(), 18);
    assert!(!clave.contains('*'));
    let own = list(&app, &a, world.aspirant_a, "").await;
    assert_eq!(ids(&own), ids(&all));
    let masked = item(&own, valid)["citizen_clave"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected: String = clave
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i == 14 || i == 15 { c } else { '*' })
        .collect();
    assert_eq!(masked, expected);
    assert_eq!(masked.matches('*').count(), 12);
    let reviewer = list(&app, &world.reviewer.session.bearer(), world.aspirant_a, "").await;
    assert_eq!(item(&reviewer, valid)["citizen_clave"], clave.as_str());
    for page in [&all, &own] {
        for entry in page["items"].as_array().unwrap() {
            assert!(entry.get("credential").is_none());
            assert!(entry.get("credential_json").is_none());
            assert_eq!(entry["section"], "301");
            assert_eq!(entry["collector_id"], world.col_a_id);
        }
    }
    assert!(item(&own, not_found)["citizen_clave"].is_null());
    assert!(item(&own, later)["outcome"].is_null());
    assert!(item(&own, later)["outcome_label"].is_null());
    assert_eq!(item(&own, valid)["outcome"], "valid");
    assert_eq!(item(&own, valid)["outcome_label"], "En Lista Nominal");

    // Ownership: B and A's collector never see A's list; unknown aspirant is 404.
    let path = format!("/api/v1/aspirants/{}/supports", world.aspirant_a);
    app.get(&path, &world.b.session.bearer())
        .await
        .expect_error(404, "not_found");
    app.get(&path, &col_a).await.expect_error(403, "forbidden");
    app.get(
        &format!("/api/v1/aspirants/{}/supports", world.aspirant_b),
        &col_a,
    )
    .await
    .expect_error(404, "not_found");
    app.get("/api/v1/aspirants/999999/supports", &admin)
        .await
        .expect_error(404, "not_found");
    let of_b_list = list(&app, &world.b.session.bearer(), world.aspirant_b, "").await;
    assert_eq!(ids(&of_b_list), vec![of_b]);

    app.stop().await.unwrap();
}

#[backends]
async fn pages_follow_the_sequence_without_gaps_or_repeats() {
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let a = world.a.session.bearer();
    let mut sent = Vec::new();
    for n in 0..7 {
        sent.push(app.send_credential(&col_a, 1000 + n * 10 + 1).await);
    }

    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = list(&app, &a, world.aspirant_a, &query).await;
        pages += 1;
        let got = ids(&page);
        assert!(got.len() <= 3);
        seen.extend(got);
        if pages == 1 {
            // Received while paging: appears on a later page, nothing moves.
            sent.push(app.send_credential(&col_a, 2001).await);
        }
        match page["next_after_sequence"].as_i64() {
            Some(next) => {
                assert_eq!(
                    next,
                    page["items"].as_array().unwrap().last().unwrap()["sequence"]
                );
                query = format!("?limit=3&after_sequence={next}");
            }
            None => break,
        }
    }
    assert_eq!(seen, sent);
    assert_eq!(pages, 3);

    // An exact last page says there is no next.
    let page = list(&app, &a, world.aspirant_a, "?limit=8").await;
    assert_eq!(ids(&page).len(), 8);
    assert!(page["next_after_sequence"].is_null());

    app.stop().await.unwrap();
}
