//! Differential tests: our CURP and MRZ rules against independent implementations,
//! over deterministic generated inputs (valid ones and targeted mutations).
//!
//! The oracles are third-party Python packages behind `tests/oracles/credential_oracle.py`
//! (repository root): python-stdnum (`stdnum.mx.curp`) for CURP and the `mrz` package
//! (0.6.x, `mrz.checker.td1.TD1CodeChecker`) for the TD1 MRZ. Set `APOYO_ORACLE_PYTHON` to a
//! Python that has both to run the comparison:
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install python-stdnum mrz
//! APOYO_ORACLE_PYTHON=$PWD/.venv/bin/python cargo test -p apoyo-domain --test differential -- --nocapture
//! ```
//!
//! Without the variable (or with it empty) the comparison is skipped and only the generators
//! are checked against our own rules. With it set, an oracle that cannot start, exits with an
//! error or answers out of shape fails the test.
//!
//! # What is compared
//!
//! * CURP: validity (`Checks::all_errors_pass` after `check_curp`) against stdnum's
//!   `is_valid`/`validate`, and the kind of failure against the exception `validate` raises
//!   (length, format, component — date, sex or state —, checksum).
//! * MRZ: each of the four ICAO check digits (CIC/document number, birth date, expiry,
//!   composite) against the per-field report of `TD1CodeChecker`; `MrzFields::check_digits_hold`
//!   against the four together; and whether the birth and expiry dates are real calendar dates
//!   against `mrz.base.string_checkers.date`, the `%y%m%d` parse the package itself uses.
//!
//! # Differences by design, and how the generators stay out of them
//!
//! CURP, our rules vs stdnum:
//! 1. `Ñ`. We accept `Ñ` in the letter positions and the homoclave and value it 24 in the check
//!    digit, as RENAPO's alphabet `0-9A-NÑO-Z` does. stdnum's pattern is `[A-Z]` (its checksum
//!    alphabet has `&` at 24, but the pattern never lets `&` through), so it rejects every CURP
//!    with `Ñ`. The generators use `A`–`Z` only.
//! 2. Inappropriate words. stdnum rejects a CURP whose first four letters are one of 81 words
//!    (`STDNUM_INAPPROPRIATE_WORDS` below; RENAPO's rules replace the second letter of such a
//!    word with `X`, so no issued CURP should start with one). We do not check that list: such
//!    a CURP is structurally valid for us. Generated CURPs never start with one of those words,
//!    before or after mutation.
//! 3. Separators. stdnum removes spaces, `-` and `_` anywhere (and first maps Unicode spaces
//!    and dashes to ASCII); we only trim surrounding whitespace, so `PELM-850101…` is valid for
//!    stdnum and too long for us. Generated CURPs have no inner separators; surrounding spaces or
//!    tabs and lowercase, which both accept, are generated.
//! 4. A non-letter in position 11 (the sex). Both reject it; stdnum's pattern reports it as a
//!    format error while we report it under `curp.sex`. The expected failure kind accounts for it.
//!    Any letter other than `H`/`M` there (e.g. `X`) is rejected by both, as a component error.
//!
//! MRZ, our rules vs the `mrz` package:
//! 5. Sex. INE writes `H`/`M` where ICAO writes `M`/`F`; the oracle maps `H`→`M` and `M`→`F`
//!    before building the checker. No check digit covers that position, and sex is not compared.
//! 6. Not compared, because the two sides define them differently: the document code (we require
//!    `IDMEX`, the package almost any TD1 code starting `I`, `A` or `C`), nationality (`MEX`
//!    vs any ICAO code), the optional fields (INE's `<NN<<DDDDD<` layout vs any printable
//!    text), the names line (INE cuts at 30 without a marker; the package has its own identifier
//!    rules), the package's date plausibility (expiry after birth with Python's `%y` pivot at 69;
//!    ours picks the century from the holder's age and puts every expiry in the 2000s), and its
//!    overall verdict, which also depends on today's date. Only whether each `YYMMDD` is a real
//!    date is compared: for six digits both reduce to the same calendar, since the two centuries
//!    either side uses differ in leap years only for `00`, where both read 2000.
//! 7. Input shape. The package takes exactly three lines of 30 characters from `0-9A-Z<` and
//!    raises on anything else, whereas `check_mrz` normalises pasted text (lowercase, `«`, one
//!    90-character line). Generated MRZs are always 3 × 30 characters of `0-9A-Z<`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use apoyo_domain::Sex;
use apoyo_domain::catalog::{CURP_BORN_ABROAD, STATES};
use apoyo_domain::check::{CheckCode, Checks};
use apoyo_domain::curp::{self, check_curp};
use apoyo_domain::date::Date;
use apoyo_domain::mrz::{self, MrzData, check_mrz, format_mrz};
use serde_json::{Map, Value, json};

