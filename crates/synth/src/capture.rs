//! Capture sets with ground truth (docs/capture-set-format.md): supports for
//! aspirants, each with the outcome the verification must give it, or the
//! collector's checks that must stop it.
//!
//! Citizens are found by scanning the roll's citizens in index order and
//! recomputing each (no file is read, nothing but the chosen indices is kept);
//! the scan stops as soon as every quota is met.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use apoyo_domain::outcome::{RemovalCause, RollOutcome};
use apoyo_domain::roll::RollStatus;
use apoyo_domain::{CheckCode, Date, Severity, check_credential};
use serde::Serialize;

use crate::SynthError;
use crate::citizen::{Citizen, CredentialFields, Generator};
use crate::rng::{Rng, Weighted, hash};
use crate::roll::RollConfig;

const STREAM_SELECT: u64 = 11;
const STREAM_SUPPORT: u64 = 12;
const STREAM_ORDER: u64 = 13;
const STREAM_CLIENT_ID: u64 = 14;

/// Durango's UTC offset (no daylight saving since 2022).
const UTC_OFFSET: &str = "-06:00";

/// An aspirant and the office sought: an ayuntamiento, by INE municipio number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Aspirant {
    pub id: String,
    pub office_municipio: u16,
}

impl Aspirant {
    pub fn new(id: impl Into<String>, office_municipio: u16) -> Self {
        Self {
            id: id.into(),
            office_municipio,
        }
    }
}

/// Relative share of each expected result (normalised by their sum). Every kind
/// with a positive share gets at least one support when there are enough
/// supports; `removed` is spread over the ten causes (at least one each when
/// there are ten or more), `precheck` over the typo kinds in turn.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutcomeShares {
    pub valid: f64,
    pub not_found: f64,
    pub register_only: f64,
    pub removed: f64,
    pub superseded_credential: f64,
    pub out_of_territory: f64,
    pub paper_not_allowed: f64,
    pub duplicate_same_aspirant: f64,
    pub duplicate_other_aspirant: f64,
    /// Typos the collector's checks catch (and expired credentials).
    pub precheck: f64,
}

impl Default for OutcomeShares {
    fn default() -> Self {
        Self {
            valid: 0.70,
            not_found: 0.03,
            register_only: 0.02,
            removed: 0.03,
            superseded_credential: 0.03,
            out_of_territory: 0.03,
            paper_not_allowed: 0.02,
            duplicate_same_aspirant: 0.04,
            duplicate_other_aspirant: 0.04,
            precheck: 0.06,
        }
    }
}

/// What capture set to write for a roll.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureConfig {
    pub seed: u64,
    /// Number of supports (lines).
    pub supports: u64,
    /// Several aspirants may seek the same office.
    pub aspirants: Vec<Aspirant>,
    /// Municipios where paper supports are allowed (régimen de excepción).
    pub paper_municipios: Vec<u16>,
    pub shares: OutcomeShares,
    /// Share of supports captured on paper where paper is allowed.
    pub paper_share: f64,
    /// Collectors (auxiliares) per aspirant; a few capture most supports.
    pub collectors_per_aspirant: u32,
    /// First day of collection; `None` for the day after the roll's cut.
    pub collection_start: Option<Date>,
    /// Length of the collection period, in days.
    pub collection_days: u32,
}

impl CaptureConfig {
    /// An example for Durango: two aspirants for the municipio of Durango (5), one
    /// for Gómez Palacio (7) and one for Mezquital (14), paper allowed in six
    /// sierra municipios (an illustrative list, not an official one), 60 days.
    pub fn durango_example(supports: u64, seed: u64) -> Self {
        Self {
            seed,
            supports,
            aspirants: vec![
                Aspirant::new("DGO-A", 5),
                Aspirant::new("DGO-B", 5),
                Aspirant::new("GPA-A", 7),
                Aspirant::new("MEZ-A", 14),
            ],
            paper_municipios: vec![2, 14, 20, 24, 35, 38],
            shares: OutcomeShares::default(),
            paper_share: 0.3,
            collectors_per_aspirant: 12,
            collection_start: None,
            collection_days: 60,
        }
    }
}

/// What a written capture set contains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaptureSummary {
    pub supports: u64,
    /// Supports by expected outcome code, and `precheck` for the typos.
    pub by_expected: BTreeMap<String, u64>,
    /// Typo supports by typo kind.
    pub typos: BTreeMap<String, u64>,
    /// Paper supports.
    pub paper: u64,
    /// Roll citizens recomputed to find candidates.
    pub citizens_scanned: u64,
}

