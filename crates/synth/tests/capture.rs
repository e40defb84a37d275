//! The capture set against its roll: a small reference verifier, written from
//! docs/capture-set-format.md, must reach every expected outcome, and every
//! precheck expectation must hold under the domain's `check_credential`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use apoyo_domain::outcome::{RemovalCause, RollOutcome};
use apoyo_domain::roll::{RollRecord, RollStatus, parse_row};
use apoyo_domain::{CredentialInput, CredentialModel, Severity, check_credential};
use apoyo_synth::{Aspirant, CaptureConfig, RollConfig, SynthError, write_capture_set, write_roll};
use serde_json::Value;

const FIELDS: [&str; 15] = [
    "model",
    "mrz",
    "cic",
    "ocr",
    "citizen_id",
    "section",
    "issue_number",
    "clave_elector",
    "curp",
    "birth_date",
    "sex",
    "expiry_date",
    "paternal_surname",
    "maternal_surname",
    "given_names",
];

fn roll_config() -> RollConfig {
    RollConfig::durango(20_000, 3)
}

fn capture_config() -> CaptureConfig {
    CaptureConfig::durango_example(1500, 9)
}

fn capture(roll: &RollConfig, capture: &CaptureConfig) -> Result<Vec<u8>, SynthError> {
    let mut out = Vec::new();
    write_capture_set(roll, capture, &mut out)?;
    Ok(out)
}

struct Fixture {
    rows: Vec<RollRecord>,
    text: String,
    lines: Vec<Value>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut roll = Vec::new();
        write_roll(&roll_config(), &mut roll).unwrap_or_else(|e| panic!("{e}"));
        let roll = String::from_utf8(roll).unwrap_or_default();
        let rows = roll
            .lines()
            .skip(1)
            .map(|l| {
                parse_row(&l.split(',').collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e:?}"))
            })
            .collect();
        let text = String::from_utf8(
            capture(&roll_config(), &capture_config()).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_default();
        let lines = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        Fixture { rows, text, lines }
    })
}

fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// Looks a credential up the way the roll check does (DOMAIN §4).
fn lookup<'r>(rows: &'r [RollRecord], credential: &CredentialInput) -> Option<&'r RollRecord> {
    let model = credential
        .model
        .as_deref()
        .and_then(CredentialModel::parse)?;
    rows.iter().find(|r| match model {
        CredentialModel::A | CredentialModel::B | CredentialModel::C => {
            Some(r.clave_elector.as_str()) == credential.clave_elector.as_deref()
                && credential.issue_number.as_deref() == Some(&format!("{:02}", r.issue_number))
                && r.ocr == credential.ocr
        }
        CredentialModel::D => r.cic == credential.cic && r.ocr == credential.ocr,
        _ => r.cic == credential.cic && r.citizen_id == credential.citizen_id,
    })
}

#[test]
fn a_reference_verifier_reaches_every_expected_outcome() {
    let fixture = fixture();
    let config = capture_config();
    let paper_allowed: HashSet<u16> = config.paper_municipios.iter().copied().collect();
    // (clave, office) → (aspirant, sequence) of the support that counted.
    let mut counted: HashMap<(String, u64), (String, u64)> = HashMap::new();
    let by_sequence: HashMap<u64, &Value> = fixture
        .lines
        .iter()
        .map(|l| (l["sequence"].as_u64().unwrap_or(0), l))
        .collect();
    for line in &fixture.lines {
        let expected = &line["expected"];
        if expected.get("precheck_fails").is_some() {
            continue; // Stopped on the phone: never received.
        }
        let credential: CredentialInput =
            serde_json::from_value(line["credential"].clone()).unwrap_or_else(|e| panic!("{e}"));
        let aspirant = text(&line["aspirant"]).unwrap_or_default().to_owned();
        let office = line["office_municipio"].as_u64().unwrap_or(0);
        let paper = line["paper"].as_bool().unwrap_or(false);
        let sequence = line["sequence"].as_u64().unwrap_or(0);
        let outcome = match lookup(&fixture.rows, &credential) {
            None => RollOutcome::NotFound,
            Some(row) if row.status == RollStatus::Reemplazada => RollOutcome::SupersededCredential,
            Some(row) if row.status == RollStatus::Padron => RollOutcome::RegisterOnly,
            Some(row) if row.status == RollStatus::Baja => {
                RollOutcome::Removed(row.removal_cause.unwrap_or(RemovalCause::Death))
            }
            Some(row) if u64::from(row.municipality) != office => RollOutcome::OutOfTerritory,
            Some(_) if paper && !paper_allowed.contains(&(office as u16)) => {
                RollOutcome::PaperNotAllowed
            }
            Some(row) => match counted.get(&(row.clave_elector.clone(), office)) {
                Some((first, first_sequence)) => {
                    assert_eq!(
                        expected["duplicate_of"].as_u64(),
                        Some(*first_sequence),
                        "{line}"
                    );
                    if *first == aspirant {
                        RollOutcome::DuplicateSameAspirant
                    } else {
                        RollOutcome::DuplicateOtherAspirant
                    }
                }
                None => {
                    counted.insert(
                        (row.clave_elector.clone(), office),
                        (aspirant.clone(), sequence),
                    );
                    RollOutcome::Valid
                }
            },
        };
        assert_eq!(
            text(&expected["outcome"]),
            Some(outcome.code().as_str()),
            "{line}"
        );
        if let Some(first) = expected["duplicate_of"].as_u64() {
            assert!(first < sequence);
            let original = by_sequence[&first];
            assert_eq!(original["expected"]["outcome"], "valid");
            assert_eq!(original["office_municipio"], line["office_municipio"]);
            assert_eq!(
                original["credential"]["clave_elector"],
                line["credential"]["clave_elector"]
            );
        }
    }
}