const SEED: u64 = 0x0A90_40C0_DE20_2601;
const CURP_CASES: usize = 5_000;
const MRZ_CASES: usize = 5_000;
const ORACLE_VARIABLE: &str = "APOYO_ORACLE_PYTHON";
const ORACLE_SCRIPT: &str = "tests/oracles/credential_oracle.py";
const SHOWN_DISAGREEMENTS: usize = 20;

/// stdnum's `_name_blacklist` (python-stdnum 2.x, `stdnum/mx/curp.py`): first four letters it
/// rejects. See difference 2 above.
const STDNUM_INAPPROPRIATE_WORDS: [&str; 81] = [
    "BACA", "BAKA", "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAGO", "CAKA", "CAKO", "COGE", "COGI",
    "COJA", "COJE", "COJI", "COJO", "COLA", "CULO", "FALO", "FETO", "GETA", "GUEI", "GUEY", "JETA",
    "JOTO", "KACA", "KACO", "KAGA", "KAGO", "KAKA", "KAKO", "KOGE", "KOGI", "KOJA", "KOJE", "KOJI",
    "KOJO", "KOLA", "KULO", "LILO", "LOCA", "LOCO", "LOKA", "LOKO", "MAME", "MAMO", "MEAR", "MEAS",
    "MEON", "MIAR", "MION", "MOCO", "MOKO", "MULA", "MULO", "NACA", "NACO", "PEDA", "PEDO", "PENE",
    "PIPI", "PITO", "POPO", "PUTA", "PUTO", "QULO", "RATA", "ROBA", "ROBE", "ROBO", "RUIN", "SENO",
    "TETA", "VACA", "VAGA", "VAGO", "VAKA", "VUEI", "VUEY", "WUEI", "WUEY",
];

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const LETTERS_AND_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MRZ_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";
/// Letters read for digits (and digits for letters) by people and OCR.
const CONFUSIONS: [(u8, u8); 9] = [
    (b'0', b'O'),
    (b'0', b'D'),
    (b'0', b'Q'),
    (b'1', b'I'),
    (b'1', b'L'),
    (b'2', b'Z'),
    (b'5', b'S'),
    (b'6', b'G'),
    (b'8', b'B'),
];

/// The date our MRZ checks use to choose a birth century (validity does not depend on it).
fn reference() -> Date {
    Date::new(2026, 1, 15).unwrap_or_else(|| unreachable!())
}

/// SplitMix64: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for test generation (the modulo bias is below 2⁻⁵⁰).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn between(&mut self, low: i64, high_inclusive: i64) -> i64 {
        low + (self.next_u64() % (high_inclusive - low + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn byte_from(&mut self, alphabet: &[u8]) -> char {
        char::from(*self.pick(alphabet))
    }

    /// A byte of `alphabet` other than `current`.
    fn other_byte_from(&mut self, alphabet: &[u8], current: char) -> char {
        loop {
            let c = self.byte_from(alphabet);
            if c != current {
                return c;
            }
        }
    }

    fn text(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length).map(|_| self.byte_from(alphabet)).collect()
    }

    fn date(&mut self, first: (i32, u8, u8), last: (i32, u8, u8)) -> Date {
        let days = |(y, m, d): (i32, u8, u8)| {
            Date::new(y, m, d)
                .unwrap_or_else(|| panic!("bad generator bound {y}-{m}-{d}"))
                .days_since_epoch()
        };
        Date::from_days_since_epoch(self.between(days(first), days(last)))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Input {
    Curp(String),
    Mrz([String; 3]),
}

/// One generated input and how it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Case {
    label: &'static str,
    input: Input,
}

impl Input {
    fn kind(&self) -> &'static str {
        match self {
            Input::Curp(_) => "curp",
            Input::Mrz(_) => "mrz",
        }
    }

    fn request(&self, id: usize) -> Value {
        match self {
            Input::Curp(value) => json!({"id": id, "kind": "curp", "value": value}),
            Input::Mrz(lines) => json!({"id": id, "kind": "mrz", "lines": lines}),
        }
    }

    fn display(&self) -> String {
        match self {
            Input::Curp(value) => format!("{value:?}"),
            Input::Mrz(lines) => lines.join(" / "),
        }
    }
}

