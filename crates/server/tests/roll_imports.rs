//! Importing a roll snapshot from the browser: the raw CSV is uploaded to
//! `POST /api/v1/roll/imports`, answered `202` once stored, imported in the background and
//! followed with `GET /api/v1/roll/imports/{id}`; a broken file stores nothing and says
//! which line to fix; only administrators may do it; an import a stopped server left
//! unfinished is failed at the next start. And the console's page (`/console/roll`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::time::{Duration, Instant};

use serde_json::Value;

use common::{Auth, Reply, TestApp, World, reply, roll_file};

/// Uploads `body` as the raw request body.
async fn upload(app: &TestApp, auth: &Auth, query: &str, body: String) -> Reply {
    let path = format!("/api/v1/roll/imports{query}");
    let builder = app
        .http
        .post(app.url(&path))
        .header("content-type", "text/csv")
        .body(body);
    let response = auth.apply(builder).send().await.unwrap();
    reply(format!("POST {path}"), response).await
}

/// Polls the import until it ends (done or failed).
async fn finished(app: &TestApp, auth: &Auth, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let body = app
            .get(&format!("/api/v1/roll/imports/{id}"), auth)
            .await
            .expect(200)
            .body;
        match body["status"].as_str().unwrap() {
            "done" | "failed" => return body,
            "queued" | "running" => {}
            other => panic!("unknown status {other}: {body}"),
        }
        assert!(Instant::now() < deadline, "the import never ended: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn snapshot_names(app: &TestApp, auth: &Auth) -> Vec<(String, i64, bool)> {
    app.get("/api/v1/roll/snapshots", auth)
        .await
        .expect(200)
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["rows"].as_i64().unwrap(),
                s["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Waits until the upload directory holds no file (the import removes its upload).
async fn uploads_removed(app: &TestApp) {
    let dir = app.data_dir.join("roll-uploads");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "uploads left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[backends]
async fn a_good_roll_becomes_a_snapshot_and_a_broken_one_stores_nothing() {
    let app = TestApp::start().await;
    let admin = app.login_admin().await;
    let bearer = admin.bearer();
    let (file, roll) = roll_file();

    // A cookie session needs the CSRF token, like every other change.
    upload(
        &app,
        &admin.cookie_without_csrf(),
        "?cut_date=2025-01-31&name=LN-consola",
        file.clone(),
    )
    .await
    .expect_error(403, "csrf");

    let created = upload(
        &app,
        &admin.cookie(),
        "?cut_date=2025-01-31&name=LN-consola&activate=false",
        file.clone(),
    )
    .await
    .expect(202);
    let id = created.id();
    assert_eq!(created.body["name"], "LN-consola");
    assert_eq!(created.body["cut_date"], "2025-01-31");
    assert_eq!(created.body["bytes"].as_i64().unwrap(), file.len() as i64);
    assert!(
        ["queued", "running", "done"].contains(&created.body["status"].as_str().unwrap()),
        "{}",
        created.text
    );

    let done = finished(&app, &bearer, id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["rows_read"].as_i64().unwrap(), roll.rows as i64);
    assert_eq!(done["snapshot_name"], "LN-consola");
    assert!(done["error"].is_null());
    assert!(done["finished_at"].is_string());
    let snapshots = snapshot_names(&app, &bearer).await;
    assert!(
        snapshots.contains(&("LN-consola".to_owned(), roll.rows as i64, false)),
        "{snapshots:?}"
    );
    assert!(
        snapshots
            .iter()
            .any(|(name, _, active)| name == common::SNAPSHOT && *active),
        "activate=false leaves the active snapshot alone: {snapshots:?}"
    );
    uploads_removed(&app).await;

    // The name is taken now: refused up front.
    upload(
        &app,
        &bearer,
        "?cut_date=2025-01-31&name=LN-consola",
        file.clone(),
    )
    .await
    .expect_error(409, "conflict");

    // A broken line: the sexo of line 5 (the header is line 1).
    let mut lines: Vec<String> = file.lines().map(str::to_owned).collect();
    let mut fields: Vec<&str> = lines[4].split(',').collect();
    fields[5] = "X";
    lines[4] = fields.join(",");
    let broken = lines.join("\n") + "\n";
    let id = upload(&app, &bearer, "?cut_date=2025-02-28&name=LN-rota", broken)
        .await
        .expect(202)
        .id();
    let failed = finished(&app, &bearer, id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("no se importó nada"), "{error}");
    assert!(error.contains("Línea 5, columna sexo"), "{error}");
    assert!(failed["snapshot_name"].is_null());
    let snapshots = snapshot_names(&app, &bearer).await;
    assert!(
        !snapshots.iter().any(|(name, _, _)| name == "LN-rota"),
        "{snapshots:?}"
    );
    uploads_removed(&app).await;

    // An empty file fails too, with its own message.
    let id = upload(
        &app,
        &bearer,
        "?cut_date=2025-02-28&name=LN-vacia",
        String::new(),
    )
    .await
    .expect(202)
    .id();
    let failed = finished(&app, &bearer, id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("Línea 1"),
        "{failed}"
    );

    // Newest first, with the snapshot of the one that worked.
    let list = app.get("/api/v1/roll/imports", &bearer).await.expect(200);
    let names: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["LN-vacia", "LN-rota", "LN-consola"]);

    // Every import is in the audit log, started and ended by the administrator.
    let actions = app.audit_actions("roll_import", &bearer).await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "roll_import.create")
            .count(),
        3
    );
    assert!(
        actions.iter().any(|a| a == "roll_import.done"),
        "{actions:?}"
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "roll_import.failed")
            .count(),
        2
    );

    // Activating by default, as the command line does.
    let (file, roll) = roll_file();
    let id = upload(&app, &bearer, "?cut_date=2025-03-31&name=LN-vigente", file)
        .await
        .expect(202)
        .id();
    assert_eq!(finished(&app, &bearer, id).await["status"], "done");
    let snapshots = snapshot_names(&app, &bearer).await;
    assert!(
        snapshots.contains(&("LN-vigente".to_owned(), roll.rows as i64, true)),
        "{snapshots:?}"
    );
    assert_eq!(snapshots.iter().filter(|(_, _, active)| *active).count(), 1);
}