/// The typos (and the expired card) a collector's checks catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Typo {
    CicTyped,
    SectionTyped,
    CitizenIdTyped,
    BirthDateTyped,
    SexTyped,
    CurpCheckDigit,
    ClaveBirthDate,
    MrzCicDigit,
    MrzLetterForDigit,
    ExpiredCredential,
}

impl Typo {
    const ALL: [Typo; 10] = [
        Self::CicTyped,
        Self::SectionTyped,
        Self::CitizenIdTyped,
        Self::BirthDateTyped,
        Self::SexTyped,
        Self::CurpCheckDigit,
        Self::ClaveBirthDate,
        Self::MrzCicDigit,
        Self::MrzLetterForDigit,
        Self::ExpiredCredential,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::CicTyped => "cic_typed",
            Self::SectionTyped => "section_typed",
            Self::CitizenIdTyped => "citizen_id_typed",
            Self::BirthDateTyped => "birth_date_typed",
            Self::SexTyped => "sex_typed",
            Self::CurpCheckDigit => "curp_check_digit",
            Self::ClaveBirthDate => "clave_birth_date",
            Self::MrzCicDigit => "mrz_cic_digit",
            Self::MrzLetterForDigit => "mrz_letter_for_digit",
            Self::ExpiredCredential => "expired_credential",
        }
    }

    /// The check that must be among the failures.
    fn target(self) -> CheckCode {
        match self {
            Self::CicTyped => CheckCode::MrzAgreement,
            Self::SectionTyped => CheckCode::SectionConsistent,
            Self::CitizenIdTyped => CheckCode::CitizenIdConsistent,
            Self::BirthDateTyped | Self::ClaveBirthDate => CheckCode::BirthDateConsistent,
            Self::SexTyped => CheckCode::SexConsistent,
            Self::CurpCheckDigit => CheckCode::CurpCheckDigit,
            Self::MrzCicDigit => CheckCode::MrzCicCheckDigit,
            Self::MrzLetterForDigit => CheckCode::MrzOcrFormat,
            Self::ExpiredCredential => CheckCode::Validity,
        }
    }
}

/// What a support is meant to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Outcome(RollOutcome),
    Precheck(Typo),
}

/// Where a support's credential comes from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// Roll citizen `index`, credential `j` (0 = current).
    Roll { index: u64, credential: usize },
    /// Not-found person `j`, in the municipio at this index.
    Fabricated { j: u64, municipio_index: usize },
}

#[derive(Clone, Debug)]
struct Pick {
    source: Source,
    aspirant: usize,
    kind: Kind,
    /// For duplicates: the pick they repeat.
    duplicate_of: Option<usize>,
    /// Reception key: supports are received in increasing order.
    order: u64,
}

/// How many supports of each kind.
#[derive(Clone, Debug, Default)]
struct Quotas {
    valid: u64,
    not_found: u64,
    register_only: u64,
    removed: [u64; 10],
    superseded: u64,
    out_of_territory: u64,
    paper_not_allowed: u64,
    duplicate_same: u64,
    duplicate_other: u64,
    typos: Vec<Typo>,
}

/// Largest-remainder apportionment of `total` over `weights`, giving at least one
/// to every positive weight when `total` allows.
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    let mut counts = vec![0u64; weights.len()];
    if sum <= 0.0 || total == 0 {
        return counts;
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| {
            if *w > 0.0 {
                total as f64 * w / sum
            } else {
                0.0
            }
        })
        .collect();
    for (count, e) in counts.iter_mut().zip(&exact) {
        *count = e.floor() as u64;
    }
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let (ra, rb) = (exact[*a] - exact[*a].floor(), exact[*b] - exact[*b].floor());
        rb.total_cmp(&ra).then(a.cmp(b))
    });
    let mut left = total - counts.iter().sum::<u64>();
    for i in order.iter().cycle().take(weights.len() * 2) {
        if left == 0 {
            break;
        }
        if weights[*i] > 0.0 {
            counts[*i] += 1;
            left -= 1;
        }
    }
    // At least one each: take from the largest.
    for i in 0..weights.len() {
        if weights[i] > 0.0 && counts[i] == 0 {
            if let Some(largest) = (0..weights.len()).max_by_key(|j| (counts[*j], usize::MAX - j)) {
                if counts[largest] > 1 {
                    counts[largest] -= 1;
                    counts[i] += 1;
                }
            }
        }
    }
    counts
}

