//! Batch verification benchmark (bench/verify-batch.sh, BENCHMARKS.md): a synthetic
//! roll and capture set (docs/capture-set-format.md), the roll imported with the
//! store's import, the supports bulk-inserted as received, then
//! `Store::run_reverification` timed over all of them and checked support by support
//! against the ground truth.
//!
//! ```text
//! verify_bench prepare DIR VOTERS SUPPORTS SEED   # roll, capture set, data dir, CSV exports
//! verify_bench run DIR                            # the timed runs and the checks
//! ```
//!
//! `prepare` writes into DIR: `roll.csv`, `capture.jsonl`, `data/` (the store), and
//! for the DuckDB side `supports.csv` (each support's roll key as
//! `CapturedKey::from_input` gives it), `territory.csv`, `paper.csv`. `run` writes
//! `outcomes.csv` (what apoyo decided) and prints `key value` lines.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use apoyo_domain::Date;
use apoyo_domain::access::Role;
use apoyo_domain::credential::CredentialInput;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use apoyo_domain::verification::{CapturedKey, CredentialKey};
use apoyo_store::{
    Actor, ImportOptions, NewAspirant, NewCollector, NewOffice, NewProcess, NewUser, OfficeKind,
    ProcessKind, Store,
};
use apoyo_synth::{CaptureConfig, RollConfig};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Row};

type Res<T> = Result<T, Box<dyn Error>>;

const STATE: u8 = 10;
const SNAPSHOT: &str = "bench-roll";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["prepare", dir, voters, supports, seed] => runtime.block_on(prepare(
            Path::new(dir),
            voters.parse()?,
            supports.parse()?,
            seed.parse()?,
        )),
        ["run", dir] => runtime.block_on(run(Path::new(dir))),
        _ => Err("usage: verify_bench prepare DIR VOTERS SUPPORTS SEED | run DIR".into()),
    }
}

