//! CURP (Clave Única de Registro de Población), RENAPO's 18-character key.

use crate::catalog::{CURP_BORN_ABROAD, Sex, State, state_by_curp_code};
use crate::check::{CheckCode, Checks};
use crate::date::{Date, ShortDate};

/// Character values for the check digit: `0-9A-NÑO-Z` in order.
const ALPHABET: [char; 37] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I',
    'J', 'K', 'L', 'M', 'N', 'Ñ', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z',
];

fn value(c: char) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// RENAPO's check digit over the first 17 characters: weights 18 down to 2,
/// `(10 − sum mod 10) mod 10`. `None` if there are not 17 characters of the alphabet.
pub fn check_digit(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0;
    for (i, c) in first17.chars().enumerate() {
        if i == 17 {
            return None;
        }
        sum += value(c)? * (18 - i as u32);
        count += 1;
    }
    if count != 17 {
        return None;
    }
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// What a structurally valid CURP says about its holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurpInfo {
    pub birth_date: Date,
    pub sex: Sex,
    /// `None` when born abroad (`NE`).
    pub birth_state: Option<&'static State>,
}

fn expected_class(position: usize) -> (&'static str, fn(char) -> bool) {
    fn letter(c: char) -> bool {
        c.is_ascii_uppercase() || c == 'Ñ'
    }
    fn digit(c: char) -> bool {
        c.is_ascii_digit()
    }
    fn letter_or_digit(c: char) -> bool {
        letter(c) || digit(c)
    }
    match position {
        0..=3 | 10..=15 => ("una letra", letter),
        4..=9 | 17 => ("un dígito", digit),
        16 => ("una letra o un dígito", letter_or_digit),
        _ => ("la letra H o M", |c| c == 'H' || c == 'M'),
    }
}

/// Normalises (trim, uppercase) and checks a CURP; returns what it says when its
/// structure, date and state are valid (even if the check digit is wrong).
pub fn check_curp(raw: &str, checks: &mut Checks) -> Option<CurpInfo> {
    let curp: String = raw.trim().to_uppercase();
    let chars: Vec<char> = curp.chars().collect();
    if chars.len() != 18 {
        checks.fail(
            CheckCode::CurpFormat,
            format!(
                "La CURP debe tener 18 caracteres y tiene {}. Cópiela de nuevo de la credencial.",
                chars.len()
            ),
        );
        return None;
    }
    for (i, c) in chars.iter().enumerate() {
        let (expected, accepts) = expected_class(i);
        if i != 10 && !accepts(*c) {
            checks.fail(
                CheckCode::CurpFormat,
                format!(
                    "CURP, posición {}: se esperaba {expected} y hay «{c}».{}",
                    i + 1,
                    confusable_hint(*c, expected)
                ),
            );
            return None;
        }
    }
    checks.pass(
        CheckCode::CurpFormat,
        "La CURP tiene la estructura correcta.",
    );

    let text: String = chars[4..10].iter().collect();
    let short = ShortDate::parse_digits(&text)?;
    // Position 17 is a digit for people born before 2000 and a letter after.
    let century = if chars[16].is_ascii_digit() { 19 } else { 20 };
    let birth_date = short.in_century(century);
    match birth_date {
        Some(date) => checks.pass(
            CheckCode::CurpBirthDate,
            format!("Fecha de nacimiento en la CURP: {}.", date.to_es()),
        ),
        None => checks.fail(
            CheckCode::CurpBirthDate,
            format!(
                "La fecha de nacimiento de la CURP (posiciones 5 a 10: {text}) no es una fecha real. Revise año, mes y día."
            ),
        ),
    }

    let sex = Sex::from_letter(chars[10]);
    if !checks.record(
        CheckCode::CurpSex,
        sex.is_some(),
        "El sexo de la CURP es válido.",
        format!(
            "CURP, posición 11: el sexo debe ser H (hombre) o M (mujer) y hay «{}».",
            chars[10]
        ),
    ) {
        return None;
    }

    let state_code: String = chars[11..13].iter().collect();
    let state = state_by_curp_code(&state_code);
    let state_ok = state.is_some() || state_code == CURP_BORN_ABROAD;
    checks.record(
        CheckCode::CurpState,
        state_ok,
        match state {
            Some(s) => format!("Entidad de nacimiento en la CURP: {}.", s.name),
            None => "Nacido en el extranjero (NE).".to_owned(),
        },
        format!(
            "CURP, posiciones 12 y 13: «{state_code}» no es una clave de entidad federativa (por ejemplo DG es Durango; NE, nacido en el extranjero)."
        ),
    );

    let first17: String = chars[..17].iter().collect();
    let expected = check_digit(&first17);
    checks.record(
        CheckCode::CurpCheckDigit,
        expected == Some(chars[17]),
        "El dígito verificador de la CURP es correcto.",
        format!(
            "El dígito verificador de la CURP no corresponde: hay «{}»{}. Algún carácter de la CURP está mal capturado; compárela letra por letra con la credencial.",
            chars[17],
            expected.map(|e| format!(" y los demás caracteres dan «{e}»")).unwrap_or_default()
        ),
    );

    Some(CurpInfo {
        birth_date: birth_date?,
        sex: sex?,
        birth_state: if state_ok { state } else { return None },
    })
}