fn set_char(text: &mut String, index: usize, c: char) {
    let mut chars: Vec<char> = text.chars().collect();
    chars[index] = c;
    *text = chars.into_iter().collect();
}

fn char_at(text: &str, index: usize) -> char {
    text.chars()
        .nth(index)
        .unwrap_or_else(|| panic!("{text:?} has no position {index}"))
}

// ---------------------------------------------------------------------------------------
// CURP
// ---------------------------------------------------------------------------------------

fn curp_state_codes() -> Vec<&'static str> {
    STATES
        .iter()
        .map(|s| s.curp_code)
        .chain([CURP_BORN_ABROAD])
        .collect()
}

/// Inside the domain both sides define (see differences 1–3): no inappropriate word first.
fn in_common_curp_domain(value: &str) -> bool {
    let normalized = value.trim().to_uppercase();
    let first4: String = normalized.chars().take(4).collect();
    !STDNUM_INAPPROPRIATE_WORDS.contains(&first4.as_str())
}

/// Replaces the check digit with the one the first 17 characters give, when they give one.
fn fix_curp_check_digit(value: &mut String) {
    let first17: String = value.chars().take(17).collect();
    if let Some(digit) = curp::check_digit(&first17) {
        set_char(value, 17, digit);
    }
}

fn valid_curp(rng: &mut Rng) -> String {
    let birth = rng.date((1930, 1, 1), (2025, 12, 31));
    let mut value = String::with_capacity(18);
    value.push(rng.byte_from(LETTERS));
    value.push(rng.byte_from(b"AEIOUX"));
    value.push_str(&rng.text(LETTERS, 2));
    value.push_str(&birth.to_yymmdd());
    value.push(rng.byte_from(b"HM"));
    let states = curp_state_codes();
    let state: &&str = rng.pick(&states);
    value.push_str(state);
    value.push_str(&rng.text(b"BCDFGHJKLMNPQRSTVWXYZ", 3));
    // The homoclave's first character tells the century: a digit before 2000, a letter after.
    value.push(if birth.year() < 2000 {
        rng.byte_from(DIGITS)
    } else {
        rng.byte_from(LETTERS)
    });
    value.push('0');
    fix_curp_check_digit(&mut value);
    value
}

/// A month/day pair that exists in no year (or, for 29 February, only in leap years).
fn bad_month_day(rng: &mut Rng) -> (u8, u8) {
    match rng.below(8) {
        0 => (0, rng.between(1, 28) as u8),
        1 => (rng.between(13, 19) as u8, rng.between(1, 28) as u8),
        2 => (rng.between(1, 12) as u8, 0),
        3 => (rng.between(1, 12) as u8, rng.between(32, 39) as u8),
        4 => (2, rng.between(30, 31) as u8),
        5 => (*rng.pick(&[4u8, 6, 9, 11]), 31),
        6 => (2, 29),
        _ => (rng.between(20, 99) as u8, rng.between(40, 99) as u8),
    }
}