impl Quotas {
    fn new(config: &CaptureConfig) -> Self {
        let s = &config.shares;
        let top = apportion(
            config.supports,
            &[
                s.valid,
                s.not_found,
                s.register_only,
                s.removed,
                s.superseded_credential,
                s.out_of_territory,
                s.paper_not_allowed,
                s.duplicate_same_aspirant,
                s.duplicate_other_aspirant,
                s.precheck,
            ],
        );
        let removed_total = top[3];
        let mut removed = [0u64; 10];
        if removed_total >= 10 {
            // One per cause, the rest after the roll's own cause weights.
            let rest = apportion(
                removed_total - 10,
                &[40.0, 8.0, 10.0, 4.0, 4.0, 6.0, 6.0, 12.0, 4.0, 6.0],
            );
            for (r, extra) in removed.iter_mut().zip(rest) {
                *r = 1 + extra;
            }
        } else {
            for r in removed.iter_mut().take(removed_total as usize) {
                *r = 1;
            }
        }
        let typos = (0..top[9] as usize)
            .map(|i| Typo::ALL[i % Typo::ALL.len()])
            .collect();
        Self {
            valid: top[0],
            not_found: top[1],
            register_only: top[2],
            removed,
            superseded: top[4],
            out_of_territory: top[5],
            paper_not_allowed: top[6],
            duplicate_same: top[7],
            duplicate_other: top[8],
            typos,
        }
    }
}

/// A validated configuration with what selection needs at hand.
struct Plan<'g> {
    generator: &'g Generator,
    config: &'g CaptureConfig,
    cut: Date,
    /// The last collection day: every outcome credential is valid through it.
    end: Date,
    aspirant_offices: Vec<u16>,
    paper: BTreeSet<u16>,
}

impl Plan<'_> {
    fn aspirants_for(&self, municipio: u16) -> Vec<usize> {
        (0..self.aspirant_offices.len())
            .filter(|a| self.aspirant_offices[*a] == municipio)
            .collect()
    }

    fn aspirants_not_for(&self, municipio: u16) -> Vec<usize> {
        (0..self.aspirant_offices.len())
            .filter(|a| self.aspirant_offices[*a] != municipio)
            .collect()
    }

    fn valid_through_end(&self, citizen: &Citizen<'_>, j: usize) -> bool {
        let credential = &citizen.credentials[j];
        credential.has_cic() && credential.expiry_date() >= self.end
    }
}

fn validate(config: &CaptureConfig, generator: &Generator) -> Result<(), SynthError> {
    let problem = |text: String| Err(SynthError::Config(text));
    if config.aspirants.is_empty() {
        return problem("at least one aspirant is needed".into());
    }
    let ids: BTreeSet<&str> = config.aspirants.iter().map(|a| a.id.as_str()).collect();
    if ids.len() != config.aspirants.len() {
        return problem("aspirant ids must be unique".into());
    }
    for aspirant in &config.aspirants {
        if generator
            .municipio_index(aspirant.office_municipio)
            .is_none()
        {
            return problem(format!(
                "aspirant {}: municipio {} is not in the roll's territory",
                aspirant.id, aspirant.office_municipio
            ));
        }
    }
    let s = &config.shares;
    let shares = [
        s.valid,
        s.not_found,
        s.register_only,
        s.removed,
        s.superseded_credential,
        s.out_of_territory,
        s.paper_not_allowed,
        s.duplicate_same_aspirant,
        s.duplicate_other_aspirant,
        s.precheck,
    ];
    if shares.iter().any(|x| !x.is_finite() || *x < 0.0) || shares.iter().sum::<f64>() <= 0.0 {
        return problem("shares must be non-negative with a positive sum".into());
    }
    if !(0.0..=1.0).contains(&config.paper_share) {
        return problem("paper_share must be between 0 and 1".into());
    }
    if config.collectors_per_aspirant == 0 || config.collection_days == 0 {
        return problem("collectors_per_aspirant and collection_days must be positive".into());
    }
    let offices: Vec<u16> = config
        .aspirants
        .iter()
        .map(|a| a.office_municipio)
        .collect();
    let shared = offices
        .iter()
        .any(|o| offices.iter().filter(|p| *p == o).count() > 1);
    if s.duplicate_other_aspirant > 0.0 && !shared {
        return problem("duplicate_other_aspirant needs two aspirants for the same office".into());
    }
    if s.paper_not_allowed > 0.0 && offices.iter().all(|o| config.paper_municipios.contains(o)) {
        return problem(
            "paper_not_allowed needs an aspirant whose office is not in paper_municipios".into(),
        );
    }
    if s.out_of_territory > 0.0 && generator.config.territory.len() < 2 {
        return problem("out_of_territory needs a territory of two municipios or more".into());
    }
    Ok(())
}