/// A hint for the characters people confuse when reading or typing.
pub(crate) fn confusable_hint(found: char, expected: &str) -> &'static str {
    let wants_digit = expected.contains("dígito") && !expected.contains("letra");
    match (found, wants_digit) {
        ('O', true) => " ¿Es un cero (0)?",
        ('I' | 'L', true) => " ¿Es un uno (1)?",
        ('S', true) => " ¿Es un cinco (5)?",
        ('B', true) => " ¿Es un ocho (8)?",
        ('Z', true) => " ¿Es un dos (2)?",
        ('0', false) => " ¿Es una letra O?",
        ('1', false) => " ¿Es una letra I?",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(curp: &str) -> (Checks, Option<CurpInfo>) {
        let mut checks = Checks::new();
        let info = check_curp(curp, &mut checks);
        (checks, info)
    }

    #[test]
    fn public_vectors() {
        for valid in [
            "BOXW310820HNERXN09",
            "BEML920313HMCLNS09",
            "PELM850101MDGRPR00",
            "GAGA051231MDGRRNA4",
        ] {
            let (checks, info) = run(valid);
            assert!(checks.all_errors_pass(), "{valid}: {checks:?}");
            assert!(info.is_some(), "{valid}");
        }
        let (checks, _) = run("BOXW310820HNERXN08");
        assert!(checks.failed(CheckCode::CurpCheckDigit));
        let (checks, _) = run("HEGG560427MVZRRL05");
        assert!(checks.failed(CheckCode::CurpCheckDigit));
        assert!(
            checks
                .get(CheckCode::CurpCheckDigit)
                .is_some_and(|c| c.message.contains("«4»"))
        );
    }

    #[test]
    fn reads_century_sex_and_state() {
        let (_, info) = run("GAGA051231MDGRRNA4");
        let info = info.unwrap_or_else(|| panic!("valid"));
        assert_eq!(info.birth_date.to_string(), "2005-12-31");
        assert_eq!(info.sex, Sex::M);
        assert_eq!(info.birth_state.map(|s| s.number), Some(10));
        let (_, info) = run(" boxw310820hnerxn09 ");
        assert_eq!(
            info.map(|i| (i.birth_date.year(), i.birth_state)),
            Some((1931, None))
        );
    }

    #[test]
    fn explains_what_is_wrong_and_where() {
        let (checks, _) = run("PELM85O101MDGRPR00");
        let message = &checks.get(CheckCode::CurpFormat).map(|c| c.message.clone());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("posición 7") && m.contains("cero")),
            "{message:?}"
        );
        let (checks, _) = run("PELM851301MDGRPR00");
        assert!(checks.failed(CheckCode::CurpBirthDate));
        let (checks, _) = run("PELM850101MXXRPR00");
        assert!(checks.failed(CheckCode::CurpState));
        let (checks, _) = run("PELM850101XDGRPR00");
        assert!(checks.failed(CheckCode::CurpSex));
        let (checks, _) = run("PELM850101MDGRPR0");
        assert!(checks.failed(CheckCode::CurpFormat));
    }

    #[test]
    fn check_digit_refuses_more_than_17_characters() {
        // Found by `cargo fuzz run curp`: weight `18 - i` underflowed from the 19th character.
        assert_eq!(check_digit("PELMFG820101MDGRPR00"), None);
        assert_eq!(check_digit("PELM850101MDGRPR00"), None);
        assert_eq!(check_digit("PELM850101MDGRPR0"), Some('0'));
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,24}") {
            let _ = run(&text);
        }

        #[test]
        fn check_digit_catches_every_single_substitution(
            position in 0usize..17,
            replacement in prop::sample::select(ALPHABET.to_vec()),
        ) {
            let valid: Vec<char> = "PELM850101MDGRPR00".chars().collect();
            prop_assume!(valid[position] != replacement);
            let mut changed = valid.clone();
            changed[position] = replacement;
            let first17: String = changed[..17].iter().collect();
            // A changed character shifts the weighted sum by value × weight; the digit
            // misses it only when that is a multiple of 10, which the format check catches
            // or which leaves a different, structurally valid CURP with the same digit.
            let delta = (value(replacement).unwrap_or(0) as i64 - value(valid[position]).unwrap_or(0) as i64) * (18 - position as i64);
            prop_assert_eq!(check_digit(&first17) == Some('0'), delta.rem_euclid(10) == 0);
        }
    }
}