fn mutate_curp(rng: &mut Rng, valid: &str) -> (&'static str, String) {
    let mut value = valid.to_owned();
    let label = match rng.below(13) {
        0 => {
            let i = rng.below(18);
            let c = rng.other_byte_from(LETTERS_AND_DIGITS, char_at(&value, i));
            set_char(&mut value, i, c);
            "substitution"
        }
        1 => {
            let i = rng.below(17);
            let c = rng.other_byte_from(LETTERS_AND_DIGITS, char_at(&value, i));
            set_char(&mut value, i, c);
            fix_curp_check_digit(&mut value);
            "substitution, check digit fixed"
        }
        2 => {
            let i = rng.below(17);
            let mut chars: Vec<char> = value.chars().collect();
            chars.swap(i, i + 1);
            value = chars.into_iter().collect();
            "transposition"
        }
        3 => {
            let c = rng.other_byte_from(DIGITS, char_at(&value, 17));
            set_char(&mut value, 17, c);
            "wrong check digit"
        }
        4 => {
            let (month, day) = bad_month_day(rng);
            let yy = rng.below(100);
            value.replace_range(4..10, &format!("{yy:02}{month:02}{day:02}"));
            fix_curp_check_digit(&mut value);
            "bad date, check digit fixed"
        }
        5 => {
            // 29 February in either century: real only in leap years (1900 is not one, 2000 is).
            let yy = rng.below(25) * 4 + if rng.below(3) == 0 { rng.below(4) } else { 0 };
            value.replace_range(4..10, &format!("{:02}0229", yy % 100));
            let c = if rng.below(2) == 0 {
                rng.byte_from(DIGITS)
            } else {
                rng.byte_from(LETTERS)
            };
            set_char(&mut value, 16, c);
            fix_curp_check_digit(&mut value);
            "29 February, check digit fixed"
        }
        6 => {
            let states = curp_state_codes();
            let code = loop {
                let code = rng.text(LETTERS, 2);
                if !states.contains(&code.as_str()) {
                    break code;
                }
            };
            value.replace_range(11..13, &code);
            fix_curp_check_digit(&mut value);
            "bad state, check digit fixed"
        }
        7 => {
            let c = if rng.below(3) == 0 {
                'X'
            } else {
                rng.other_byte_from(LETTERS_AND_DIGITS, 'H')
            };
            let c = if c == 'M' { 'F' } else { c };
            set_char(&mut value, 10, c);
            fix_curp_check_digit(&mut value);
            "bad sex, check digit fixed"
        }
        8 => {
            // Flips the century: the date must then be real in the other century.
            let c = if char_at(&value, 16).is_ascii_digit() {
                rng.byte_from(LETTERS)
            } else {
                rng.byte_from(DIGITS)
            };
            set_char(&mut value, 16, c);
            fix_curp_check_digit(&mut value);
            "century flipped, check digit fixed"
        }
        9 => {
            let positions: Vec<(usize, char)> = value
                .chars()
                .enumerate()
                .take(17)
                .filter_map(|(i, c)| {
                    CONFUSIONS.iter().find_map(|(d, l)| {
                        if c == char::from(*d) {
                            Some((i, char::from(*l)))
                        } else if c == char::from(*l) {
                            Some((i, char::from(*d)))
                        } else {
                            None
                        }
                    })
                })
                .collect();
            if let Some(&(i, c)) = (!positions.is_empty()).then(|| rng.pick(&positions)) {
                set_char(&mut value, i, c);
            }
            if rng.below(2) == 0 {
                fix_curp_check_digit(&mut value);
            }
            "letter/digit confusion"
        }
        10 => {
            let i = rng.below(18);
            let mut chars: Vec<char> = value.chars().collect();
            if rng.below(2) == 0 {
                chars.remove(i);
            } else {
                chars.insert(i, rng.byte_from(LETTERS_AND_DIGITS));
            }
            value = chars.into_iter().collect();
            "character missing or extra"
        }
        11 => {
            if rng.below(2) == 0 {
                value = value.to_lowercase();
            }
            let pad = |rng: &mut Rng| *rng.pick(&["", " ", "  ", "\t", " \t "]);
            value = format!("{}{value}{}", pad(rng), pad(rng));
            "lowercase or surrounding whitespace"
        }
        _ => {
            // Two changes: single-error detection says nothing about these.
            for _ in 0..2 {
                let i = rng.below(18);
                let c = rng.other_byte_from(LETTERS_AND_DIGITS, char_at(&value, i));
                set_char(&mut value, i, c);
            }
            "two substitutions"
        }
    };
    (label, value)
}

fn curp_cases(rng: &mut Rng, count: usize) -> Vec<Case> {
    let mut cases = Vec::with_capacity(count);
    while cases.len() < count {
        let valid = valid_curp(rng);
        let (label, value) = if rng.below(4) == 0 {
            ("valid", valid)
        } else {
            mutate_curp(rng, &valid)
        };
        if in_common_curp_domain(&value) {
            cases.push(Case {
                label,
                input: Input::Curp(value),
            });
        }
    }
    cases
}

/// Our verdict in the oracle's terms: validity, and the exception stdnum's `validate` would
/// raise for the first failure (stdnum checks length, pattern, words, date, sex, state, digit).
fn our_curp_verdict(value: &str) -> BTreeMap<&'static str, Value> {
    let mut checks = Checks::new();
    let _ = check_curp(value, &mut checks);
    let normalized = value.trim().to_uppercase();
    let reason = if checks.failed(CheckCode::CurpFormat) {
        Some(if normalized.chars().count() == 18 {
            "InvalidFormat"
        } else {
            "InvalidLength"
        })
    } else if !char_at(&normalized, 10).is_ascii_uppercase() {
        // Difference 4: a non-letter in the sex position breaks stdnum's pattern.
        Some("InvalidFormat")
    } else if [
        CheckCode::CurpBirthDate,
        CheckCode::CurpSex,
        CheckCode::CurpState,
    ]
    .iter()
    .any(|code| checks.failed(*code))
    {
        Some("InvalidComponent")
    } else if checks.failed(CheckCode::CurpCheckDigit) {
        Some("InvalidChecksum")
    } else {
        None
    };
    BTreeMap::from([
        ("valid", json!(checks.all_errors_pass())),
        ("reason", json!(reason)),
    ])
}

