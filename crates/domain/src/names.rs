//! Personal names as the credential identifiers use them: normalisation, the
//! letters of the clave de elector, and the MRZ form.

/// Words skipped when they stand before the word that gives a name's letters
/// (DE LA CRUZ → CRUZ). The list follows the practice for CURP; INE publishes none.
pub const PARTICLES: &[&str] = &[
    "DA", "DAS", "DE", "DEL", "DER", "DI", "DIE", "DD", "EL", "LA", "LAS", "LE", "LES", "LOS",
    "MAC", "MC", "VAN", "VON", "Y",
];

/// Leading given names skipped in a compound given name (JOSE LUIS → LUIS).
pub const SKIPPED_GIVEN_NAMES: &[&str] = &["JOSE", "J", "MARIA", "MA", "M"];

/// Surname written when a person has only one (common on the roll as `XX`).
pub const NO_SURNAME: &str = "XX";

/// Uppercase, accents removed (Ñ kept), separators folded into single spaces.
/// Fails with the first character that cannot be part of a name.
pub fn normalize(name: &str) -> Result<String, char> {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.chars() {
        let folded = match c {
            'a'..='z' => c.to_ascii_uppercase(),
            'A'..='Z' | 'Ñ' => c,
            'ñ' => 'Ñ',
            'á' | 'à' | 'â' | 'ä' | 'Á' | 'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
            'ó' | 'ò' | 'ô' | 'ö' | 'Ó' | 'Ò' | 'Ô' | 'Ö' => 'O',
            'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            // Separators inside names: spaces, hyphens (compound surnames),
            // apostrophes (D'ARTAGNAN), abbreviation dots (MA. DEL CARMEN).
            ' ' | '\t' | '-' | '\'' | '’' | '.' => {
                pending_space = !out.is_empty();
                continue;
            }
            other => return Err(other),
        };
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(folded);
    }
    Ok(out)
}

/// The name as the MRZ writes it: normalised, Ñ as N, words joined with `<`.
pub fn mrz_form(normalized: &str) -> String {
    normalized
        .chars()
        .map(|c| match c {
            'Ñ' => 'N',
            ' ' => '<',
            other => other,
        })
        .collect()
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'A' | 'E' | 'I' | 'O' | 'U')
}

/// One way of reading the rules that are not published (particles, Ñ, JOSE/MARIA).
#[derive(Clone, Copy, Debug)]
struct Reading {
    skip_particles: bool,
    enye_as_x: bool,
    skip_common_given: bool,
}

/// The words that give a component its letters under `reading`.
fn significant_word<'a>(words: &[&'a str], reading: Reading, is_given: bool) -> Option<&'a str> {
    let mut rest = words;
    if is_given && reading.skip_common_given && rest.len() > 1 {
        if let Some(first) = rest.first() {
            if SKIPPED_GIVEN_NAMES.contains(first) {
                rest = &rest[1..];
            }
        }
    }
    if reading.skip_particles {
        let without: Vec<&str> = rest
            .iter()
            .copied()
            .filter(|w| !PARTICLES.contains(w))
            .collect();
        if let Some(first) = without.first() {
            return Some(first);
        }
    }
    rest.first().copied()
}

/// First letter and first internal consonant of one name component.
fn component_letters(component: &str, reading: Reading, is_given: bool) -> [char; 2] {
    let words: Vec<&str> = component.split(' ').filter(|w| !w.is_empty()).collect();
    let missing = words.is_empty() || (!is_given && words == [NO_SURNAME]);
    let word = match significant_word(&words, reading, is_given) {
        Some(word) if !missing => word,
        _ => return ['X', 'X'],
    };
    let map = |c: char| {
        if c == 'Ñ' && reading.enye_as_x {
            'X'
        } else if c == 'Ñ' {
            'N'
        } else {
            c
        }
    };
    let mut chars = word.chars();
    let first = chars.next().map_or('X', map);
    let consonant = chars.find(|c| !is_vowel(*c)).map_or('X', map);
    [first, consonant]
}

