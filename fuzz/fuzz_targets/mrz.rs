//! MRZ text: `check_mrz_text` (which runs `mrz::check_mrz` inside `check_credential`)
//! and `mrz::normalize_lines` on arbitrary UTF-8.
#![no_main]

use apoyo_domain::{Date, check_mrz_text, mrz};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let reference = Date::new(2026, 11, 28).expect("valid reference date");

    let lines = mrz::normalize_lines(text);
    assert!(
        lines.iter().all(|l| !l.is_empty()),
        "normalize_lines kept a blank line"
    );

    let report = check_mrz_text(text, reference);
    assert!(
        !report.checks.is_empty(),
        "an MRZ always gets at least one check"
    );
    assert_eq!(report.valid, !report.checks.iter().any(|c| c.is_blocking()));
    // The MRZ lines are reported only when they were readable: 3 × 30 of A–Z, 0–9, <.
    if let Some(lines) = &report.fields.mrz {
        assert_eq!(lines.len(), 3);
        for line in lines {
            assert_eq!(line.len(), mrz::LINE_LENGTH);
            assert!(
                line.chars().all(|c| mrz::char_value(c).is_some()),
                "{line:?}"
            );
        }
    }
});
