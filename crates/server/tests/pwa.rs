//! Serving the capture app: every shell file with its type, gzip, ETag/304, the strict
//! CSP, the service worker's scope header and version. (The app itself is tested in a
//! browser by tests/browser.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use common::TestApp;

#[backends]
async fn the_shell_is_served_with_its_headers() {
    let app = TestApp::start().await;
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = app.http.get(app.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send()
    };

    // /app → /app/ (the service worker's scope), which is index.html.
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/app"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/app/");
    let index = get("/app/", &[]).await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    let html = index.text().await.unwrap();
    assert!(html.contains(r#"<html lang="es-MX">"#));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );

    let expected = [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("checks.wasm", "application/wasm"),
        ("manifest.webmanifest", "application/manifest+json"),
        ("icon-192.png", "image/png"),
        ("icon.svg", "image/svg+xml"),
    ];
    for (file, content_type) in expected {
        let response = get(&format!("/app/{file}"), &[]).await.unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["content-type"], content_type, "{file}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{file}");
        assert!(response.headers().get("content-encoding").is_none());
    }

    // gzip when accepted, and the same bytes once inflated.
    let plain = get("/app/checks.wasm", &[])
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&plain[..4], b"\0asm");
    let zipped = get("/app/checks.wasm", &[("accept-encoding", "gzip, br")])
        .await
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "accept-encoding");
    let zipped = zipped.bytes().await.unwrap();
    assert!(
        zipped.len() < plain.len() / 2,
        "{} vs {}",
        zipped.len(),
        plain.len()
    );
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain);

    // Revalidation: the ETag answers 304 without a body.
    let first = get("/app/app.js", &[]).await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = get("/app/app.js", &[("if-none-match", &etag)])
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let changed = get("/app/app.js", &[("if-none-match", "\"other\"")])
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);

    // The service worker: scope header, and the shell's version in place of the marker.
    let sw = get("/app/sw.js", &[]).await.unwrap();
    assert_eq!(sw.headers()["service-worker-allowed"], "/app/");
    let sw = sw.text().await.unwrap();
    assert!(!sw.contains("__APOYO_SHELL_VERSION__"));
    assert!(sw.contains(&apoyo_server::pwa::shell_version()));
    // Every file of the shell is in the service worker's list (or it would not work offline).
    for file in apoyo_server::pwa::SHELL.iter() {
        if file.name != "sw.js" {
            assert!(
                sw.contains(&format!("'{}'", file.name)),
                "{} not cached by sw.js",
                file.name
            );
        }
    }

    // Unknown files are 404; nothing outside the embedded list is reachable.
    for path in ["/app/nope.js", "/app/..%2FCargo.toml", "/app/sw.js/x"] {
        let response = get(path, &[]).await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}
