//! Functional tests of the server foundation, over HTTP against the real app on port 0:
//! sessions (bearer and cookie + CSRF), one-time passwords, throttling, processes and
//! offices, aspirants and collectors, the audit log, health, request ids, errors, body
//! limits, graceful shutdown and what reaches the logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use common::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Auth, CLAVE_NOT_ON_ROLL, PROCESS_NAME, SNAPSHOT, STATE, TestApp,
    World, http_client, reply,
};

fn ceil_percent(roll: i64, basis_points: i64) -> i64 {
    (roll * basis_points + 9_999) / 10_000
}

/// An audit entry's `entity_id` (text) for a numeric id.
fn entity_id(id: i64) -> Value {
    Value::String(id.to_string())
}

/// The audit log as the administrator reads it (newest first).
async fn audit(app: &TestApp, admin: &Auth, query: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/api/v1/audit?limit=1000{query}"), admin)
        .await
        .expect(200);
    reply.body.as_array().unwrap().clone()
}

fn actions<'a>(log: &'a [Value], action: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["action"] == action).collect()
}

// --- Sessions ----------------------------------------------------------------------------

#[backends]
async fn login_me_and_logout_end_the_session() {
    let app = TestApp::start().await;
    let admin = app.login_admin().await;
    assert_eq!(admin.user["email"], ADMIN_EMAIL);
    assert_eq!(admin.user["role"], "admin");
    assert_eq!(admin.user["must_change_password"], false);
    assert_eq!(admin.token.len(), 64, "256-bit token, hex");
    assert_eq!(admin.csrf.len(), 64);
    assert_ne!(admin.token, admin.csrf);
    // The browser's cookie: HttpOnly, SameSite=Strict; not Secure over plain http.
    let cookie = &admin.set_cookie;
    assert!(
        cookie.starts_with(&format!("apoyo_session={};", admin.token)),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Secure"), "{cookie}");

    let me = app
        .get("/api/v1/session", &admin.bearer())
        .await
        .expect(200);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me.body["csrf_token"], admin.csrf.as_str());
    let me = app
        .get("/api/v1/session", &admin.cookie_without_csrf())
        .await
        .expect(200);
    assert_eq!(me.body["user"]["role"], "admin");

    // A wrong password and an unknown email get the same answer, without a cookie.
    let wrong = app
        .try_login(ADMIN_EMAIL, "no-es-la-contraseña")
        .await
        .expect_error(401, "unauthenticated");
    let unknown = app
        .try_login("nadie@apoyo.test", "no-es-la-contraseña")
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(wrong.message(), unknown.message());
    assert!(wrong.header("set-cookie").is_none());
    // Emails are compared without case or surrounding spaces.
    let other = app
        .login(
            &format!("  {}  ", ADMIN_EMAIL.to_uppercase()),
            ADMIN_PASSWORD,
        )
        .await;
    assert_ne!(other.token, admin.token);

    let out = app
        .delete("/api/v1/session", &admin.bearer())
        .await
        .expect(204);
    let cleared = out.header("set-cookie").unwrap();
    assert!(
        cleared.starts_with("apoyo_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    app.get("/api/v1/session", &admin.bearer())
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/processes", &admin.cookie())
        .await
        .expect_error(401, "unauthenticated");
    app.delete("/api/v1/session", &admin.bearer())
        .await
        .expect_error(401, "unauthenticated");
    // Only that session ended.
    app.get("/api/v1/session", &other.bearer())
        .await
        .expect(200);
}

#[backends]
async fn a_browser_keeps_the_session_in_its_cookie_and_logout_clears_it() {
    let app = TestApp::start().await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let send = |method: Method, path: &str, csrf: Option<&str>, body: Option<Value>| {
        let mut request = browser.request(method.clone(), app.url(path));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let name = format!("{method} {path} (browser)");
        async move { reply(name, request.send().await.unwrap()).await }
    };
    let login = send(
        Method::POST,
        "/api/v1/session",
        None,
        Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
    )
    .await
    .expect(200);
    let csrf = login.body["csrf_token"].as_str().unwrap().to_owned();
    let token = login.body["token"].as_str().unwrap().to_owned();

    send(Method::GET, "/api/v1/session", None, None)
        .await
        .expect(200);
    send(Method::GET, "/api/v1/processes", None, None)
        .await
        .expect(200);
    let body = app.process_body("Proceso del navegador");
    send(Method::POST, "/api/v1/processes", None, Some(body.clone()))
        .await
        .expect_error(403, "csrf");
    send(Method::POST, "/api/v1/processes", Some(&csrf), Some(body))
        .await
        .expect(201);
    // Even logout needs the token: a cross-site page cannot end the session.
    send(Method::DELETE, "/api/v1/session", None, None)
        .await
        .expect_error(403, "csrf");
    send(Method::GET, "/api/v1/session", None, None)
        .await
        .expect(200);
    send(Method::DELETE, "/api/v1/session", Some(&csrf), None)
        .await
        .expect(204);
    // The jar dropped the cookie, and the session is gone on the server too.
    send(Method::GET, "/api/v1/session", None, None)
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/session", &Auth::Bearer(token.clone()))
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/session", &Auth::Cookie { token, csrf: None })
        .await
        .expect_error(401, "unauthenticated");
}

#[backends]
async fn cookie_sessions_need_the_csrf_token_on_every_state_change() {
    let app = TestApp::start_with(|c| c.public_url = "https://apoyo.iepc-dgo.example".into()).await;
    let admin = app.login_admin().await;
    assert!(
        admin.set_cookie.contains("; Secure"),
        "an https public_url makes the cookie Secure: {}",
        admin.set_cookie
    );
    let second = app.login_admin().await;
    let body = |name: &str| app.process_body(name);

    app.post(
        "/api/v1/processes",
        &admin.cookie_without_csrf(),
        body("Sin token"),
    )
    .await
    .expect_error(403, "csrf");
    let wrong = Auth::Cookie {
        token: admin.token.clone(),
        csrf: Some("0".repeat(64)),
    };
    app.post("/api/v1/processes", &wrong, body("Token falso"))
        .await
        .expect_error(403, "csrf");
    let crossed = Auth::Cookie {
        token: admin.token.clone(),
        csrf: Some(second.csrf.clone()),
    };
    app.post("/api/v1/processes", &crossed, body("Token de otra sesión"))
        .await
        .expect_error(403, "csrf");
    let empty = Auth::Cookie {
        token: admin.token.clone(),
        csrf: Some(String::new()),
    };
    app.post("/api/v1/processes", &empty, body("Token vacío"))
        .await
        .expect_error(403, "csrf");
    let listed = app
        .get("/api/v1/processes", &admin.cookie_without_csrf())
        .await
        .expect(200);
    assert_eq!(
        listed.body,
        json!([]),
        "nothing was created without the token"
    );

    app.post("/api/v1/processes", &admin.cookie(), body("Con token"))
        .await
        .expect(201);
    // A bearer token cannot be sent by a cross-site form: no CSRF token needed.
    let created = app
        .post("/api/v1/processes", &admin.bearer(), body("Con bearer"))
        .await
        .expect(201);
    let id = created.id();
    let office = app.ayuntamiento_body("Ayuntamiento de Lerdo", 12);
    let path = format!("/api/v1/processes/{id}/offices");
    app.post(&path, &admin.cookie_without_csrf(), office.clone())
        .await
        .expect_error(403, "csrf");
    app.post(&path, &admin.cookie(), office).await.expect(201);
    let change =
        json!({"current_password": ADMIN_PASSWORD, "new_password": "otra-contraseña-larga"});
    app.put(
        "/api/v1/session/password",
        &admin.cookie_without_csrf(),
        change,
    )
    .await
    .expect_error(403, "csrf");
    app.delete("/api/v1/session", &admin.cookie_without_csrf())
        .await
        .expect_error(403, "csrf");
    // Reads need no token; the session survived the refused requests.
    app.get("/api/v1/session", &admin.cookie_without_csrf())
        .await
        .expect(200);
    app.login_admin().await;
}

#[backends]
async fn a_one_time_password_must_be_changed_first_and_the_change_ends_other_sessions() {
    let app = TestApp::start().await;
    let admin = app.login_admin().await;
    let ad = admin.bearer();
    let email = "revisor.uno@apoyo.test";
    let created = app
        .post(
            "/api/v1/users",
            &ad,
            json!({"email": email, "name": "Revisor Uno", "role": "reviewer"}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["user"]["role"], "reviewer");
    assert_eq!(created.body["user"]["must_change_password"], true);
    let initial = created.body["account"]["initial_password"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/api/v1/users",
        &ad,
        json!({"email": email.to_uppercase(), "name": "Otro", "role": "reviewer"}),
    )
    .await
    .expect_error(409, "conflict");
    app.post(
        "/api/v1/users",
        &ad,
        json!({"email": "x@apoyo.test", "name": "Otro", "role": "aspirant"}),
    )
    .await
    .expect_error(400, "bad_request");

    let first = app.login(email, &initial).await;
    let second = app.login(email, &initial).await;
    assert_eq!(first.user["must_change_password"], true);
    for path in [
        "/api/v1/processes",
        "/api/v1/roll/snapshots",
        "/api/v1/processes/1",
        "/api/v1/audit",
    ] {
        let refused = app
            .get(path, &first.bearer())
            .await
            .expect_error(403, "password_change_required");
        assert!(
            refused.message().contains("contraseña"),
            "{}",
            refused.message()
        );
    }
    app.get("/api/v1/session", &first.bearer())
        .await
        .expect(200);

    let put = |auth: Auth, current: &str, new: &str| {
        let body = json!({"current_password": current, "new_password": new});
        let app = &app;
        async move { app.put("/api/v1/session/password", &auth, body).await }
    };
    let refused = put(first.bearer(), "no-es-la-actual", "una-contraseña-nueva")
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("actual"),
        "{}",
        refused.message()
    );
    let refused = put(first.bearer(), &initial, "corta")
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("10 caracteres"),
        "{}",
        refused.message()
    );
    put(first.bearer(), &initial, email)
        .await
        .expect_error(422, "unprocessable");
    put(first.bearer(), &initial, "mesa-de-control-2025")
        .await
        .expect(204);

    let snapshots = app
        .get("/api/v1/roll/snapshots", &first.bearer())
        .await
        .expect(200);
    assert_eq!(snapshots.body[0]["name"], SNAPSHOT);
    assert_eq!(snapshots.body[0]["rows"], app.roll.rows);
    assert_eq!(snapshots.body[0]["active"], true);
    app.get("/api/v1/session", &second.bearer())
        .await
        .expect_error(401, "unauthenticated");
    app.try_login(email, &initial)
        .await
        .expect_error(401, "unauthenticated");
    let again = app.login(email, "mesa-de-control-2025").await;
    assert_eq!(again.user["must_change_password"], false);

    let reviewer_id = first.user_id();
    let log = audit(&app, &ad, "&action=user.password_change").await;
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["actor_user_id"], reviewer_id);
    assert_eq!(log[0]["entity"], "user");
    assert_eq!(log[0]["entity_id"], reviewer_id.to_string());
    let log = audit(&app, &ad, "&action=user.create&entity=user").await;
    let created = log.iter().find(|e| e["after"]["email"] == email).unwrap();
    assert_eq!(created["actor_user_id"], admin.user_id());
    assert_eq!(created["after"]["role"], "reviewer");
    assert_eq!(created["before"], Value::Null);
    assert!(
        !created.to_string().contains("argon2"),
        "no password hash in the log: {created}"
    );
}

