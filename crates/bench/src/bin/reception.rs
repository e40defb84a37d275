//! Reception benchmark (bench/reception.sh runs it; figures in BENCHMARKS.md).
//!
//! Starts the real server in-process (`apoyo_server::App`, worker included) on a fresh data
//! directory with a synthetic roll, one process, one aspirant and some collectors; then,
//! for each number of concurrent clients, keeps that many HTTP clients sending supports
//! (`POST /api/v1/supports`, the collectors' bearer tokens) for a fixed time, and prints
//! accepted supports per second and the latency percentiles.
//!
//! Images: a pool of synthetic credential-back photos (`apoyo_synth::card`, re-encoded to
//! ~55 KB as a capture app would), live photos (~30 KB JPEG) and signatures (~6 KB PNG) is
//! made once; every support then gets its own bytes (an APP15 segment or a private PNG
//! chunk with the support's number, both kept by the metadata removal), so nothing is
//! deduplicated by the content-addressed blob store and every image is decoded. The
//! credential sent is the one on the back photo.
//!
//! Usage: `reception --data-dir DIR [--clients 50,200] [--seconds 10] [--count N]
//! [--group 256] [--collectors 50] [--voters 20000] [--pool 24] [--disk-mbps X]`.
//! `--count N` sends N supports per client count instead of running for a time (smoke).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use apoyo_domain::Date;
use apoyo_domain::roll::RollStatus;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use apoyo_server::{App, Config, auth};
use apoyo_store::{
    Actor, BlobStore, ImageKind, ImportOptions, NewAspirant, NewCollector, NewImage, NewOffice,
    NewProcess, NewSupport, OfficeKind, OutcomeFilter, ProcessKind, Reception, Store,
};
use apoyo_synth::{Difficulty, RollConfig, RollGenerator, card_set};
use image::codecs::jpeg::JpegEncoder;
use serde_json::{Value, json};

const SEED: u64 = 2025;
const SNAPSHOT: &str = "lista-nominal-bench";
const MUNICIPIO: u16 = 5;
const PASSWORD: &str = "bench-password-0001";
const BOUNDARY: &str = "apoyo-bench-boundary-7f3a9c";

#[derive(Debug)]
struct Args {
    data_dir: PathBuf,
    clients: Vec<usize>,
    seconds: f64,
    count: Option<u64>,
    /// `http` (the whole path) or `store` (`Reception::accept` directly: no HTTP, no
    /// decoding; blobs, group commit and SQLite only).
    mode: String,
    group: usize,
    collectors: usize,
    voters: u64,
    pool: usize,
    disk_mbps: Option<f64>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        data_dir: PathBuf::new(),
        clients: vec![50, 200],
        seconds: 10.0,
        count: None,
        mode: "http".into(),
        group: apoyo_store::MAX_GROUP_COMMIT,
        collectors: 50,
        voters: 20_000,
        pool: 24,
        disk_mbps: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--data-dir" => args.data_dir = PathBuf::from(value),
            "--clients" => {
                args.clients = value
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .context("--clients")?;
            }
            "--seconds" => args.seconds = value.parse().context("--seconds")?,
            "--count" => args.count = Some(value.parse().context("--count")?),
            "--mode" => args.mode = value,
            "--group" => args.group = value.parse().context("--group")?,
            "--collectors" => args.collectors = value.parse().context("--collectors")?,
            "--voters" => args.voters = value.parse().context("--voters")?,
            "--pool" => args.pool = value.parse().context("--pool")?,
            "--disk-mbps" => args.disk_mbps = Some(value.parse().context("--disk-mbps")?),
            other => bail!("unknown option {other}"),
        }
    }
    if args.data_dir.as_os_str().is_empty() {
        bail!("--data-dir is required");
    }
    if args.collectors == 0 || args.pool == 0 || args.clients.contains(&0) {
        bail!("--collectors, --pool and --clients must be positive");
    }
    Ok(args)
}

/// Images and credentials the supports are made of.
#[derive(Debug)]
struct Pool {
    /// (JPEG ~55 KB, the credential's fields as the capture app sends them).
    cards: Vec<(Vec<u8>, Value)>,
    live_photos: Vec<Vec<u8>>,
    signatures: Vec<Vec<u8>>,
}

