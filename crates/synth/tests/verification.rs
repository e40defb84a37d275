//! Ground truth for the verification rules (`apoyo_domain::verification`): fed
//! with rows of the regenerated roll the way the store will feed them (by CIC,
//! by clave de elector), they must reach every expected outcome of a capture set,
//! `duplicate_of` included, and reach it whatever order the supports are
//! processed in.

use std::collections::{BTreeMap, HashMap, HashSet};

use apoyo_domain::CredentialInput;
use apoyo_domain::outcome::RollOutcome;
use apoyo_domain::roll::RollRecord;
use apoyo_domain::verification::{
    CapturedKey, Lookup, Resolved, SupportForDuplicates, citizen_lookups, match_record,
    preliminary_outcome, resolve_duplicates,
};
use apoyo_synth::{
    CaptureConfig, DURANGO_ENTIDAD, RollConfig, RollGenerator, durango_territory, write_capture_set,
};
use serde_json::Value;

/// A 20,000-voter roll serves 3,000 supports for some seeds only (a cause of
/// baja runs short in the offices' municipios); 25,000 serves them all.
const VOTERS: u64 = 25_000;
const SUPPORTS: u64 = 3_000;

/// The regenerated roll with the two indexes the store has (CIC; clave de elector,
/// the prefix of its `(clave_elector, issue_number)` index).
struct Roll {
    rows: Vec<RollRecord>,
    by_cic: HashMap<String, usize>,
    by_clave: HashMap<String, Vec<usize>>,
}

impl Roll {
    fn new(config: &RollConfig) -> Self {
        let generator = RollGenerator::new(config).unwrap_or_else(|e| panic!("{e}"));
        let mut roll = Roll {
            rows: Vec::new(),
            by_cic: HashMap::new(),
            by_clave: HashMap::new(),
        };
        for index in 0..generator.voters() {
            for record in generator.records(index) {
                let at = roll.rows.len();
                if let Some(cic) = &record.cic {
                    assert!(roll.by_cic.insert(cic.clone(), at).is_none(), "CIC twice");
                }
                roll.by_clave
                    .entry(record.clave_elector.clone())
                    .or_default()
                    .push(at);
                roll.rows.push(record);
            }
        }
        roll
    }

    fn fetch(&self, lookup: &Lookup) -> Vec<RollRecord> {
        let at: Vec<usize> = match lookup {
            Lookup::ByCic(cic) => self.by_cic.get(cic).copied().into_iter().collect(),
            Lookup::ByClave(clave) => self.by_clave.get(clave).cloned().unwrap_or_default(),
        };
        at.into_iter().map(|i| self.rows[i].clone()).collect()
    }
}

/// A received support of the capture set with its expectation.
struct Support {
    sequence: u64,
    aspirant: String,
    office: u16,
    paper: bool,
    credential: CredentialInput,
    expected: RollOutcome,
    duplicate_of: Option<u64>,
}

/// What the process knows besides the roll: each office's secciones and where
/// paper is allowed.
struct Process {
    cut: apoyo_domain::Date,
    territory: HashMap<u16, HashSet<u16>>,
    paper: HashSet<u16>,
}

/// The supports that reach the server (those with `precheck_fails` never do),
/// and how many lines were skipped.
fn received(roll: &RollConfig, capture: &CaptureConfig) -> (Vec<Support>, usize) {
    let mut out = Vec::new();
    write_capture_set(roll, capture, &mut out).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"));
    let mut supports = Vec::new();
    let mut skipped = 0;
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let expected = &value["expected"];
        if expected.get("precheck_fails").is_some() {
            skipped += 1;
            continue;
        }
        let code = expected["outcome"].as_str().unwrap_or_default();
        supports.push(Support {
            sequence: value["sequence"].as_u64().unwrap_or_default(),
            aspirant: value["aspirant"].as_str().unwrap_or_default().to_owned(),
            office: value["office_municipio"]
                .as_u64()
                .and_then(|o| u16::try_from(o).ok())
                .unwrap_or_default(),
            paper: value["paper"].as_bool().unwrap_or_else(|| panic!("{line}")),
            credential: serde_json::from_value(value["credential"].clone())
                .unwrap_or_else(|e| panic!("{e}: {line}")),
            expected: RollOutcome::from_code(code).unwrap_or_else(|| panic!("{code}")),
            duplicate_of: expected["duplicate_of"].as_u64(),
        });
    }
    (supports, skipped)
}

