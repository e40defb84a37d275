//! The crash test (issue 5, item 7): collectors send supports under load while the real
//! `apoyo serve` is killed with SIGKILL at random moments and restarted on the same data
//! directory. At the end every acknowledged support must be stored exactly once, with its
//! four images intact on disk, a gap-free reception sequence, and a verification outcome;
//! nothing that was never sent may appear. A send whose answer was lost is retried with
//! the same `client_id` until it is answered, and must then be stored exactly once.
//!
//! Randomness (kill moments, downtime, citizens, pauses) comes from one seed, printed at
//! the start; `APOYO_CRASH_SEED=<n>` repeats a run. The server's output goes to files in
//! the temporary directory, printed only when the test fails. Everything is synthetic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use apoyo_domain::credential::CredentialInput;
use apoyo_synth::{RollConfig, RollGenerator};
use apoyo_testkit::backends;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Citizens in the demo roll: small, so the demo prepares in about a second.
const VOTERS: u64 = 3_000;
/// The demo's roll seed (`SEED` in crates/cli/src/demo.rs): captured credentials match it.
const DEMO_SEED: u64 = 2025;
/// At most this many supports per collector (the load stops earlier, after the last kill).
const MAX_PER_CLIENT: u64 = 120;
/// How long a client keeps retrying one support before the test fails.
const SEND_DEADLINE: Duration = Duration::from_secs(60);
const IMAGE_KINDS: [&str; 4] = ["front", "back", "live_photo", "signature"];

