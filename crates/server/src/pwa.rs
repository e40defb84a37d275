//! The capture app (`/app/`): an offline-first PWA for collectors, embedded in the binary.
//!
//! Plain JavaScript modules, CSS, the manifest, icons and the credential checks compiled
//! to WebAssembly (`crates/domain-wasm`, built by `build.rs`). Every file is sent gzipped
//! when the client accepts it (phones on slow links), with an `ETag` and `no-cache`, so a
//! browser revalidates cheaply; the service worker keeps the shell for offline use.
//! Documented in `docs/capture-app.md`.

use std::io::Write;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// `'wasm-unsafe-eval'` lets the page compile the checks module and nothing else; there
/// is no inline script or style anywhere in the app.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
     worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const PERMISSIONS_POLICY: &str = "camera=(self), geolocation=(self), microphone=()";

/// Replaced in `sw.js` by a digest of the whole shell, so that any change to any file
/// installs a new service worker and refreshes its cache.
const VERSION_PLACEHOLDER: &str = "__APOYO_SHELL_VERSION__";

struct Source {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! web {
    ($name:literal, $type:expr) => {
        Source {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../web/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the shell; `index.html` is also served at `/app/`.
const SOURCES: &[Source] = &[
    web!("index.html", "text/html; charset=utf-8"),
    web!("app.css", "text/css; charset=utf-8"),
    web!("app.js", JS),
    web!("ui.js", JS),
    web!("api.js", JS),
    web!("vault.js", JS),
    web!("queue.js", JS),
    web!("media.js", JS),
    web!("checks.js", JS),
    web!("sw.js", JS),
    web!("manifest.webmanifest", "application/manifest+json"),
    web!("icon.svg", "image/svg+xml"),
    web!("icon-192.png", "image/png"),
    web!("icon-512.png", "image/png"),
    Source {
        name: "checks.wasm",
        content_type: "application/wasm",
        body: include_bytes!(env!("PWA_CHECKS_WASM")),
    },
];

/// One file as served.
#[derive(Debug)]
pub struct ShellFile {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub gzip: Vec<u8>,
    etag: String,
}

/// The shell, prepared once: `sw.js` with its version, gzip and ETags.
pub static SHELL: LazyLock<Vec<ShellFile>> = LazyLock::new(|| {
    let version = shell_version();
    SOURCES
        .iter()
        .map(|source| {
            let body = if source.name == "sw.js" {
                String::from_utf8_lossy(source.body)
                    .replace(VERSION_PLACEHOLDER, &version)
                    .into_bytes()
            } else {
                source.body.to_vec()
            };
            let etag = format!("\"{}\"", hex(&Sha256::digest(&body)[..12]));
            ShellFile {
                name: source.name,
                content_type: source.content_type,
                gzip: gzip(&body),
                body,
                etag,
            }
        })
        .collect()
});

/// The shell's version (what `sw.js` caches under).
pub fn shell_version() -> String {
    let mut all = Sha256::new();
    for source in SOURCES {
        all.update(source.name.as_bytes());
        all.update(source.body);
    }
    hex(&all.finalize()[..8])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail; an empty result would only disable compression.
    if encoder.write_all(body).is_err() {
        return Vec::new();
    }
    encoder.finish().unwrap_or_default()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(index))
        .route("/app/{file}", get(file))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let shell: &'static [ShellFile] = &SHELL;
    let Some(file) = shell.iter().find(|f| f.name == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "No existe ese archivo de la aplicación.",
        )
            .into_response();
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, file.content_type);
    set(header::CACHE_CONTROL, "no-cache");
    set(header::ETAG, &file.etag);
    set(header::VARY, "accept-encoding");
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(header::X_FRAME_OPTIONS, "DENY");
    if file.name == "sw.js" {
        set(HeaderName::from_static("service-worker-allowed"), "/app/");
    }
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let accepts_gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    // The shell is static: answers borrow it, nothing is copied per request.
    if accepts_gzip && !file.gzip.is_empty() && file.gzip.len() < file.body.len() {
        set(header::CONTENT_ENCODING, "gzip");
        (headers, file.gzip.as_slice()).into_response()
    } else {
        (headers, file.body.as_slice()).into_response()
    }
}