/// Picks candidates for every quota (except duplicates) in one scan of the roll.
fn select(plan: &Plan<'_>, quotas: &Quotas) -> Result<(Vec<Pick>, u64), SynthError> {
    let generator = plan.generator;
    let mut rng = Rng::new(hash(&[plan.config.seed, STREAM_SELECT]));
    let mut picks: Vec<Pick> = Vec::new();
    let mut left = quotas.clone();
    let mut typos_left: Vec<Typo> = quotas
        .typos
        .iter()
        .copied()
        .filter(|t| *t != Typo::ExpiredCredential)
        .collect();
    let mut expired_left = quotas.typos.len() as u64 - typos_left.len() as u64;
    let mut scanned = 0u64;
    let pending = |left: &Quotas, typos: &[Typo], expired: u64| {
        left.valid
            + left.register_only
            + left.removed.iter().sum::<u64>()
            + left.superseded
            + left.out_of_territory
            + left.paper_not_allowed
            + typos.len() as u64
            + expired
    };
    let push = |source: Source, aspirant: usize, kind: Kind, picks: &mut Vec<Pick>| {
        picks.push(Pick {
            source,
            aspirant,
            kind,
            duplicate_of: None,
            order: 0,
        });
    };
    let choose =
        |options: &[usize], rng: &mut Rng| options[rng.below(options.len() as u64) as usize];

    for index in 0..generator.voters() {
        if pending(&left, &typos_left, expired_left) == 0 {
            break;
        }
        scanned += 1;
        let citizen = generator.citizen(index);
        let offices = plan.aspirants_for(citizen.municipio);
        let others = plan.aspirants_not_for(citizen.municipio);
        let current_ok = plan.valid_through_end(&citizen, 0);
        let at = |credential| Source::Roll { index, credential };
        match (citizen.status, citizen.cause) {
            (RollStatus::ListaNominal, _) if current_ok && !offices.is_empty() => {
                let aspirant = choose(&offices, &mut rng);
                let superseded = (1..citizen.count).find(|j| plan.valid_through_end(&citizen, *j));
                let expired =
                    (1..citizen.count).find(|j| citizen.credentials[*j].expiry_date() < plan.cut);
                if let (Some(j), true) = (superseded, left.superseded > 0) {
                    left.superseded -= 1;
                    push(
                        at(j),
                        aspirant,
                        Kind::Outcome(RollOutcome::SupersededCredential),
                        &mut picks,
                    );
                    continue;
                }
                if let (Some(j), true) = (expired, expired_left > 0) {
                    expired_left -= 1;
                    push(
                        at(j),
                        aspirant,
                        Kind::Precheck(Typo::ExpiredCredential),
                        &mut picks,
                    );
                    continue;
                }
                // The common kinds, drawn in proportion to what is still wanted.
                let paper_ok = !plan.paper.contains(&citizen.municipio);
                let weights = [
                    left.valid,
                    if paper_ok { left.paper_not_allowed } else { 0 },
                    typos_left.len() as u64,
                    if others.is_empty() {
                        0
                    } else {
                        left.out_of_territory
                    },
                ];
                let Some(weighted) = Weighted::new(weights) else {
                    continue;
                };
                match weighted.pick(&mut rng) {
                    0 => {
                        left.valid -= 1;
                        push(
                            at(0),
                            aspirant,
                            Kind::Outcome(RollOutcome::Valid),
                            &mut picks,
                        );
                    }
                    1 => {
                        left.paper_not_allowed -= 1;
                        push(
                            at(0),
                            aspirant,
                            Kind::Outcome(RollOutcome::PaperNotAllowed),
                            &mut picks,
                        );
                    }
                    2 => {
                        let typo = typos_left.swap_remove(0);
                        push(at(0), aspirant, Kind::Precheck(typo), &mut picks);
                    }
                    _ => {
                        left.out_of_territory -= 1;
                        let aspirant = choose(&others, &mut rng);
                        push(
                            at(0),
                            aspirant,
                            Kind::Outcome(RollOutcome::OutOfTerritory),
                            &mut picks,
                        );
                    }
                }
            }
            (RollStatus::ListaNominal, _) if current_ok && left.out_of_territory > 0 => {
                left.out_of_territory -= 1;
                let aspirant = choose(&others, &mut rng);
                push(
                    at(0),
                    aspirant,
                    Kind::Outcome(RollOutcome::OutOfTerritory),
                    &mut picks,
                );
            }
            (RollStatus::Padron, _)
                if current_ok && !offices.is_empty() && left.register_only > 0 =>
            {
                left.register_only -= 1;
                let aspirant = choose(&offices, &mut rng);
                push(
                    at(0),
                    aspirant,
                    Kind::Outcome(RollOutcome::RegisterOnly),
                    &mut picks,
                );
            }
            (RollStatus::Baja, Some(cause)) if current_ok && !offices.is_empty() => {
                let Some(c) = RemovalCause::ALL.iter().position(|x| *x == cause) else {
                    continue;
                };
                if left.removed[c] > 0 {
                    left.removed[c] -= 1;
                    let aspirant = choose(&offices, &mut rng);
                    push(
                        at(0),
                        aspirant,
                        Kind::Outcome(RollOutcome::Removed(cause)),
                        &mut picks,
                    );
                }
            }
            _ => {}
        }
    }
    if pending(&left, &typos_left, expired_left) > 0 {
        let mut missing = Vec::new();
        let mut note = |name: &str, n: u64| {
            if n > 0 {
                missing.push(format!("{n} {name}"));
            }
        };
        note("valid", left.valid);
        note("register_only", left.register_only);
        for (cause, n) in RemovalCause::ALL.iter().zip(left.removed) {
            note(&format!("removed:{}", cause.code()), n);
        }
        note("superseded_credential", left.superseded);
        note("out_of_territory", left.out_of_territory);
        note("paper_not_allowed", left.paper_not_allowed);
        note("typo", typos_left.len() as u64);
        note("expired_credential", expired_left);
        return Err(SynthError::NotEnoughCitizens(format!(
            "after all {} citizens, still missing {} (use a larger roll, fewer supports, or other offices)",
            generator.voters(),
            missing.join(", ")
        )));
    }

    // Not found: people on no row, in an aspirant's municipio.
    let mut j = 0u64;
    let mut made = 0u64;
    while made < quotas.not_found {
        let aspirant = rng.below(plan.aspirant_offices.len() as u64) as usize;
        let municipio_index = generator
            .municipio_index(plan.aspirant_offices[aspirant])
            .ok_or_else(|| SynthError::Internal("office outside the territory".into()))?;
        let person = generator.fabricate(j, municipio_index).ok_or_else(|| {
            SynthError::NotEnoughCitizens(
                "no free identifiers left for not-found credentials".into(),
            )
        })?;
        if plan.valid_through_end(&person, 0) {
            push(
                Source::Fabricated { j, municipio_index },
                aspirant,
                Kind::Outcome(RollOutcome::NotFound),
                &mut picks,
            );
            made += 1;
        }
        j += 1;
        if j > quotas.not_found * 100 + 1000 {
            return Err(SynthError::Internal(
                "could not make not-found credentials".into(),
            ));
        }
    }
    Ok((picks, scanned))
}

