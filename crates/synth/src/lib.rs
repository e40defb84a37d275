//! Synthetic data for apoyo: a Lista Nominal roll in the project's roll format
//! (`docs/roll-format.md`) and capture sets with ground truth
//! (`docs/capture-set-format.md`). Every name, date and identifier is invented;
//! only the aggregate public table of Durango's municipios is real.
//!
//! # Roll
//!
//! [`write_roll`] streams `voters` citizens for a [`RollConfig`] (Durango by
//! default). Citizen `i` is a pure function of `(seed, cut date, voters,
//! territory, shares, i)`, so the file is written without holding records and
//! any citizen can be recomputed ([`RollGenerator`]). Output is identical for an
//! identical configuration, on any machine: randomness is SplitMix64 seeded by a
//! hash of `(seed, stream, index)`, never the operating system.
//!
//! - **Territory.** Voters are spread over the 39 municipios in proportion to
//!   their 2022 Lista Nominal (using the 2022 shares for other years is an
//!   assumption), and over each municipio's secciones with mildly uneven
//!   weights. Sección numbers per municipio are synthetic
//!   ([`durango_territory`]).
//! - **People.** Ages 18 to 100 at the cut date after a simple age pyramid,
//!   slightly more women, most born in the roll's entidad and the rest mostly in
//!   neighbouring states. Names from weighted tables (steep head, so homonyms such
//!   as JUAN HERNANDEZ HERNANDEZ recur), with particles, Ñ, compound and
//!   abbreviated given names; 1 % with a single surname (maternal `XX`).
//! - **Identifiers.** The clave de elector's letters are
//!   `expected_clave_letters(..).primary`, then YYMMDD, birth state, sex and
//!   three digits that make it unique (see below). The CURP follows RENAPO's
//!   construction (initials with internal vowel, first letter of the given name
//!   after a leading JOSE/MARIA, inconvenient words with an `X`, internal
//!   consonants, Ñ as `X`, a digit for births before 2000 and a letter after, a
//!   valid check digit); 3 % of rows have none. CURPs are *not* guaranteed unique
//!   (the roll format does not require it; two homonyms born the same day in the
//!   same state share a CURP unless their homonym characters differ).
//! - **Credentials.** The model follows the issue date (A–C before 2013, D to
//!   mid-2014, E to November 2019, G/H after, a few F); CIC and identificador are
//!   9 digits unique across the file; the OCR is the 4-digit sección of issue and
//!   the identificador; vigencia is the issue year plus 10. Models A–C, which have
//!   no CIC, only occur as superseded or old credentials (CIC and identificador
//!   columns empty, OCR present).
//! - **Status.** 1.5 % `padron` (30 % of them with an expired credential), 1.5 %
//!   `baja` over the ten causes (half of the `perdida_vigencia` ones expired), the
//!   rest `lista_nominal`, always valid at the cut; 10 % of citizens have one or
//!   two `reemplazada` rows with lower emisión and their own CIC.
//!
//! **Uniqueness without memory.** Each citizen owns a slot `(birth date, sex,
//! k < 1000)` through a keyed permutation of `0..voters`, and `k` (scrambled)
//! gives the clave's last three digits, so claves are unique by construction,
//! homonyms born the same day included. The slots also fix the age and sex
//! distribution exactly. With this pyramid the fullest (day, sex) holds 43
//! citizens at 1.42 million voters and 300 at 10 million, so about 33 million
//! voters fit; beyond that, [`SynthError::Capacity`]. CIC and identificador come
//! from keyed bijections of `0..10⁹` applied to the credential number `3i + j`.
//! No hash set is needed: memory stays at a few megabytes whatever `voters` is
//! (measured peak RSS 3.8 MB for 10 million voters).
//!
//! # Capture set
//!
//! [`write_capture_set`] writes supports for aspirants with the outcome the
//! verification must give each; see `docs/capture-set-format.md`.

mod capture;
mod card;
mod citizen;
mod names;
mod rng;
mod roll;
mod territory;

pub use capture::{Aspirant, CaptureConfig, CaptureSummary, OutcomeShares, write_capture_set};
pub use card::{
    CARD_HEIGHT_MM, CARD_WIDTH_MM, CardImage, CardSet, CardTruth, Difficulty, FRAME_SIZES, Glare,
    LevelParams, MRZ_CAP_HEIGHT_MM, MRZ_LINE_PITCH_MM, MRZ_PITCH_MM, MRZ_WIDTH_MM, PhotoParams,
    Point, Shadow, card_set, render_card, render_flat_back,
};
pub use citizen::CredentialFields;
pub use roll::{DURANGO_ROLL_2025, MAX_VOTERS, RollConfig, RollGenerator, RollSummary, write_roll};
pub use territory::{
    DURANGO_ENTIDAD, DURANGO_MAX_SECTION, Municipio, durango_territory, municipio_of_section,
};

/// Why nothing (or not everything) could be generated.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("could not write: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{voters} voters do not fit: at most {max} (clave digits or 9-digit CIC space)")]
    Capacity { voters: u64, max: u64 },
    #[error("the roll has too few citizens for this capture set: {0}")]
    NotEnoughCitizens(String),
    #[error("internal error: {0}")]
    Internal(String),
}
