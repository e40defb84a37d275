//! The authorization matrix: every endpoint of the OpenAPI document, called by every role
//! and, for endpoints that take an id, with another aspirant's ids, with the exact status
//! expected. The list of endpoints comes from `apoyo_server::openapi()`: an endpoint
//! without a row here fails the test, so a new endpoint cannot slip by unreviewed.
//!
//! Columns: anonymous, administrator, Mesa de Control reviewer, aspirant A, A's collector,
//! then aspirant A and A's collector with foreign ids: aspirant B and B's collector (B runs
//! for another office of the same process), and a process and office in which neither A nor
//! B takes part. Foreign ids must never answer 2xx, and no answer to A or A's collector may
//! contain B's or the other process's data.
//!
//! Run with `-- --nocapture` to see the table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{Value, json};

use common::{Auth, Member, TestApp, World, support_fields, support_images};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Admin,
    Reviewer,
    AspirantA,
    CollectorA,
}

/// (who calls, with foreign ids, heading)
const COLUMNS: [(Caller, bool, &str); 7] = [
    (Caller::Anonymous, false, "anon"),
    (Caller::Admin, false, "admin"),
    (Caller::Reviewer, false, "reviewer"),
    (Caller::AspirantA, false, "asp A"),
    (Caller::CollectorA, false, "col A"),
    (Caller::AspirantA, true, "A→B ids"),
    (Caller::CollectorA, true, "colA→B ids"),
];

/// A valid body for the endpoint, so that what is tested is authorisation, not validation.
#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    /// The caller's own email and password (the administrator's for the anonymous caller).
    Login,
    /// The caller's current password and a new one.
    PasswordChange,
    Process,
    Office,
    /// For the office of the process in the path.
    Aspirant,
    /// A person on the Lista Nominal no one has registered yet.
    Collector,
    Staff,
    /// A well-formed support (multipart) with a client id never used.
    Support,
    /// The harness's roll snapshot (the one the process already uses).
    RollSnapshot,
    /// A well-formed paper support (multipart, three images) with a client id never used.
    PaperSupport,
    /// A new catalogue entry with a code never used.
    InconsistencyType,
    /// `{"active": true}`.
    Active,
    /// The default review policy, no hearing window.
    ReviewSettings,
    /// `{}` (nothing on the reviewer's screen).
    Empty,
    /// A decision: valid.
    Decision,
    /// An objection's argument.
    Objection,
    /// A resolution: denied, with a note.
    Resolution,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Session {
    /// The caller's long-lived session.
    Main,
    /// A session opened just for this call (logout ends it).
    Fresh,
}

struct Row {
    method: &'static str,
    /// As in the OpenAPI document.
    path: &'static str,
    /// With placeholders {process}, {office}, {aspirant}, {collector} (A's collector
    /// itself) and {collector2} (A's other collector, the target of (de)activation).
    target: &'static str,
    body: Body,
    session: Session,
    /// One per column; `None` = not applicable (no id to swap).
    expect: [Option<u16>; 7],
}

/// Expectations for an endpoint without ids.
const fn plain(
    anon: u16,
    admin: u16,
    reviewer: u16,
    aspirant: u16,
    collector: u16,
) -> [Option<u16>; 7] {
    [
        Some(anon),
        Some(admin),
        Some(reviewer),
        Some(aspirant),
        Some(collector),
        None,
        None,
    ]
}

/// Expectations for an endpoint with an id, then with foreign ids as A and as A's collector.
const fn with_ids(
    anon: u16,
    admin: u16,
    reviewer: u16,
    aspirant: u16,
    collector: u16,
    foreign_aspirant: u16,
    foreign_collector: u16,
) -> [Option<u16>; 7] {
    [
        Some(anon),
        Some(admin),
        Some(reviewer),
        Some(aspirant),
        Some(collector),
        Some(foreign_aspirant),
        Some(foreign_collector),
    ]
}