/// Verifies one support alone, as a worker would: key, lookups, match, outcome.
fn verify_one(roll: &Roll, process: &Process, support: &Support) -> (Option<String>, RollOutcome) {
    let key = CapturedKey::from_input(&support.credential, process.cut)
        .unwrap_or_else(|e| panic!("support {}: {e}", support.sequence));
    let mut rows: Vec<RollRecord> = key.lookups().iter().flat_map(|l| roll.fetch(l)).collect();
    let more: Vec<RollRecord> = citizen_lookups(&key, &rows)
        .iter()
        .flat_map(|l| roll.fetch(l))
        .collect();
    rows.extend(more);
    let matched = match_record(&key, &rows);
    let sections = &process.territory[&support.office];
    let outcome = preliminary_outcome(
        &matched,
        |state, section| state == DURANGO_ENTIDAD && sections.contains(&section),
        support.paper,
        |state, municipality| state == DURANGO_ENTIDAD && process.paper.contains(&municipality),
    );
    (matched.clave_elector().map(str::to_owned), outcome)
}

/// Verifies the supports in the order `order` gives, then resolves duplicates
/// over them in that same order; the result by sequence.
fn verify_all(
    roll: &Roll,
    process: &Process,
    supports: &[Support],
    order: &[usize],
) -> BTreeMap<u64, Resolved> {
    let items: Vec<SupportForDuplicates<&str, u16, String>> = order
        .iter()
        .map(|&i| {
            let support = &supports[i];
            let (citizen, preliminary) = verify_one(roll, process, support);
            SupportForDuplicates {
                sequence: support.sequence,
                aspirant: support.aspirant.as_str(),
                office: support.office,
                citizen,
                preliminary,
            }
        })
        .collect();
    items
        .iter()
        .zip(resolve_duplicates(&items))
        .map(|(s, r)| (s.sequence, r))
        .collect()
}

/// SplitMix64 Fisher–Yates: a reproducible processing order.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

fn check(roll_seed: u64, capture_seed: u64) {
    let roll_config = RollConfig::durango(VOTERS, roll_seed);
    let capture_config = CaptureConfig::durango_example(SUPPORTS, capture_seed);
    let territory = durango_territory();
    assert_eq!(territory, roll_config.territory);
    let process = Process {
        cut: roll_config.cut_date,
        territory: capture_config
            .aspirants
            .iter()
            .map(|a| {
                let municipio = territory
                    .iter()
                    .find(|m| m.ine_number == a.office_municipio)
                    .unwrap_or_else(|| panic!("office {}", a.office_municipio));
                (
                    a.office_municipio,
                    municipio.sections.iter().copied().collect(),
                )
            })
            .collect(),
        paper: capture_config.paper_municipios.iter().copied().collect(),
    };
    let roll = Roll::new(&roll_config);
    let (supports, skipped) = received(&roll_config, &capture_config);

    let in_order: Vec<usize> = (0..supports.len()).collect();
    let results = verify_all(&roll, &process, &supports, &in_order);
    let mut disagreements = Vec::new();
    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    for support in &supports {
        let got = results[&support.sequence];
        *by_outcome.entry(got.outcome.code()).or_default() += 1;
        if (got.outcome, got.duplicate_of) != (support.expected, support.duplicate_of) {
            disagreements.push(format!(
                "sequence {}: expected {} (duplicate of {:?}), got {} (duplicate of {:?})",
                support.sequence,
                support.expected.code(),
                support.duplicate_of,
                got.outcome.code(),
                got.duplicate_of
            ));
        }
    }
    eprintln!(
        "roll seed {roll_seed}, capture seed {capture_seed}: {} rows; {} supports checked, {skipped} stopped by the prechecks, {} disagreements; {by_outcome:?}",
        roll.rows.len(),
        supports.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements[..disagreements.len().min(20)].join("\n")
    );
    // The review desk's outcome is a reviewer's decision, never the roll check's.
    let from_the_roll = RollOutcome::all()
        .into_iter()
        .filter(|o| !matches!(o, RollOutcome::ReviewInconsistent));
    for outcome in from_the_roll {
        assert!(
            by_outcome.contains_key(&outcome.code()),
            "no {}",
            outcome.code()
        );
    }

    // Workers finish in any order: the same results.
    for round in 0..2 {
        let order = shuffled(supports.len(), roll_seed * 1000 + capture_seed + round);
        assert_ne!(order, in_order);
        assert!(
            verify_all(&roll, &process, &supports, &order) == results,
            "another processing order changed a result"
        );
    }
}