#[backends]
async fn only_administrators_import_and_the_query_is_checked() {
    let app = TestApp::start().await;
    let world = World::build(&app).await;
    let admin = world.admin.session.bearer();
    let (file, _) = roll_file();

    for who in [
        world.reviewer.session.bearer(),
        world.a.session.bearer(),
        world.col_a.session.bearer(),
    ] {
        upload(
            &app,
            &who,
            "?cut_date=2025-01-31&name=LN-ajena",
            file.clone(),
        )
        .await
        .expect_error(403, "forbidden");
        app.get("/api/v1/roll/imports", &who)
            .await
            .expect_error(403, "forbidden");
        app.get("/api/v1/roll/imports/1", &who)
            .await
            .expect_error(403, "forbidden");
    }
    upload(
        &app,
        &Auth::None,
        "?cut_date=2025-01-31&name=LN-ajena",
        file.clone(),
    )
    .await
    .expect_error(401, "unauthenticated");

    for (query, expected) in [
        ("?name=LN-sin-fecha", "fecha de corte"),
        ("?cut_date=&name=LN-sin-fecha", "fecha de corte"),
        ("?cut_date=2025-02-30&name=LN-fecha-mala", "2025-02-30"),
        ("?cut_date=31/01/2025&name=LN-fecha-mala", "AAAA-MM-DD"),
        ("?cut_date=2025-01-31", "nombre"),
        ("?cut_date=2025-01-31&name=%20%20", "nombre"),
        ("?cut_date=2025-01-31&name=LN-x&activate=quizas", "activate"),
    ] {
        let refused = upload(&app, &admin, query, file.clone())
            .await
            .expect_error(422, "unprocessable");
        assert!(
            refused.message().contains(expected),
            "{query}: {}",
            refused.message()
        );
    }
    // Nothing was recorded for the refused requests.
    let list = app.get("/api/v1/roll/imports", &admin).await.expect(200);
    assert_eq!(list.body, serde_json::json!([]));
    app.get("/api/v1/roll/imports/999999", &admin)
        .await
        .expect_error(404, "not_found");

    // The harness's snapshot name is taken.
    upload(
        &app,
        &admin,
        &format!("?cut_date=2025-01-31&name={}", common::SNAPSHOT),
        file,
    )
    .await
    .expect_error(409, "conflict");
}