/// Tiny deterministic generator for the synthetic pictures.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Encodes as JPEG at the highest quality that fits in `max_bytes`.
fn jpeg_within(image: &image::RgbImage, max_bytes: usize) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for quality in [90u8, 85, 80, 75, 70, 65, 60, 55, 50, 45, 40, 35, 30] {
        out.clear();
        JpegEncoder::new_with_quality(&mut out, quality).encode_image(image)?;
        if out.len() <= max_bytes {
            break;
        }
    }
    Ok(out)
}

/// A credential-back photo as a capture app sends it: at most 1024 px wide, ~55 KB.
fn app_card_photo(jpeg: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut photo = image::load_from_memory(jpeg)?.to_rgb8();
    if photo.width() > 1024 {
        let height = photo.height() * 1024 / photo.width();
        photo =
            image::imageops::resize(&photo, 1024, height, image::imageops::FilterType::Triangle);
    }
    jpeg_within(&photo, 58_000)
}

/// A portrait-like picture (background gradient, a face-like ellipse, noise), ~30 KB.
fn live_photo(seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = Lcg(seed.wrapping_add(17));
    let (w, h) = (480u32, 640u32);
    let tone = [
        rng.below(80) as f64,
        rng.below(80) as f64,
        rng.below(80) as f64,
    ];
    let (cx, cy) = (
        240.0 + rng.below(60) as f64 - 30.0,
        300.0 + rng.below(60) as f64,
    );
    let mut noise = Lcg(seed.wrapping_mul(31));
    let picture = image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (f64::from(x), f64::from(y));
        let inside = ((fx - cx) / 130.0).powi(2) + ((fy - cy) / 170.0).powi(2) < 1.0;
        let shade = fy / f64::from(h) * 60.0;
        let n = noise.below(24) as f64;
        let px = |base: f64, t: f64| (base + t + shade + n).clamp(0.0, 255.0) as u8;
        if inside {
            image::Rgb([px(170.0, 10.0), px(130.0, 5.0), px(110.0, 0.0)])
        } else {
            image::Rgb([px(90.0, tone[0]), px(100.0, tone[1]), px(120.0, tone[2])])
        }
    });
    jpeg_within(&picture, 32_000)
}

/// A signature: dark strokes on white, 600×200 grey PNG (~5–10 KB).
fn signature(seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = Lcg(seed.wrapping_add(99));
    let mut picture = image::GrayImage::from_pixel(600, 200, image::Luma([255]));
    let (mut x, mut y) = (40.0f64, 100.0f64);
    let (mut dx, mut dy) = (2.0f64, 0.0f64);
    for _ in 0..2_500 {
        dx = (dx + (rng.below(100) as f64 - 45.0) / 60.0).clamp(-1.0, 4.0);
        dy = (dy + (rng.below(100) as f64 - 50.0) / 25.0).clamp(-4.0, 4.0);
        x = (x + dx * 0.5).clamp(5.0, 594.0);
        y = (y + dy * 0.5).clamp(20.0, 180.0);
        if x >= 590.0 {
            x = 40.0;
        }
        for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            picture.put_pixel(x as u32 + ox, y as u32 + oy, image::Luma([20]));
        }
    }
    let mut out = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

fn make_pool(roll: &RollConfig, size: usize) -> anyhow::Result<Pool> {
    let mut cards = Vec::with_capacity(size);
    for card in card_set(roll, Difficulty::Easy, size as u64 * 2, SEED) {
        let card = card?;
        let Some(fields) = card.truth.credential.as_ref() else {
            continue;
        };
        let mut credential = serde_json::to_value(fields)?;
        // The API takes the MRZ as one text with its lines separated by newlines.
        if let Some(lines) = fields.mrz.as_ref() {
            credential["mrz"] = json!(lines.join("\n"));
        }
        cards.push((app_card_photo(&card.jpeg)?, credential));
    }
    if cards.len() < 2 {
        bail!("the roll gave too few card photos");
    }
    let live_photos = (0..size as u64).map(live_photo).collect::<Result<_, _>>()?;
    let signatures = (0..size as u64).map(signature).collect::<Result<_, _>>()?;
    Ok(Pool {
        cards,
        live_photos,
        signatures,
    })
}