// ---------------------------------------------------------------------------------------
// MRZ
// ---------------------------------------------------------------------------------------

const SURNAMES: [&str; 14] = [
    "PEREZ",
    "LOPEZ",
    "GARCIA",
    "HERNANDEZ",
    "MARTINEZ",
    "GONZALEZ",
    "RODRIGUEZ",
    "SANCHEZ",
    "RAMIREZ",
    "NUNEZ",
    "DE<LA<CRUZ",
    "DEL<RIO",
    "VELAZQUEZ",
    "XX",
];
const GIVEN_NAMES: [&str; 12] = [
    "MARIA",
    "GUADALUPE",
    "JUAN",
    "JOSE",
    "LUIS",
    "ANA",
    "MARGARITA",
    "FRANCISCO",
    "ROSA",
    "ALEJANDRO",
    "MA",
    "IÑIGO",
];

/// Where the four check digits sit: (line, column).
const MRZ_CHECK_DIGIT_POSITIONS: [(usize, usize); 4] = [(0, 14), (1, 6), (1, 14), (1, 29)];

const MRZ_COMPARED: [(&str, CheckCode); 6] = [
    ("cic_check_digit", CheckCode::MrzCicCheckDigit),
    ("birth_date_check_digit", CheckCode::MrzBirthDateCheckDigit),
    (
        "expiry_date_check_digit",
        CheckCode::MrzExpiryDateCheckDigit,
    ),
    ("composite_check_digit", CheckCode::MrzCompositeCheckDigit),
    ("birth_date", CheckCode::MrzBirthDate),
    ("expiry_date", CheckCode::MrzExpiryDate),
];

fn valid_mrz(rng: &mut Rng) -> [String; 3] {
    let expiry_year = rng.between(2019, 2040) as i32;
    let expiry_date = if rng.below(10) == 0 {
        // ICAO allows any day; INE always uses 31 December (ours only warns otherwise).
        rng.date((expiry_year, 1, 1), (expiry_year, 12, 31))
    } else {
        Date::new(expiry_year, 12, 31).unwrap_or_else(|| unreachable!())
    };
    let name_words = |rng: &mut Rng, words: &[&str]| -> Vec<String> {
        let count = rng.between(1, 3) as usize;
        (0..count)
            .map(|_| rng.pick(words).replace('Ñ', "N"))
            .collect()
    };
    let data = MrzData {
        cic: rng.text(DIGITS, 9),
        ocr: format!("{:04}{}", rng.between(1, 9999), rng.text(DIGITS, 9)),
        birth_date: rng.date((1920, 1, 1), (2008, 12, 31)),
        sex: *rng.pick(&[Sex::H, Sex::M]),
        expiry_date,
        issue_number: rng.below(100) as u8,
        optional_digits: rng.text(DIGITS, 5),
        surnames: name_words(rng, &SURNAMES),
        given_names: name_words(rng, &GIVEN_NAMES),
    };
    format_mrz(&data)
}

/// Recomputes all four check digits (with our `check_digit`; the oracle recomputes independently).
fn fix_mrz_check_digits(lines: &mut [String; 3]) {
    let digit = |data: &str| mrz::check_digit(data).unwrap_or('<');
    let cic = digit(&lines[0][5..14]);
    set_char(&mut lines[0], 14, cic);
    let birth = digit(&lines[1][0..6]);
    set_char(&mut lines[1], 6, birth);
    let expiry = digit(&lines[1][8..14]);
    set_char(&mut lines[1], 14, expiry);
    let composite_input = format!(
        "{}{}{}{}",
        &lines[0][5..30],
        &lines[1][0..7],
        &lines[1][8..15],
        &lines[1][18..29]
    );
    let composite = digit(&composite_input);
    set_char(&mut lines[1], 29, composite);
}

/// A (line, column) in lines 1–2 that a check digit covers, check digits included.
fn covered_position(rng: &mut Rng) -> (usize, usize) {
    let column = rng.below(25 + 7 + 7 + 12);
    match column {
        0..=24 => (0, 5 + column),
        25..=31 => (1, column - 25),
        32..=38 => (1, column - 32 + 8),
        _ => (1, column - 39 + 18),
    }
}