#[backends]
async fn repeated_failed_logins_are_throttled_until_the_window_passes() {
    let app = TestApp::start_with(|c| {
        c.login_max_failures = 3;
        c.login_max_failures_per_client = 6;
        c.login_window_minutes = 15;
    })
    .await;
    let admin = app.login_admin().await;
    let created = app
        .post(
            "/api/v1/users",
            &admin.bearer(),
            json!({"email": "revisora@apoyo.test", "name": "Revisora", "role": "reviewer"}),
        )
        .await
        .expect(201);
    let reviewer_password = created.body["account"]["initial_password"]
        .as_str()
        .unwrap()
        .to_owned();

    for _ in 0..3 {
        app.try_login(ADMIN_EMAIL, "contraseña-equivocada")
            .await
            .expect_error(401, "unauthenticated");
    }
    // The account is throttled: even the right password is refused.
    let throttled = app
        .try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .expect_error(429, "throttled");
    assert!(
        throttled.message().contains("Demasiados intentos"),
        "{}",
        throttled.message()
    );
    app.try_login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD)
        .await
        .expect_error(429, "throttled");
    // Sessions already open keep working; another account is not affected.
    app.get("/api/v1/session", &admin.bearer())
        .await
        .expect(200);
    app.login("revisora@apoyo.test", &reviewer_password).await;

    // Per client address: three more failures (unknown emails) make six from 127.0.0.1.
    for i in 0..3 {
        app.try_login(&format!("desconocido{i}@apoyo.test"), "lo-que-sea-largo")
            .await
            .expect_error(401, "unauthenticated");
    }
    app.try_login("revisora@apoyo.test", &reviewer_password)
        .await
        .expect_error(429, "throttled");

    // The window passes (the failures are aged by 16 minutes in the database).
    let db = app.db().await;
    let aged =
        apoyo_store::clock::format(time::OffsetDateTime::now_utc() - time::Duration::minutes(16));
    sqlx::query("UPDATE login_failures SET at = $1")
        .bind(aged)
        .execute(&db)
        .await
        .unwrap();
    app.login_admin().await;
    app.login("revisora@apoyo.test", &reviewer_password).await;
    // A successful login forgets the account's failures.
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE email = $1")
        .bind(ADMIN_EMAIL)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