/// The JPEG with an APP15 segment carrying `n` after SOI: other bytes, same picture.
fn tag_jpeg(jpeg: &[u8], n: u64) -> Vec<u8> {
    let payload = format!("apoyo-bench {n:020}");
    let mut out = Vec::with_capacity(jpeg.len() + payload.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xEF]);
    out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for byte in *part {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// The PNG with a private ancillary chunk (`apYo`) carrying `n` before IEND.
fn tag_png(png: &[u8], n: u64) -> Vec<u8> {
    let data = format!("{n:020}");
    let iend = png.len() - 12;
    let mut out = Vec::with_capacity(png.len() + data.len() + 12);
    out.extend_from_slice(&png[..iend]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(b"apYo");
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(&crc32(&[b"apYo", data.as_bytes()]).to_be_bytes());
    out.extend_from_slice(&png[iend..]);
    out
}

fn part(body: &mut Vec<u8>, name: &str, mime: &str, bytes: &[u8]) {
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: {mime}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
}

/// Support `n`: the multipart body and the bytes of its four images.
fn support_body(pool: &Pool, n: u64) -> (Vec<u8>, usize) {
    let i = n as usize;
    let (back, credential) = &pool.cards[i % pool.cards.len()];
    let (front, _) = &pool.cards[(i + 1) % pool.cards.len()];
    let images = [
        ("front", "image/jpeg", tag_jpeg(front, n)),
        ("back", "image/jpeg", tag_jpeg(back, n)),
        (
            "live_photo",
            "image/jpeg",
            tag_jpeg(&pool.live_photos[i % pool.live_photos.len()], n),
        ),
        (
            "signature",
            "image/png",
            tag_png(&pool.signatures[i % pool.signatures.len()], n),
        ),
    ];
    let fields = json!({
        "client_id": format!("bench-{n:016}"),
        "captured_at": apoyo_store::clock::now(),
        "location": {"latitude": 24.0277, "longitude": -104.6532},
        "credential": credential,
        "precheck_failed": [],
    });
    let image_bytes: usize = images.iter().map(|(_, _, b)| b.len()).sum();
    let mut body = Vec::with_capacity(image_bytes + 4096);
    part(
        &mut body,
        "support",
        "application/json",
        fields.to_string().as_bytes(),
    );
    for (name, mime, bytes) in &images {
        part(&mut body, name, mime, bytes);
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (body, image_bytes)
}

fn today() -> Date {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_days_since_epoch(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Roll, process, office, aspirant and collectors (with a known password); returns the
/// aspirant id and the collectors' e-mails.
async fn world(
    store: &Store,
    roll: &RollConfig,
    collectors: usize,
) -> anyhow::Result<(i64, Vec<(String, i64)>)> {
    let mut csv = Vec::new();
    apoyo_synth::write_roll(roll, &mut csv)?;
    store
        .import_roll(
            std::io::Cursor::new(csv),
            ImportOptions {
                name: SNAPSHOT.into(),
                cut_date: roll.cut_date,
                activate: true,
            },
            |_| {},
        )
        .await?;
    let actor = Actor::system();
    let today = today().days_since_epoch();
    let process = store
        .create_process(
            &actor,
            NewProcess {
                name: "Ayuntamientos Durango (banco de pruebas)".into(),
                kind: ProcessKind::IndependentCandidacy,
                collection_starts_on: Date::from_days_since_epoch(today - 7),
                collection_ends_on: Date::from_days_since_epoch(today + 30),
                grace_hours: 24,
                roll_snapshot: SNAPSHOT.into(),
                paper_municipalities: Vec::new(),
            },
        )
        .await?;
    let office = store
        .create_office(
            &actor,
            process.id,
            NewOffice {
                kind: OfficeKind::Ayuntamiento,
                name: "Ayuntamiento de Durango".into(),
                state: 10,
                municipality: Some(MUNICIPIO),
                district: None,
                sections: None,
                threshold: ThresholdRule::Percent(100),
                dispersion: DispersionRule {
                    min_sections_bp: 5_000,
                    min_support_bp: 50,
                },
            },
        )
        .await?;
    let hash = auth::hash_password(PASSWORD.into()).await?;
    let aspirant = store
        .create_aspirant(
            &actor,
            NewAspirant {
                process_id: process.id,
                office_id: office.id,
                name: "Aspirante de prueba".into(),
                email: "aspirante@bench.apoyo.test".into(),
                password_hash: hash.clone(),
            },
        )
        .await?;
    let generator = RollGenerator::new(roll)?;
    let mut emails = Vec::with_capacity(collectors);
    let mut citizen = 0;
    while emails.len() < collectors && citizen < generator.voters() {
        let records = generator.records(citizen);
        citizen += 1;
        let Some(current) = records.last() else {
            continue;
        };
        if current.status != RollStatus::ListaNominal || current.municipality != MUNICIPIO {
            continue;
        }
        let email = format!("auxiliar{}@bench.apoyo.test", emails.len());
        let collector = store
            .create_collector(
                &actor,
                NewCollector {
                    aspirant_id: aspirant.id,
                    name: format!("Auxiliar {}", emails.len()),
                    email: email.clone(),
                    clave_elector: current.clave_elector.clone(),
                    password_hash: hash.clone(),
                },
            )
            .await?;
        store
            .set_password(&actor, collector.user_id, &hash, None)
            .await?;
        emails.push((email, collector.user_id));
    }
    if emails.len() < collectors {
        bail!("the roll has only {} possible collectors", emails.len());
    }
    Ok((aspirant.id, emails))
}

#[derive(Debug, Default)]
struct ClientResult {
    latencies: Vec<Duration>,
    image_bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn client(
    http: reqwest::Client,
    url: String,
    token: String,
    pool: Arc<Pool>,
    next: Arc<AtomicU64>,
    last: u64,
    deadline: Option<Instant>,
) -> ClientResult {
    let mut result = ClientResult::default();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= last {
            break;
        }
        let (body, image_bytes) = support_body(&pool, n);
        let started = Instant::now();
        let sent = http
            .post(&url)
            .bearer_auth(&token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.as_u16() == 201 {
                    Ok(())
                } else {
                    Err(format!("{status}: {text}"))
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => {
                result.latencies.push(started.elapsed());
                result.image_bytes += image_bytes as u64;
            }
            Err(e) => {
                result.errors += 1;
                result.first_error.get_or_insert(e);
            }
        }
    }
    result
}

/// Support `n` as `Reception::accept` takes it: the same images (tagged, so distinct), as
/// the HTTP handler would pass them after proving them (the hash is the pool image's).
fn new_support(pool: &Pool, phashes: &[[String; 4]], user_id: i64, n: u64) -> NewSupport {
    let i = n as usize;
    let (back, credential) = &pool.cards[i % pool.cards.len()];
    let (front, _) = &pool.cards[(i + 1) % pool.cards.len()];
    let hashes = &phashes[i % phashes.len()];
    let image = |kind, content_type, bytes: Vec<u8>, phash: &String| NewImage {
        kind,
        content_type,
        width: 1,
        height: 1,
        phash: Some(phash.clone()),
        bytes,
    };
    NewSupport {
        collector_user_id: user_id,
        client_id: format!("bench-{n:016}"),
        captured_at: apoyo_store::clock::now(),
        latitude: Some(24.0277),
        longitude: Some(-104.6532),
        credential: credential.clone(),
        precheck: json!([]),
        images: vec![
            image(
                ImageKind::Front,
                "image/jpeg",
                tag_jpeg(front, n),
                &hashes[0],
            ),
            image(ImageKind::Back, "image/jpeg", tag_jpeg(back, n), &hashes[1]),
            image(
                ImageKind::LivePhoto,
                "image/jpeg",
                tag_jpeg(&pool.live_photos[i % pool.live_photos.len()], n),
                &hashes[2],
            ),
            image(
                ImageKind::Signature,
                "image/png",
                tag_png(&pool.signatures[i % pool.signatures.len()], n),
                &hashes[3],
            ),
        ],
    }
}

/// `--mode store`: concurrent `Reception::accept` calls, no HTTP and no decoding.
async fn store_mode(
    args: &Args,
    store: &Store,
    reception: &Reception,
    pool: &Arc<Pool>,
    collectors: &[(String, i64)],
    aspirant_id: i64,
) -> anyhow::Result<()> {
    let phash = |bytes: &[u8]| {
        apoyo_server::images::clean(bytes)
            .map(|c| c.phash_hex())
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    let mut phashes = Vec::new();
    for i in 0..pool.cards.len() {
        phashes.push([
            phash(&pool.cards[(i + 1) % pool.cards.len()].0)?,
            phash(&pool.cards[i].0)?,
            phash(&pool.live_photos[i % pool.live_photos.len()])?,
            phash(&pool.signatures[i % pool.signatures.len()])?,
        ]);
    }
    let phashes = Arc::new(phashes);
    let next = Arc::new(AtomicU64::new(0));
    let mut total = 0u64;
    for &clients in &args.clients {
        let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
        let last = args
            .count
            .map_or(u64::MAX, |c| next.load(Ordering::Relaxed) + c);
        let began = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            let (reception, pool, phashes, next) = (
                reception.clone(),
                Arc::clone(pool),
                Arc::clone(&phashes),
                Arc::clone(&next),
            );
            let user_id = collectors[c % collectors.len()].1;
            let timed = args.count.is_none();
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                let mut bytes = 0u64;
                loop {
                    if timed && Instant::now() >= deadline {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= last {
                        break;
                    }
                    let new = new_support(&pool, &phashes, user_id, n);
                    bytes += new.images.iter().map(|i| i.bytes.len() as u64).sum::<u64>();
                    let started = Instant::now();
                    match reception.accept(&Actor::system(), new).await? {
                        apoyo_store::Acceptance::Accepted(_) => latencies.push(started.elapsed()),
                        apoyo_store::Acceptance::Repeated(_) => bail!("support {n} repeated"),
                    }
                }
                anyhow::Ok((latencies, bytes))
            });
        }
        let mut latencies = Vec::new();
        let mut bytes = 0u64;
        while let Some(result) = tasks.join_next().await {
            let (l, b) = result??;
            latencies.extend(l);
            bytes += b;
        }
        let elapsed = began.elapsed().as_secs_f64();
        total += latencies.len() as u64;
        report(
            "store",
            clients,
            &mut latencies,
            bytes,
            0,
            elapsed,
            args.disk_mbps,
        );
    }
    check(store, aspirant_id, total, 0).await
}

/// Prints one line of figures (and the ratio to the disk's limit).
fn report(
    mode: &str,
    clients: usize,
    latencies: &mut [Duration],
    image_bytes: u64,
    errors: u64,
    elapsed: f64,
    disk_mbps: Option<f64>,
) {
    latencies.sort_unstable();
    let ok = latencies.len() as u64;
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .map_or(f64::NAN, millis)
    };
    let per_second = ok as f64 / elapsed;
    let bytes_per_support = image_bytes as f64 / ok.max(1) as f64;
    println!(
        "{mode} clients {clients:>4}: {ok} accepted, {errors} errors in {elapsed:.1} s = {per_second:.1} supports/s \
         ({:.1} MB/s of images, {:.0} B per support); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        per_second * bytes_per_support / 1e6,
        bytes_per_support,
        at(0.50),
        at(0.99),
        latencies.last().copied().map_or(f64::NAN, millis),
    );
    if let Some(disk) = disk_mbps {
        let limit = disk * 1e6 / bytes_per_support;
        println!(
            "{mode} clients {clients:>4}: disk limit {limit:.0} supports/s ({disk:.0} MB/s / {bytes_per_support:.0} B); ratio {:.3} (goal ≥ 0.25; p99 goal < 100 ms)",
            per_second / limit
        );
    }
}

/// What the store holds must match what was answered: one support per acceptance,
/// sequences 1..=N with no gap.
async fn check(store: &Store, aspirant_id: i64, accepted: u64, errors: u64) -> anyhow::Result<()> {
    let listed = store
        .aspirant_supports(aspirant_id, &OutcomeFilter::Any, 0, i64::MAX)
        .await?;
    let gap_free = listed
        .iter()
        .enumerate()
        .all(|(i, s)| s.sequence == i as i64 + 1);
    println!(
        "check: {} supports stored for {accepted} accepted, sequences gap-free: {gap_free}",
        listed.len()
    );
    if listed.len() as u64 != accepted || !gap_free || errors > 0 {
        bail!("the benchmark's checks failed ({errors} errors)");
    }
    Ok(())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let roll = RollConfig::durango(args.voters, SEED);
    let started = Instant::now();
    let pool = Arc::new(make_pool(&roll, args.pool)?);
    let mean = |v: &[Vec<u8>]| v.iter().map(Vec::len).sum::<usize>() / v.len().max(1);
    let card_mean = pool.cards.iter().map(|(j, _)| j.len()).sum::<usize>() / pool.cards.len();
    println!(
        "pool: {} card photos (mean {} B), {} live photos (mean {} B), {} signatures (mean {} B); made in {:.1} s",
        pool.cards.len(),
        card_mean,
        pool.live_photos.len(),
        mean(&pool.live_photos),
        pool.signatures.len(),
        mean(&pool.signatures),
        started.elapsed().as_secs_f64()
    );

    // CPU the server spends proving and hashing one support's images, on one thread.
    let samples = (pool.cards.len() as u64).max(8);
    let began = Instant::now();
    for n in 0..samples {
        let i = n as usize;
        let images = [
            tag_jpeg(&pool.cards[i % pool.cards.len()].0, n),
            tag_jpeg(&pool.cards[(i + 1) % pool.cards.len()].0, n),
            tag_jpeg(&pool.live_photos[i % pool.live_photos.len()], n),
            tag_png(&pool.signatures[i % pool.signatures.len()], n),
        ];
        for image in &images {
            apoyo_server::images::clean(image)
                .map_err(|e| anyhow::anyhow!("a pool image is refused: {e}"))?;
        }
    }
    let decode_ms = began.elapsed().as_secs_f64() * 1000.0 / samples as f64;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "decode + hash: {decode_ms:.2} ms of CPU per support (4 images, one thread): at most {:.0} supports/s on {cores} cores for decoding alone",
        1000.0 / decode_ms * cores as f64
    );

    std::fs::create_dir_all(&args.data_dir)?;
    // APOYO_DATABASE_URL=postgres://… measures the PostgreSQL store (bench/postgres.sh).
    let database_url = std::env::var("APOYO_DATABASE_URL").ok();
    let store = Store::open(database_url.as_deref(), &args.data_dir).await?;
    let (aspirant_id, emails) = world(&store, &roll, args.collectors).await?;
    let blobs = BlobStore::in_data_dir(&args.data_dir)?;
    let reception = Reception::start_with_group(store.clone(), blobs, args.group);
    if args.mode == "store" {
        return store_mode(&args, &store, &reception, &pool, &emails, aspirant_id).await;
    }
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: args.data_dir.clone(),
        ..Config::default()
    };
    let app = App::with_reception(config, store.clone(), reception).await?;
    let base = format!("http://{}", app.address);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(async move {
        let _ = stopped.await;
    }));

    let most_clients = args.clients.iter().copied().max().unwrap_or(1);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(most_clients)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut tokens = Vec::with_capacity(emails.len());
    for (email, _) in &emails {
        let reply: Value = http
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = reply["token"].as_str().context("no token")?.to_owned();
        tokens.push(token);
    }
    println!(
        "server on {base}: {} collectors logged in; group commit up to {} supports",
        tokens.len(),
        args.group
    );

    let url = format!("{base}/api/v1/supports");
    let next = Arc::new(AtomicU64::new(0));
    let mut total_ok = 0u64;
    let mut total_errors = 0u64;
    for &clients in &args.clients {
        let first = next.load(Ordering::Relaxed);
        let last = args.count.map_or(u64::MAX, |c| first + c);
        let deadline = args
            .count
            .is_none()
            .then(|| Instant::now() + Duration::from_secs_f64(args.seconds));
        let began = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for c in 0..clients {
            tasks.spawn(client(
                http.clone(),
                url.clone(),
                tokens[c % tokens.len()].clone(),
                Arc::clone(&pool),
                Arc::clone(&next),
                last,
                deadline,
            ));
        }
        let mut latencies = Vec::new();
        let mut image_bytes = 0u64;
        let mut errors = 0u64;
        let mut first_error = None;
        while let Some(result) = tasks.join_next().await {
            let result = result?;
            latencies.extend(result.latencies);
            image_bytes += result.image_bytes;
            errors += result.errors;
            if first_error.is_none() {
                first_error = result.first_error;
            }
        }
        let elapsed = began.elapsed().as_secs_f64();
        total_ok += latencies.len() as u64;
        total_errors += errors;
        report(
            "http",
            clients,
            &mut latencies,
            image_bytes,
            errors,
            elapsed,
            args.disk_mbps,
        );
        if let Some(error) = first_error {
            println!("clients {clients:>4}: first error: {error}");
        }
    }

    let checked = check(&store, aspirant_id, total_ok, total_errors).await;
    let _ = stop.send(());
    server.await??;
    checked
}