/// Adds the duplicates: later supports of citizens with a valid support.
fn add_duplicates(
    plan: &Plan<'_>,
    quotas: &Quotas,
    picks: &mut Vec<Pick>,
    rng: &mut Rng,
) -> Result<(), SynthError> {
    let mut originals: Vec<usize> = (0..picks.len())
        .filter(|i| picks[*i].kind == Kind::Outcome(RollOutcome::Valid))
        .collect();
    // Fisher–Yates.
    for i in (1..originals.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        originals.swap(i, j);
    }
    let (mut same, mut other) = (quotas.duplicate_same, quotas.duplicate_other);
    for original in originals {
        if same == 0 && other == 0 {
            break;
        }
        let first = picks[original].clone();
        let office = plan.aspirant_offices[first.aspirant];
        let rivals: Vec<usize> = plan
            .aspirants_for(office)
            .into_iter()
            .filter(|a| *a != first.aspirant)
            .collect();
        let (aspirant, outcome) =
            if other > 0 && !rivals.is_empty() && (same == 0 || rng.chance(0.5)) {
                other -= 1;
                (
                    rivals[rng.below(rivals.len() as u64) as usize],
                    RollOutcome::DuplicateOtherAspirant,
                )
            } else if same > 0 {
                same -= 1;
                (first.aspirant, RollOutcome::DuplicateSameAspirant)
            } else {
                continue;
            };
        picks.push(Pick {
            source: first.source,
            aspirant,
            kind: Kind::Outcome(outcome),
            duplicate_of: Some(original),
            order: 0,
        });
    }
    if same > 0 || other > 0 {
        return Err(SynthError::NotEnoughCitizens(format!(
            "not enough valid supports to repeat: {same} same-aspirant and {other} other-aspirant duplicates left"
        )));
    }
    Ok(())
}