#[backends]
async fn an_upload_over_the_limit_is_refused() {
    let app = TestApp::start_with(|config| config.max_roll_upload_bytes = 1000).await;
    let admin = app.login_admin().await.bearer();
    let (file, _) = roll_file();
    assert!(file.len() > 1000);
    upload(&app, &admin, "?cut_date=2025-01-31&name=LN-grande", file)
        .await
        .expect_error(413, "payload_too_large");
    assert_eq!(
        snapshot_names(&app, &admin).await.len(),
        1,
        "nothing imported"
    );
}

#[backends]
async fn an_import_left_unfinished_by_a_stop_fails_at_the_next_start() {
    let mut app = TestApp::start().await;
    let admin = app.login_admin().await;
    let user = admin.user_id();
    for status in ["queued", "running"] {
        app.execute_sql(&format!(
            "INSERT INTO roll_imports (name, cut_date, activate, status, rows_read, bytes, created_by, created_at, updated_at) \
             VALUES ('LN-{status}', '2025-01-31', 1, '{status}', 1000, 5000, {user}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        ))
        .await;
    }
    app.stop_server().await;
    app.start_server().await;
    let admin = app.login_admin().await.bearer();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = app.get("/api/v1/roll/imports", &admin).await.expect(200);
        let imports = list.body.as_array().unwrap();
        assert_eq!(imports.len(), 2);
        if imports.iter().all(|i| i["status"] == "failed") {
            for import in imports {
                let error = import["error"].as_str().unwrap();
                assert!(error.contains("Envíe el archivo de nuevo"), "{error}");
            }
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {}", list.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[backends]
async fn the_console_page_lists_snapshots_and_imports_for_administrators() {
    let app = TestApp::start().await;
    let world = World::build(&app).await;
    let admin = world.admin.session.cookie();
    let (file, roll) = roll_file();
    let id = upload(
        &app,
        &admin,
        "?cut_date=2025-01-31&name=LN-de-la-consola",
        file,
    )
    .await
    .expect(202)
    .id();
    finished(&app, &admin, id).await;

    let page = app.get("/console/roll", &admin).await.expect(200);
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let html = &page.text;
    for expected in [
        "<h1>Lista Nominal</h1>",
        "id=\"roll-import-form\"",
        "<label for=\"roll-file\">",
        "<label for=\"roll-name\">",
        "<label for=\"roll-cut-date\">",
        "<label for=\"roll-activate\">",
        "<progress id=\"roll-progress\"",
        "aria-live=\"polite\"",
        common::SNAPSHOT,
        "31/08/2024",
        "LN-de-la-consola",
        "31/01/2025",
        &roll.rows.to_string(),
        "Terminada",
        "href=\"/console/roll\" aria-current=\"page\"",
    ] {
        assert!(
            html.contains(expected),
            "{expected:?} missing from the page"
        );
    }
    assert!(!html.contains("<script>"), "no inline script (CSP)");

    // On the administrator's other pages, the navigation leads here.
    let home = app.get("/console/", &admin).await.expect(200);
    assert!(home.text.contains("href=\"/console/roll\""));

    app.get("/console/roll", &world.reviewer.session.cookie())
        .await
        .expect(403);
    app.get("/console/roll", &world.a.session.cookie())
        .await
        .expect(403);
}
