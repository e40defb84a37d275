//! The OpenAPI document is committed as docs/openapi.json: any change of the API must
//! come with a change of that file (regenerate it with `UPDATE_OPENAPI=1`). The served
//! document is the same, and the browsable UI answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::path::PathBuf;

use serde_json::Value;

use common::{Auth, TestApp};

const UPDATE_HINT: &str = "the API changed; run `UPDATE_OPENAPI=1 cargo test -p apoyo-server --test openapi` and commit docs/openapi.json";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// Pretty-printed with a trailing newline, as committed.
fn rendered(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap();
    text.push('\n');
    text
}

/// `UPDATE_OPENAPI=1`: rewrite docs/openapi.json instead of comparing.
fn updating() -> bool {
    std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| !v.is_empty() && v != "0")
}

fn generated() -> Value {
    serde_json::to_value(apoyo_server::openapi()).unwrap()
}

fn committed() -> Value {
    let path = committed_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {UPDATE_HINT}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}; {UPDATE_HINT}", path.display()))
}

#[test]
fn the_committed_document_matches_the_api() {
    let current = generated();
    let path = committed_path();
    if updating() {
        std::fs::write(&path, rendered(&current)).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let committed = committed();
    if committed != current {
        let old = rendered(&committed);
        let new = rendered(&current);
        let first = old
            .lines()
            .zip(new.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(old.lines().count().min(new.lines().count()));
        let context = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(3))
                .take(7)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{UPDATE_HINT}\n\nfirst difference at line {} of docs/openapi.json:\n--- committed\n{}\n--- generated\n{}",
            first + 1,
            context(&old),
            context(&new)
        );
    }
}

#[backends]
async fn the_served_document_is_the_committed_one_and_the_ui_answers() {
    let app = TestApp::start().await;
    let served = app
        .get("/api/v1/openapi.json", &Auth::None)
        .await
        .expect(200);
    assert!(
        served
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert!(
        served.body == generated(),
        "the served /api/v1/openapi.json is not apoyo_server::openapi()"
    );
    if !updating() {
        assert!(
            served.body == committed(),
            "the served /api/v1/openapi.json differs from docs/openapi.json; {UPDATE_HINT}"
        );
    }

    let ui = app.get("/api/docs/", &Auth::None).await.expect(200);
    assert!(
        ui.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{:?}",
        ui.headers
    );
    assert!(ui.text.to_lowercase().contains("swagger"), "{}", ui.text);
    let script = app
        .get("/api/docs/swagger-initializer.js", &Auth::None)
        .await
        .expect(200);
    assert!(
        script.text.contains("/api/v1/openapi.json"),
        "the UI loads the served document: {}",
        script.text
    );
}
