//! The public credential vectors (testdata/credentials.json) through the domain rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use apoyo_domain::clave::{check_clave, check_clave_letters};
use apoyo_domain::curp::check_curp;
use apoyo_domain::names::normalize;
use apoyo_domain::{CheckCode, Checks, Date, check_mrz_text};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../testdata/credentials.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("testdata/credentials.json is valid JSON")
}

fn reference(v: &Value) -> Date {
    Date::parse_iso(v["reference_date"].as_str().unwrap()).unwrap()
}

fn code(text: &str) -> CheckCode {
    *CheckCode::ALL
        .iter()
        .find(|c| c.as_str() == text)
        .unwrap_or_else(|| panic!("unknown check code {text} in vectors"))
}

#[test]
fn mrz_vectors() {
    let v = vectors();
    let reference = reference(&v);
    let cases = v["mrz"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let lines: Vec<&str> = case["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let report = check_mrz_text(&lines.join("\n"), reference);
        assert_eq!(
            report.valid,
            case["valid"].as_bool().unwrap(),
            "{name}: {:#?}",
            report.checks
        );
        for failing in case["must_fail"].as_array().unwrap() {
            let code = code(failing.as_str().unwrap());
            assert!(
                report.checks.iter().any(|c| c.code == code && !c.ok),
                "{name}: {code:?} must fail"
            );
        }
        for passing in case
            .get("must_pass")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let code = code(passing.as_str().unwrap());
            assert!(
                report.checks.iter().any(|c| c.code == code && c.ok),
                "{name}: {code:?} must pass"
            );
        }
        if let Some(fields) = case.get("fields").and_then(Value::as_object) {
            let actual = serde_json::to_value(&report.fields).unwrap();
            for (key, expected) in fields {
                assert_eq!(&actual[key], expected, "{name}: field {key}");
            }
        }
    }
}

#[test]
fn clave_vectors() {
    let v = vectors();
    for case in v["clave"].as_array().unwrap() {
        let value = case["value"].as_str().unwrap();
        let mut checks = Checks::new();
        let info = check_clave(value, &mut checks);
        assert_eq!(
            checks.all_errors_pass(),
            case["valid"].as_bool().unwrap(),
            "{value}: {checks:#?}"
        );
        if let Some(code_text) = case.get("must_fail").and_then(Value::as_str) {
            assert!(checks.failed(code(code_text)), "{value}");
        }
        if let Some(names) = case.get("names").and_then(Value::as_array) {
            let n: Vec<String> = names
                .iter()
                .map(|n| normalize(n.as_str().unwrap()).unwrap())
                .collect();
            let info = info.expect("valid clave");
            let mut letter_checks = Checks::new();
            check_clave_letters(&info.letters, &n[0], &n[1], &n[2], &mut letter_checks);
            assert!(
                letter_checks.passed(CheckCode::ClaveNameLetters),
                "{value}: {letter_checks:#?}"
            );
        }
    }
}

#[test]
fn curp_vectors() {
    let v = vectors();
    for case in v["curp"].as_array().unwrap() {
        let value = case["value"].as_str().unwrap();
        let mut checks = Checks::new();
        check_curp(value, &mut checks);
        assert_eq!(
            checks.all_errors_pass(),
            case["valid"].as_bool().unwrap(),
            "{value}: {checks:#?}"
        );
        if let Some(code_text) = case.get("must_fail").and_then(Value::as_str) {
            assert!(checks.failed(code(code_text)), "{value}");
        }
    }
}