/// Changes one digit of a digit string to another digit.
fn change_digit(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return text.to_owned();
    }
    let at = rng.below(bytes.len() as u64) as usize;
    let old = bytes[at].wrapping_sub(b'0');
    bytes[at] = b'0' + ((u64::from(old) + 1 + rng.below(9)) % 10) as u8;
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

/// Applies a typo to the typed fields; `false` when it does not apply to them.
fn apply_typo(typo: Typo, fields: &mut CredentialFields, rng: &mut Rng) -> bool {
    match typo {
        Typo::CicTyped => match &fields.cic {
            Some(cic) => {
                fields.cic = Some(change_digit(cic, rng));
                true
            }
            None => false,
        },
        Typo::SectionTyped => {
            let Some(section) = fields
                .section
                .as_deref()
                .and_then(|s| s.parse::<u64>().ok())
            else {
                return false;
            };
            let other = (section - 1 + 1 + rng.below(98)) % 9999 + 1;
            fields.section = Some(format!("{other:04}"));
            true
        }
        Typo::CitizenIdTyped => match &fields.citizen_id {
            Some(id) => {
                fields.citizen_id = Some(change_digit(id, rng));
                true
            }
            None => false,
        },
        Typo::BirthDateTyped => {
            let Some(date) = fields
                .birth_date
                .as_deref()
                .and_then(|d| Date::parse_iso(d).ok())
            else {
                return false;
            };
            let shifted =
                Date::from_days_since_epoch(date.days_since_epoch() - 1 - rng.below(40) as i64);
            fields.birth_date = Some(shifted.to_es());
            true
        }
        Typo::SexTyped => {
            fields.sex = match fields.sex.as_deref() {
                Some("H") => Some("M".into()),
                Some("M") => Some("H".into()),
                _ => return false,
            };
            true
        }
        Typo::CurpCheckDigit => match &fields.curp {
            Some(curp) if curp.len() == 18 => {
                let (head, last) = curp.split_at(17);
                fields.curp = Some(format!("{head}{}", change_digit(last, rng)));
                true
            }
            _ => false,
        },
        Typo::ClaveBirthDate => match &fields.clave_elector {
            Some(clave) if clave.len() == 18 && clave.is_ascii() => {
                let day: u8 = clave[10..12].parse().unwrap_or(1);
                let other = if day == 1 { 2 } else { day - 1 };
                fields.clave_elector = Some(format!("{}{other:02}{}", &clave[..10], &clave[12..]));
                true
            }
            _ => false,
        },
        Typo::MrzCicDigit => match &mut fields.mrz {
            Some(lines) if lines[0].len() == 30 && lines[0].is_ascii() => {
                let line = &lines[0];
                lines[0] = format!(
                    "{}{}{}",
                    &line[..5],
                    change_digit(&line[5..14], rng),
                    &line[14..]
                );
                true
            }
            _ => false,
        },
        Typo::MrzLetterForDigit => match &mut fields.mrz {
            Some(lines) if lines[0].len() == 30 && lines[0].is_ascii() => {
                let line = lines[0].clone();
                let confusable = |b: u8| match b {
                    b'0' => Some('O'),
                    b'1' => Some('I'),
                    b'5' => Some('S'),
                    b'8' => Some('B'),
                    _ => None,
                };
                let spots: Vec<usize> = (17..30)
                    .filter(|i| confusable(line.as_bytes()[*i]).is_some())
                    .collect();
                if spots.is_empty() {
                    return false;
                }
                let at = spots[rng.below(spots.len() as u64) as usize];
                let letter = confusable(line.as_bytes()[at]).unwrap_or('O');
                lines[0] = format!("{}{letter}{}", &line[..at], &line[at + 1..]);
                true
            }
            _ => false,
        },
        Typo::ExpiredCredential => true,
    }
}