fn mutate_mrz(rng: &mut Rng, valid: &[String; 3]) -> (&'static str, [String; 3]) {
    let mut lines = valid.clone();
    let label = match rng.below(11) {
        0 => {
            let (line, column) = (rng.below(2), rng.below(30));
            let c = rng.other_byte_from(MRZ_ALPHABET, char_at(&lines[line], column));
            set_char(&mut lines[line], column, c);
            "substitution"
        }
        1 => {
            let (line, column) = covered_position(rng);
            let c = rng.other_byte_from(MRZ_ALPHABET, char_at(&lines[line], column));
            set_char(&mut lines[line], column, c);
            "substitution in a checked field"
        }
        2 => {
            let (line, column) = (rng.below(2), rng.below(29));
            let mut chars: Vec<char> = lines[line].chars().collect();
            chars.swap(column, column + 1);
            lines[line] = chars.into_iter().collect();
            "transposition"
        }
        3 => {
            let (line, column) = *rng.pick(&MRZ_CHECK_DIGIT_POSITIONS);
            let c = rng.other_byte_from(DIGITS, char_at(&lines[line], column));
            set_char(&mut lines[line], column, c);
            "wrong check digit"
        }
        4 | 5 => {
            let (month, day) = bad_month_day(rng);
            let column = if rng.below(2) == 0 { 0 } else { 8 };
            lines[1].replace_range(
                column..column + 6,
                &format!("{:02}{month:02}{day:02}", rng.below(100)),
            );
            if rng.below(3) == 0 {
                "bad date"
            } else {
                fix_mrz_check_digits(&mut lines);
                "bad date, check digits fixed"
            }
        }
        6 => {
            let column = if rng.below(2) == 0 { 0 } else { 8 };
            lines[1].replace_range(column..column + 6, &format!("{:02}0229", rng.below(100)));
            fix_mrz_check_digits(&mut lines);
            "29 February, check digits fixed"
        }
        7 => {
            // A digit in a checked field read as a letter, or a filler where a digit was.
            let (line, column) = loop {
                let (line, column) = covered_position(rng);
                if char_at(&lines[line], column).is_ascii_digit() {
                    break (line, column);
                }
            };
            let digit = char_at(&lines[line], column) as u8;
            let c = match CONFUSIONS
                .iter()
                .filter(|(d, _)| *d == digit)
                .map(|(_, l)| char::from(*l))
                .next()
            {
                Some(letter) if rng.below(4) != 0 => letter,
                _ => '<',
            };
            set_char(&mut lines[line], column, c);
            if rng.below(2) == 0 {
                fix_mrz_check_digits(&mut lines);
            }
            "letter or filler for a digit"
        }
        8 => {
            let (line, column) = covered_position(rng);
            let c = rng.other_byte_from(MRZ_ALPHABET, char_at(&lines[line], column));
            set_char(&mut lines[line], column, c);
            fix_mrz_check_digits(&mut lines);
            "substitution, check digits fixed"
        }
        9 => {
            let column = rng.below(30);
            let c = rng.other_byte_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ<", char_at(&lines[2], column));
            set_char(&mut lines[2], column, c);
            "names line changed"
        }
        _ => {
            for _ in 0..2 {
                let (line, column) = covered_position(rng);
                let c = rng.other_byte_from(MRZ_ALPHABET, char_at(&lines[line], column));
                set_char(&mut lines[line], column, c);
            }
            "two substitutions"
        }
    };
    (label, lines)
}

fn mrz_cases(rng: &mut Rng, count: usize) -> Vec<Case> {
    (0..count)
        .map(|_| {
            let valid = valid_mrz(rng);
            let (label, lines) = if rng.below(4) == 0 {
                ("valid", valid)
            } else {
                mutate_mrz(rng, &valid)
            };
            Case {
                label,
                input: Input::Mrz(lines),
            }
        })
        .collect()
}

fn our_mrz_verdict(lines: &[String; 3]) -> BTreeMap<&'static str, Value> {
    let mut checks = Checks::new();
    let fields = check_mrz(&lines.join("\n"), reference(), &mut checks)
        .unwrap_or_else(|| panic!("generator made an unreadable MRZ: {lines:?}"));
    let mut verdict: BTreeMap<&'static str, Value> = MRZ_COMPARED
        .iter()
        .map(|(key, code)| {
            let ok = match (checks.passed(*code), checks.failed(*code)) {
                (true, false) => true,
                (false, true) => false,
                other => panic!("{code:?} recorded as (passed, failed) = {other:?} for {lines:?}"),
            };
            (*key, json!(ok))
        })
        .collect();
    verdict.insert("check_digits_hold", json!(fields.check_digits_hold));
    verdict
}

// ---------------------------------------------------------------------------------------
// Both
// ---------------------------------------------------------------------------------------