// --- Processes and offices -----------------------------------------------------------------

#[backends]
async fn processes_and_offices_take_territory_and_threshold_from_the_roll() {
    let app = TestApp::start().await;
    let admin = app.login_admin().await;
    let ad = admin.bearer();
    let roll = &app.roll;

    let process = app
        .post("/api/v1/processes", &ad, app.process_body(PROCESS_NAME))
        .await
        .expect(201);
    let p = &process.body;
    assert_eq!(p["name"], PROCESS_NAME);
    assert_eq!(p["kind"], "independent_candidacy");
    assert_eq!(p["roll_snapshot"], SNAPSHOT);
    assert_eq!(p["cut_date"], "2024-08-31");
    assert_eq!(p["collection_starts_on"], "2025-01-06");
    assert_eq!(p["collection_ends_on"], "2025-02-04");
    assert_eq!(p["grace_hours"], 24);
    assert_eq!(p["paper_municipalities"], json!([[10, 12]]));
    let process_id = process.id();
    let read = app
        .get(&format!("/api/v1/processes/{process_id}"), &ad)
        .await
        .expect(200);
    assert_eq!(&read.body, p);

    let conflict = app
        .post("/api/v1/processes", &ad, app.process_body(PROCESS_NAME))
        .await
        .expect_error(409, "conflict");
    assert!(
        conflict.message().contains(PROCESS_NAME),
        "{}",
        conflict.message()
    );
    let mut bad = app.process_body("Sin corte");
    bad["roll_snapshot"] = json!("corte-inexistente");
    let refused = app
        .post("/api/v1/processes", &ad, bad)
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("Lista Nominal"),
        "{}",
        refused.message()
    );
    let mut bad = app.process_body("Al revés");
    bad["collection_ends_on"] = json!("2024-12-31");
    app.post("/api/v1/processes", &ad, bad)
        .await
        .expect_error(422, "unprocessable");
    let mut bad = app.process_body("Fecha irreal");
    bad["collection_ends_on"] = json!("2025-02-30");
    app.post("/api/v1/processes", &ad, bad)
        .await
        .expect_error(400, "bad_request");
    let mut bad = app.process_body("Tipo raro");
    bad["kind"] = json!("plebiscito");
    app.post("/api/v1/processes", &ad, bad)
        .await
        .expect_error(400, "bad_request");

    let offices = format!("/api/v1/processes/{process_id}/offices");
    // Ayuntamiento: every sección of the municipio, 3 % of its Lista Nominal rounded up.
    let durango = app
        .post(
            &offices,
            &ad,
            app.ayuntamiento_body("Ayuntamiento de Durango", 5),
        )
        .await
        .expect(201);
    let ln_durango = roll.lista_nominal_of_municipality(5);
    let others: i64 = roll
        .sections
        .values()
        .filter(|c| c.municipality == 5)
        .map(|c| c.padron + c.baja + c.reemplazada)
        .sum();
    assert!(
        others > 0,
        "the municipio has padrón-only, baja and superseded rows that must not count"
    );
    assert_ne!(
        ln_durango * 300 % 10_000,
        0,
        "the threshold must need rounding up"
    );
    let d = &durango.body;
    assert_eq!(d["kind"], "ayuntamiento");
    assert_eq!(d["process_id"], process_id);
    assert_eq!(d["state"], STATE);
    assert_eq!(d["municipality"], 5);
    assert_eq!(d["territory_sections"], roll.sections_of(5).len());
    assert_eq!(d["territory_roll"], ln_durango);
    assert_eq!(d["threshold_kind"], "percent");
    assert_eq!(d["threshold_value"], 300);
    assert_eq!(d["required_supports"], ceil_percent(ln_durango, 300));
    assert_eq!(d["dispersion_min_sections_bp"], 5000);
    assert_eq!(d["dispersion_min_support_bp"], 100);

    // A fixed count.
    let mut body = app.ayuntamiento_body("Ayuntamiento de Gómez Palacio", 7);
    body["threshold_kind"] = json!("fixed");
    body["threshold_value"] = json!(25);
    let gomez = app.post(&offices, &ad, body).await.expect(201);
    assert_eq!(
        gomez.body["territory_roll"],
        roll.lista_nominal_of_municipality(7)
    );
    assert_eq!(gomez.body["required_supports"], 25);

    // A local district with explicit secciones (repeats count once), across municipios.
    let sections = [300u16, 301, 500, 300];
    let district = app
        .post(
            &offices,
            &ad,
            json!({"kind": "local_district", "name": "Distrito local II", "state": STATE, "district": 2,
                   "sections": sections, "threshold_kind": "percent", "threshold_value": 150}),
        )
        .await
        .expect(201);
    let ln_district = roll.lista_nominal_of_sections(&[300, 301, 500]);
    assert_eq!(district.body["territory_sections"], 3);
    assert_eq!(district.body["territory_roll"], ln_district);
    assert_eq!(
        district.body["required_supports"],
        ceil_percent(ln_district, 150)
    );
    assert_eq!(district.body["district"], 2);

    // The state: every sección of the entidad.
    let mut body = app.ayuntamiento_body("Gubernatura", 5);
    body["kind"] = json!("state");
    body["municipality"] = Value::Null;
    body["threshold_value"] = json!(100);
    let state = app.post(&offices, &ad, body).await.expect(201);
    assert_eq!(state.body["territory_sections"], roll.sections.len());
    assert_eq!(state.body["territory_roll"], roll.lista_nominal_total());
    assert_eq!(
        state.body["required_supports"],
        ceil_percent(roll.lista_nominal_total(), 100)
    );

    // Refusals, in Spanish.
    let unknown = json!({"kind": "local_district", "name": "Distrito X", "state": STATE, "sections": [300, 9999],
                         "threshold_kind": "percent", "threshold_value": 300});
    let refused = app
        .post(&offices, &ad, unknown)
        .await
        .expect_error(422, "unprocessable");
    assert_eq!(
        refused.message(),
        "La sección 9999 no está en el corte de la Lista Nominal del proceso."
    );
    let refused = app
        .post(
            &offices,
            &ad,
            app.ayuntamiento_body("Ayuntamiento de Mapimí", 18),
        )
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("no tiene secciones"),
        "{}",
        refused.message()
    );
    let refused = app
        .post(
            &offices,
            &ad,
            app.ayuntamiento_body("Ayuntamiento de Durango", 5),
        )
        .await
        .expect_error(409, "conflict");
    assert!(
        refused.message().contains("Ayuntamiento de Durango"),
        "{}",
        refused.message()
    );
    let no_sections = json!({"kind": "local_district", "name": "Distrito Y", "state": STATE,
                             "threshold_kind": "percent", "threshold_value": 300});
    app.post(&offices, &ad, no_sections)
        .await
        .expect_error(400, "bad_request");
    for (kind, value) in [
        ("percent", 0),
        ("percent", 10_001),
        ("fixed", 0),
        ("porcentaje", 300),
    ] {
        let mut body = app.ayuntamiento_body("Umbral malo", 12);
        body["threshold_kind"] = json!(kind);
        body["threshold_value"] = json!(value);
        app.post(&offices, &ad, body)
            .await
            .expect_error(400, "bad_request");
    }
    let mut body = app.ayuntamiento_body("Entidad mala", 5);
    body["state"] = json!(33);
    app.post(&offices, &ad, body)
        .await
        .expect_error(400, "bad_request");
    app.post(
        "/api/v1/processes/999999/offices",
        &ad,
        app.ayuntamiento_body("Huérfano", 5),
    )
    .await
    .expect_error(404, "not_found");

    let listed = app.get(&offices, &ad).await.expect(200);
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Ayuntamiento de Durango",
            "Ayuntamiento de Gómez Palacio",
            "Distrito local II",
            "Gubernatura"
        ]
    );
    let one = app
        .get(&format!("/api/v1/offices/{}", durango.id()), &ad)
        .await
        .expect(200);
    assert_eq!(&one.body, d);

    // Each creation is in the audit log with its actor and what was created.
    let log = audit(&app, &ad, "").await;
    let created = actions(&log, "process.create");
    assert_eq!(
        created.len(),
        1,
        "refused requests leave no trace: {created:#?}"
    );
    assert_eq!(created[0]["actor_user_id"], admin.user_id());
    assert_eq!(created[0]["entity_id"], process_id.to_string());
    assert_eq!(created[0]["after"]["name"], PROCESS_NAME);
    assert_eq!(created[0]["after"]["roll_snapshot"], SNAPSHOT);
    let created = actions(&log, "office.create");
    assert_eq!(created.len(), 4);
    let entry = created
        .iter()
        .find(|e| e["entity_id"] == entity_id(durango.id()))
        .unwrap();
    assert_eq!(entry["actor_user_id"], admin.user_id());
    assert_eq!(entry["before"], Value::Null);
    assert_eq!(entry["after"]["territory_roll"], ln_durango);
    assert_eq!(
        entry["after"]["required_supports"],
        ceil_percent(ln_durango, 300)
    );
}

