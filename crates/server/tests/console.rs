//! The back office over HTTP: which console pages each role reaches (an aspirant never
//! another aspirant's data nor a staff page), the login redirect, the page headers, and
//! the reports: the CSV, the XLSX and the PDF determination carry the same totals as the
//! progress API. The office checks open the XLSX and the CSV in LibreOffice Calc and the
//! PDF with `pdftotext`; they are skipped with a message when those programs are missing,
//! unless `APOYO_OFFICE_TESTS=required` (CI), when that fails.
//!
//! Harness roll (tests/common/mod.rs): `send_credential(_, i*10 + 1)` captures citizen
//! `i`'s credential; citizens with `i % 10` in 0..=4 live in municipio 5 (office A).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{Auth, TestApp, World};

/// A raw GET that does not follow redirects: (status, headers, body bytes).
async fn fetch(
    app: &TestApp,
    path: &str,
    auth: &Auth,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = auth.apply(client.get(app.url(path))).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    (status, headers, body)
}

async fn page(app: &TestApp, path: &str, auth: &Auth) -> (u16, String) {
    let (status, _, body) = fetch(app, path, auth).await;
    (status, String::from_utf8(body).unwrap())
}

async fn expect_page(app: &TestApp, path: &str, auth: &Auth, status: u16) -> String {
    let (got, body) = page(app, path, auth).await;
    assert_eq!(got, status, "GET {path}: {body}");
    assert!(body.starts_with("<!doctype html>"), "GET {path}: {body}");
    body
}

