//! The Mesa de Control (DOMAIN §5 step 5, §5.B): the inconsistency catalogue, the review
//! policy (which supports a reviewer sees), and the hearing (garantía de audiencia, step 6).

use serde::{Deserialize, Serialize};

use crate::Date;

/// One entry of the inconsistency catalogue. The OPL may add entries; codes are stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inconsistency {
    pub code: String,
    /// Spanish, as the reviewer and the aspirant read it.
    pub label: String,
    /// Whether the support stops counting when a reviewer records it.
    pub invalidates: bool,
}

/// The catalogue every new database starts with (DOMAIN §5.B, and §8 for paper),
/// as (code, label, invalidates).
pub const DEFAULT_INCONSISTENCIES: [(&str, &str, bool); 15] = [
    (
        "photocopy",
        "Fotocopia (incluye imágenes en blanco y negro)",
        true,
    ),
    ("simulated_credential", "Simulación de credencial", true),
    (
        "invalid_document",
        "Documento no válido (otro documento: licencia, tarjeta de descuento)",
        true,
    ),
    ("invalid_credential", "Credencial no válida", true),
    (
        "not_the_original",
        "La imagen no corresponde con el original de la credencial",
        true,
    ),
    ("one_side_only", "Sólo anverso o sólo reverso", true),
    (
        "screen_image",
        "Imagen de pantalla (no corresponde al físico)",
        true,
    ),
    ("illegible", "Imagen ilegible", true),
    (
        "invalid_live_photo",
        "Fotografía viva no válida (no es persona, no tomada directamente o no es quien porta la credencial)",
        true,
    ),
    ("invalid_signature", "Firma no válida o no coincide", true),
    ("no_signature", "Sin firma", true),
    (
        "data_mismatch",
        "Los datos capturados no coinciden con la imagen",
        true,
    ),
    ("paper_no_copy", "Cédula sin copia de la credencial", true),
    ("paper_no_signature", "Cédula sin firma ni huella", true),
    (
        "paper_insufficient_data",
        "Cédula con datos insuficientes",
        true,
    ),
];

/// Why a new catalogue entry is refused, in Spanish; `None` when it is acceptable.
pub fn inconsistency_problem(code: &str, label: &str) -> Option<String> {
    let code_ok = (3..=40).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !code_ok {
        return Some(
            "La clave debe tener de 3 a 40 caracteres: minúsculas sin acentos, dígitos o guion bajo, y empezar con letra (por ejemplo «sello_alterado»)."
                .into(),
        );
    }
    let label_chars = label.trim().chars().count();
    if !(3..=200).contains(&label_chars) {
        return Some("La descripción debe tener de 3 a 200 caracteres.".into());
    }
    None
}

/// Which supports the Mesa de Control reviews (INE 2018: a random sample of the supports
/// found on the roll; every support of an aspirant whose sample shows too many
/// inconsistencies). Both figures are set per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    /// Share of each aspirant's supports found on the roll that is reviewed (1–100 %).
    pub sample_percent: u8,
    /// An aspirant goes to full review when invalidating inconsistencies exceed this
    /// share of the sample (0–100 %).
    pub full_review_trigger_percent: u8,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self {
            sample_percent: 10,
            full_review_trigger_percent: 10,
        }
    }
}

impl ReviewPolicy {
    /// Why the policy is refused, in Spanish.
    pub fn problem(&self) -> Option<String> {
        if !(1..=100).contains(&self.sample_percent) {
            return Some(
                "La muestra debe ser de 1 a 100 % de los apoyos encontrados en la Lista Nominal."
                    .into(),
            );
        }
        if self.full_review_trigger_percent > 100 {
            return Some(
                "El porcentaje que activa la revisión total debe ser de 0 a 100 %.".into(),
            );
        }
        None
    }

    /// How many of `found` supports (found on the roll) the sample must hold: rounded
    /// up, so a single support found is reviewed.
    pub fn sample_target(&self, found: u64) -> u64 {
        (found * u64::from(self.sample_percent)).div_ceil(100)
    }

