//! Browser tests of the capture app (`/app/`) in headless Chromium, driven by
//! `tests/browser/capture.spec.mjs` (playwright-core): the real server on a random port
//! with a fresh data directory, a collector with a one-time password, and a fake camera
//! fed with a synthetic credential photo. Afterwards the server's database is checked:
//! every support the app captured arrived exactly once.
//!
//! Needs `chromium` (Debian) and `npm ci` in `tests/browser`; without them the test is
//! skipped with a message, unless `APOYO_BROWSER_TESTS=required` (CI), when it fails.
//! Every name and number here is synthetic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use apoyo_testkit::backends;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::Path;

use apoyo_domain::roll::COLUMNS;
use apoyo_synth::{Difficulty, render_card};
use serde_json::{Value, json};

use common::{TestApp, roll_file};

/// A Y4M (4:2:0) clip of a synthetic credential photo, for Chromium's fake camera.
fn fake_camera_clip(path: &Path) {
    let lines = [
        "IDMEX1234567897<<0405123456789".to_owned(),
        "8501019M3512311MEX<02<<12345<9".to_owned(),
        "PEREZ<LOPEZ<<MARIA<GUADALUPE<<".to_owned(),
    ];
    let card = render_card(&lines, Difficulty::Easy, 6, 0).unwrap();
    let photo = image::load(Cursor::new(&card.jpeg), image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    let (w, h) = (960u32, 720u32);
    let frame = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle);
    let mut y = Vec::with_capacity((w * h) as usize);
    let (mut u, mut v) = (Vec::new(), Vec::new());
    for py in 0..h {
        for px in 0..w {
            let [r, g, b] = frame.get_pixel(px, py).0.map(f64::from);
            y.push((16.0 + 0.257 * r + 0.504 * g + 0.098 * b).round() as u8);
            if py % 2 == 0 && px % 2 == 0 {
                u.push((128.0 - 0.148 * r - 0.291 * g + 0.439 * b).round() as u8);
                v.push((128.0 + 0.439 * r - 0.368 * g - 0.071 * b).round() as u8);
            }
        }
    }
    let mut clip = format!("YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n").into_bytes();
    for _ in 0..2 {
        clip.extend_from_slice(b"FRAME\n");
        clip.extend_from_slice(&y);
        clip.extend_from_slice(&u);
        clip.extend_from_slice(&v);
    }
    std::fs::write(path, clip).unwrap();
}

/// Citizens of the harness roll on the Lista Nominal in Durango (aspirant A's
/// ayuntamiento), as the collector types them from the front of the credential.
fn citizens(count: usize) -> Vec<Value> {
    let (text, _) = roll_file();
    let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[col("municipio")] != "5" || f[col("situacion")] != "lista_nominal" {
            continue;
        }
        if !seen.insert(f[col("clave_elector")].to_owned()) {
            continue;
        }
        let birth = f[col("fecha_nacimiento")];
        out.push(json!({
            "model": f[col("modelo")],
            "input": {
                "cic": f[col("cic")],
                "citizen_id": f[col("identificador_ciudadano")],
                "ocr": f[col("ocr")],
                "section": f[col("seccion")],
                "clave_elector": f[col("clave_elector")],
                "birth_date": format!("{}/{}/{}", &birth[8..10], &birth[5..7], &birth[0..4]),
                "sex": f[col("sexo")],
                "expiry_date": f[col("vigencia")],
                "paternal_surname": f[col("apellido_paterno")],
                "maternal_surname": f[col("apellido_materno")],
                "given_names": f[col("nombre")],
            },
        }));
        if out.len() == count {
            break;
        }
    }
    out
}

/// What `/app/` sends gzipped: every file of the shell, as the service worker caches it.
async fn shell_bytes(app: &TestApp) -> (usize, usize) {
    let (mut gzip, mut plain) = (0, 0);
    for file in apoyo_server::pwa::SHELL.iter() {
        let response = app
            .http
            .get(app.url(&format!("/app/{}", file.name)))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", file.name);
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'"), "{}: {csp}", file.name);
        gzip += response.bytes().await.unwrap().len();
        plain += file.body.len();
    }
    (gzip, plain)
}

#[backends(flavor = "multi_thread", worker_threads = 2)]
async fn capture_flow_offline_queue_logout_and_accessibility() {
    let Some(chromium) = common::chromium_or_skip("the capture app") else {
        return;
    };
    let app = TestApp::start().await;
    let world = app.world_in_period().await;
    let (collector_id, _, account) = app
        .register_collector(&world.a.session, world.aspirant_a, "Carla Captura Campos")
        .await;

    let (gzip, plain) = shell_bytes(&app).await;
    println!("app shell: {gzip} bytes gzipped ({plain} bytes uncompressed)");

    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("credencial.y4m");
    fake_camera_clip(&video);
    let citizens = citizens(4);
    assert_eq!(citizens.len(), 4);
    let result_path = work.path().join("result.json");
    let config = json!({
        "base": app.base,
        "chromium": chromium,
        "video": video,
        "profile_dir": work.path().join("profile"),
        "result": result_path,
        "collector": {
            "email": account.email,
            "password": account.password,
            "new_password": "auxiliar-de-prueba-2025",
        },
        "citizens": citizens,
    });
    let config_path = work.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();

    let (passed, result) =
        common::run_browser_spec("capture.spec.mjs", config_path, &result_path).await;
    assert!(passed, "the browser spec failed: {result:#}");

    // Exactly once on the server: one row per support the app showed, no more.
    let shown: BTreeSet<String> = result["supports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown.len(), 4, "{result:#}");
    let db = app.db().await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT client_id, COUNT(*) FROM supports WHERE collector_id = $1 GROUP BY client_id",
    )
    .bind(collector_id)
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    let on_server: BTreeSet<String> = rows.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(
        on_server, shown,
        "the server has exactly the app's supports"
    );
    assert!(rows.iter().all(|(_, n)| *n == 1), "{rows:?}");

    // The first answer was lost on purpose: one more sending than supports.
    assert_eq!(result["lost_answers"], 1, "{result:#}");
    assert!(result["posts"].as_u64().unwrap() >= 5, "{result:#}");

    // The images arrive as the app made them (metadata stripping does not recompress).
    let db = app.db().await;
    let images: Vec<(i64, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.id, i.kind, i.width, i.height, i.bytes \
         FROM supports s JOIN support_images i ON i.support_id = s.id \
         WHERE s.collector_id = $1 ORDER BY s.id, i.kind",
    )
    .bind(collector_id)
    .fetch_all(&db)
    .await
    .unwrap();
    // Per support: total bytes, images, and what each image is.
    let mut per_support: std::collections::BTreeMap<i64, (i64, i64, String)> =
        std::collections::BTreeMap::new();
    for (support, kind, width, height, bytes) in images {
        let entry = per_support.entry(support).or_default();
        entry.0 += bytes;
        entry.1 += 1;
        entry
            .2
            .push_str(&format!("{kind}:{width}x{height}:{bytes} "));
    }
    let sizes: Vec<(i64, i64, String)> = per_support.into_values().collect();
    db.close().await;
    assert_eq!(sizes.len(), 4);
    for (bytes, images, detail) in &sizes {
        assert_eq!(*images, 4, "{detail}");
        assert!(
            *bytes <= 250 * 1024,
            "a support is at most about 250 KB: {detail}"
        );
        println!("support images: {bytes} bytes ({detail})");
    }
    println!(
        "image bytes per support, mean: {}",
        sizes.iter().map(|s| s.0).sum::<i64>() / 4
    );
    println!("axe (minor/moderate findings allowed): {}", result["axe"]);
}
