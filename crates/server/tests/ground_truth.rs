//! End to end against the ground truth (issue 5, item 6): a synthetic Durango roll and a
//! capture set with the outcome every support must get (docs/capture-set-format.md) are
//! replayed over HTTP by concurrent collectors, with deliberate retries; after the worker
//! has verified everything, every support's outcome must equal the ground truth. Then a
//! new roll snapshot turns some of those citizens into bajas (defunción), the process
//! moves to it, and the batch re-verification must again match the (new) ground truth.
//!
//! Reception order decides duplicates, so a collector sends its queue in file order and
//! a support waits until the earlier supports of its duplicate group were acknowledged;
//! everything else runs concurrently. Ground-truth `duplicate_of` values are file
//! sequences; they are compared through the server sequence each one got.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use apoyo_testkit::backends;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apoyo_domain::Date;
use apoyo_synth::{CaptureConfig, RollConfig, write_capture_set, write_roll};
use serde_json::{Value, json};

use common::{Auth, TestApp, support_images};

const VOTERS: u64 = 25_000;
const SUPPORTS: u64 = 1_500;
const CLIENTS: usize = 6;

struct Line {
    file_sequence: u64,
    client_id: String,
    aspirant: String,
    collector: String,
    paper: bool,
    credential: Value,
    outcome: String,
    duplicate_of: Option<u64>,
}

fn capture_lines(roll: &RollConfig, capture: &CaptureConfig) -> Vec<Line> {
    let mut out = Vec::new();
    write_capture_set(roll, capture, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let expected = &v["expected"];
            // Stopped by the collector's checks on the phone: never sent.
            expected.get("outcome")?;
            Some(Line {
                file_sequence: v["sequence"].as_u64().unwrap(),
                client_id: v["client_id"].as_str().unwrap().to_owned(),
                aspirant: v["aspirant"].as_str().unwrap().to_owned(),
                collector: v["collector"].as_str().unwrap().to_owned(),
                paper: v["paper"].as_bool().unwrap(),
                credential: v["credential"].clone(),
                outcome: expected["outcome"].as_str().unwrap().to_owned(),
                duplicate_of: expected["duplicate_of"].as_u64(),
            })
        })
        .collect()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Claves of Lista Nominal citizens of the roll, for registering collectors.
fn lista_nominal_claves(roll_text: &str, avoid: &HashSet<String>, count: usize) -> Vec<String> {
    roll_text
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(",lista_nominal,"))
        .map(|l| l.split(',').next().unwrap().to_owned())
        .filter(|c| !avoid.contains(c))
        .take(count)
        .collect()
}

