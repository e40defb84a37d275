//! CURP: `curp::check_curp` and `curp::check_digit` on arbitrary UTF-8.
#![no_main]

use apoyo_domain::{Checks, curp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut checks = Checks::new();
    let info = curp::check_curp(text, &mut checks);
    assert!(!checks.as_slice().is_empty());
    if info.is_some() {
        // `Some` means structure, date, sex and state held (the check digit may not).
        assert!(
            checks
                .as_slice()
                .iter()
                .all(|c| c.ok || c.code == apoyo_domain::CheckCode::CurpCheckDigit)
        );
    }

    let digit = curp::check_digit(text);
    if text.chars().count() != 17 {
        assert_eq!(
            digit, None,
            "check_digit must refuse anything but 17 characters"
        );
    }
    if let Some(d) = digit {
        assert!(d.is_ascii_digit());
    }
});