    /// Whether the aspirant goes to full review, given the sample's target size, how many
    /// of it were reviewed and how many of those had an invalidating inconsistency.
    /// Decided early when no remaining review can bring the share back under the trigger;
    /// otherwise once the whole sample is reviewed.
    pub fn needs_full_review(&self, sample_target: u64, reviewed: u64, inconsistent: u64) -> bool {
        let trigger = u64::from(self.full_review_trigger_percent);
        if sample_target > 0 && inconsistent * 100 > trigger * sample_target {
            return true;
        }
        reviewed > 0 && reviewed >= sample_target && inconsistent * 100 > trigger * reviewed
    }
}

/// A deterministic, well-mixed rank for sampling: the supports with the lowest ranks form
/// the sample. Derived from the support and a per-process seed so an aspirant cannot tell
/// in advance which supports will be looked at (splitmix64).
pub fn sample_rank(support_id: i64, seed: u64) -> u64 {
    let mut z = seed ^ (support_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Picks up to `count` of `candidates` (support ids) by [`sample_rank`], lowest first.
pub fn pick_sample(candidates: &[i64], count: usize, seed: u64) -> Vec<i64> {
    let mut ranked: Vec<(u64, i64)> = candidates
        .iter()
        .map(|&id| (sample_rank(id, seed), id))
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().take(count).map(|(_, id)| id).collect()
}

/// The days during which aspirants may contest rejected supports (both days included,
/// in the OPL's calendar).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingWindow {
    pub opens: Date,
    pub closes: Date,
}

impl HearingWindow {
    pub fn new(opens: Date, closes: Date) -> Result<Self, String> {
        if closes < opens {
            return Err("La audiencia no puede cerrar antes de abrir.".into());
        }
        Ok(Self { opens, closes })
    }

    pub fn is_open(&self, today: Date) -> bool {
        self.opens <= today && today <= self.closes
    }
}

/// Bounds of an objection's argument, in characters.
pub const ARGUMENT_CHARS: std::ops::RangeInclusive<usize> = 20..=4000;
/// Bounds of a reviewer's note on a decision or a resolution, in characters.
pub const NOTE_MAX_CHARS: usize = 2000;

/// Why an objection's argument is refused, in Spanish.
pub fn argument_problem(argument: &str) -> Option<String> {
    let chars = argument.trim().chars().count();
    if chars < *ARGUMENT_CHARS.start() {
        return Some(format!(
            "Explique su objeción con al menos {} caracteres: qué considera incorrecto y por qué.",
            ARGUMENT_CHARS.start()
        ));
    }
    if chars > *ARGUMENT_CHARS.end() {
        return Some(format!(
            "La objeción no puede pasar de {} caracteres (tiene {chars}).",
            ARGUMENT_CHARS.end()
        ));
    }
    None
}

/// How a reviewer answers an objection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The objection is right: the inconsistencies are withdrawn and the support counts
    /// again if the roll allows it.
    Granted,
    /// The rejection stands.
    Denied,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "granted" => Some(Self::Granted),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }

    pub fn label_es(self) -> &'static str {
        match self {
            Self::Granted => "Procedente: el apoyo se restituye",
            Self::Denied => "Improcedente: se confirma el rechazo",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy(sample: u8, trigger: u8) -> ReviewPolicy {
        ReviewPolicy {
            sample_percent: sample,
            full_review_trigger_percent: trigger,
        }
    }

    #[test]
    fn default_catalogue_is_valid_and_unique() {
        let mut codes: Vec<&str> = DEFAULT_INCONSISTENCIES.iter().map(|(c, ..)| *c).collect();
        for (code, label, _) in DEFAULT_INCONSISTENCIES {
            assert_eq!(inconsistency_problem(code, label), None, "{code}");
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), DEFAULT_INCONSISTENCIES.len());
    }

    #[test]
    fn catalogue_codes_are_checked() {
        assert!(inconsistency_problem("ab", "Algo").is_some());
        assert!(inconsistency_problem("Sello", "Algo").is_some());
        assert!(inconsistency_problem("1sello", "Algo").is_some());
        assert!(inconsistency_problem("sello-alterado", "Algo").is_some());
        assert!(inconsistency_problem("sello_alterado", "  ").is_some());
        assert_eq!(
            inconsistency_problem("sello_alterado", "Sello alterado"),
            None
        );
    }

    #[test]
    fn sample_rounds_up() {
        assert_eq!(policy(10, 10).sample_target(0), 0);
        assert_eq!(policy(10, 10).sample_target(1), 1);
        assert_eq!(policy(10, 10).sample_target(10), 1);
        assert_eq!(policy(10, 10).sample_target(11), 2);
        assert_eq!(policy(100, 10).sample_target(1000), 1000);
    }

    #[test]
    fn full_review_examples() {
        let p = policy(10, 10);
        // 20 in the sample: 3 inconsistencies already exceed 10 % of 20.
        assert!(p.needs_full_review(20, 3, 3));
        // 2 of 20 is exactly 10 %: not exceeded, even once all are reviewed.
        assert!(!p.needs_full_review(20, 20, 2));
        assert!(!p.needs_full_review(20, 5, 1));
        assert!(!p.needs_full_review(0, 0, 0));
        // Trigger 0 %: any inconsistency sends the aspirant to full review.
        assert!(policy(10, 0).needs_full_review(20, 1, 1));
        assert!(!policy(10, 0).needs_full_review(20, 1, 0));
    }

    #[test]
    fn policy_bounds() {
        assert!(policy(0, 10).problem().is_some());
        assert!(policy(101, 10).problem().is_some());
        assert!(policy(10, 101).problem().is_some());
        assert_eq!(policy(100, 0).problem(), None);
    }

    #[test]
    fn hearing_window() {
        let opens = Date::new(2025, 3, 1).unwrap();
        let closes = Date::new(2025, 3, 5).unwrap();
        let w = HearingWindow::new(opens, closes).unwrap();
        assert!(w.is_open(opens) && w.is_open(closes));
        assert!(!w.is_open(Date::new(2025, 2, 28).unwrap()));
        assert!(!w.is_open(Date::new(2025, 3, 6).unwrap()));
        assert!(HearingWindow::new(closes, opens).is_err());
    }

    #[test]
    fn arguments() {
        assert!(argument_problem("no").is_some());
        assert!(argument_problem(&"a".repeat(4001)).is_some());
        assert_eq!(
            argument_problem("La credencial es original, la foto salió oscura."),
            None
        );
    }

    proptest! {
        #[test]
        fn a_complete_sample_triggers_exactly_above_the_share(target in 1u64..10_000, trigger in 0u8..=100, inconsistent_frac in 0u64..=100) {
            let inconsistent = target * inconsistent_frac / 100;
            let p = policy(10, trigger);
            prop_assert_eq!(
                p.needs_full_review(target, target, inconsistent),
                inconsistent * 100 > u64::from(trigger) * target
            );
        }

        #[test]
        fn full_review_is_monotonic_in_inconsistencies(target in 1u64..1000, reviewed in 0u64..1000, inconsistent in 0u64..1000, trigger in 0u8..=100) {
            let reviewed = reviewed.min(target);
            let inconsistent = inconsistent.min(reviewed);
            let p = policy(10, trigger);
            if p.needs_full_review(target, reviewed, inconsistent) && inconsistent < reviewed {
                prop_assert!(p.needs_full_review(target, reviewed, inconsistent + 1));
            }
        }

        #[test]
        fn sample_is_a_subset_of_the_asked_size(ids in proptest::collection::btree_set(1i64..1_000_000, 0..300), count in 0usize..400, seed: u64) {
            let ids: Vec<i64> = ids.into_iter().collect();
            let picked = pick_sample(&ids, count, seed);
            prop_assert_eq!(picked.len(), count.min(ids.len()));
            prop_assert!(picked.iter().all(|id| ids.contains(id)));
            // Deterministic, and independent of the input's order.
            let mut reversed = ids.clone();
            reversed.reverse();
            prop_assert_eq!(pick_sample(&reversed, count, seed), picked);
        }
    }
}