#[backends]
async fn each_role_reaches_its_pages_and_no_aspirant_reaches_another() {
    let app = TestApp::start().await;
    let world: World = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let process = world.process_id;
    let a_support = app.send_credential(&col_a, 1).await;
    let a_unknown = app.send_credential(&col_a, 9_999_990).await;
    let b_support = app.send_credential(&world.col_b.session.bearer(), 51).await;
    app.all_verified().await;
    let (a, b) = (world.aspirant_a, world.aspirant_b);

    // Without a session: the login page, and back to the page afterwards.
    let (status, headers, _) = fetch(&app, &format!("/console/aspirants/{a}"), &Auth::None).await;
    assert_eq!(status, 303);
    assert_eq!(
        headers["location"],
        format!("/console/login?next=/console/aspirants/{a}")
    );
    let login = expect_page(&app, "/console/login", &Auth::None, 200).await;
    assert!(login.contains("Iniciar sesión"), "{login}");
    // An icon the page names and the server has (or the browser asks for /favicon.ico).
    assert!(
        login.contains(r#"<link rel="icon" href="/app/icon.svg""#),
        "{login}"
    );
    let (status, headers, _) = fetch(&app, "/app/icon.svg", &Auth::None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/svg+xml");
    let (_, headers, _) = fetch(&app, "/console/login", &Auth::None).await;
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let (status, headers, js) = fetch(&app, "/console/console.js", &Auth::None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(String::from_utf8(js).unwrap().contains("startDesk"));

    let everything = [
        "/console/".to_owned(),
        format!("/console/processes/{process}"),
        "/console/catalog".into(),
        "/console/audit".into(),
        "/console/reviewers".into(),
        format!("/console/review/{process}"),
        "/console/objections".into(),
        format!("/console/aspirants/{a}"),
        format!("/console/aspirants/{a}/supports"),
        format!("/console/supports/{a_support}"),
        format!("/console/aspirants/{b}"),
        format!("/console/supports/{b_support}"),
    ];
    let admin = world.admin.session.cookie();
    for path in &everything {
        expect_page(&app, path, &admin, 200).await;
    }
    // The administrator's forms, each posting to its API endpoint.
    let home = expect_page(&app, "/console/", &admin, 200).await;
    assert!(home.contains("data-api=\"/api/v1/processes\""), "{home}");
    assert!(home.contains("Cortes de la Lista Nominal"), "{home}");
    let process_page =
        expect_page(&app, &format!("/console/processes/{process}"), &admin, 200).await;
    for form in [
        format!("/api/v1/processes/{process}/offices"),
        format!("/api/v1/processes/{process}/aspirants"),
        format!("/api/v1/processes/{process}/review-settings"),
    ] {
        assert!(
            process_page.contains(&format!("data-api=\"{form}\"")),
            "{form}"
        );
    }
    let staff = expect_page(&app, "/console/reviewers", &admin, 200).await;
    assert!(staff.contains("data-api=\"/api/v1/users\""));
    assert!(staff.contains(world.reviewer.account.email.as_str()));
    let own_collectors = format!("data-api=\"/api/v1/aspirants/{a}/collectors\"");
    let deactivate = format!(
        "data-api=\"/api/v1/collectors/{}/deactivate\"",
        world.col_a_id
    );
    let page_a = expect_page(&app, &format!("/console/aspirants/{a}"), &admin, 200).await;
    assert!(page_a.contains(&own_collectors) && page_a.contains(&deactivate));
    let reviewer = world.reviewer.session.cookie();
    for path in &everything {
        let admin_only = ["/console/catalog", "/console/audit", "/console/reviewers"];
        let status = if admin_only.contains(&path.as_str()) {
            403
        } else {
            200
        };
        expect_page(&app, path, &reviewer, status).await;
    }
    // Reviewers read; they get none of the administrator's forms.
    let process_page = expect_page(
        &app,
        &format!("/console/processes/{process}"),
        &reviewer,
        200,
    )
    .await;
    assert!(!process_page.contains("/aspirants\" data-method"));
    assert!(!process_page.contains("/offices\" data-method"));
    let page_a = expect_page(&app, &format!("/console/aspirants/{a}"), &reviewer, 200).await;
    assert!(!page_a.contains(&own_collectors) && !page_a.contains(&deactivate));

    let aspirant = world.a.session.cookie();
    let (status, headers, _) = fetch(&app, "/console/", &aspirant).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], format!("/console/aspirants/{a}"));
    let own = expect_page(&app, &format!("/console/aspirants/{a}"), &aspirant, 200).await;
    assert!(own.contains("Garantía de audiencia"), "{own}");
    // The aspirant registers and deactivates their own collectors.
    assert!(own.contains(&own_collectors) && own.contains(&deactivate));
    let list = expect_page(
        &app,
        &format!("/console/aspirants/{a}/supports"),
        &aspirant,
        200,
    )
    .await;
    assert!(
        list.contains(&format!("/console/supports/{a_unknown}")),
        "{list}"
    );
    expect_page(
        &app,
        &format!("/console/supports/{a_support}"),
        &aspirant,
        200,
    )
    .await;
    for path in [
        format!("/console/aspirants/{b}"),
        format!("/console/aspirants/{b}/supports"),
        format!("/console/supports/{b_support}"),
        format!("/console/reports/aspirants/{b}/apoyos.csv"),
        format!("/console/reports/aspirants/{b}/dictamen.pdf"),
        "/console/objections/999999".into(),
    ] {
        let (status, body) = page(&app, &path, &aspirant).await;
        assert_eq!(status, 404, "GET {path} as aspirant A: {body}");
        assert!(!body.contains(&world.b_name), "GET {path} leaks B's name");
    }
    for path in [
        format!("/console/review/{process}"),
        format!("/console/processes/{process}"),
        "/console/catalog".into(),
        "/console/audit".into(),
        "/console/reviewers".into(),
        format!("/console/reports/processes/{process}/apoyos.csv"),
    ] {
        let (status, body) = page(&app, &path, &aspirant).await;
        assert_eq!(status, 403, "GET {path} as aspirant A: {body}");
        assert!(body.contains("Sin permiso"), "{body}");
    }

    // A collector's console is a pointer to the capture app, nothing more.
    let collector = world.col_a.session.cookie();
    let home = expect_page(&app, "/console/", &collector, 200).await;
    assert!(home.contains("/app/"), "{home}");
    for path in [
        format!("/console/aspirants/{a}"),
        format!("/console/supports/{a_support}"),
        format!("/console/review/{process}"),
    ] {
        let (status, _) = page(&app, &path, &collector).await;
        assert!(
            [403, 404].contains(&status),
            "GET {path} as collector: {status}"
        );
    }
    app.stop().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

/// The counts the progress API gives, by outcome code ("valid", "not_found", …).
async fn progress_counts(
    app: &TestApp,
    auth: &Auth,
    aspirant: i64,
) -> (Value, BTreeMap<String, i64>) {
    let progress = app
        .get(&format!("/api/v1/aspirants/{aspirant}/progress"), auth)
        .await
        .expect(200)
        .body;
    let mut counts = BTreeMap::new();
    counts.insert("valid".to_owned(), progress["valid"].as_i64().unwrap());
    for rejected in progress["rejected"].as_array().unwrap() {
        counts.insert(
            rejected["outcome"].as_str().unwrap().to_owned(),
            rejected["supports"].as_i64().unwrap(),
        );
    }
    if progress["pending"].as_i64().unwrap() > 0 {
        counts.insert("pending".into(), progress["pending"].as_i64().unwrap());
    }
    counts.retain(|_, n| *n > 0);
    (progress, counts)
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Rows per value of the last column ("Código de situación"), header excluded.
fn count_codes(rows: &[Vec<String>]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for row in &rows[1..] {
        *counts.entry(row[7].clone()).or_insert(0) += 1;
    }
    counts
}

#[backends]
async fn reports_carry_the_totals_of_the_progress() {
    let app = TestApp::start().await;
    let world: World = app.world_in_period().await;
    let col_a = world.col_a.session.bearer();
    let admin = world.admin.session.cookie();
    let aspirant = world.a.session.cookie();
    let (a, b) = (world.aspirant_a, world.aspirant_b);
    // Valid, unknown to the roll, a repeated citizen, another aspirant's.
    for n in [1, 11, 21, 31, 41, 101, 9_999_990, 9_999_980, 1] {
        app.send_credential(&col_a, n).await;
    }
    app.send_credential(&world.col_b.session.bearer(), 51).await;
    app.all_verified().await;
    let (progress, expected) = progress_counts(&app, &admin, a).await;
    assert_eq!(progress["received"], 9);
    assert!(expected.len() >= 3, "{expected:?}");

    // CSV: a byte order mark, the header, one row per support; masked for the aspirant.
    let (status, headers, csv_bytes) = fetch(
        &app,
        &format!("/console/reports/aspirants/{a}/apoyos.csv"),
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("apoyos-aspirante-")
    );
    assert!(csv_bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let rows = parse_csv(&csv_bytes[3..]);
    assert_eq!(rows[0][0], "Folio");
    assert_eq!(rows.len(), 10);
    assert_eq!(count_codes(&rows), expected);
    // Staff see each clave de elector whole (none for citizens not on the roll); the
    // aspirant's report masks every one of them.
    let claves: Vec<&String> = rows[1..].iter().map(|r| &r[5]).collect();
    let known: Vec<&&String> = claves.iter().filter(|c| !c.is_empty()).collect();
    assert_eq!(known.len(), 7, "{claves:?}");
    assert!(
        known.iter().all(|c| c.len() == 18 && !c.contains('*')),
        "{claves:?}"
    );
    let (_, _, masked) = fetch(
        &app,
        &format!("/console/reports/aspirants/{a}/apoyos.csv"),
        &aspirant,
    )
    .await;
    let masked = parse_csv(&masked[3..]);
    assert_eq!(masked.len(), 10);
    for (row, full) in masked[1..].iter().zip(&claves) {
        if !full.is_empty() {
            assert_ne!(&row[5], *full, "the aspirant's report shows a whole clave");
        }
    }

    // The process report: both aspirants.
    let (status, _, process_csv) = fetch(
        &app,
        &format!("/console/reports/processes/{}/apoyos.csv", world.process_id),
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(parse_csv(&process_csv[3..]).len(), 11);

    // XLSX and PDF are what they say.
    let (status, headers, xlsx) = fetch(
        &app,
        &format!("/console/reports/aspirants/{a}/apoyos.xlsx"),
        &admin,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(xlsx.starts_with(b"PK\x03\x04"));
    let (status, headers, pdf) = fetch(
        &app,
        &format!("/console/reports/aspirants/{a}/dictamen.pdf"),
        &aspirant,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    // An unknown report is a 404 page; every download is in the audit log.
    let (status, _) = page(
        &app,
        &format!("/console/reports/aspirants/{a}/apoyos.ods"),
        &admin,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        app.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'report.download'")
            .await
            >= 5
    );
    let _ = b;

    office_checks(&csv_bytes, &xlsx, &pdf, &progress, &expected);
    app.stop().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// LibreOffice and pdftotext
// ---------------------------------------------------------------------------------------

/// LibreOffice's first start with a new profile takes a while; a hang must not block the run.
const OFFICE_TIMEOUT: Duration = Duration::from_secs(240);

/// Calc's CSV filter: comma, double quotes, UTF-8 (76), from line 1. For export, raw
/// values (no locale thousands separators) and every sheet to its own "NAME-SHEET.csv".
const CSV_IMPORT: &str = "CSV:44,34,76,1";
const CSV_EXPORT_ALL_SHEETS: &str =
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1";
const CSV_EXPORT: &str =
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false";

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn run(command: &mut Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > OFFICE_TIMEOUT {
            let _ = child.kill();
            panic!("{command:?} took more than {OFFICE_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// LibreOffice headless with a profile of its own, so parallel runs do not clash.
fn libreoffice(program: &Path, work: &Path, args: &[&str]) {
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.join("profile").display()
    );
    run(Command::new(program)
        .arg(profile)
        .arg("--headless")
        .args(args));
}

/// pdftotext's words, one space between them.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn office_checks(
    csv_bytes: &[u8],
    xlsx: &[u8],
    pdf: &[u8],
    progress: &Value,
    expected: &BTreeMap<String, i64>,
) {
    let (Some(office), Some(pdftotext)) = (
        find_program("soffice").or_else(|| find_program("libreoffice")),
        find_program("pdftotext"),
    ) else {
        let why = "soffice/libreoffice or pdftotext not on PATH (apt-get install libreoffice-calc-nogui poppler-utils)";
        if std::env::var("APOYO_OFFICE_TESTS").as_deref() == Ok("required") {
            panic!("office checks required (APOYO_OFFICE_TESTS=required) but {why}");
        }
        eprintln!("SKIPPED: office checks of the reports: {why}");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("apoyos.xlsx"), xlsx).unwrap();
    std::fs::write(dir.join("apoyos.csv"), csv_bytes).unwrap();
    std::fs::write(dir.join("dictamen.pdf"), pdf).unwrap();
    let total = progress["received"].as_i64().unwrap();

    // Calc reads both sheets of the XLSX: the supports, and the summary's totals.
    let out = dir.join("from-xlsx");
    libreoffice(
        &office,
        dir,
        &[
            "--convert-to",
            CSV_EXPORT_ALL_SHEETS,
            "--outdir",
            out.to_str().unwrap(),
            dir.join("apoyos.xlsx").to_str().unwrap(),
        ],
    );
    let data = parse_csv(&std::fs::read(out.join("apoyos-Apoyos.csv")).unwrap());
    assert_eq!(data[0][0], "Folio");
    assert_eq!(data.len() as i64, 1 + total);
    assert_eq!(&count_codes(&data), expected);
    let summary = parse_csv(&std::fs::read(out.join("apoyos-Resumen.csv")).unwrap());
    let summary: BTreeMap<String, String> = summary[1..]
        .iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect();
    assert_eq!(summary["Total de apoyos"], total.to_string(), "{summary:?}");
    // Each outcome's line of the summary counts the rows with that outcome.
    let mut listed = 0;
    for (label, value) in summary
        .iter()
        .filter(|(l, _)| l.as_str() != "Total de apoyos")
    {
        let rows = data[1..].iter().filter(|row| &row[6] == label).count() as i64;
        assert_eq!(value.parse::<i64>().unwrap(), rows, "{label}: {summary:?}");
        listed += rows;
    }
    assert_eq!(listed, total);

    // Calc reads the CSV: the byte order mark is taken as such, not as part of "Folio".
    let out = dir.join("from-csv");
    libreoffice(
        &office,
        dir,
        &[
            &format!("--infilter={CSV_IMPORT}"),
            "--convert-to",
            CSV_EXPORT,
            "--outdir",
            out.to_str().unwrap(),
            dir.join("apoyos.csv").to_str().unwrap(),
        ],
    );
    let data = parse_csv(&std::fs::read(out.join("apoyos.csv")).unwrap());
    assert_eq!(data[0][0], "Folio");
    assert_eq!(data.len() as i64, 1 + total);
    assert_eq!(&count_codes(&data), expected);

    // The determination states the received and valid totals and the requirement.
    let text = run(Command::new(&pdftotext).args([
        "-layout",
        dir.join("dictamen.pdf").to_str().unwrap(),
        "-",
    ]))
    .stdout;
    let text = squeeze(&String::from_utf8(text).unwrap());
    assert!(text.contains("Dictamen"), "{text}");
    assert!(
        text.contains(&format!("de los {total} apoyos recibidos")),
        "{text}"
    );
    let verdict = if progress["requirements_met"].as_bool().unwrap() {
        "REÚNE"
    } else {
        "NO REÚNE"
    };
    assert!(text.contains(verdict), "{text}");
    assert!(
        text.contains(&progress["valid"].as_i64().unwrap().to_string()),
        "{text}"
    );
}