fn seconds(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// One line of the capture set that is sent (not stopped by the collector's checks).
struct Line {
    sequence: i64,
    client_id: String,
    aspirant: String,
    collector: String,
    paper: bool,
    captured_at: String,
    credential: String,
}

async fn prepare(dir: &Path, voters: u64, supports: u64, seed: u64) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    let roll_config = RollConfig::durango(voters, seed);
    let capture_config = CaptureConfig::durango_example(supports, seed);
    let roll_path = dir.join("roll.csv");
    let capture_path = dir.join("capture.jsonl");

    let started = Instant::now();
    apoyo_synth::write_roll(&roll_config, BufWriter::new(File::create(&roll_path)?))?;
    apoyo_synth::write_capture_set(
        &roll_config,
        &capture_config,
        BufWriter::new(File::create(&capture_path)?),
    )?;
    println!("generate_seconds {:.2}", seconds(started));

    let data = dir.join("data");
    // APOYO_DATABASE_URL=postgres://… measures the PostgreSQL store (bench/postgres.sh).
    let store = Store::open(std::env::var("APOYO_DATABASE_URL").ok().as_deref(), &data).await?;
    let started = Instant::now();
    store
        .import_roll(
            BufReader::new(File::open(&roll_path)?),
            ImportOptions {
                name: SNAPSHOT.to_owned(),
                cut_date: roll_config.cut_date,
                activate: true,
            },
            |_| {},
        )
        .await?;
    println!("import_seconds {:.2}", seconds(started));

    // The process, its offices, aspirants and collectors, as an administrator would.
    let system = Actor::system();
    let staff = store
        .create_user(
            &system,
            NewUser {
                email: "captura@bench.invalid".into(),
                name: "Captura OPL".into(),
                role: Role::Admin,
                password_hash: "not-a-password".into(),
                must_change_password: false,
            },
        )
        .await?;
    let day = |date: Date, days: i64| Date::from_days_since_epoch(date.days_since_epoch() + days);
    let start = day(roll_config.cut_date, 1);
    let process = store
        .create_process(
            &system,
            NewProcess {
                name: "Benchmark".into(),
                kind: ProcessKind::IndependentCandidacy,
                collection_starts_on: start,
                collection_ends_on: day(start, i64::from(capture_config.collection_days)),
                grace_hours: 24,
                roll_snapshot: SNAPSHOT.into(),
                paper_municipalities: capture_config
                    .paper_municipios
                    .iter()
                    .map(|m| (STATE, *m))
                    .collect(),
            },
        )
        .await?;
    let mut offices: BTreeMap<u16, i64> = BTreeMap::new();
    let mut aspirants: HashMap<String, (i64, i64)> = HashMap::new();
    for aspirant in &capture_config.aspirants {
        let office_id = match offices.get(&aspirant.office_municipio) {
            Some(id) => *id,
            None => {
                let office = store
                    .create_office(
                        &system,
                        process.id,
                        NewOffice {
                            kind: OfficeKind::Ayuntamiento,
                            name: format!("Ayuntamiento {}", aspirant.office_municipio),
                            state: STATE,
                            municipality: Some(aspirant.office_municipio),
                            district: None,
                            sections: None,
                            threshold: ThresholdRule::Percent(300),
                            dispersion: DispersionRule {
                                min_sections_bp: 5000,
                                min_support_bp: 100,
                            },
                        },
                    )
                    .await?;
                offices.insert(aspirant.office_municipio, office.id);
                office.id
            }
        };
        let created = store
            .create_aspirant(
                &system,
                NewAspirant {
                    process_id: process.id,
                    office_id,
                    name: format!("Aspirante {}", aspirant.id),
                    email: format!("{}@bench.invalid", aspirant.id.to_lowercase()),
                    password_hash: "not-a-password".into(),
                },
            )
            .await?;
        aspirants.insert(aspirant.id.clone(), (created.id, office_id));
    }

    let lines = read_lines(&capture_path)?;
    // Collectors must be Lista Nominal citizens: the first ones of the roll file.
    let mut collectors: BTreeMap<String, i64> = lines
        .iter()
        .filter(|l| !l.paper)
        .map(|l| (l.collector.clone(), 0))
        .collect();
    let mut claves = BufReader::new(File::open(&roll_path)?)
        .lines()
        .skip(1)
        .map_while(Result::ok)
        .filter(|l| l.ends_with(",lista_nominal,"))
        .map(|l| l.split(',').next().unwrap_or_default().to_owned());
    for (name, id) in collectors.iter_mut() {
        let aspirant = name.split("-aux-").next().unwrap_or_default();
        let created = store
            .create_collector(
                &system,
                NewCollector {
                    aspirant_id: aspirants[aspirant].0,
                    name: format!("Auxiliar {name}"),
                    email: format!("{}@bench.invalid", name.to_lowercase()),
                    clave_elector: claves.next().ok_or("roll too small for the collectors")?,
                    password_hash: "not-a-password".into(),
                },
            )
            .await?;
        *id = created.id;
    }
    store.close().await;

    // The supports as received: straight into the table, many rows per statement.
    let started = Instant::now();
    let mut conn = connect(&data).await?;
    let mut tx = conn.begin().await?;
    for chunk in lines.chunks(500) {
        // `$N` placeholders: the same text runs on SQLite and PostgreSQL.
        let placeholders = (0..chunk.len())
            .map(|row| {
                let p: Vec<String> = (1..=11).map(|k| format!("${}", row * 11 + k)).collect();
                format!("({}, '[]', 'bench', 'received')", p.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO supports (process_id, aspirant_id, office_id, collector_id, captured_by_user_id, \
             client_id, sequence, paper, captured_at, received_at, credential_json, precheck_json, \
             content_sha256, status) VALUES {placeholders}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for line in chunk {
            let (aspirant_id, office_id) = aspirants[&line.aspirant];
            let received_at = apoyo_store::clock::parse(&line.captured_at)
                .map(apoyo_store::clock::format)
                .ok_or("captured_at")?;
            query = query
                .bind(process.id)
                .bind(aspirant_id)
                .bind(office_id)
                .bind((!line.paper).then(|| collectors[&line.collector]))
                .bind(line.paper.then_some(staff.id))
                .bind(&line.client_id)
                .bind(line.sequence)
                .bind(i64::from(line.paper))
                .bind(&line.captured_at)
                .bind(received_at)
                .bind(&line.credential);
        }
        query.execute(&mut *tx).await?;
    }
    let last = lines.last().map_or(0, |l| l.sequence);
    sqlx::query("INSERT INTO process_sequences (process_id, last) VALUES ($1, $2)")
        .bind(process.id)
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    println!("load_supports_seconds {:.2}", seconds(started));
    println!("supports_received {}", lines.len());

    // The DuckDB side's input: every support with its roll key, computed once here.
    let started = Instant::now();
    let rows = sqlx::query(
        "SELECT id, sequence, aspirant_id, office_id, paper, credential_json FROM supports ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut out = BufWriter::new(File::create(dir.join("supports.csv"))?);
    writeln!(
        out,
        "id,sequence,aspirant_id,office_id,paper,key_kind,cic,citizen_id,ocr,key_clave,issue_number,captured_clave"
    )?;
    for row in &rows {
        let json: &str = row.try_get("credential_json")?;
        let input: CredentialInput = serde_json::from_str(json)?;
        let key = CapturedKey::from_input(&input, roll_config.cut_date).ok();
        let (kind, cic, citizen_id, ocr, clave, issue) = match key.as_ref().map(|k| &k.credential) {
            None => ("none", "", "", "", "", String::new()),
            Some(CredentialKey::CicCitizenId { cic, citizen_id }) => (
                "cic_citizen_id",
                cic.as_str(),
                citizen_id.as_str(),
                "",
                "",
                String::new(),
            ),
            Some(CredentialKey::CicOcr { cic, ocr }) => {
                ("cic_ocr", cic.as_str(), "", ocr.as_str(), "", String::new())
            }
            Some(CredentialKey::ClaveIssueOcr {
                clave_elector,
                issue_number,
                ocr,
            }) => (
                "clave_issue_ocr",
                "",
                "",
                ocr.as_str(),
                clave_elector.as_str(),
                issue_number.to_string(),
            ),
        };
        let captured = key
            .as_ref()
            .and_then(|k| k.clave_elector.as_deref())
            .unwrap_or("");
        writeln!(
            out,
            "{},{},{},{},{},{kind},{cic},{citizen_id},{ocr},{clave},{issue},{captured}",
            row.try_get::<i64, _>("id")?,
            row.try_get::<i64, _>("sequence")?,
            row.try_get::<i64, _>("aspirant_id")?,
            row.try_get::<i64, _>("office_id")?,
            row.try_get::<i64, _>("paper")?,
        )?;
    }
    out.flush()?;
    let mut out = BufWriter::new(File::create(dir.join("territory.csv"))?);
    writeln!(out, "office_id,state,section")?;
    for (office, state, section) in sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT office_id, state, section FROM office_sections",
    )
    .fetch_all(&mut conn)
    .await?
    {
        writeln!(out, "{office},{state},{section}")?;
    }
    out.flush()?;
    let mut out = BufWriter::new(File::create(dir.join("paper.csv"))?);
    writeln!(out, "state,municipality")?;
    for m in &capture_config.paper_municipios {
        writeln!(out, "{STATE},{m}")?;
    }
    out.flush()?;
    conn.close().await?;
    println!("export_seconds {:.2}", seconds(started));
    Ok(())
}

fn read_lines(path: &Path) -> Res<Vec<Line>> {
    let mut lines = Vec::new();
    for text in BufReader::new(File::open(path)?).lines() {
        let v: Value = serde_json::from_str(&text?)?;
        // Stopped by the collector's checks on the phone: never sent.
        if v["expected"].get("outcome").is_none() {
            continue;
        }
        lines.push(Line {
            sequence: v["sequence"].as_i64().ok_or("sequence")?,
            client_id: v["client_id"].as_str().ok_or("client_id")?.to_owned(),
            aspirant: v["aspirant"].as_str().ok_or("aspirant")?.to_owned(),
            collector: v["collector"].as_str().ok_or("collector")?.to_owned(),
            paper: v["paper"].as_bool().ok_or("paper")?,
            captured_at: v["captured_at"].as_str().ok_or("captured_at")?.to_owned(),
            credential: serde_json::to_string(&v["credential"])?,
        });
    }
    Ok(lines)
}

/// Expected (outcome, duplicate_of) by sequence.
fn expected(path: &Path) -> Res<HashMap<i64, (String, Option<i64>)>> {
    let mut out = HashMap::new();
    for text in BufReader::new(File::open(path)?).lines() {
        let v: Value = serde_json::from_str(&text?)?;
        if let Some(outcome) = v["expected"]["outcome"].as_str() {
            out.insert(
                v["sequence"].as_i64().ok_or("sequence")?,
                (outcome.to_owned(), v["expected"]["duplicate_of"].as_i64()),
            );
        }
    }
    Ok(out)
}

/// A direct connection to the bench's store: `APOYO_DATABASE_URL` (PostgreSQL, see
/// bench/postgres.sh) or the SQLite file in `data`.
async fn connect(data: &Path) -> Res<AnyConnection> {
    sqlx::any::install_default_drivers();
    let url = match std::env::var("APOYO_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => format!("sqlite://{}", data.join(apoyo_store::SQLITE_FILE).display()),
    };
    let mut conn = AnyConnection::connect(&url).await?;
    if conn.backend_name() == "SQLite" {
        sqlx::Executor::execute(&mut conn, "PRAGMA foreign_keys = ON").await?;
    }
    Ok(conn)
}

/// CPU time (user + system, every thread) of this process so far, in seconds (Linux,
/// whose /proc counts in hundredths of a second).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .map(|s| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = s.rsplit(')').next().unwrap_or_default();
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|t| t.parse::<f64>().ok())
                .sum::<f64>()
                / 100.0
        })
        .unwrap_or(0.0)
}