// --- Aspirants and collectors --------------------------------------------------------------

#[backends]
async fn aspirants_and_collectors_follow_the_rules() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let ad = w.admin.session.bearer();
    let a = w.a.session.bearer();

    // Aspirants: registered by the administrator for an office of the process.
    let aspirants = format!("/api/v1/processes/{}/aspirants", w.process_id);
    let listed = app
        .get(&aspirants, &w.reviewer.session.bearer())
        .await
        .expect(200);
    let ids: Vec<i64> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [w.aspirant_a, w.aspirant_b]);
    let refused = app
        .post(&aspirants, &ad, json!({"office_id": w.other_office, "name": "Fuera de lugar", "email": app.unique_email("x")}))
        .await
        .expect_error(422, "unprocessable");
    assert_eq!(refused.message(), "El cargo pertenece a otro proceso.");
    app.post(
        &aspirants,
        &ad,
        json!({"office_id": 999_999, "name": "Sin cargo", "email": app.unique_email("x")}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &aspirants,
        &ad,
        json!({"office_id": w.office_a, "name": "Repetida", "email": w.a.account.email}),
    )
    .await
    .expect_error(409, "conflict");
    app.post(
        &aspirants,
        &ad,
        json!({"office_id": w.office_a, "name": "Sin correo", "email": "no-es-correo"}),
    )
    .await
    .expect_error(400, "bad_request");
    let own = app
        .get(&format!("/api/v1/aspirants/{}", w.aspirant_a), &a)
        .await
        .expect(200);
    assert_eq!(own.body["office_id"], w.office_a);
    assert_eq!(own.body["active_collectors"], 2);

    // Collectors: must be on the Lista Nominal.
    let collectors = format!("/api/v1/aspirants/{}/collectors", w.aspirant_a);
    let person = |clave: &str| json!({"name": "Ernesto Escobar Elías", "email": app.unique_email("e"), "clave_elector": clave});
    let refused = app
        .post(&collectors, &a, person(CLAVE_NOT_ON_ROLL))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused.message().contains("no aparece en la Lista Nominal")
            && refused.message().contains(CLAVE_NOT_ON_ROLL),
        "{}",
        refused.message()
    );
    let padron = &app.roll.padron[0];
    let refused = app
        .post(&collectors, &a, person(padron))
        .await
        .expect_error(422, "unprocessable");
    assert!(
        refused
            .message()
            .contains("padrón pero no en la Lista Nominal")
            && refused.message().contains(padron.as_str()),
        "{}",
        refused.message()
    );
    let refused = app
        .post(&collectors, &a, person(&app.roll.baja[0]))
        .await
        .expect_error(422, "unprocessable");
    assert!(refused.message().contains("baja"), "{}", refused.message());
    app.post(&collectors, &a, person("ABC123"))
        .await
        .expect_error(400, "bad_request");

    // ... and must not collect for another aspirant of the process (any spelling of the clave).
    let taken = format!(" {} ", w.col_b_clave.to_lowercase());
    let refused = app
        .post(&collectors, &a, person(&taken))
        .await
        .expect_error(409, "conflict");
    assert!(
        refused.message().contains(&w.col_b_clave)
            && refused
                .message()
                .contains("un auxiliar sólo puede trabajar para un aspirante"),
        "{}",
        refused.message()
    );
    app.post(&collectors, &a, person(&w.col_a_clave))
        .await
        .expect_error(409, "conflict");
    app.post(&collectors, &a, json!({"name": "Correo repetido", "email": w.col_b.account.email, "clave_elector": app.fresh_clave()}))
        .await
        .expect_error(409, "conflict");
    let log = audit(&app, &ad, "&action=collector.create").await;
    assert_eq!(log.len(), 3, "refused registrations leave nothing behind");

    // A new collector gets credentials; a one-time password.
    let created = app
        .post(&collectors, &a, app.collector_body("Fabiola Fierro Flores"))
        .await
        .expect(201);
    assert_eq!(created.body["collector"]["aspirant_id"], w.aspirant_a);
    assert_eq!(created.body["collector"]["active"], true);
    let new_email = created.body["account"]["email"].as_str().unwrap();
    let new_password = created.body["account"]["initial_password"]
        .as_str()
        .unwrap();
    let newcomer = app.login(new_email, new_password).await;
    assert_eq!(newcomer.user["role"], "collector");
    assert_eq!(newcomer.user["aspirant_id"], w.aspirant_a);
    app.get(
        &format!("/api/v1/aspirants/{}", w.aspirant_a),
        &newcomer.bearer(),
    )
    .await
    .expect_error(403, "password_change_required");

    // A collector sees their own record, not a colleague's.
    let col_a = w.col_a.session.bearer();
    app.get(&format!("/api/v1/collectors/{}", w.col_a_id), &col_a)
        .await
        .expect(200);
    app.get(&format!("/api/v1/collectors/{}", w.col_a2_id), &col_a)
        .await
        .expect_error(404, "not_found");

    // Deactivation: the token stops working at once and login fails.
    let done = app
        .post_empty(&format!("/api/v1/collectors/{}/deactivate", w.col_a_id), &a)
        .await
        .expect(200);
    assert_eq!(done.body["active"], false);
    app.get("/api/v1/session", &col_a)
        .await
        .expect_error(401, "unauthenticated");
    app.try_login(&w.col_a.account.email, &w.col_a.account.password)
        .await
        .expect_error(401, "unauthenticated");
    let own = app
        .get(&format!("/api/v1/aspirants/{}", w.aspirant_a), &a)
        .await
        .expect(200);
    assert_eq!(own.body["active_collectors"], 2);
    let list = app.get(&collectors, &a).await.expect(200);
    let states: Vec<(i64, bool)> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(states[..2], [(w.col_a_id, false), (w.col_a2_id, true)]);
    // A deactivated collector still belongs to A: their clave stays taken in the process.
    app.post(
        &format!("/api/v1/aspirants/{}/collectors", w.aspirant_b),
        &w.b.session.bearer(),
        person(&w.col_a_clave),
    )
    .await
    .expect_error(409, "conflict");

    // Reactivation (here by the administrator): the same credentials work again.
    let done = app
        .post_empty(&format!("/api/v1/collectors/{}/activate", w.col_a_id), &ad)
        .await
        .expect(200);
    assert_eq!(done.body["active"], true);
    let back = app
        .login(&w.col_a.account.email, &w.col_a.account.password)
        .await;
    assert_eq!(back.user["must_change_password"], false);
    app.get(
        &format!("/api/v1/aspirants/{}", w.aspirant_a),
        &back.bearer(),
    )
    .await
    .expect(200);

    let log = audit(
        &app,
        &ad,
        &format!("&entity=collector&entity_id={}", w.col_a_id),
    )
    .await;
    let trail: Vec<(&str, i64, &Value, &Value)> = log
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_user_id"].as_i64().unwrap(),
                &e["before"],
                &e["after"],
            )
        })
        .collect();
    assert_eq!(trail.len(), 3, "{log:#?}");
    assert_eq!(
        trail[0],
        (
            "collector.activate",
            w.admin.account.user_id,
            &json!({"active": false}),
            &json!({"active": true})
        )
    );
    assert_eq!(
        trail[1],
        (
            "collector.deactivate",
            w.a.account.user_id,
            &json!({"active": true}),
            &json!({"active": false})
        )
    );
    assert_eq!(trail[2].0, "collector.create");
    assert_eq!(trail[2].1, w.a.account.user_id);
    assert_eq!(trail[2].3["clave_elector"], w.col_a_clave.as_str());
    assert_eq!(trail[2].3["aspirant_id"], w.aspirant_a);
}

