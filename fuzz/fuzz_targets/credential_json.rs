//! A whole credential as JSON: `serde_json::from_slice::<CredentialInput>`, then
//! `check_credential` and the report serialised back with serde_json.
#![no_main]

use apoyo_domain::{CredentialInput, Date, check_credential};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<CredentialInput>(data) else {
        return;
    };
    let reference = Date::new(2026, 11, 28).expect("valid reference date");
    let report = check_credential(&input, reference);
    assert_eq!(report.valid, !report.checks.iter().any(|c| c.is_blocking()));
    let json = serde_json::to_vec(&report).expect("a report always serialises");
    let value: serde_json::Value =
        serde_json::from_slice(&json).expect("serialised report is valid JSON");
    assert_eq!(value["reference_date"], "2026-11-28");
});