fn all_cases() -> Vec<Case> {
    let mut rng = Rng(SEED);
    let mut cases = curp_cases(&mut rng, CURP_CASES);
    cases.extend(mrz_cases(&mut rng, MRZ_CASES));
    cases
}

fn our_verdict(input: &Input) -> BTreeMap<&'static str, Value> {
    match input {
        Input::Curp(value) => our_curp_verdict(value),
        Input::Mrz(lines) => our_mrz_verdict(lines),
    }
}

/// Valid for CURP; all four check digits holding for MRZ.
fn counts_as_valid(verdict: &BTreeMap<&'static str, Value>) -> bool {
    verdict
        .get("valid")
        .or_else(|| verdict.get("check_digits_hold"))
        == Some(&Value::Bool(true))
}

/// The oracle's answer with the derived members we compare (`check_digits_hold` for MRZ).
fn complete_oracle_answer(input: &Input, mut answer: Map<String, Value>) -> Map<String, Value> {
    if let Input::Mrz(_) = input {
        let all = MRZ_COMPARED[..4]
            .iter()
            .all(|(key, _)| answer.get(*key) == Some(&Value::Bool(true)));
        answer.insert("check_digits_hold".to_owned(), json!(all));
    }
    answer
}

fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Runs `$APOYO_ORACLE_PYTHON tests/oracles/credential_oracle.py` from the workspace root on all
/// cases at once; panics if it cannot start, fails, or answers out of shape.
fn run_oracle(python: &OsString, cases: &[Case]) -> Vec<Map<String, Value>> {
    let root = workspace_root();
    assert!(
        root.join(ORACLE_SCRIPT).is_file(),
        "oracle script {} not found",
        root.join(ORACLE_SCRIPT).display()
    );
    let mut child = Command::new(python)
        .arg(ORACLE_SCRIPT)
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start the oracle {python:?} {ORACLE_SCRIPT}: {e}"));
    let mut input = String::new();
    for (id, case) in cases.iter().enumerate() {
        input.push_str(&case.input.request(id).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from another thread so that a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for the oracle: {e}"));
    let written = writer
        .join()
        .unwrap_or_else(|_| panic!("the thread feeding the oracle panicked"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the oracle failed ({}):\n{stderr}",
        output.status
    );
    written.unwrap_or_else(|e| panic!("could not feed the oracle: {e}\n{stderr}"));
    let stdout = String::from_utf8(output.stdout)
        .unwrap_or_else(|e| panic!("oracle output is not UTF-8: {e}"));
    let answers: Vec<Map<String, Value>> = stdout
        .lines()
        .enumerate()
        .map(|(i, line)| match serde_json::from_str(line) {
            Ok(Value::Object(answer)) => answer,
            other => panic!(
                "oracle output line {} is not a JSON object ({other:?}): {line}",
                i + 1
            ),
        })
        .collect();
    assert_eq!(
        answers.len(),
        cases.len(),
        "the oracle answered {} of {} inputs\n{stderr}",
        answers.len(),
        cases.len()
    );
    for (id, (answer, case)) in answers.iter().zip(cases).enumerate() {
        assert_eq!(
            answer.get("id"),
            Some(&json!(id)),
            "oracle answers out of order at {id}: {answer:?}"
        );
        assert_eq!(
            answer.get("kind"),
            Some(&json!(case.input.kind())),
            "oracle answered another kind at {id}"
        );
    }
    answers
}

#[derive(Default)]
struct Tally {
    inputs: usize,
    valid: usize,
    disagreements: usize,
    /// Per generator label: (valid, not valid).
    by_label: BTreeMap<&'static str, (usize, usize)>,
    /// How often each compared verdict came out negative on our side.
    negatives: BTreeMap<String, usize>,
    /// The first [`SHOWN_DISAGREEMENTS`] disagreements.
    examples: Vec<String>,
}

#[test]
fn generators_are_deterministic_and_agree_with_our_rules_on_valid_inputs() {
    let cases = all_cases();
    assert_eq!(
        cases,
        all_cases(),
        "generation must not depend on anything but the seed"
    );
    assert_eq!(
        cases.iter().filter(|c| c.input.kind() == "curp").count(),
        CURP_CASES
    );
    assert_eq!(
        cases.iter().filter(|c| c.input.kind() == "mrz").count(),
        MRZ_CASES
    );
    let mut labels: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for case in &cases {
        let verdict = our_verdict(&case.input);
        let valid = counts_as_valid(&verdict);
        if case.label == "valid" {
            match &case.input {
                Input::Curp(value) => {
                    let mut checks = Checks::new();
                    assert!(
                        check_curp(value, &mut checks).is_some() && checks.all_errors_pass(),
                        "{value}: {checks:?}"
                    );
                }
                Input::Mrz(lines) => {
                    let mut checks = Checks::new();
                    let fields = check_mrz(&lines.join("\n"), reference(), &mut checks);
                    assert!(
                        fields.is_some() && checks.all_errors_pass(),
                        "{lines:?}: {checks:?}"
                    );
                }
            }
        }
        if let Input::Curp(value) = &case.input {
            assert!(
                in_common_curp_domain(value)
                    && !value.contains('Ñ')
                    && !value.trim().contains([' ', '-', '_'])
            );
        }
        let entry = labels.entry((case.input.kind(), case.label)).or_default();
        if valid { entry.0 += 1 } else { entry.1 += 1 }
    }
    // Every kind of mutation is exercised, and the mutations are not all caught or all missed.
    assert_eq!(labels.len(), 14 + 12, "labels: {labels:?}");
    for kind in ["curp", "mrz"] {
        let (valid, invalid) = labels
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .fold((0, 0), |(v, i), (_, (lv, li))| (v + lv, i + li));
        assert!(
            valid > 1_000 && invalid > 1_500,
            "{kind}: {valid} valid, {invalid} invalid"
        );
    }
}

#[test]
fn credential_rules_agree_with_independent_oracles() {
    let python = std::env::var_os(ORACLE_VARIABLE).filter(|p| !p.is_empty());
    let Some(python) = python else {
        println!(
            "skipped: set {ORACLE_VARIABLE} to a python with python-stdnum and mrz (e.g. {ORACLE_VARIABLE}=.venv/bin/python)"
        );
        return;
    };
    let cases = all_cases();
    let answers = run_oracle(&python, &cases);

    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for (id, (case, answer)) in cases.iter().zip(answers).enumerate() {
        let ours = our_verdict(&case.input);
        let theirs = complete_oracle_answer(&case.input, answer);
        let differing: Vec<String> = ours
            .iter()
            .filter_map(|(key, value)| match theirs.get(*key) {
                Some(other) if other == value => None,
                Some(other) => Some(format!("{key}: ours {value}, oracle {other}")),
                None => panic!("oracle answer {id} lacks {key:?}: {theirs:?}"),
            })
            .collect();
        let tally = tallies.entry(case.input.kind()).or_default();
        tally.inputs += 1;
        let valid = counts_as_valid(&ours);
        tally.valid += usize::from(valid);
        let by_label = tally.by_label.entry(case.label).or_default();
        if valid {
            by_label.0 += 1;
        } else {
            by_label.1 += 1;
        }
        for (key, value) in &ours {
            match value {
                Value::Bool(false) => {
                    *tally.negatives.entry(format!("{key}=false")).or_default() += 1
                }
                Value::String(reason) => {
                    *tally
                        .negatives
                        .entry(format!("{key}={reason}"))
                        .or_default() += 1
                }
                _ => {}
            }
        }
        if !differing.is_empty() {
            tally.disagreements += 1;
            if tally.examples.len() < SHOWN_DISAGREEMENTS {
                tally.examples.push(format!(
                    "#{id} {} [{}] {}: {}",
                    case.input.kind(),
                    case.label,
                    case.input.display(),
                    differing.join("; ")
                ));
            }
        }
    }

    let mut total_disagreements = 0;
    let mut all_examples = Vec::new();
    for (kind, tally) in &tallies {
        let meaning = if *kind == "curp" {
            "valid"
        } else {
            "check digits all hold"
        };
        println!(
            "{kind}: {} inputs, {} {meaning}, {} not, {} disagreements with the oracle",
            tally.inputs,
            tally.valid,
            tally.inputs - tally.valid,
            tally.disagreements
        );
        for (label, (valid, invalid)) in &tally.by_label {
            println!("    {label:<40} {valid:>5} {meaning:<22} {invalid:>5} not");
        }
        let negatives: Vec<String> = tally
            .negatives
            .iter()
            .map(|(what, n)| format!("{what}: {n}"))
            .collect();
        println!("    ours, negative verdicts: {}", negatives.join(", "));
        if !tally.examples.is_empty() {
            println!("    first {} disagreements:", tally.examples.len());
            for example in &tally.examples {
                println!("      {example}");
            }
        }
        total_disagreements += tally.disagreements;
        all_examples.extend(tally.examples.iter().cloned());
    }
    assert_eq!(
        total_disagreements,
        0,
        "our rules and the oracles disagree on {total_disagreements} inputs; first ones of each kind:\n{}",
        all_examples.join("\n")
    );
}