// --- Audit log -------------------------------------------------------------------------------

#[backends]
async fn every_change_is_in_the_audit_log_and_the_log_cannot_be_changed() {
    let app = TestApp::start().await;
    let w = World::build(&app).await;
    let ad = w.admin.session.bearer();

    let path = format!("/api/v1/collectors/{}/deactivate", w.col_a2_id);
    let traced = [("x-request-id", "prueba-auditoria-0001")];
    let done = app
        .call_with(Method::POST, &path, &w.a.session.bearer(), None, &traced)
        .await
        .expect(200);
    assert_eq!(
        done.header("x-request-id").as_deref(),
        Some("prueba-auditoria-0001")
    );

    let log = audit(&app, &ad, "").await;
    let ids: Vec<i64> = log.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first: {ids:?}");
    let count = |action: &str| actions(&log, action).len();
    // admin (by the system), reviewer, 2 aspirants and 3 collectors.
    assert_eq!(count("user.create"), 7);
    assert_eq!(count("process.create"), 2);
    assert_eq!(count("office.create"), 3);
    assert_eq!(count("aspirant.create"), 2);
    assert_eq!(count("collector.create"), 3);
    // reviewer, A, B, col_a, col_b changed their one-time passwords.
    assert_eq!(count("user.password_change"), 5);
    assert_eq!(count("collector.deactivate"), 1);
    assert_eq!(log.len(), 23, "{log:#?}");
    for entry in &log {
        assert!(
            apoyo_store::clock::parse(entry["at"].as_str().unwrap()).is_some(),
            "{entry}"
        );
        assert!(
            entry["entity"].is_string() && entry["entity_id"].is_string(),
            "{entry}"
        );
    }

    let first = log.last().unwrap();
    assert_eq!(
        (first["action"].as_str(), &first["actor_user_id"]),
        (Some("user.create"), &Value::Null)
    );
    assert_eq!(first["after"]["email"], ADMIN_EMAIL);
    let aspirant = actions(&log, "aspirant.create")
        .into_iter()
        .find(|e| e["entity_id"] == entity_id(w.aspirant_a))
        .unwrap();
    assert_eq!(aspirant["actor_user_id"], w.admin.account.user_id);
    assert_eq!(aspirant["after"]["office_id"], w.office_a);
    assert_eq!(aspirant["after"]["user_id"], w.a.account.user_id);
    let own_change = actions(&log, "user.password_change")
        .into_iter()
        .find(|e| e["entity_id"] == entity_id(w.b.account.user_id))
        .unwrap();
    assert_eq!(own_change["actor_user_id"], w.b.account.user_id);
    let deactivation = actions(&log, "collector.deactivate")[0];
    assert_eq!(deactivation["actor_user_id"], w.a.account.user_id);
    assert_eq!(deactivation["entity_id"], w.col_a2_id.to_string());
    assert_eq!(deactivation["before"], json!({"active": true}));
    assert_eq!(deactivation["after"], json!({"active": false}));
    assert_eq!(deactivation["request_id"], "prueba-auditoria-0001");

    // Filters and pages.
    let by_a = audit(
        &app,
        &ad,
        &format!("&actor_user_id={}", w.a.account.user_id),
    )
    .await;
    let mut a_actions: Vec<&str> = by_a.iter().map(|e| e["action"].as_str().unwrap()).collect();
    a_actions.sort_unstable();
    assert_eq!(
        a_actions,
        [
            "collector.create",
            "collector.create",
            "collector.deactivate",
            "user.create",
            "user.create",
            "user.password_change"
        ]
    );
    let page = app.get("/api/v1/audit?limit=5", &ad).await.expect(200);
    assert_eq!(page.body.as_array().unwrap().len(), 5);
    let next = app
        .get(&format!("/api/v1/audit?limit=5&before_id={}", ids[4]), &ad)
        .await
        .expect(200);
    assert_eq!(next.body[0]["id"], ids[5]);

    // Append-only, even for someone with the database file.
    let db = app.db().await;
    let rows = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log").fetch_one(&db);
    let before = rows().await.unwrap();
    assert_eq!(before, 23);
    for statement in [
        "UPDATE audit_log SET action = 'borrado'",
        "UPDATE audit_log SET after_json = NULL WHERE id = (SELECT MAX(id) FROM audit_log)",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ] {
        let error = sqlx::query(statement)
            .execute(&db)
            .await
            .expect_err(statement)
            .to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    assert_eq!(rows().await.unwrap(), before);
    assert_eq!(audit(&app, &ad, "").await, log);
}

// --- Health, request ids, errors, limits ------------------------------------------------------

#[backends]
async fn health_readiness_request_ids_and_json_errors() {
    let app = TestApp::start().await;
    let health = app.get("/healthz", &Auth::None).await.expect(200);
    assert_eq!(health.body, json!({"status": "ok"}));
    let ready = app.get("/readyz", &Auth::None).await.expect(200);
    assert_eq!(ready.body, json!({"status": "ready"}));
    assert_eq!(
        ready.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );

    // Every answer carries a request id; a client's own id is kept.
    let first = health.header("x-request-id").unwrap();
    let second = ready.header("x-request-id").unwrap();
    assert_ne!(first, second);
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    let echoed = app
        .call_with(
            Method::GET,
            "/healthz",
            &Auth::None,
            None,
            &[("x-request-id", "cliente-42")],
        )
        .await;
    assert_eq!(echoed.header("x-request-id").as_deref(), Some("cliente-42"));

    // Errors are {"error":{"code","message"}} with a Spanish message, and carry the id too.
    let refused = app
        .get("/api/v1/processes", &Auth::None)
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(refused.message(), "Inicie sesión para continuar.");
    assert!(refused.header("x-request-id").is_some());
    let bogus = Auth::Bearer("0".repeat(64));
    app.get("/api/v1/processes", &bogus)
        .await
        .expect_error(401, "unauthenticated");
    let admin = app.login_admin().await;
    let ad = admin.bearer();
    let missing = app
        .get("/api/v1/processes/999999", &ad)
        .await
        .expect_error(404, "not_found");
    assert_eq!(missing.message(), "No se encontró el proceso.");
    app.get("/api/v1/offices/999999", &ad)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/aspirants/999999", &ad)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/collectors/999999", &ad)
        .await
        .expect_error(404, "not_found");

    let raw = |path: &'static str, content_type: &'static str, body: &'static str| {
        let request = app
            .http
            .post(app.url(path))
            .bearer_auth(&admin.token)
            .header("content-type", content_type)
            .body(body);
        async move {
            reply(
                format!("POST {path} {body:?}"),
                request.send().await.unwrap(),
            )
            .await
        }
    };
    let broken = raw("/api/v1/processes", "application/json", "{\"name\": ")
        .await
        .expect_error(400, "bad_request");
    assert!(
        broken
            .message()
            .starts_with("Los datos enviados no son válidos"),
        "{}",
        broken.message()
    );
    raw("/api/v1/processes", "application/json", "{\"name\": \"x\"}")
        .await
        .expect_error(400, "bad_request");
    raw("/api/v1/processes", "text/plain", "{}")
        .await
        .expect_error(400, "bad_request");
    let mut extra = app.process_body("Campo de más");
    extra["surprise"] = json!(true);
    app.post("/api/v1/processes", &ad, extra)
        .await
        .expect_error(400, "bad_request");
    // The login and password endpoints answer the same way.
    raw("/api/v1/session", "application/json", "{\"email\": ")
        .await
        .expect_error(400, "bad_request");
    raw(
        "/api/v1/session",
        "application/json",
        "{\"email\": \"a@b.mx\"}",
    )
    .await
    .expect_error(400, "bad_request");
    raw("/api/v1/session", "text/plain", "{}")
        .await
        .expect_error(400, "bad_request");
    let request = app
        .http
        .put(app.url("/api/v1/session/password"))
        .bearer_auth(&admin.token)
        .json(&json!({"new_password": "x"}));
    reply(
        "PUT /api/v1/session/password".into(),
        request.send().await.unwrap(),
    )
    .await
    .expect_error(400, "bad_request");
}

