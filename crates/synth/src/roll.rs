//! The synthetic roll: configuration, streaming writer, summary.

use std::collections::BTreeMap;
use std::io::Write;

use apoyo_domain::outcome::RemovalCause;
use apoyo_domain::roll::{COLUMNS, RollRecord, RollStatus};
use apoyo_domain::{CredentialInput, Date};
use serde::Serialize;

use crate::SynthError;
use crate::citizen::{CREDENTIALS_PER_CITIZEN, Generator, IDENTIFIER_SPACE};
use crate::territory::{DURANGO_ENTIDAD, Municipio, durango_territory};

/// Durango's Lista Nominal on 1 June 2025 (press figure), a realistic `voters`.
pub const DURANGO_ROLL_2025: u64 = 1_423_335;

/// The most citizens a roll may have: a third of the 9-digit CIC space (every
/// citizen reserves three credential numbers), less room for not-found credentials.
pub const MAX_VOTERS: u64 = IDENTIFIER_SPACE / CREDENTIALS_PER_CITIZEN - 10_000_000;

/// What to generate. Identical configurations give byte-identical files.
#[derive(Clone, Debug, PartialEq)]
pub struct RollConfig {
    /// Number of citizens (superseded credentials add rows).
    pub voters: u64,
    pub seed: u64,
    /// The roll's cut date: every citizen is 18 to 100 on it, and every
    /// `lista_nominal` credential is valid on it.
    pub cut_date: Date,
    /// Entidad of every row (Durango, 10, by default).
    pub entidad: u8,
    /// Municipios, their weights and secciones (Durango by default).
    pub territory: Vec<Municipio>,
    /// Share of citizens registered but not on the Lista Nominal (`padron`).
    pub register_only_share: f64,
    /// Share of citizens removed (`baja`), spread over the ten causes.
    pub removed_share: f64,
    /// Share of citizens with one or two superseded (`reemplazada`) rows.
    pub superseded_share: f64,
}

impl RollConfig {
    /// Durango with the default cut date and shares (1.5 % padrón, 1.5 % baja,
    /// 10 % with superseded credentials).
    pub fn durango(voters: u64, seed: u64) -> Self {
        Self {
            voters,
            seed,
            cut_date: Self::default_cut_date(),
            entidad: DURANGO_ENTIDAD,
            territory: durango_territory(),
            register_only_share: 0.015,
            removed_share: 0.015,
            superseded_share: 0.10,
        }
    }

    /// 31 August 2024: Durango's 2015 law cuts the roll on 31 August of the year
    /// before the election (here the June 2025 ayuntamientos election).
    pub fn default_cut_date() -> Date {
        Date::from_days_since_epoch(19_966)
    }

    pub(crate) fn validate(&self) -> Result<(), SynthError> {
        let problem = |text: &str| Err(SynthError::Config(text.to_owned()));
        if self.voters > MAX_VOTERS {
            return Err(SynthError::Capacity {
                voters: self.voters,
                max: MAX_VOTERS,
            });
        }
        if !(2000..=2089).contains(&self.cut_date.year()) {
            return problem("the cut date must be in the years 2000 to 2089");
        }
        if !(1..=32).contains(&self.entidad) {
            return problem("entidad must be 1 to 32");
        }
        if self.territory.is_empty() {
            return problem("the territory has no municipio");
        }
        for m in &self.territory {
            if !(1..=999).contains(&m.ine_number)
                || m.sections.iter().any(|s| !(1..=9999).contains(s))
            {
                return problem("municipio numbers must be 1 to 999 and secciones 1 to 9999");
            }
        }
        let shares = [
            self.register_only_share,
            self.removed_share,
            self.superseded_share,
        ];
        if shares.iter().any(|s| !(0.0..=1.0).contains(s))
            || self.register_only_share + self.removed_share > 1.0
        {
            return problem("shares must be between 0 and 1, and padrón + baja at most 1");
        }
        Ok(())
    }
}

impl Default for RollConfig {
    /// Durango's 2025 roll size, seed 1.
    fn default() -> Self {
        Self::durango(DURANGO_ROLL_2025, 1)
    }
}

/// What a written roll contains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RollSummary {
    pub citizens: u64,
    /// Data rows (without the header): citizens plus superseded credentials.
    pub rows: u64,
    pub lista_nominal: u64,
    /// `padron` rows.
    pub register_only: u64,
    /// `baja` rows by `causa_baja` code.
    pub removed: BTreeMap<String, u64>,
    /// `reemplazada` rows.
    pub superseded_rows: u64,
    pub citizens_with_superseded: u64,
    /// Lista Nominal by municipio (INE number): the base of thresholds.
    pub lista_nominal_by_municipio: BTreeMap<u16, u64>,
    /// Current credentials by model letter.
    pub current_models: BTreeMap<String, u64>,
    /// Bytes written, header included.
    pub bytes: u64,
    /// The most citizens sharing a birth date and sex; at most 1000, the room
    /// the clave's last three digits give.
    pub fullest_birth_day: u64,
}

