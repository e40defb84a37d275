//! Clave de elector and the name rules behind its six letters.
//!
//! Input: `CLAVE|PATERNO|MATERNO|NOMBRES` (any part may be missing). The clave goes
//! to `clave::check_clave`; each name part goes to `names::normalize`, and the
//! parts (normalised and raw) to `names::expected_clave_letters`.
#![no_main]

use apoyo_domain::{Checks, clave, names};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('|');
    let raw_clave = parts.next().unwrap_or("");
    let raw_names = [
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    ];

    let mut checks = Checks::new();
    let info = clave::check_clave(raw_clave, &mut checks);
    if let Some(info) = &info {
        assert_eq!(info.clave.chars().count(), 18);
        assert_eq!(info.letters.chars().count(), 6);
    }

    let normalized = raw_names.map(|n| names::normalize(n).unwrap_or_default());
    for name in &normalized {
        // Normalised names are idempotent and have no leading/trailing/double spaces.
        assert_eq!(names::normalize(name).as_deref(), Ok(name.as_str()));
        assert!(!name.starts_with(' ') && !name.ends_with(' ') && !name.contains("  "));
    }

    for [paternal, maternal, given] in [
        [
            normalized[0].as_str(),
            normalized[1].as_str(),
            normalized[2].as_str(),
        ],
        raw_names,
    ] {
        let expected = names::expected_clave_letters(paternal, maternal, given);
        assert_eq!(expected.primary.chars().count(), 6, "{expected:?}");
        assert!(expected.accepts(&expected.primary));
        if let Some(info) = &info {
            clave::check_clave_letters(&info.letters, paternal, maternal, given, &mut checks);
        }
    }
});