#[test]
fn every_outcome_kind_and_typo_appears() {
    let fixture = fixture();
    let outcomes: BTreeSet<&str> = fixture
        .lines
        .iter()
        .filter_map(|l| l["expected"]["outcome"].as_str())
        .collect();
    // The review desk's outcome is a reviewer's decision, never the roll check's.
    let from_the_roll = RollOutcome::all()
        .into_iter()
        .filter(|o| !matches!(o, RollOutcome::ReviewInconsistent));
    for outcome in from_the_roll {
        assert!(
            outcomes.contains(outcome.code().as_str()),
            "no {}",
            outcome.code()
        );
    }
    let typos: BTreeSet<&str> = fixture
        .lines
        .iter()
        .filter_map(|l| l["expected"]["typo"].as_str())
        .collect();
    assert_eq!(typos.len(), 10, "{typos:?}");
    let valid = fixture
        .lines
        .iter()
        .filter(|l| l["expected"]["outcome"] == "valid")
        .count();
    assert!((950..=1150).contains(&valid), "{valid}");
    assert!(
        fixture
            .lines
            .iter()
            .any(|l| l["paper"] == true && l["expected"]["outcome"] == "valid")
    );
}

#[test]
fn the_format_document_names_every_kind() {
    let doc = include_str!("../../../docs/capture-set-format.md");
    let fixture = fixture();
    for line in &fixture.lines {
        for key in ["typo", "outcome"] {
            if let Some(code) = line["expected"][key].as_str() {
                let code = code.split(':').next().unwrap_or(code);
                assert!(
                    doc.contains(&format!("`{code}")),
                    "docs/capture-set-format.md lacks {code}"
                );
            }
        }
    }
    for field in FIELDS {
        assert!(doc.contains(&format!("`{field}`")), "{field}");
    }
}

#[test]
fn precheck_expectations_hold_and_outcome_credentials_pass() {
    let fixture = fixture();
    let cut = roll_config().cut_date;
    for line in &fixture.lines {
        let credential = line["credential"]
            .as_object()
            .unwrap_or_else(|| panic!("object"));
        let keys: Vec<&str> = credential.keys().map(String::as_str).collect();
        let mut expected_keys = FIELDS.to_vec();
        expected_keys.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected_keys);
        let input: CredentialInput =
            serde_json::from_value(line["credential"].clone()).unwrap_or_else(|e| panic!("{e}"));
        let report = check_credential(&input, cut);
        let mut failing: Vec<&str> = Vec::new();
        for check in report
            .checks
            .iter()
            .filter(|c| !c.ok && c.severity == Severity::Error)
        {
            if !failing.contains(&check.code.as_str()) {
                failing.push(check.code.as_str());
            }
        }
        match line["expected"]["precheck_fails"].as_array() {
            Some(listed) => {
                let listed: Vec<&str> = listed.iter().filter_map(Value::as_str).collect();
                assert!(!listed.is_empty());
                assert_eq!(listed, failing, "{line}");
            }
            None => assert!(failing.is_empty(), "{line}: {failing:?}"),
        }
    }
}

#[test]
fn lines_are_in_reception_order_with_unique_ids() {
    let fixture = fixture();
    let mut ids = HashSet::new();
    for (i, line) in fixture.lines.iter().enumerate() {
        assert_eq!(line["sequence"].as_u64(), Some(i as u64 + 1));
        assert!(ids.insert(line["client_id"].as_str().unwrap_or_default().to_owned()));
        let aspirant = line["aspirant"].as_str().unwrap_or_default();
        assert!(
            line["collector"]
                .as_str()
                .unwrap_or_default()
                .starts_with(aspirant)
        );
        let at = line["captured_at"].as_str().unwrap_or_default();
        assert!(
            at.starts_with("2024-") && at.ends_with("-06:00") && at.len() == 25,
            "{at}"
        );
    }
    assert_eq!(fixture.lines.len(), 1500);
    assert!(fixture.text.ends_with('\n'));
}

#[test]
fn same_configuration_same_bytes() {
    let fixture = fixture();
    let again = capture(&roll_config(), &capture_config()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fixture.text.as_bytes(), again.as_slice());
    let other = capture(
        &roll_config(),
        &CaptureConfig {
            seed: 10,
            ..capture_config()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(fixture.text.as_bytes(), other.as_slice());
}

#[test]
fn impossible_requests_are_refused() {
    let roll = roll_config();
    let mut lonely = capture_config();
    lonely.aspirants = vec![Aspirant::new("A", 5), Aspirant::new("B", 7)];
    assert!(matches!(
        capture(&roll, &lonely),
        Err(SynthError::Config(_))
    ));
    let mut nowhere = capture_config();
    nowhere.aspirants.push(Aspirant::new("X", 40));
    assert!(matches!(
        capture(&roll, &nowhere),
        Err(SynthError::Config(_))
    ));
    let tiny = RollConfig::durango(300, 1);
    assert!(matches!(
        capture(&tiny, &capture_config()),
        Err(SynthError::NotEnoughCitizens(_))
    ));
}