/// Error-severity checks that fail, in report order, each once.
fn failing_errors(fields: &CredentialFields, cut: Date) -> Vec<&'static str> {
    let report = check_credential(&fields.to_input(), cut);
    let mut codes: Vec<&'static str> = Vec::new();
    for check in &report.checks {
        if !check.ok && check.severity == Severity::Error && !codes.contains(&check.code.as_str()) {
            codes.push(check.code.as_str());
        }
    }
    codes
}

#[derive(Serialize)]
#[serde(untagged)]
enum Expected {
    Outcome {
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        duplicate_of: Option<u64>,
    },
    Precheck {
        precheck_fails: Vec<&'static str>,
        typo: &'static str,
    },
}

#[derive(Serialize)]
struct Line<'a> {
    sequence: u64,
    client_id: String,
    aspirant: &'a str,
    office_municipio: u16,
    collector: String,
    paper: bool,
    captured_at: String,
    credential: &'a CredentialFields,
    expected: Expected,
}

fn client_id(seed: u64, sequence: u64) -> String {
    let a = hash(&[seed, STREAM_CLIENT_ID, sequence, 1]);
    let b = hash(&[seed, STREAM_CLIENT_ID, sequence, 2]);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        0x8000 | ((b >> 48) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    )
}

/// Local time `minutes` after midnight of `date`, RFC 3339 with Durango's offset.
fn timestamp(date: Date, seconds: u64) -> String {
    let day = Date::from_days_since_epoch(date.days_since_epoch() + (seconds / 86_400) as i64);
    let s = seconds % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}{UTC_OFFSET}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Writes a capture set for the roll `roll` as JSON Lines (docs/capture-set-format.md).