#[backends]
async fn a_body_over_max_json_bytes_is_refused() {
    let app = TestApp::start_with(|c| c.max_json_bytes = 2048).await;
    let admin = app.login_admin().await;
    let big = app.process_body(&"P".repeat(4096));
    let refused = app
        .post("/api/v1/processes", &admin.bearer(), big)
        .await
        .expect(413);
    assert_eq!(refused.code(), "payload_too_large", "{}", refused.text);
    let big = json!({"email": ADMIN_EMAIL, "password": "x".repeat(4096)});
    let refused = app
        .post("/api/v1/session", &Auth::None, big)
        .await
        .expect(413);
    assert_eq!(refused.code(), "payload_too_large", "{}", refused.text);
    // Under the limit is fine.
    app.post(
        "/api/v1/processes",
        &admin.bearer(),
        app.process_body("Proceso pequeño"),
    )
    .await
    .expect(201);
}

// --- Shutdown and logs ----------------------------------------------------------------------

#[backends]
async fn serve_finishes_requests_in_flight_and_returns_ok_after_shutdown() {
    let app = TestApp::start().await;
    app.get("/healthz", &Auth::None).await.expect(200);
    let address = app.address;

    // A login whose headers and half of the body arrived before the shutdown (a plain
    // blocking socket on its own thread: the test runtime also runs the server).
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).to_string();
    let (connected, on_connected) = tokio::sync::oneshot::channel::<()>();
    let (go, on_go) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || {
        let (head, tail) = body.split_at(body.len() / 2);
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        let request = format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        connected.send(()).unwrap();
        on_go.recv().unwrap();
        stream.write_all(tail.as_bytes()).unwrap();
        let mut answer = String::new();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.read_to_string(&mut answer).unwrap();
        answer
    });
    on_connected.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !stopping.is_finished(),
        "serve waits for the request in flight"
    );
    go.send(()).unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(30), client)
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let served = tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .unwrap()
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "no longer listening"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One global subscriber per test binary (outside the test: `#[backends]` makes two
/// functions of it): both backends' runs write to it.
static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();

#[backends]
async fn passwords_and_tokens_never_reach_the_logs() {
    let captured = CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
            captured
        })
        .clone();

    let app = TestApp::start().await;
    let wrong = "Marcador-Contraseña-Equivocada-7731";
    app.try_login(ADMIN_EMAIL, wrong).await.expect(401);
    let admin = app.login_admin().await;
    let created = app
        .post(
            "/api/v1/users",
            &admin.bearer(),
            json!({"email": "revisor@apoyo.test", "name": "Revisor", "role": "reviewer"}),
        )
        .await
        .expect(201);
    let initial = created.body["account"]["initial_password"]
        .as_str()
        .unwrap()
        .to_owned();
    let reviewer = app.login("revisor@apoyo.test", &initial).await;
    let chosen = "Marcador-Contraseña-Nueva-5521";
    app.put(
        "/api/v1/session/password",
        &reviewer.cookie(),
        json!({"current_password": initial, "new_password": chosen}),
    )
    .await
    .expect(204);
    app.login("revisor@apoyo.test", chosen).await;
    app.get("/api/v1/processes", &admin.cookie())
        .await
        .expect(200);
    app.delete("/api/v1/session", &admin.bearer())
        .await
        .expect(204);
    drop(app);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("login failed") && logs.contains("request"),
        "the capture works: {logs}"
    );
    for secret in [
        ADMIN_PASSWORD,
        wrong,
        initial.as_str(),
        chosen,
        admin.token.as_str(),
        admin.csrf.as_str(),
        reviewer.token.as_str(),
        "$argon2",
    ] {
        assert!(!logs.contains(secret), "{secret} was logged");
    }
}

#[backends]
async fn the_app_needs_no_configuration_beyond_its_data_directory() {
    // Built from the defaults (only listen and data_dir change), with migrations applied
    // at start-up on an empty directory.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nuevo");
    let config = apoyo_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.clone(),
        ..apoyo_server::Config::default()
    };
    let app = apoyo_server::App::build(config).await.unwrap();
    let address = app.address;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));
    let ready = http_client()
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(data_dir.join(apoyo_store::SQLITE_FILE).exists());
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[backends]
async fn unknown_routes_wrong_methods_and_bad_ids_answer_json_errors() {
    let app = TestApp::start().await;
    let missing = app
        .get("/api/v1/nothing-here", &Auth::None)
        .await
        .expect_error(404, "not_found");
    assert!(
        missing.message().contains("dirección"),
        "{}",
        missing.message()
    );
    app.delete("/api/v1/processes", &Auth::None)
        .await
        .expect_error(405, "method_not_allowed");
    let world = World::build(&app).await;
    let bad = app
        .get("/api/v1/processes/abc", &world.admin.session.bearer())
        .await
        .expect_error(400, "bad_request");
    assert!(
        bad.message().contains("números enteros"),
        "{}",
        bad.message()
    );
}