// ---------------------------------------------------------------------------------------
// Seeded randomness (splitmix64: enough for timings and choices)
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `low..high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }

    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(self.range(low, high))
    }
}

fn seed() -> u64 {
    match std::env::var("APOYO_CRASH_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("APOYO_CRASH_SEED must be an unsigned integer: {text:?}")),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(1)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------

/// The data directory, the server in it, and its logs; prints the logs and kills the
/// server if the test fails.
struct World {
    dir: tempfile::TempDir,
    data_dir: PathBuf,
    /// The PostgreSQL database of this run (`None`: SQLite in `data_dir`).
    database_url: Option<String>,
    server: Option<Child>,
    starts: usize,
    logs: Vec<PathBuf>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            // Kept for a look at the database, the blobs and the logs.
            self.dir.disable_cleanup(true);
            eprintln!("crash test directory kept: {}", self.dir.path().display());
            for log in &self.logs {
                let text = fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(60)..];
                eprintln!(
                    "---- {} (last {} lines) ----\n{}",
                    log.display(),
                    tail.len(),
                    tail.join("\n")
                );
            }
        }
    }
}

/// `apoyo` with a clean environment: no inherited `APOYO_*`, no `apoyo.toml` of the
/// caller; on PostgreSQL, its database and a short job lease (so that a job the kill left
/// `running` is taken back within seconds, as another instance would after the lease).
fn apoyo(dir: &Path, log: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apoyo"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("APOYO_") {
            command.env_remove(name);
        }
    }
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    if let Some(url) = database_url {
        command
            .env("APOYO_DATABASE_URL", url)
            .env("APOYO_JOB_LEASE_SECONDS", "2");
    }
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    command
}

/// A direct connection to the run's database, whichever backend (`$N` placeholders).
async fn database(data_dir: &Path, database_url: Option<&str>) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match database_url {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}",
            data_dir.join(apoyo_store::SQLITE_FILE).display()
        ),
    };
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                if conn.backend_name() == "SQLite" {
                    sqlx::Executor::execute(&mut *conn, "PRAGMA busy_timeout = 30000").await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .unwrap()
}

impl World {
    async fn db(&self) -> sqlx::AnyPool {
        database(&self.data_dir, self.database_url.as_deref()).await
    }

    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        Self {
            dir,
            data_dir,
            database_url: apoyo_testkit::fresh_database_url().await,
            server: None,
            starts: 0,
            logs: Vec::new(),
        }
    }

    fn log(&mut self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        self.logs.push(path.clone());
        path
    }

    /// `apoyo demo --no-serve`: roll, process open around today, aspirants, collectors.
    fn prepare_demo(&mut self) -> Vec<DemoAccount> {
        let log = self.log("demo.log");
        let status = apoyo(self.dir.path(), &log, self.database_url.as_deref())
            .arg("demo")
            .arg("--no-serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--voters")
            .arg(VOTERS.to_string())
            // The crash test counts only what it sends itself.
            .arg("--supports")
            .arg("0")
            .status()
            .unwrap();
        assert!(status.success(), "apoyo demo failed: {status}");
        let text = fs::read_to_string(self.data_dir.join("demo-accounts.txt")).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                assert_eq!(fields.len(), 5, "demo-accounts.txt line: {line}");
                DemoAccount {
                    email: fields[1].to_owned(),
                    password: fields[2].to_owned(),
                    note: fields[4].to_owned(),
                }
            })
            .collect()
    }

    /// Starts `apoyo serve` on a free port and waits until it is ready; returns its base URL.
    async fn start(&mut self) -> String {
        assert!(self.server.is_none(), "a server is already running");
        self.starts += 1;
        let log = self.log(&format!("serve-{}.log", self.starts));
        let mut child = apoyo(self.dir.path(), &log, self.database_url.as_deref())
            .arg("serve")
            .env("APOYO_DATA_DIR", &self.data_dir)
            .env("APOYO_LISTEN", "127.0.0.1:0")
            .env("APOYO_LOG_LEVEL", "info")
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let marker = "apoyo escuchando en http://";
        let address = loop {
            let text = fs::read_to_string(&log).unwrap_or_default();
            // The whole line: the address may be written in pieces.
            if let Some(line) = text[text.find(marker).unwrap_or(text.len())..]
                .split_inclusive('\n')
                .next()
                .filter(|l| l.ends_with('\n'))
            {
                break line[marker.len()..].trim().to_owned();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("apoyo serve (start {}) exited: {status}", self.starts);
            }
            assert!(
                Instant::now() < deadline,
                "apoyo serve (start {}) did not listen within 30 s",
                self.starts
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let base = format!("http://{address}");
        self.server = Some(child);
        let http = reqwest::Client::new();
        loop {
            if let Ok(reply) = http.get(format!("{base}/readyz")).send().await {
                if reply.status().as_u16() == 200 {
                    return base;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{base}/readyz never answered 200"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    fn kill(&mut self) {
        let mut child = self.server.take().expect("a running server");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server had already exited before the kill: {status}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl World {
    /// Kills the server as soon as a verification job is seen `running` (watching the
    /// database through a read-only connection), or after 5 s anyway. Whether the job was
    /// still running at the kill is a race; returns whether one was seen.
    async fn kill_during_verification(&mut self) -> bool {
        let db = self.db().await;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = false;
        while Instant::now() < deadline {
            let running: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM verification_jobs WHERE status = 'running'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            if running > 0 {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.kill();
        db.close().await;
        seen
    }
}

#[derive(Clone, Debug)]
struct DemoAccount {
    email: String,
    password: String,
    note: String,
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

/// What the clients share: where the server is now, and when to stop sending.
#[derive(Debug)]
struct Shared {
    base: RwLock<String>,
    stop: AtomicBool,
}

impl Shared {
    fn base(&self) -> String {
        self.base.read().unwrap().clone()
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn login(base: &str, account: &DemoAccount) -> String {
    let http = http_client();
    let reply = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": account.email, "password": account.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 200, "login of {}", account.email);
    let body: Value = reply.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    if body["user"]["must_change_password"] == json!(true) {
        let reply = http
            .put(format!("{base}/api/v1/session/password"))
            .bearer_auth(&token)
            .json(&json!({
                "current_password": account.password,
                "new_password": format!("prueba-de-caidas-{}", account.email.len() * 7919),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            reply.status().as_u16(),
            204,
            "password change of {}",
            account.email
        );
    }
    token
}

async fn get_json(base: &str, path: &str, token: &str) -> Value {
    let reply = http_client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap();
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

// ---------------------------------------------------------------------------------------
// Supports
// ---------------------------------------------------------------------------------------

/// One support as a collector's device holds it: the same bytes on every resend.
#[derive(Clone, Debug)]
struct Planned {
    client_id: String,
    fields: Value,
    images: Vec<(&'static str, Vec<u8>)>,
}

/// A support the server acknowledged (201 or 200 with a receipt).
#[derive(Clone, Debug)]
struct Acked {
    collector: String,
    client_id: String,
    fields: Value,
    /// SHA-256 of the image bytes sent, by kind.
    sent_sha256: BTreeMap<String, String>,
    receipt: Value,
    /// Sends of it that got no answer before the one answered.
    lost_answers: u32,
}

#[derive(Debug, Default)]
struct ClientReport {
    acked: Vec<Acked>,
    /// Sends cut while in flight (the request reached a server that died).
    cut: u32,
    /// Sends refused while no server listened.
    refused: u32,
    /// Supports whose lost send had in fact been stored (the retry answered 200).
    stored_before_retry: u32,
    /// Deliberate resends of acknowledged supports (answered 200, same receipt).
    resends: u32,
}

/// A JPEG of `width`×`height`, a gradient depending on `shade`.
fn jpeg(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        let v = u8::try_from((x * 3 + y * 5) % 200)
            .unwrap()
            .wrapping_add(shade);
        image::Rgb([v, v / 2, 255 - v])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&pixels)
        .unwrap();
    out
}

/// The captured fields as the API takes them (every field the generator typed).
fn credential_json(input: &CredentialInput) -> Value {
    let mut map = Map::new();
    for (name, value) in [
        ("model", &input.model),
        ("mrz", &input.mrz),
        ("cic", &input.cic),
        ("ocr", &input.ocr),
        ("citizen_id", &input.citizen_id),
        ("section", &input.section),
        ("issue_number", &input.issue_number),
        ("clave_elector", &input.clave_elector),
        ("curp", &input.curp),
        ("birth_date", &input.birth_date),
        ("sex", &input.sex),
        ("expiry_date", &input.expiry_date),
        ("paternal_surname", &input.paternal_surname),
        ("maternal_surname", &input.maternal_surname),
        ("given_names", &input.given_names),
    ] {
        if let Some(value) = value {
            map.insert(name.into(), Value::String(value.clone()));
        }
    }
    Value::Object(map)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Citizens to capture: on the demo roll, and (one in six) from another roll, not on it.
#[derive(Debug)]
struct Citizens {
    on_roll: RollGenerator,
    off_roll: RollGenerator,
}

fn plan(collector: usize, k: u64, run: u64, rng: &mut Rng, citizens: &Citizens) -> Planned {
    let index = rng.range(0, VOTERS);
    let input = if rng.range(0, 6) == 0 {
        citizens.off_roll.current_credential(index)
    } else {
        citizens.on_roll.current_credential(index)
    };
    let captured_at = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let client_id = format!("crash-{run:016x}-c{collector}-{k:04}");
    let fields = json!({
        "client_id": client_id,
        "captured_at": captured_at,
        "location": {"latitude": 24.0277, "longitude": -104.6532},
        "credential": credential_json(&input),
        "precheck_failed": [],
    });
    let images = IMAGE_KINDS
        .iter()
        .map(|kind| {
            let width = u32::try_from(rng.range(64, 97)).unwrap();
            let height = u32::try_from(rng.range(64, 81)).unwrap();
            let shade = u8::try_from(rng.range(0, 256)).unwrap();
            (*kind, jpeg(width, height, shade))
        })
        .collect();
    Planned {
        client_id,
        fields,
        images,
    }
}

enum Sent {
    Answered(u16, Value),
    Cut,
    Refused,
}

async fn send_once(http: &reqwest::Client, base: &str, token: &str, planned: &Planned) -> Sent {
    let mut form = reqwest::multipart::Form::new().part(
        "support",
        reqwest::multipart::Part::text(planned.fields.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (kind, bytes) in &planned.images {
        form = form.part(
            *kind,
            reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(format!("{kind}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    let result = http
        .post(format!("{base}/api/v1/supports"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await;
    match result {
        Ok(reply) => {
            let status = reply.status().as_u16();
            match reply.text().await {
                Ok(text) => Sent::Answered(
                    status,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                ),
                Err(_) => Sent::Cut,
            }
        }
        Err(e) if e.is_connect() => Sent::Refused,
        Err(_) => Sent::Cut,
    }
}

/// Sends until the server answers, as a device does: same `client_id`, same bytes. Any
/// answer but a receipt fails the test.
async fn send_until_answered(
    http: &reqwest::Client,
    shared: &Shared,
    token: &str,
    planned: &Planned,
    report: &mut ClientReport,
) -> (u16, Value, u32) {
    let deadline = Instant::now() + SEND_DEADLINE;
    let mut lost = 0;
    loop {
        match send_once(http, &shared.base(), token, planned).await {
            Sent::Answered(status @ (200 | 201), body) => return (status, body, lost),
            Sent::Answered(status, body) => {
                panic!("support {} answered {status}: {body}", planned.client_id)
            }
            Sent::Cut => {
                lost += 1;
                report.cut += 1;
            }
            Sent::Refused => {
                lost += 1;
                report.refused += 1;
            }
        }
        assert!(
            Instant::now() < deadline,
            "support {} got no answer within {SEND_DEADLINE:?}",
            planned.client_id
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// One collector's device: sends supports one after another until told to stop.
async fn run_client(
    collector: String,
    index: usize,
    token: String,
    shared: Arc<Shared>,
    citizens: Arc<Citizens>,
    run: u64,
) -> ClientReport {
    let http = http_client();
    let mut rng = Rng(run ^ (0xC0FF_EE00 + index as u64));
    let mut report = ClientReport::default();
    for k in 0..MAX_PER_CLIENT {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let planned = plan(index, k, run, &mut rng, &citizens);
        let (status, receipt, lost) =
            send_until_answered(&http, &shared, &token, &planned, &mut report).await;
        assert!(
            status == 201 || lost > 0,
            "support {} was new but answered {status}: {receipt}",
            planned.client_id
        );
        if lost > 0 && status == 200 {
            report.stored_before_retry += 1;
        }
        assert_eq!(receipt["client_id"], json!(planned.client_id));
        // Now and then the device resends an acknowledged support (its answer "was lost").
        if rng.range(0, 8) == 0 {
            let (again, second, _) =
                send_until_answered(&http, &shared, &token, &planned, &mut report).await;
            assert_eq!(again, 200, "resend of {}: {second}", planned.client_id);
            for field in ["support_id", "sequence", "folio", "received_at", "images"] {
                assert_eq!(
                    second[field], receipt[field],
                    "resend of {}: {field}",
                    planned.client_id
                );
            }
            report.resends += 1;
        }
        report.acked.push(Acked {
            collector: collector.clone(),
            client_id: planned.client_id.clone(),
            fields: planned.fields.clone(),
            sent_sha256: planned
                .images
                .iter()
                .map(|(kind, bytes)| ((*kind).to_owned(), sha256_hex(bytes)))
                .collect(),
            receipt,
            lost_answers: lost,
        });
        tokio::time::sleep(rng.millis(0, 30)).await;
    }
    report
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

#[backends(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_and_duplicates_nothing() {
    let run = seed();
    eprintln!("crash test seed: {run} (APOYO_CRASH_SEED={run} repeats it)");
    let mut rng = Rng(run);
    let mut world = World::new().await;
    let accounts = world.prepare_demo();
    let collectors: Vec<DemoAccount> = accounts
        .iter()
        .filter(|a| a.email.contains("-aux"))
        .cloned()
        .collect();
    assert_eq!(collectors.len(), 8, "the demo has eight collectors");
    let admin = accounts
        .iter()
        .find(|a| a.email.starts_with("admin@"))
        .expect("the demo's administrator")
        .clone();
    let aspirant_ids: Vec<i64> = accounts
        .iter()
        .filter_map(|a| a.note.strip_prefix("aspirant_id "))
        .map(|id| id.trim().parse().unwrap())
        .collect();
    assert_eq!(aspirant_ids.len(), 4, "the demo has four aspirants");

    let base = world.start().await;
    let mut tokens = Vec::new();
    for account in &collectors {
        tokens.push(login(&base, account).await);
    }
    let admin_token = login(&base, &admin).await;
    let citizens = Arc::new(Citizens {
        on_roll: RollGenerator::new(&RollConfig::durango(VOTERS, DEMO_SEED)).unwrap(),
        off_roll: RollGenerator::new(&RollConfig::durango(VOTERS, DEMO_SEED + 1)).unwrap(),
    });
    let shared = Arc::new(Shared {
        base: RwLock::new(base),
        stop: AtomicBool::new(false),
    });
    let clients: Vec<_> = collectors
        .iter()
        .zip(tokens)
        .enumerate()
        .map(|(index, (account, token))| {
            tokio::spawn(run_client(
                account.email.clone(),
                index,
                token,
                shared.clone(),
                citizens.clone(),
                run,
            ))
        })
        .collect();

    // Kills at random moments under load, each followed by a restart on the same data.
    let kills = rng.range(3, 6);
    let mut schedule = Vec::new();
    let mut hit_running_job = false;
    for n in 0..kills {
        let after = rng.millis(300, 1_500);
        let downtime = rng.millis(0, 250);
        schedule.push((after, downtime));
        tokio::time::sleep(after).await;
        if n + 1 == kills {
            // The last one waits for a verification job in hand: the worker must take an
            // interrupted job up again after the restart.
            hit_running_job = world.kill_during_verification().await;
        } else {
            world.kill();
        }
        tokio::time::sleep(downtime).await;
        let base = world.start().await;
        *shared.base.write().unwrap() = base;
    }
    eprintln!(
        "kills (after ms, down ms): {schedule:?}; the last one with a verification job \
         running: {hit_running_job}"
    );
    // Some load on the last server, then the devices finish what they hold and stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    shared.stop.store(true, Ordering::SeqCst);
    let mut reports = Vec::new();
    for client in clients {
        reports.push(client.await.expect("a client panicked"));
    }

    // One more crash with verification under way, then the last restart.
    world.kill();
    let base = world.start().await;
    let acked: Vec<Acked> = reports.iter().flat_map(|r| r.acked.clone()).collect();
    let cut: u32 = reports.iter().map(|r| r.cut).sum();
    let refused: u32 = reports.iter().map(|r| r.refused).sum();
    let stored_before_retry: u32 = reports.iter().map(|r| r.stored_before_retry).sum();
    let resends: u32 = reports.iter().map(|r| r.resends).sum();
    let retried = acked.iter().filter(|a| a.lost_answers > 0).count();
    eprintln!(
        "acknowledged {} supports; sends cut in flight {cut}, refused while down {refused}; \
         {retried} supports needed a retry, {stored_before_retry} of them had been stored \
         before their answer was lost; {resends} deliberate resends",
        acked.len()
    );
    assert!(!acked.is_empty(), "no support was acknowledged");
    assert!(
        cut + refused > 0,
        "no send met a dead server: the kills did not happen under load"
    );

    let db = world.db().await;
    wait_until_verified(&base, &admin_token, &aspirant_ids, &db).await;
    check_through_api(&base, &admin_token, &aspirant_ids, &collectors, &acked).await;
    world.kill();
    check_database(&db, &world.data_dir, &acked).await;
}

/// Waits until no support of any aspirant is pending verification, and no job is left
/// to run: a kill between a verification's commit and its job's `done` leaves the job
/// `running` over a verified support; it is taken back after the lease (2 s here) and
/// verified again, idempotently.
async fn wait_until_verified(
    base: &str,
    admin_token: &str,
    aspirant_ids: &[i64],
    db: &sqlx::AnyPool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut pending = 0;
        for id in aspirant_ids {
            let page = get_json(
                base,
                &format!("/api/v1/aspirants/{id}/supports?outcome=pending&limit=500"),
                admin_token,
            )
            .await;
            pending += page["items"].as_array().unwrap().len();
        }
        let unfinished: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM verification_jobs WHERE status IN ('pending', 'running')",
        )
        .fetch_one(db)
        .await
        .unwrap();
        if pending == 0 && unfinished == 0 {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "{pending} supports still not verified after 60 s; verification jobs \
                 (status, attempts, count): {:?}",
                job_states(db).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (status, attempts, how many) of the verification jobs, for failure messages.
async fn job_states(db: &sqlx::AnyPool) -> Vec<(String, i64, i64)> {
    sqlx::query_as(
        "SELECT status, attempts, COUNT(*) FROM verification_jobs GROUP BY status, attempts",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// Every acknowledged support answers its receipt (same id, sequence, images) with an
/// outcome, and the aspirants' lists hold exactly the acknowledged supports, once each.
async fn check_through_api(
    base: &str,
    admin_token: &str,
    aspirant_ids: &[i64],
    collectors: &[DemoAccount],
    acked: &[Acked],
) {
    let mut listed: BTreeMap<i64, Value> = BTreeMap::new();
    for id in aspirant_ids {
        let mut after = 0;
        loop {
            let page = get_json(
                base,
                &format!("/api/v1/aspirants/{id}/supports?after_sequence={after}&limit=500"),
                admin_token,
            )
            .await;
            for item in page["items"].as_array().unwrap() {
                let support_id = item["support_id"].as_i64().unwrap();
                assert!(
                    listed.insert(support_id, item.clone()).is_none(),
                    "support {support_id} listed twice"
                );
            }
            match page["next_after_sequence"].as_i64() {
                Some(next) => after = next,
                None => break,
            }
        }
    }
    let acked_ids: BTreeSet<i64> = acked
        .iter()
        .map(|a| a.receipt["support_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        acked_ids.len(),
        acked.len(),
        "two acknowledged supports share a support_id"
    );
    let listed_ids: BTreeSet<i64> = listed.keys().copied().collect();
    assert_eq!(
        listed_ids.difference(&acked_ids).collect::<Vec<_>>(),
        Vec::<&i64>::new(),
        "supports listed that were never acknowledged"
    );
    assert_eq!(
        acked_ids.difference(&listed_ids).collect::<Vec<_>>(),
        Vec::<&i64>::new(),
        "acknowledged supports missing from the lists"
    );

    // The receipts, read back with each collector's own new session.
    let mut tokens = BTreeMap::new();
    for account in collectors {
        tokens.insert(account.email.clone(), login(base, account).await);
    }
    let mut outcomes = BTreeMap::<String, usize>::new();
    for a in acked {
        let support_id = a.receipt["support_id"].as_i64().unwrap();
        let receipt = get_json(
            base,
            &format!("/api/v1/supports/{support_id}/receipt"),
            &tokens[&a.collector],
        )
        .await;
        for field in [
            "support_id",
            "client_id",
            "process_id",
            "sequence",
            "folio",
            "received_at",
            "images",
        ] {
            assert_eq!(
                receipt[field], a.receipt[field],
                "receipt of {}: {field}",
                a.client_id
            );
        }
        let outcome = receipt["outcome"]
            .as_str()
            .unwrap_or_else(|| panic!("support {} has no outcome: {receipt}", a.client_id));
        assert!(receipt["verified_at"].is_string(), "{receipt}");
        assert_eq!(
            listed[&support_id]["outcome"], receipt["outcome"],
            "list and receipt of {}",
            a.client_id
        );
        *outcomes.entry(outcome.to_owned()).or_default() += 1;
        let mut images: Vec<(String, String)> = receipt["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["kind"].as_str().unwrap().to_owned(),
                    i["sha256"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        images.sort();
        let sent: Vec<(String, String)> = a
            .sent_sha256
            .iter()
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect();
        // No metadata to strip in these JPEGs: the stored bytes are the bytes sent.
        assert_eq!(images, sent, "images of {}", a.client_id);
    }
    eprintln!("outcomes: {outcomes:?}");
}

/// A row of `supports`, with its collector's email.
#[derive(Debug, sqlx::FromRow)]
struct StoredSupport {
    id: i64,
    collector: String,
    client_id: String,
    process_id: i64,
    sequence: i64,
    captured_at: String,
    credential_json: String,
    outcome: Option<String>,
}

/// The database file after the last kill (only read): one row per acknowledged support and
/// nothing else, gap-free sequences, four images each whose blobs are on disk and match,
/// one done verification job, one reception audit entry, an outcome.
async fn check_database(db: &sqlx::AnyPool, data_dir: &Path, acked: &[Acked]) {
    let rows: Vec<StoredSupport> = sqlx::query_as(
        "SELECT s.id, u.email AS collector, s.client_id, s.process_id, s.sequence, \
         s.captured_at, s.credential_json, s.outcome \
         FROM supports s JOIN collectors c ON c.id = s.collector_id \
         JOIN users u ON u.id = c.user_id ORDER BY s.id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut stored: BTreeMap<(String, String), Vec<&StoredSupport>> = BTreeMap::new();
    for row in &rows {
        assert!(
            row.outcome.is_some(),
            "support {} ({}) has no outcome",
            row.id,
            row.client_id
        );
        stored
            .entry((row.collector.clone(), row.client_id.clone()))
            .or_default()
            .push(row);
    }
    let expected: BTreeSet<(String, String)> = acked
        .iter()
        .map(|a| (a.collector.clone(), a.client_id.clone()))
        .collect();
    let present: BTreeSet<(String, String)> = stored.keys().cloned().collect();
    assert_eq!(
        present.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "stored supports that were never acknowledged"
    );
    assert_eq!(
        expected.difference(&present).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "acknowledged supports that are not stored"
    );
    for a in acked {
        let copies = &stored[&(a.collector.clone(), a.client_id.clone())];
        assert_eq!(
            copies.len(),
            1,
            "{} stored {} times",
            a.client_id,
            copies.len()
        );
        let row = copies[0];
        assert_eq!(
            Some(row.id),
            a.receipt["support_id"].as_i64(),
            "{}",
            a.client_id
        );
        assert_eq!(Some(row.process_id), a.receipt["process_id"].as_i64());
        assert_eq!(Some(row.sequence), a.receipt["sequence"].as_i64());
        assert_eq!(
            json!(row.captured_at),
            a.fields["captured_at"],
            "stored captured_at of {}",
            a.client_id
        );
        let credential: Value = serde_json::from_str(&row.credential_json).unwrap();
        assert_eq!(
            credential, a.fields["credential"],
            "stored credential of {}",
            a.client_id
        );
    }

    // Sequences: 1..=n per process, and the counter at n.
    let mut by_process: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in &rows {
        by_process
            .entry(row.process_id)
            .or_default()
            .push(row.sequence);
    }
    for (process_id, mut sequences) in by_process {
        sequences.sort_unstable();
        let n = i64::try_from(sequences.len()).unwrap();
        let present: BTreeSet<i64> = sequences.iter().copied().collect();
        let missing: Vec<i64> = (1..=n).filter(|s| !present.contains(s)).collect();
        assert!(
            present.len() == sequences.len() && missing.is_empty(),
            "sequences of process {process_id} are not 1..={n}: missing {missing:?}, \
             beyond {:?}, repeated: {}",
            sequences.iter().filter(|s| **s > n).collect::<Vec<_>>(),
            sequences.len() - present.len()
        );
        let last: i64 =
            sqlx::query_scalar("SELECT last FROM process_sequences WHERE process_id = $1")
                .bind(process_id)
                .fetch_one(db)
                .await
                .unwrap();
        assert_eq!(last, n, "process_sequences.last of process {process_id}");
    }

    // Images: four per support, the blobs on disk with the recorded SHA-256.
    let images: Vec<(i64, String, String, String, i64)> = sqlx::query_as(
        "SELECT support_id, kind, sha256, object_key, bytes FROM support_images ORDER BY support_id, kind",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut kinds: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let blobs = data_dir.join("blobs");
    for (support_id, kind, sha256, key, bytes) in &images {
        kinds.entry(*support_id).or_default().push(kind.clone());
        let path = blobs.join(&key[..2]).join(key);
        let content = fs::read(&path)
            .unwrap_or_else(|e| panic!("blob of support {support_id} {kind} ({key}): {e}"));
        assert_eq!(&sha256_hex(&content), sha256, "blob {key} is damaged");
        assert_eq!(i64::try_from(content.len()).unwrap(), *bytes, "blob {key}");
    }
    let mut all_kinds: Vec<String> = IMAGE_KINDS.iter().map(|k| (*k).to_owned()).collect();
    all_kinds.sort();
    for row in &rows {
        assert_eq!(
            kinds.get(&row.id),
            Some(&all_kinds),
            "images of support {}",
            row.id
        );
    }
    assert_eq!(
        kinds.len(),
        rows.len(),
        "images of supports that do not exist"
    );
    // Left by kills (harmless, never cleaned up): temporary files of interrupted writes,
    // and blobs written for supports whose transaction never committed.
    let referenced: BTreeSet<&str> = images
        .iter()
        .map(|(_, _, _, key, _)| key.as_str())
        .collect();
    let (mut temporary, mut unreferenced) = (0, 0);
    for shard in fs::read_dir(&blobs).unwrap() {
        for file in fs::read_dir(shard.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") || name.contains('#') {
                temporary += 1;
            } else if !referenced.contains(name.as_str()) {
                unreferenced += 1;
            }
        }
    }

    // One verification job per support, all done; one reception audit entry per support.
    let jobs: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT support_id, status, attempts FROM verification_jobs ORDER BY support_id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(jobs.len(), rows.len(), "one verification job per support");
    for (support_id, status, attempts) in &jobs {
        assert_eq!(
            status, "done",
            "job of support {support_id} ({attempts} attempts)"
        );
    }
    let audits: Vec<(String, i64)> = sqlx::query_as(
        "SELECT entity_id, COUNT(*) FROM audit_log WHERE action = 'support.receive' GROUP BY entity_id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let audited: BTreeMap<String, i64> = audits.into_iter().collect();
    let ids: BTreeMap<String, i64> = rows.iter().map(|r| (r.id.to_string(), 1)).collect();
    assert_eq!(audited, ids, "one reception audit entry per support");
    db.close().await;
    let retried_jobs = jobs.iter().filter(|(_, _, a)| *a > 1).count();
    eprintln!(
        "database: {} supports, {} images, {retried_jobs} jobs verified again after a kill, \
         {temporary} stray temporary blob files, {unreferenced} blobs of supports never stored",
        rows.len(),
        images.len()
    );
}
