//! Clave de elector: INE's 18-character voter key. No check digit is published,
//! so the rules are structure, date, state, sex and the letters from the names.

use crate::catalog::{Sex, State, state_by_number};
use crate::check::{CheckCode, Checks};
use crate::curp::confusable_hint;
use crate::date::ShortDate;
use crate::names::expected_clave_letters;

/// What a structurally valid clave de elector says about its holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaveInfo {
    pub clave: String,
    /// The six letters from the names.
    pub letters: String,
    /// Birth date without its century.
    pub birth_date: ShortDate,
    pub birth_state: &'static State,
    pub sex: Sex,
}

fn expected_class(position: usize) -> &'static str {
    match position {
        0..=5 => "una letra",
        14 => "la letra H o M",
        _ => "un dígito",
    }
}

/// Normalises (trim, uppercase, inner spaces removed) and checks a clave de elector.
pub fn check_clave(raw: &str, checks: &mut Checks) -> Option<ClaveInfo> {
    let clave: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let chars: Vec<char> = clave.chars().collect();
    if chars.len() != 18 {
        checks.fail(
            CheckCode::ClaveFormat,
            format!(
                "La clave de elector debe tener 18 caracteres y tiene {}. Cópiela de nuevo del frente de la credencial.",
                chars.len()
            ),
        );
        return None;
    }
    for (i, c) in chars.iter().enumerate() {
        let expected = expected_class(i);
        let ok = match i {
            0..=5 => c.is_ascii_uppercase(),
            14 => true, // the sex letter has its own check
            _ => c.is_ascii_digit(),
        };
        if !ok {
            checks.fail(
                CheckCode::ClaveFormat,
                format!(
                    "Clave de elector, posición {}: se esperaba {expected} y hay «{c}».{}",
                    i + 1,
                    confusable_hint(*c, expected)
                ),
            );
            return None;
        }
    }
    checks.pass(
        CheckCode::ClaveFormat,
        "La clave de elector tiene la estructura correcta.",
    );

    let date_text: String = chars[6..12].iter().collect();
    let birth_date = ShortDate::parse_digits(&date_text)?;
    let date_ok = checks.record(
        CheckCode::ClaveBirthDate,
        birth_date.is_real(),
        "La fecha de nacimiento de la clave de elector es una fecha real.",
        format!(
            "La fecha de nacimiento de la clave de elector (posiciones 7 a 12: {date_text}, año-mes-día) no es una fecha real. Revise mes y día."
        ),
    );

    let state_number =
        chars[12].to_digit(10).unwrap_or(0) * 10 + chars[13].to_digit(10).unwrap_or(0);
    let state = u8::try_from(state_number).ok().and_then(state_by_number);
    checks.record(
        CheckCode::ClaveState,
        state.is_some(),
        format!(
            "Entidad de nacimiento en la clave de elector: {}.",
            state.map_or("", |s| s.name)
        ),
        format!(
            "Clave de elector, posiciones 13 y 14: «{state_number:02}» no es una entidad federativa (van de 01 a 32; Durango es 10)."
        ),
    );

    let sex = Sex::from_letter(chars[14]);
    checks.record(
        CheckCode::ClaveSex,
        sex.is_some(),
        "El sexo de la clave de elector es válido.",
        format!(
            "Clave de elector, posición 15: el sexo debe ser H (hombre) o M (mujer) y hay «{}».",
            chars[14]
        ),
    );

    if !date_ok {
        return None;
    }
    Some(ClaveInfo {
        letters: chars[..6].iter().collect(),
        clave,
        birth_date,
        birth_state: state?,
        sex: sex?,
    })
}

/// Compares the six letters with names already normalised by [`crate::names::normalize`].
pub fn check_clave_letters(
    letters: &str,
    paternal: &str,
    maternal: &str,
    given: &str,
    checks: &mut Checks,
) {
    let expected = expected_clave_letters(paternal, maternal, given);
    checks.record(
        CheckCode::ClaveNameLetters,
        expected.accepts(letters),
        "Las letras de la clave de elector corresponden al nombre.",
        format!(
            "Las primeras 6 letras de la clave de elector son «{letters}», pero el nombre capturado ({}) da «{}». Revise el nombre y la clave en el frente de la credencial; si ambos están bien, puede enviarse.",
            [paternal, maternal, given]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            expected.primary
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(clave: &str) -> (Checks, Option<ClaveInfo>) {
        let mut checks = Checks::new();
        let info = check_clave(clave, &mut checks);
        (checks, info)
    }

    #[test]
    fn public_vectors() {
        for valid in [
            "GMVLMR80070501M100",
            "VRFNRL96070621H100",
            "HRGRJN82050602H900",
            "HRGRAL82050602H900",
        ] {
            let (checks, info) = run(valid);
            assert!(checks.all_errors_pass(), "{valid}: {checks:?}");
            assert!(info.is_some());
        }
        let (checks, _) = run("VRFNRL99133221H100");
        assert!(checks.failed(CheckCode::ClaveBirthDate));
        let (checks, _) = run("VRFNRL96070621X100");
        assert!(checks.failed(CheckCode::ClaveSex));
    }

    #[test]
    fn reads_its_parts() {
        let (_, info) = run(" gmvlmr80070501m100 ");
        let info = info.unwrap_or_else(|| panic!("valid"));
        assert_eq!(info.letters, "GMVLMR");
        assert_eq!(info.birth_state.number, 1);
        assert_eq!(info.sex, Sex::M);
        assert_eq!(
            (
                info.birth_date.yy,
                info.birth_date.month,
                info.birth_date.day
            ),
            (80, 7, 5)
        );
    }

    #[test]
    fn rejects_bad_structure_precisely() {
        let (checks, _) = run("GMVLMR8007050lM100");
        let message = checks
            .get(CheckCode::ClaveFormat)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("posición 14") && message.contains("uno"),
            "{message}"
        );
        let (checks, _) = run("GMVLMR80070533M100");
        assert!(checks.failed(CheckCode::ClaveState));
        let (checks, _) = run("GMVLMR80070500M100");
        assert!(checks.failed(CheckCode::ClaveState));
        let (checks, _) = run("GMVLMR8007050M100");
        assert!(checks.failed(CheckCode::ClaveFormat));
        let (checks, _) = run("GMVLMR80023001M100");
        assert!(checks.failed(CheckCode::ClaveBirthDate));
    }

    #[test]
    fn letter_mismatch_is_a_warning_showing_the_expected_letters() {
        let mut checks = Checks::new();
        check_clave_letters("GMVLMR", "GOMEZ", "VELAZQUEZ", "MARGARITA", &mut checks);
        assert!(checks.passed(CheckCode::ClaveNameLetters));
        let mut checks = Checks::new();
        check_clave_letters("GMVLMR", "GOMEZ", "VELAZQUEZ", "MONICA", &mut checks);
        let check = checks.get(CheckCode::ClaveNameLetters).cloned();
        assert!(
            check
                .as_ref()
                .is_some_and(|c| !c.ok && c.message.contains("GMVLMN")),
            "{check:?}"
        );
        assert!(checks.all_errors_pass(), "a warning never blocks");
    }
}