const FLUSH_AT: usize = 1 << 16;

/// Streams the roll as CSV (docs/roll-format.md) to `out`, one citizen at a time.
/// Memory does not grow with `voters` (a table of about 60,000 birth-date slots
/// and a 64 KiB buffer). `out` needs no buffering of its own.
pub fn write_roll<W: Write>(config: &RollConfig, mut out: W) -> Result<RollSummary, SynthError> {
    let generator = Generator::new(config)?;
    let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
    buf.extend_from_slice(COLUMNS.join(",").as_bytes());
    buf.push(b'\n');

    let mut by_municipio: BTreeMap<u16, u64> = BTreeMap::new();
    let mut removed = [0u64; RemovalCause::ALL.len()];
    let mut models = [0u64; 8];
    let mut summary = RollSummary {
        citizens: config.voters,
        fullest_birth_day: generator.fullest_day(),
        ..RollSummary::default()
    };
    let mut municipio_counts = vec![0u64; config.territory.len()];
    for index in 0..config.voters {
        let citizen = generator.citizen(index);
        for j in (0..citizen.count).rev() {
            citizen.write_row(j, config.entidad, &mut buf);
        }
        summary.rows += citizen.count as u64;
        summary.superseded_rows += citizen.count as u64 - 1;
        summary.citizens_with_superseded += u64::from(citizen.count > 1);
        models[citizen.current().model as usize] += 1;
        match (citizen.status, citizen.cause) {
            (RollStatus::ListaNominal, _) => {
                summary.lista_nominal += 1;
                municipio_counts[citizen.municipio_index] += 1;
            }
            (RollStatus::Padron, _) => summary.register_only += 1,
            (_, Some(cause)) => {
                if let Some(i) = RemovalCause::ALL.iter().position(|c| *c == cause) {
                    removed[i] += 1;
                }
            }
            _ => {}
        }
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            summary.bytes += buf.len() as u64;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    summary.bytes += buf.len() as u64;

    for (i, count) in municipio_counts.into_iter().enumerate() {
        by_municipio.insert(generator.municipio_number(i), count);
    }
    summary.lista_nominal_by_municipio = by_municipio;
    summary.removed = RemovalCause::ALL
        .iter()
        .zip(removed)
        .map(|(cause, n)| (cause.code().to_owned(), n))
        .collect();
    summary.current_models = ["A", "B", "C", "D", "E", "F", "G", "H"]
        .iter()
        .zip(models)
        .filter(|(_, n)| *n > 0)
        .map(|(m, n)| ((*m).to_owned(), n))
        .collect();
    Ok(summary)
}

/// Random access to the citizens of a roll, without writing it: citizen `i`
/// is recomputed from the configuration alone.
#[derive(Clone, Debug)]
pub struct RollGenerator {
    generator: Generator,
}

impl RollGenerator {
    pub fn new(config: &RollConfig) -> Result<Self, SynthError> {
        Ok(Self {
            generator: Generator::new(config)?,
        })
    }

    pub fn voters(&self) -> u64 {
        self.generator.voters()
    }

    /// The rows of citizen `index` (`< voters`) as [`write_roll`] writes them:
    /// superseded credentials first, the current one last.
    pub fn records(&self, index: u64) -> Vec<RollRecord> {
        self.generator
            .citizen(index)
            .records(self.generator.config.entidad)
    }

    /// Citizen `index`'s current credential as a collector captures it (every
    /// field typed, the MRZ for models D–H).
    pub fn current_credential(&self, index: u64) -> CredentialInput {
        self.generator
            .citizen(index)
            .credential_fields(0, false)
            .to_input()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cut_date_is_31_august_2024() {
        assert_eq!(RollConfig::default_cut_date().to_string(), "2024-08-31");
    }

    #[test]
    fn refuses_bad_configurations() {
        let bad = |f: fn(&mut RollConfig)| {
            let mut config = RollConfig::durango(10, 1);
            f(&mut config);
            write_roll(&config, std::io::sink()).is_err()
        };
        assert!(bad(|c| c.voters = MAX_VOTERS + 1));
        assert!(bad(|c| c.entidad = 33));
        assert!(bad(|c| c.territory.clear()));
        assert!(bad(|c| c.removed_share = 1.5));
        assert!(bad(|c| c.territory[0].sections.clear()));
        assert!(!bad(|c| c.voters = 0));
    }

    #[test]
    fn birth_days_have_room_for_ten_million() {
        // The clave's three digits bound citizens per (birth date, sex).
        let config = RollConfig::durango(10_000_000, 1);
        let generator = Generator::new(&config).unwrap_or_else(|e| panic!("{e}"));
        assert!(generator.fullest_day() < 1000);
        let err = Generator::new(&RollConfig::durango(60_000_000, 1)).err();
        assert!(matches!(err, Some(SynthError::Capacity { .. })), "{err:?}");
    }
}