/// The six letters of a clave de elector expected from a person's names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedClaveLetters {
    /// Under the rules as this project reads them (particles skipped, Ñ as X,
    /// leading JOSE/MARIA skipped, a missing surname as XX).
    pub primary: String,
    /// Other readings of the unpublished rules, accepted without a warning.
    pub alternatives: Vec<String>,
}

impl ExpectedClaveLetters {
    pub fn accepts(&self, letters: &str) -> bool {
        self.primary == letters || self.alternatives.iter().any(|a| a == letters)
    }
}

/// Letters from already [`normalize`]d components. An empty surname counts as missing.
pub fn expected_clave_letters(paternal: &str, maternal: &str, given: &str) -> ExpectedClaveLetters {
    let letters = |reading: Reading| -> String {
        let mut out = String::with_capacity(6);
        out.extend(component_letters(paternal, reading, false));
        out.extend(component_letters(maternal, reading, false));
        out.extend(component_letters(given, reading, true));
        out
    };
    let primary = letters(Reading {
        skip_particles: true,
        enye_as_x: true,
        skip_common_given: true,
    });
    let mut alternatives = Vec::new();
    for skip_particles in [true, false] {
        for enye_as_x in [true, false] {
            for skip_common_given in [true, false] {
                let candidate = letters(Reading {
                    skip_particles,
                    enye_as_x,
                    skip_common_given,
                });
                if candidate != primary && !alternatives.contains(&candidate) {
                    alternatives.push(candidate);
                }
            }
        }
    }
    ExpectedClaveLetters {
        primary,
        alternatives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(p: &str, m: &str, g: &str) -> String {
        let n = |s: &str| normalize(s).unwrap_or_else(|c| panic!("bad char {c}"));
        expected_clave_letters(&n(p), &n(m), &n(g)).primary
    }

    #[test]
    fn normalizes_accents_case_and_separators() {
        assert_eq!(normalize("  Velázquez  "), Ok("VELAZQUEZ".into()));
        assert_eq!(normalize("peña"), Ok("PEÑA".into()));
        assert_eq!(normalize("Ma. del Carmen"), Ok("MA DEL CARMEN".into()));
        assert_eq!(normalize("Pérez-Güemes"), Ok("PEREZ GUEMES".into()));
        assert_eq!(normalize("Juan2"), Err('2'));
        assert_eq!(mrz_form("PEÑA NIETO"), "PENA<NIETO");
    }

    #[test]
    fn public_vectors() {
        assert_eq!(letters("Gómez", "Velázquez", "Margarita"), "GMVLMR");
        assert_eq!(letters("Hernández", "García", "Juan Carlos"), "HRGRJN");
        assert_eq!(letters("Hernández", "García", "José Alonso"), "HRGRAL");
    }

    #[test]
    fn handles_the_unpublished_cases() {
        // Vowel-initial surname: the first letter, then the first consonant after it.
        assert_eq!(letters("Ortiz", "Acosta", "Ulises"), "ORACUL");
        // Missing maternal surname, written empty or XX.
        assert_eq!(letters("Pérez", "", "Ana"), "PRXXAN");
        assert_eq!(letters("Pérez", "XX", "Ana"), "PRXXAN");
        // Ñ as X, with N accepted as an alternative reading.
        assert_eq!(letters("Ñúñez", "Peña", "Iñigo"), "XXPXIX");
        let n = |s: &str| normalize(s).unwrap_or_default();
        assert!(expected_clave_letters(&n("Ñúñez"), &n("Peña"), &n("Iñigo")).accepts("NNPNIN"));
        // Particles.
        assert_eq!(letters("De la Cruz", "Del Río", "Carmen"), "CRRXCR");
        assert_eq!(letters("de los Santos", "y Gómez", "Luz"), "SNGMLZ");
        // Leading MARIA / JOSE skipped only in compound names.
        assert_eq!(letters("López", "Soto", "María"), "LPSTMR");
        assert_eq!(letters("López", "Soto", "María de los Ángeles"), "LPSTAN");
        assert_eq!(letters("López", "Soto", "Ma. Guadalupe"), "LPSTGD");
        // A word with no internal consonant.
        assert_eq!(letters("Oe", "Au", "Ia"), "OXAXIX");
    }
}