/// Peak resident memory of this process so far, in KiB (Linux).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn run(dir: &Path) -> Res<()> {
    let data: PathBuf = dir.join("data");
    // APOYO_DATABASE_URL=postgres://… measures the PostgreSQL store (bench/postgres.sh).
    let store = Store::open(std::env::var("APOYO_DATABASE_URL").ok().as_deref(), &data).await?;
    let process = store
        .processes()
        .await?
        .into_iter()
        .next()
        .ok_or("no process: run prepare first")?;
    let mut runs = Vec::new();
    // First: every support verified (all pending, every row written). Second: the same
    // snapshot again, nothing changes (a re-verification where the roll kept still).
    for label in ["first", "again"] {
        let (_, run_id) = store
            .change_roll_snapshot(&Actor::system(), process.id, SNAPSHOT)
            .await?;
        let run = store
            .claim_reverification_run()
            .await?
            .filter(|r| r.id == run_id)
            .ok_or("run not claimed")?;
        let started = Instant::now();
        let cpu = cpu_seconds();
        let report = store.run_reverification(run).await?;
        let elapsed = seconds(started);
        println!("{label}_seconds {elapsed:.3}");
        println!("{label}_cpu_seconds {:.2}", cpu_seconds() - cpu);
        println!("{label}_supports {}", report.supports);
        println!("{label}_changed {}", report.changed);
        println!("{label}_peak_rss_mib {:.1}", peak_rss_kib() as f64 / 1024.0);
        runs.push(report);
    }
    store.close().await;

    // The checks: every support against the ground truth, and the counters.
    let truth = expected(&dir.join("capture.jsonl"))?;
    let mut conn = connect(&data).await?;
    let rows: Vec<(i64, i64, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT id, sequence, outcome, duplicate_of FROM supports ORDER BY id")
            .fetch_all(&mut conn)
            .await?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut disagreements = 0u64;
    let mut out = BufWriter::new(File::create(dir.join("outcomes.csv"))?);
    writeln!(out, "id,outcome,duplicate_of")?;
    for (id, sequence, outcome, duplicate_of) in &rows {
        let outcome = outcome.clone().unwrap_or_else(|| "pending".into());
        *counts.entry(outcome.clone()).or_default() += 1;
        if truth.get(sequence) != Some(&(outcome.clone(), *duplicate_of)) {
            if disagreements < 5 {
                eprintln!(
                    "support {id} (sequence {sequence}): {outcome} {duplicate_of:?}, expected {:?}",
                    truth.get(sequence)
                );
            }
            disagreements += 1;
        }
        let dup = duplicate_of.map(|d| d.to_string()).unwrap_or_default();
        writeln!(out, "{id},{outcome},{dup}")?;
    }
    out.flush()?;
    let mut expected_counts: BTreeMap<String, u64> = BTreeMap::new();
    for (outcome, _) in truth.values() {
        *expected_counts.entry(outcome.clone()).or_default() += 1;
    }
    for (outcome, n) in &counts {
        println!("count {outcome} {n}");
    }
    println!("disagreements {disagreements}");
    println!("counts_match {}", counts == expected_counts);
    // The trigger-kept counters must equal a recount.
    let stale: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM ( \
           SELECT aspirant_id, outcome, supports FROM aspirant_progress WHERE supports > 0 \
           EXCEPT SELECT aspirant_id, COALESCE(outcome, 'pending'), COUNT(*) FROM supports GROUP BY 1, 2) AS a) \
         + (SELECT COUNT(*) FROM ( \
           SELECT aspirant_id, COALESCE(outcome, 'pending'), COUNT(*) FROM supports GROUP BY 1, 2 \
           EXCEPT SELECT aspirant_id, outcome, supports FROM aspirant_progress WHERE supports > 0) AS b)",
    )
    .fetch_one(&mut conn)
    .await?;
    let stale_sections: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM ( \
           SELECT aspirant_id, state, section, valid FROM aspirant_section_progress WHERE valid > 0 \
           EXCEPT SELECT s.aspirant_id, o.state, s.citizen_section, COUNT(*) FROM supports s \
             JOIN offices o ON o.id = s.office_id WHERE s.outcome = 'valid' GROUP BY 1, 2, 3) AS a) \
         + (SELECT COUNT(*) FROM ( \
           SELECT s.aspirant_id, o.state, s.citizen_section, COUNT(*) FROM supports s \
             JOIN offices o ON o.id = s.office_id WHERE s.outcome = 'valid' GROUP BY 1, 2, 3 \
           EXCEPT SELECT aspirant_id, state, section, valid FROM aspirant_section_progress WHERE valid > 0) AS b)",
    )
    .fetch_one(&mut conn)
    .await?;
    println!(
        "progress_counters_exact {}",
        stale == 0 && stale_sections == 0
    );
    conn.close().await?;
    let ok = disagreements == 0
        && counts == expected_counts
        && stale == 0
        && stale_sections == 0
        && runs.get(1).is_some_and(|r| r.changed == 0);
    if !ok {
        return Err("the outcomes disagree with the ground truth (see above)".into());
    }
    Ok(())
}