/// Supports are written in reception order (`sequence` 1…N). Every expectation
/// is checked while writing: an outcome support's credential passes every
/// error-severity check of `check_credential` at the cut date, and a typo
/// support fails exactly the checks it lists.
pub fn write_capture_set<W: Write>(
    roll: &RollConfig,
    capture: &CaptureConfig,
    mut out: W,
) -> Result<CaptureSummary, SynthError> {
    let generator = Generator::new(roll)?;
    validate(capture, &generator)?;
    let cut = roll.cut_date;
    let start = capture
        .collection_start
        .unwrap_or_else(|| Date::from_days_since_epoch(cut.days_since_epoch() + 1));
    let end = Date::from_days_since_epoch(
        start.days_since_epoch() + i64::from(capture.collection_days) - 1,
    );
    let plan = Plan {
        generator: &generator,
        config: capture,
        cut,
        end,
        aspirant_offices: capture
            .aspirants
            .iter()
            .map(|a| a.office_municipio)
            .collect(),
        paper: capture.paper_municipios.iter().copied().collect(),
    };
    let quotas = Quotas::new(capture);
    let (mut picks, scanned) = select(&plan, &quotas)?;
    let mut rng = Rng::new(hash(&[capture.seed, STREAM_ORDER]));
    add_duplicates(&plan, &quotas, &mut picks, &mut rng)?;

    // Reception order: a random key for each support, a later one for each duplicate.
    const SPAN: u64 = 1 << 62;
    for pick in picks.iter_mut().filter(|p| p.duplicate_of.is_none()) {
        pick.order = rng.below(SPAN);
    }
    for i in 0..picks.len() {
        if let Some(original) = picks[i].duplicate_of {
            let after = picks[original].order;
            picks[i].order = after + 1 + rng.below(SPAN - after);
        }
    }
    let mut reception: Vec<usize> = (0..picks.len()).collect();
    reception.sort_by_key(|i| (picks[*i].order, picks[*i].duplicate_of.is_some(), *i));
    let mut sequence_of = vec![0u64; picks.len()];
    for (position, i) in reception.iter().enumerate() {
        sequence_of[*i] = position as u64 + 1;
    }

    let collector_weights =
        Weighted::new((1..=u64::from(capture.collectors_per_aspirant)).map(|n| 720_720 / n))
            .ok_or_else(|| SynthError::Internal("collectors".into()))?;
    let total = picks.len() as u64;
    let mut captured_seconds = vec![0u64; picks.len()];
    let mut summary = CaptureSummary {
        supports: total,
        citizens_scanned: scanned,
        ..CaptureSummary::default()
    };
    let window = u64::from(capture.collection_days) * 86_400;
    let mut line_buf = Vec::with_capacity(4096);
    for (position, &i) in reception.iter().enumerate() {
        let pick = &picks[i];
        let sequence = position as u64 + 1;
        let mut rng = Rng::new(hash(&[capture.seed, STREAM_SUPPORT, i as u64]));
        let aspirant = &capture.aspirants[pick.aspirant];
        let citizen = match pick.source {
            Source::Roll { index, .. } => generator.citizen(index),
            Source::Fabricated { j, municipio_index } => generator
                .fabricate(j, municipio_index)
                .ok_or_else(|| SynthError::Internal("fabricated person vanished".into()))?,
        };
        let credential = match pick.source {
            Source::Roll { credential, .. } => credential,
            Source::Fabricated { .. } => 0,
        };
        let mut fields = citizen.credential_fields(credential, rng.chance(0.5));

        // Capture time: near its place in the reception order, up to two days
        // earlier (offline capture), 08:00–20:59 local time.
        let day = (sequence - 1) * window / total.max(1) / 86_400;
        let delay_days = rng.below(3).min(day);
        let mut seconds = (day - delay_days) * 86_400 + 8 * 3600 + rng.below(13 * 3600);
        if let Some(original) = pick.duplicate_of {
            // Some duplicates were captured before the support that was received first.
            if rng.chance(0.3) {
                seconds = captured_seconds[original]
                    .saturating_sub(3600 + rng.below(5 * 3600))
                    .max(8 * 3600);
            }
        }
        captured_seconds[i] = seconds;

        let paper = match pick.kind {
            Kind::Outcome(RollOutcome::PaperNotAllowed) => true,
            _ => plan.paper.contains(&aspirant.office_municipio) && rng.chance(capture.paper_share),
        };
        summary.paper += u64::from(paper);

        let expected = match pick.kind {
            Kind::Outcome(outcome) => {
                let errors = failing_errors(&fields, cut);
                if !errors.is_empty() {
                    return Err(SynthError::Internal(format!(
                        "support {sequence} ({}) fails the collector's checks: {errors:?}",
                        outcome.code()
                    )));
                }
                *summary.by_expected.entry(outcome.code()).or_default() += 1;
                Expected::Outcome {
                    outcome: outcome.code(),
                    duplicate_of: pick.duplicate_of.map(|o| sequence_of[o]),
                }
            }
            Kind::Precheck(typo) => {
                let mut applied = typo;
                if !apply_typo(typo, &mut fields, &mut rng) {
                    applied = Typo::CicTyped;
                    apply_typo(applied, &mut fields, &mut rng);
                }
                let errors = failing_errors(&fields, cut);
                if !errors.contains(&applied.target().as_str()) {
                    return Err(SynthError::Internal(format!(
                        "typo {} on support {sequence} does not fail {}: {errors:?}",
                        applied.code(),
                        applied.target().as_str()
                    )));
                }
                *summary.by_expected.entry("precheck".into()).or_default() += 1;
                *summary.typos.entry(applied.code().into()).or_default() += 1;
                Expected::Precheck {
                    precheck_fails: errors,
                    typo: applied.code(),
                }
            }
        };
        let collector = format!(
            "{}-aux-{:03}",
            aspirant.id,
            collector_weights.pick(&mut rng) + 1
        );
        let line = Line {
            sequence,
            client_id: client_id(capture.seed, sequence),
            aspirant: &aspirant.id,
            office_municipio: aspirant.office_municipio,
            collector,
            paper,
            captured_at: timestamp(start, seconds),
            credential: &fields,
            expected,
        };
        line_buf.clear();
        serde_json::to_writer(&mut line_buf, &line)
            .map_err(|e| SynthError::Internal(e.to_string()))?;
        line_buf.push(b'\n');
        out.write_all(&line_buf)?;
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_keeps_the_total_and_gives_everyone_one() {
        let counts = apportion(100, &[0.7, 0.03, 0.0, 0.27]);
        assert_eq!(counts.iter().sum::<u64>(), 100);
        assert_eq!(counts[2], 0);
        let counts = apportion(10, &[0.97, 0.01, 0.01, 0.01]);
        assert_eq!(counts, vec![7, 1, 1, 1]);
    }

    #[test]
    fn client_ids_look_like_uuids() {
        let id = client_id(1, 1);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, client_id(1, 2));
    }

    #[test]
    fn timestamps_carry_the_offset() {
        let start = Date::from_days_since_epoch(19_967);
        assert_eq!(timestamp(start, 8 * 3600 + 61), "2024-09-01T08:01:01-06:00");
        assert_eq!(timestamp(start, 86_400 + 3600), "2024-09-02T01:00:00-06:00");
    }
}