const fn row(
    method: &'static str,
    path: &'static str,
    target: &'static str,
    body: Body,
    expect: [Option<u16>; 7],
) -> Row {
    Row {
        method,
        path,
        target,
        body,
        session: Session::Main,
        expect,
    }
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    row("GET", "/healthz", "/healthz", Body::None, plain(200, 200, 200, 200, 200)),
    row("GET", "/readyz", "/readyz", Body::None, plain(200, 200, 200, 200, 200)),
    row("POST", "/api/v1/session", "/api/v1/session", Body::Login, plain(200, 200, 200, 200, 200)),
    row("GET", "/api/v1/session", "/api/v1/session", Body::None, plain(401, 200, 200, 200, 200)),
    row("PUT", "/api/v1/session/password", "/api/v1/session/password", Body::PasswordChange, plain(401, 204, 204, 204, 204)),
    Row { session: Session::Fresh, ..row("DELETE", "/api/v1/session", "/api/v1/session", Body::None, plain(401, 204, 204, 204, 204)) },
    row("POST", "/api/v1/processes", "/api/v1/processes", Body::Process, plain(401, 201, 403, 403, 403)),
    row("GET", "/api/v1/processes", "/api/v1/processes", Body::None, plain(401, 200, 200, 200, 200)),
    row("GET", "/api/v1/processes/{id}", "/api/v1/processes/{process}", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("POST", "/api/v1/processes/{id}/offices", "/api/v1/processes/{process}/offices", Body::Office, with_ids(401, 201, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/processes/{id}/offices", "/api/v1/processes/{process}/offices", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("GET", "/api/v1/offices/{id}", "/api/v1/offices/{office}", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("POST", "/api/v1/processes/{id}/aspirants", "/api/v1/processes/{process}/aspirants", Body::Aspirant, with_ids(401, 201, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/processes/{id}/aspirants", "/api/v1/processes/{process}/aspirants", Body::None, with_ids(401, 200, 200, 403, 403, 403, 403)),
    row("GET", "/api/v1/aspirants/{id}", "/api/v1/aspirants/{aspirant}", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("POST", "/api/v1/aspirants/{id}/collectors", "/api/v1/aspirants/{aspirant}/collectors", Body::Collector, with_ids(401, 201, 403, 201, 403, 404, 404)),
    row("GET", "/api/v1/aspirants/{id}/collectors", "/api/v1/aspirants/{aspirant}/collectors", Body::None, with_ids(401, 200, 200, 200, 403, 404, 404)),
    row("GET", "/api/v1/aspirants/{id}/supports", "/api/v1/aspirants/{aspirant}/supports", Body::None, with_ids(401, 200, 200, 200, 403, 404, 404)),
    row("GET", "/api/v1/collectors/{id}", "/api/v1/collectors/{collector}", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("POST", "/api/v1/collectors/{id}/deactivate", "/api/v1/collectors/{collector2}/deactivate", Body::None, with_ids(401, 200, 403, 200, 403, 404, 404)),
    row("POST", "/api/v1/collectors/{id}/activate", "/api/v1/collectors/{collector2}/activate", Body::None, with_ids(401, 200, 403, 200, 403, 404, 404)),
    row("POST", "/api/v1/supports", "/api/v1/supports", Body::Support, plain(401, 403, 403, 403, 201)),
    row("GET", "/api/v1/supports/{id}/receipt", "/api/v1/supports/{support}/receipt", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("GET", "/api/v1/supports/{id}", "/api/v1/supports/{support}", Body::None, with_ids(401, 200, 200, 200, 200, 404, 404)),
    row("GET", "/api/v1/supports/{id}/images/{kind}", "/api/v1/supports/{support}/images/front", Body::None, with_ids(401, 200, 200, 403, 403, 404, 404)),
    row("POST", "/api/v1/aspirants/{id}/paper-supports", "/api/v1/aspirants/{aspirant}/paper-supports", Body::PaperSupport, with_ids(401, 201, 201, 403, 403, 403, 403)),
    row("GET", "/api/v1/aspirants/{id}/progress", "/api/v1/aspirants/{aspirant}/progress", Body::None, with_ids(401, 200, 200, 200, 403, 404, 404)),
    row("PUT", "/api/v1/processes/{id}/roll-snapshot", "/api/v1/processes/{process}/roll-snapshot", Body::RollSnapshot, with_ids(401, 202, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/processes/{id}/reverifications", "/api/v1/processes/{process}/reverifications", Body::None, with_ids(401, 200, 200, 403, 403, 403, 403)),
    row("GET", "/api/v1/verification/jobs", "/api/v1/verification/jobs", Body::None, plain(401, 200, 403, 403, 403)),
    row("POST", "/api/v1/verification/jobs/{id}/retry", "/api/v1/verification/jobs/{job}/retry", Body::None, with_ids(401, 404, 403, 403, 403, 403, 403)),
    row("POST", "/api/v1/users", "/api/v1/users", Body::Staff, plain(401, 201, 403, 403, 403)),
    row("GET", "/api/v1/users", "/api/v1/users", Body::None, plain(401, 200, 403, 403, 403)),
    row("GET", "/api/v1/roll/snapshots", "/api/v1/roll/snapshots", Body::None, plain(401, 200, 200, 403, 403)),
    // An empty roll file: accepted (202), then its import fails in the background.
    row("POST", "/api/v1/roll/imports", "/api/v1/roll/imports?cut_date=2025-01-31&name=LN-matriz", Body::None, plain(401, 202, 403, 403, 403)),
    row("GET", "/api/v1/roll/imports", "/api/v1/roll/imports", Body::None, plain(401, 200, 403, 403, 403)),
    // The import of the row above, the first of this world's database.
    row("GET", "/api/v1/roll/imports/{id}", "/api/v1/roll/imports/{import}", Body::None, with_ids(401, 200, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/audit", "/api/v1/audit", Body::None, plain(401, 200, 403, 403, 403)),
    row("GET", "/api/v1/inconsistency-types", "/api/v1/inconsistency-types", Body::None, plain(401, 200, 200, 403, 403)),
    row("POST", "/api/v1/inconsistency-types", "/api/v1/inconsistency-types", Body::InconsistencyType, plain(401, 201, 403, 403, 403)),
    row("PUT", "/api/v1/inconsistency-types/{code}", "/api/v1/inconsistency-types/{code}", Body::Active, with_ids(401, 204, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/processes/{id}/review-settings", "/api/v1/processes/{process}/review-settings", Body::None, with_ids(401, 200, 200, 200, 403, 404, 403)),
    row("PUT", "/api/v1/processes/{id}/review-settings", "/api/v1/processes/{process}/review-settings", Body::ReviewSettings, with_ids(401, 204, 403, 403, 403, 403, 403)),
    row("GET", "/api/v1/processes/{id}/review-status", "/api/v1/processes/{process}/review-status", Body::None, with_ids(401, 200, 200, 403, 403, 403, 403)),
    row("GET", "/api/v1/reviewers/hours", "/api/v1/reviewers/hours", Body::None, plain(401, 200, 403, 403, 403)),
    // A's only support found on the roll is the whole sample: the administrator takes it,
    // the reviewer finds the queue empty.
    row("POST", "/api/v1/processes/{id}/review/next", "/api/v1/processes/{process}/review/next", Body::Empty, with_ids(401, 200, 204, 403, 403, 403, 403)),
    // The administrator holds it and decides; then it is no longer in the queue.
    row("POST", "/api/v1/supports/{id}/review", "/api/v1/supports/{support}/review", Body::Decision, with_ids(401, 200, 422, 403, 403, 403, 403)),
    row("DELETE", "/api/v1/supports/{id}/review/claim", "/api/v1/supports/{support}/review/claim", Body::None, with_ids(401, 204, 204, 403, 403, 403, 403)),
    row("GET", "/api/v1/supports/{id}/reviews", "/api/v1/supports/{support}/reviews", Body::None, with_ids(401, 200, 200, 200, 404, 404, 404)),
    // The hearing is not open (and A's support is valid).
    row("POST", "/api/v1/supports/{id}/objections", "/api/v1/supports/{support}/objections", Body::Objection, with_ids(401, 403, 403, 422, 403, 404, 403)),
    row("GET", "/api/v1/objections", "/api/v1/objections", Body::None, plain(401, 200, 200, 200, 403)),
    row("GET", "/api/v1/objections/{id}", "/api/v1/objections/{objection}", Body::None, with_ids(401, 200, 200, 200, 404, 404, 404)),
    // The administrator resolves A's objection; the reviewer comes too late.
    row("POST", "/api/v1/objections/{id}/resolution", "/api/v1/objections/{objection}/resolution", Body::Resolution, with_ids(401, 200, 409, 403, 403, 403, 403)),
];

/// (method, path) of every operation in the OpenAPI document.
fn documented_endpoints() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(apoyo_server::openapi()).unwrap();
    let mut endpoints = BTreeSet::new();
    for (path, item) in document["paths"]
        .as_object()
        .expect("the document has paths")
    {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_some() {
                endpoints.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    endpoints
}

#[test]
fn every_documented_endpoint_has_a_row_and_every_row_an_endpoint() {
    let documented = documented_endpoints();
    assert!(documented.len() >= 20, "{documented:?}");
    let mut tabled = BTreeSet::new();
    for row in TABLE {
        assert!(
            tabled.insert((row.method.to_owned(), row.path.to_owned())),
            "{} {} twice in the table",
            row.method,
            row.path
        );
        let has_id = row.path.contains('{');
        assert_eq!(
            row.target.contains('{'),
            has_id,
            "{} {}",
            row.method,
            row.path
        );
        for (i, expected) in row.expect.iter().enumerate() {
            let foreign = COLUMNS[i].1;
            assert_eq!(
                expected.is_some(),
                !foreign || has_id,
                "{} {}: column {}",
                row.method,
                row.path,
                COLUMNS[i].2
            );
            if foreign {
                assert!(
                    expected.is_none_or(|s| s >= 400),
                    "{} {}: foreign ids must be refused",
                    row.method,
                    row.path
                );
            }
        }
    }
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the authorization table in crates/server/tests/authorization.rs is out of date.\n\
         Endpoints without a row (add one with the expected status for every role): {missing:?}\n\
         Rows for endpoints no longer in the API: {stale:?}"
    );
}

/// The ids a placeholder stands for, for one column.
struct Ids {
    process: i64,
    office: i64,
    aspirant: i64,
    collector: i64,
    collector2: i64,
    /// A support sent by the column's collector (A's, or B's for foreign ids).
    support: i64,
    /// An objection to that support.
    objection: i64,
}

fn target(template: &str, ids: &Ids) -> String {
    template
        .replace("{process}", &ids.process.to_string())
        .replace("{office}", &ids.office.to_string())
        .replace("{aspirant}", &ids.aspirant.to_string())
        .replace("{collector2}", &ids.collector2.to_string())
        .replace("{collector}", &ids.collector.to_string())
        .replace("{support}", &ids.support.to_string())
        .replace("{objection}", &ids.objection.to_string())
        .replace("{code}", "illegible")
        .replace("{import}", "1")
        // No job has failed in this world: the administrator is told there is none.
        .replace("{job}", "999999")
}

fn error_code(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        422 => "unprocessable",
        _ => "",
    }
}

#[backends]
async fn every_endpoint_with_every_role_and_foreign_ids() {
    let app = TestApp::start().await;
    let world = World::build(&app).await;
    // The world's process collected in 2025; supports need a period that is open now.
    app.open_collection(world.process_id).await;
    let mut supports = Vec::new();
    for (member, n) in [(&world.col_a, 1), (&world.col_b, 2)] {
        let reply = app
            .send_support(
                &member.session.bearer(),
                &support_fields(&format!("matriz-apoyo-{n:04}"), n),
                support_images(0),
            )
            .await
            .expect(201);
        supports.push(reply.body["support_id"].as_i64().unwrap());
    }
    // Verified before the review rows run (only A's support is found on the roll).
    app.all_verified().await;
    // One objection each, staged (the hearing is closed, so the API would refuse them).
    let mut objections = Vec::new();
    for (support, aspirant, member) in [
        (supports[0], world.aspirant_a, &world.a),
        (supports[1], world.aspirant_b, &world.b),
    ] {
        app.execute_sql(&format!(
            "INSERT INTO objections (support_id, aspirant_id, filed_by, outcome_at_filing, argument, filed_at, status) \
             VALUES ({support}, {aspirant}, {}, 'not_found', 'Argumento de la matriz de permisos.', '2026-01-01T00:00:00Z', 'open')",
            member.account.user_id
        ))
        .await;
        objections.push(
            app.scalar(&format!(
                "SELECT MAX(id) FROM objections WHERE support_id = {support}"
            ))
            .await,
        );
    }
    let mut members: Vec<(Caller, Member)> = vec![
        (Caller::Admin, world.admin.clone()),
        (Caller::Reviewer, world.reviewer.clone()),
        (Caller::AspirantA, world.a.clone()),
        (Caller::CollectorA, world.col_a.clone()),
    ];
    let own = Ids {
        process: world.process_id,
        office: world.office_a,
        aspirant: world.aspirant_a,
        collector: world.col_a_id,
        collector2: world.col_a2_id,
        support: supports[0],
        objection: objections[0],
    };
    let foreign = Ids {
        process: world.other_process_id,
        office: world.other_office,
        aspirant: world.aspirant_b,
        collector: world.col_b_id,
        collector2: world.col_b_id,
        support: supports[1],
        objection: objections[1],
    };
    // What A and A's collector must never see.
    let secrets = [
        world.b.account.email.as_str(),
        world.b_name.as_str(),
        world.col_b.account.email.as_str(),
        world.col_b_name.as_str(),
        world.col_b_clave.as_str(),
        world.other_process_name.as_str(),
    ];

    let mut table = String::new();
    let _ = write!(table, "{:<7}{:<36}", "", "endpoint");
    for (_, _, heading) in COLUMNS {
        let _ = write!(table, "{heading:>11}");
    }
    table.push('\n');
    let mut failures = Vec::new();

    for row in TABLE {
        let _ = write!(table, "{:<7}{:<36}", row.method, row.path);
        for (column, (caller, is_foreign, heading)) in COLUMNS.iter().enumerate() {
            let Some(expected) = row.expect[column] else {
                let _ = write!(table, "{:>11}", "-");
                continue;
            };
            let ids = if *is_foreign { &foreign } else { &own };
            let member = members
                .iter()
                .find(|(c, _)| c == caller)
                .map(|(_, m)| m.clone());
            let auth = match (&member, row.session) {
                (None, _) => Auth::None,
                (Some(m), Session::Main) => m.session.bearer(),
                (Some(m), Session::Fresh) => app
                    .login(&m.account.email, &m.account.password)
                    .await
                    .bearer(),
            };
            let mut new_password = None;
            let body = match row.body {
                Body::None => None,
                Body::Login => {
                    let account = member.as_ref().map_or(&world.admin.account, |m| &m.account);
                    Some(json!({"email": account.email, "password": account.password}))
                }
                Body::PasswordChange => {
                    let current = member
                        .as_ref()
                        .map_or(String::new(), |m| m.account.password.clone());
                    let new = format!("matriz-{}-{}", app.unique(), heading.len());
                    new_password = Some(new.clone());
                    Some(json!({"current_password": current, "new_password": new}))
                }
                Body::Process => {
                    Some(app.process_body(&format!("Proceso de la matriz {}", app.unique())))
                }
                Body::Office => Some(
                    app.ayuntamiento_body(&format!("Ayuntamiento de Lerdo {}", app.unique()), 12),
                ),
                Body::Aspirant => Some(json!({
                    "office_id": ids.office,
                    "name": format!("Aspirante de la matriz {}", app.unique()),
                    "email": app.unique_email("matriz-aspirante"),
                })),
                Body::Collector => {
                    Some(app.collector_body(&format!("Auxiliar de la matriz {}", app.unique())))
                }
                Body::Support | Body::PaperSupport => None,
                Body::InconsistencyType => Some(json!({
                    "code": format!("matriz_{}", app.unique()),
                    "label": "Inconsistencia de la matriz",
                    "invalidates": true,
                })),
                Body::Active => Some(json!({ "active": true })),
                Body::ReviewSettings => Some(json!({
                    "sample_percent": 10, "full_review_trigger_percent": 10,
                    "hearing_opens_on": null, "hearing_closes_on": null,
                })),
                Body::Empty => Some(json!({})),
                Body::Decision => Some(json!({ "inconsistencies": [] })),
                Body::Objection => Some(
                    json!({ "argument": "La credencial es original; la imagen salió oscura." }),
                ),
                Body::Resolution => {
                    Some(json!({ "granted": false, "note": "La situación registral no cambia." }))
                }
                Body::RollSnapshot => Some(json!({ "roll_snapshot": common::SNAPSHOT })),
                Body::Staff => Some(json!({
                    "email": app.unique_email("matriz-revisor"),
                    "name": "Revisor de la matriz",
                    "role": "reviewer",
                })),
            };
            let method = Method::from_bytes(row.method.as_bytes()).unwrap();
            let path = target(row.target, ids);
            let reply = if matches!(row.body, Body::Support) {
                let fields = support_fields(&format!("matriz-{}", app.unique() + 1000), 3);
                app.send_support(&auth, &fields, support_images(0)).await
            } else if matches!(row.body, Body::PaperSupport) {
                let fields = support_fields(&format!("matriz-papel-{}", app.unique() + 1000), 3);
                app.send_paper_support(&auth, ids.aspirant, &fields).await
            } else {
                app.call(method, &path, &auth, body.as_ref()).await
            };

            let mut problems = Vec::new();
            if reply.status != expected {
                problems.push(format!("status {} (expected {expected})", reply.status));
            } else if expected >= 400 && reply.code() != error_code(expected) {
                problems.push(format!(
                    "error code {:?} (expected {:?})",
                    reply.code(),
                    error_code(expected)
                ));
            }
            if matches!(caller, Caller::AspirantA | Caller::CollectorA) {
                for secret in secrets {
                    if reply.text.contains(secret) {
                        problems.push(format!("the answer reveals {secret:?}"));
                    }
                }
            }
            let cell = if problems.is_empty() {
                reply.status.to_string()
            } else {
                format!("{}≠{expected}", reply.status)
            };
            let _ = write!(table, "{cell:>11}");
            if !problems.is_empty() {
                failures.push(format!(
                    "{} {path} as {heading}: {}: {}",
                    row.method,
                    problems.join("; "),
                    reply.text
                ));
            }
            if let (Some(new), 204, Some(caller)) =
                (new_password, reply.status, member.map(|_| *caller))
            {
                if let Some((_, m)) = members.iter_mut().find(|(c, _)| *c == caller) {
                    m.account.password = new;
                }
            }
        }
        table.push('\n');
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "authorization matrix:\n{table}\n{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing that belongs to B changed: B's collector is active and still logged in, and
    // B has no collectors but their own.
    let admin = world.admin.session.bearer();
    let b_collectors = app
        .get(
            &format!("/api/v1/aspirants/{}/collectors", world.aspirant_b),
            &admin,
        )
        .await
        .expect(200);
    let listed: Vec<(i64, bool)> = b_collectors
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_i64().unwrap(), c["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed, [(world.col_b_id, true)]);
    app.get("/api/v1/session", &world.col_b.session.bearer())
        .await
        .expect(200);
    let offices = app
        .get(
            &format!("/api/v1/processes/{}/offices", world.other_process_id),
            &admin,
        )
        .await
        .expect(200);
    assert_eq!(
        offices.body.as_array().map(Vec::len),
        Some(1),
        "no office was added to the other process"
    );
    let aspirants = app
        .get(
            &format!("/api/v1/processes/{}/aspirants", world.other_process_id),
            &admin,
        )
        .await
        .expect(200);
    assert_eq!(
        aspirants.body,
        Value::Array(Vec::new()),
        "no aspirant was added to the other process"
    );
}