#[backends]
async fn replayed_capture_set_matches_the_ground_truth_before_and_after_a_new_snapshot() {
    let app = TestApp::start().await;
    let roll_config = RollConfig::durango(VOTERS, 20_241_128);
    let mut capture_config = CaptureConfig::durango_example(SUPPORTS, 77);
    capture_config.collectors_per_aspirant = 3;
    let mut roll_text = Vec::new();
    write_roll(&roll_config, &mut roll_text).unwrap();
    let roll_text = String::from_utf8(roll_text).unwrap();
    let lines = capture_lines(&roll_config, &capture_config);
    assert!(lines.len() > 1_000, "{} supports sent", lines.len());
    // Paper cédulas are typed in by OPL staff through their own path.
    let paper = lines.iter().filter(|l| l.paper).count();
    assert!(paper > 20, "{paper} paper supports");
    app.import_snapshot("sintetico-2024", roll_config.cut_date, roll_text.clone())
        .await;

    // The process, one ayuntamiento per office of the set, its aspirants and collectors.
    let admin = app.login_admin().await;
    let process = app
        .post(
            "/api/v1/processes",
            &admin.bearer(),
            json!({
                "name": "Verdad de tierra", "kind": "independent_candidacy",
                "collection_starts_on": "2025-01-06", "collection_ends_on": "2025-03-06",
                "grace_hours": 24, "roll_snapshot": "sintetico-2024",
                "paper_municipalities": capture_config.paper_municipios.iter().map(|m| [10, *m]).collect::<Vec<_>>(),
            }),
        )
        .await
        .expect(201)
        .id();
    app.open_collection(process).await;
    let mut offices: BTreeMap<u16, i64> = BTreeMap::new();
    for aspirant in &capture_config.aspirants {
        if offices.contains_key(&aspirant.office_municipio) {
            continue;
        }
        let office = app
            .post(
                &format!("/api/v1/processes/{process}/offices"),
                &admin.bearer(),
                app.ayuntamiento_body(
                    &format!("Ayuntamiento {}", aspirant.office_municipio),
                    aspirant.office_municipio,
                ),
            )
            .await
            .expect(201)
            .id();
        offices.insert(aspirant.office_municipio, office);
    }
    let supporters: HashSet<String> = lines
        .iter()
        .filter_map(|l| l.credential["clave_elector"].as_str().map(str::to_owned))
        .collect();
    let collector_names: Vec<(String, String)> = {
        let mut seen = Vec::new();
        for line in &lines {
            let pair = (line.aspirant.clone(), line.collector.clone());
            if !seen.contains(&pair) {
                seen.push(pair);
            }
        }
        seen
    };
    let mut claves =
        lista_nominal_claves(&roll_text, &supporters, collector_names.len()).into_iter();
    let mut aspirant_ids: BTreeMap<String, i64> = BTreeMap::new();
    let mut aspirant_sessions = BTreeMap::new();
    for aspirant in &capture_config.aspirants {
        let (id, mut account) = app
            .register_aspirant(
                &admin,
                process,
                offices[&aspirant.office_municipio],
                &format!("Aspirante {}", aspirant.id),
            )
            .await;
        aspirant_ids.insert(aspirant.id.clone(), id);
        aspirant_sessions.insert(aspirant.id.clone(), app.activate(&mut account).await);
    }
    let mut collectors: HashMap<String, Auth> = HashMap::new();
    for (aspirant, collector) in &collector_names {
        let reply = app
            .post(
                &format!("/api/v1/aspirants/{}/collectors", aspirant_ids[aspirant]),
                &aspirant_sessions[aspirant].bearer(),
                json!({"name": format!("Auxiliar {collector}"), "email": app.unique_email("aux"),
                       "clave_elector": claves.next().unwrap()}),
            )
            .await
            .expect(201);
        let mut account = common::Account {
            user_id: 0,
            email: reply.body["account"]["email"].as_str().unwrap().to_owned(),
            password: reply.body["account"]["initial_password"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        collectors.insert(collector.clone(), app.activate(&mut account).await.bearer());
    }

    // The duplicate group each support waits on: the previous member in file order.
    let mut groups: HashMap<u64, Vec<u64>> = HashMap::new();
    for line in &lines {
        if let Some(first) = line.duplicate_of {
            groups
                .entry(first)
                .or_insert_with(|| vec![first])
                .push(line.file_sequence);
        }
    }
    let mut waits_for: HashMap<u64, u64> = HashMap::new();
    for members in groups.values_mut() {
        members.sort_unstable();
        for pair in members.windows(2) {
            waits_for.insert(pair[1], pair[0]);
        }
    }

    // Each client task takes whole collectors and sends their queues in file order.
    let acked: Arc<Mutex<HashMap<u64, (i64, i64)>>> = Arc::default();
    let app = Arc::new(app);
    let lines = Arc::new(lines);
    let waits_for = Arc::new(waits_for);
    let collectors = Arc::new(collectors);
    let staff = admin.bearer();
    let aspirant_ids = Arc::new(aspirant_ids);
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (app, lines, waits_for, collectors, acked, staff, aspirant_ids) = (
            app.clone(),
            lines.clone(),
            waits_for.clone(),
            collectors.clone(),
            acked.clone(),
            staff.clone(),
            aspirant_ids.clone(),
        );
        let names: Vec<String> = collector_names
            .iter()
            .map(|(_, c)| c.clone())
            .enumerate()
            .filter(|(i, _)| i % CLIENTS == client)
            .map(|(_, c)| c)
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut retries = 0;
            for line in lines.iter().filter(|l| names.contains(&l.collector)) {
                if let Some(before) = waits_for.get(&line.file_sequence) {
                    while !acked.lock().unwrap().contains_key(before) {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                let fields = json!({
                    "client_id": line.client_id,
                    "captured_at": now_rfc3339(),
                    "credential": line.credential,
                    "precheck_failed": [],
                });
                let send = || async {
                    if line.paper {
                        app.send_paper_support(&staff, aspirant_ids[&line.aspirant], &fields)
                            .await
                    } else {
                        app.send_support(&collectors[&line.collector], &fields, support_images(0))
                            .await
                    }
                };
                let (status, body) = if line.file_sequence % 13 == 0 {
                    // The phone lost the answer and sent again at once: both are in flight.
                    let (a, b) = tokio::join!(send(), send());
                    let mut statuses = [a.status, b.status];
                    statuses.sort_unstable();
                    assert_eq!(statuses, [200, 201], "{} {}", a.body, b.body);
                    assert_eq!(a.body["support_id"], b.body["support_id"]);
                    retries += 1;
                    (201, a.body)
                } else {
                    let first = send().await;
                    (first.status, first.body)
                };
                assert_eq!(status, 201, "support {}: {body}", line.file_sequence);
                if line.file_sequence % 7 == 0 {
                    // A retry after the answer: the same receipt, nothing stored twice.
                    let again = send().await.expect(200);
                    assert_eq!(again.body["support_id"], body["support_id"]);
                    assert_eq!(again.body["sequence"], body["sequence"]);
                    retries += 1;
                }
                acked.lock().unwrap().insert(
                    line.file_sequence,
                    (
                        body["support_id"].as_i64().unwrap(),
                        body["sequence"].as_i64().unwrap(),
                    ),
                );
            }
            retries
        }));
    }
    let mut retries = 0;
    for task in tasks {
        retries += task.await.unwrap();
    }
    assert!(retries > 100, "{retries} retries");
    let acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), lines.len());
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) FROM supports WHERE process_id = {process}"
        ))
        .await,
        lines.len() as i64,
        "every support stored exactly once"
    );
    let mut sequences: Vec<i64> = acked.values().map(|(_, s)| *s).collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=lines.len() as i64).collect::<Vec<_>>());
    app.all_verified().await;

    let outcomes = |app: Arc<TestApp>| async move {
        let db = app.db().await;
        let rows: Vec<(i64, Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT id, outcome, duplicate_of FROM supports WHERE process_id = $1")
                .bind(process)
                .fetch_all(&db)
                .await
                .unwrap();
        db.close().await;
        rows.into_iter()
            .map(|(id, outcome, dup)| (id, (outcome.unwrap_or_default(), dup)))
            .collect::<HashMap<i64, (String, Option<i64>)>>()
    };
    let compare = |got: &HashMap<i64, (String, Option<i64>)>,
                   expected: &dyn Fn(&Line) -> (String, Option<i64>)| {
        let mut disagreements = Vec::new();
        let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
        for line in lines.iter() {
            let (support_id, _) = acked[&line.file_sequence];
            let want = expected(line);
            *by_outcome.entry(want.0.clone()).or_default() += 1;
            if got[&support_id] != want {
                disagreements.push(format!(
                    "line {} ({}): expected {want:?}, got {:?}",
                    line.file_sequence, line.credential["model"], got[&support_id]
                ));
            }
        }
        (disagreements, by_outcome)
    };
    let server_sequence = |file_sequence: u64| acked[&file_sequence].1;

    let got = outcomes(app.clone()).await;
    let (disagreements, by_outcome) = compare(&got, &|line| {
        (line.outcome.clone(), line.duplicate_of.map(server_sequence))
    });
    assert!(
        disagreements.is_empty(),
        "{} of {} supports disagree with the ground truth:\n{}",
        disagreements.len(),
        lines.len(),
        disagreements[..disagreements.len().min(20)].join("\n")
    );
    for kind in [
        "valid",
        "not_found",
        "register_only",
        "superseded_credential",
        "out_of_territory",
        "duplicate_same_aspirant",
        "duplicate_other_aspirant",
    ] {
        assert!(
            by_outcome.get(kind).is_some_and(|n| *n > 0),
            "no {kind}: {by_outcome:?}"
        );
    }
    assert!(
        by_outcome.keys().any(|k| k.starts_with("removed:")),
        "{by_outcome:?}"
    );

    // A new cut: every 8th citizen whose support counted died.
    let died: HashSet<String> = lines
        .iter()
        .filter(|l| l.outcome == "valid")
        .filter_map(|l| l.credential["clave_elector"].as_str())
        .enumerate()
        .filter(|(i, _)| i % 8 == 0)
        .map(|(_, c)| c.to_owned())
        .collect();
    assert!(died.len() > 50, "{}", died.len());
    let mut turned = 0;
    let next_roll: String = roll_text
        .lines()
        .map(|line| {
            let clave = line.split(',').next().unwrap_or_default();
            if died.contains(clave) && line.ends_with(",lista_nominal,") {
                turned += 1;
                format!(
                    "{}baja,defuncion\n",
                    line.trim_end_matches("lista_nominal,")
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert_eq!(turned, died.len());
    app.import_snapshot("sintetico-2025", Date::new(2025, 1, 31).unwrap(), next_roll)
        .await;
    app.put(
        &format!("/api/v1/processes/{process}/roll-snapshot"),
        &admin.bearer(),
        json!({"roll_snapshot": "sintetico-2025"}),
    )
    .await
    .expect(202);
    app.all_reverified().await;

    let got = outcomes(app.clone()).await;
    let (disagreements, by_outcome) = compare(&got, &|line| {
        let names_the_dead = line.outcome != "not_found"
            && line.credential["clave_elector"]
                .as_str()
                .is_some_and(|c| died.contains(c));
        if names_the_dead {
            ("removed:defuncion".to_owned(), None)
        } else {
            (line.outcome.clone(), line.duplicate_of.map(server_sequence))
        }
    });
    assert!(
        disagreements.is_empty(),
        "after re-verification, {} of {} supports disagree with the ground truth:\n{}",
        disagreements.len(),
        lines.len(),
        disagreements[..disagreements.len().min(20)].join("\n")
    );
    assert!(by_outcome["removed:defuncion"] > died.len());

    // Progress counters equal a count of the supports, for every aspirant.
    for (name, id) in aspirant_ids.iter() {
        let progress = app
            .get(&format!("/api/v1/aspirants/{id}/progress"), &admin.bearer())
            .await
            .expect(200)
            .body;
        let valid = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM supports WHERE aspirant_id = {id} AND outcome = 'valid'"
            ))
            .await;
        let received = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM supports WHERE aspirant_id = {id}"
            ))
            .await;
        assert_eq!(progress["valid"], valid, "{name}");
        assert_eq!(progress["received"], received, "{name}");
        assert_eq!(progress["pending"], 0, "{name}");
    }
}