#[test]
fn ground_truth_roll_1_capture_101() {
    check(1, 101);
}

#[test]
fn ground_truth_roll_2_capture_202() {
    check(2, 202);
}

#[test]
fn ground_truth_roll_3_capture_9() {
    check(3, 9);
}

#[test]
fn ground_truth_roll_4_capture_404() {
    check(4, 404);
}

/// The capture set has one reason per support, so it cannot show precedence.
/// Here: every superseded credential of the roll, captured without a clave de
/// elector (the citizen is reached only through `citizen_lookups`), for an
/// office in municipio 5; and, for models A–C, the same card with an emisión the
/// citizen never had (a simulated "Tipo C" card built on a real clave).
#[test]
fn old_and_forged_credentials_follow_the_precedence() {
    use apoyo_domain::credential::ReportFields;
    use apoyo_domain::roll::RollStatus;

    let config = RollConfig::durango(VOTERS, 5);
    let roll = Roll::new(&config);
    let office: HashSet<u16> = durango_territory()
        .into_iter()
        .find(|m| m.ine_number == 5)
        .map(|m| m.sections.into_iter().collect())
        .unwrap_or_default();
    let verify = |fields: &ReportFields| {
        let key = CapturedKey::from_fields(fields).unwrap_or_else(|e| panic!("{e}"));
        let mut rows: Vec<RollRecord> = key.lookups().iter().flat_map(|l| roll.fetch(l)).collect();
        let more: Vec<RollRecord> = citizen_lookups(&key, &rows)
            .iter()
            .flat_map(|l| roll.fetch(l))
            .collect();
        rows.extend(more);
        let matched = match_record(&key, &rows);
        let outcome = preliminary_outcome(
            &matched,
            |state, section| state == DURANGO_ENTIDAD && office.contains(&section),
            false,
            |_, _| true,
        );
        (matched.clave_elector().map(str::to_owned), outcome)
    };
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for old in roll
        .rows
        .iter()
        .filter(|r| r.status == RollStatus::Reemplazada)
    {
        let current = roll.by_clave[&old.clave_elector]
            .iter()
            .map(|i| &roll.rows[*i])
            .find(|r| r.status != RollStatus::Reemplazada)
            .unwrap_or_else(|| panic!("{} has no current row", old.clave_elector));
        let expected = match current.status {
            RollStatus::Baja => RollOutcome::Removed(
                current
                    .removal_cause
                    .unwrap_or_else(|| panic!("baja without cause")),
            ),
            RollStatus::Padron => RollOutcome::RegisterOnly,
            _ if current.municipality != 5 => RollOutcome::OutOfTerritory,
            _ => RollOutcome::SupersededCredential,
        };
        let has_cic = old.cic.is_some();
        let fields = ReportFields {
            model: Some(old.model),
            cic: old.cic.clone(),
            ocr: old.ocr.clone(),
            citizen_id: old.citizen_id.clone(),
            issue_number: Some(format!("{:02}", old.issue_number)),
            // Models D–H without the clave: only the CIC leads to the citizen.
            clave_elector: (!has_cic).then(|| old.clave_elector.clone()),
            ..ReportFields::default()
        };
        let (citizen, outcome) = verify(&fields);
        assert_eq!(citizen.as_deref(), Some(current.clave_elector.as_str()));
        assert_eq!(outcome, expected, "{old:?}");
        *tally
            .entry(format!("old {}: {}", old.model, outcome.code()))
            .or_default() += 1;

        if !has_cic {
            let forged = ReportFields {
                issue_number: Some(format!("{:02}", current.issue_number + 1)),
                ..fields
            };
            let (citizen, outcome) = verify(&forged);
            assert_eq!(citizen.as_deref(), Some(current.clave_elector.as_str()));
            assert_eq!(outcome, expected, "{old:?}");
            *tally
                .entry(format!("forged {}: {}", old.model, outcome.code()))
                .or_default() += 1;
        }
    }
    eprintln!("superseded rows of roll seed 5: {tally:?}");
    for wanted in [
        "superseded_credential",
        "out_of_territory",
        "register_only",
        "removed:",
    ] {
        assert!(
            tally.keys().any(|k| k.contains(wanted)),
            "no old credential gave {wanted}: {tally:?}"
        );
    }
}
