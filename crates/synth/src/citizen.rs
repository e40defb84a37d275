//! One synthetic citizen, computed from `(seed, cut date, voters, index)` alone:
//! the roll is streamed citizen by citizen and any citizen can be regenerated
//! without the others (the capture set does that).
//!
//! Uniqueness without memory:
//! - **clave de elector**: every citizen owns a *slot* `(birth date, sex, k)`
//!   through a keyed permutation of `0..voters`; `k < 1000` is unique among the
//!   citizens born that day with that sex and becomes the last three digits
//!   (scrambled by a per-day bijection of `0..1000`). Two citizens can therefore
//!   never share a clave, whatever their names: homonyms born the same day
//!   included. Birth dates follow an age pyramid exactly (cumulative rounding).
//! - **CIC** and **identificador**: credential `j` (0 = current, 1–2 =
//!   superseded) of citizen `i` has number `3i + j`, mapped by two keyed
//!   bijections of `0..10⁹`. Numbers from `3·voters` on belong to no row: the
//!   capture set makes its not-found credentials from them.

use apoyo_domain::catalog::STATES;
use apoyo_domain::curp::check_digit;
use apoyo_domain::mrz::{MrzData, format_mrz};
use apoyo_domain::outcome::RemovalCause;
use apoyo_domain::roll::{RollRecord, RollStatus};
use apoyo_domain::{CredentialInput, CredentialModel, Date, Sex};
use serde::Serialize;

use crate::SynthError;
use crate::names::{NameInfo, Names, curp_initials};
use crate::rng::{Permutation, Rng, Weighted, hash, mix64};
use crate::roll::RollConfig;

/// Citizens per (birth date, sex): the three trailing digits of the clave.
pub(crate) const SLOTS_PER_DAY: u64 = 1000;
/// Credential numbers reserved per citizen (current + up to two superseded).
pub(crate) const CREDENTIALS_PER_CITIZEN: u64 = 3;
/// CIC and identificador are 9 digits.
pub(crate) const IDENTIFIER_SPACE: u64 = 1_000_000_000;

const STREAM_ORDER: u64 = 1;
const STREAM_CITIZEN: u64 = 2;
const STREAM_CIC: u64 = 3;
const STREAM_ID: u64 = 4;
const STREAM_CLAVE: u64 = 5;
const STREAM_FABRICATED: u64 = 6;

/// Share of citizens with one surname (maternal written `XX`).
const SINGLE_SURNAME: f64 = 0.01;
/// Share of rows with a CURP (older registrations may lack one).
const CURP_SHARE: f64 = 0.97;

/// Removal causes with relative weights (invented; defunción dominates).
const REMOVAL_WEIGHTS: [(RemovalCause, u64); 10] = [
    (RemovalCause::Death, 40),
    (RemovalCause::SuspendedRights, 8),
    (RemovalCause::DuplicateRegistration, 10),
    (RemovalCause::IdentityTheft, 4),
    (RemovalCause::CourtOrder, 4),
    (RemovalCause::IrregularPersonalData, 6),
    (RemovalCause::IrregularAddress, 6),
    (RemovalCause::ExpiredCredential, 12),
    (RemovalCause::LostCitizenship, 4),
    (RemovalCause::CancelledApplication, 6),
];

/// States of birth other than the roll's own entidad (Durango's neighbours first).
const OTHER_BIRTH_STATES: [(u8, u64); 7] = [
    (5, 400),
    (8, 300),
    (32, 200),
    (25, 150),
    (9, 100),
    (19, 80),
    (14, 70),
];

fn day_number(year: i32, month: u8, day: u8) -> i64 {
    Date::new(year, month, day).map_or(0, Date::days_since_epoch)
}

/// Relative number of voters of each age at the cut date: registration not yet
/// complete at 18–19, flat to 44, then declining, steeply after 70.
fn age_weight(age: i32) -> f64 {
    match age {
        18 => 0.6,
        19 => 0.85,
        20..=44 => 1.0,
        45..=69 => 1.0 - f64::from(age - 45) * 0.025,
        // 0.4·e^(−(age − 70)/7), by repeated multiplication: basic IEEE operations
        // give the same bits on every platform, `exp` from the system libm may not.
        70..=100 => (70..age).fold(0.4, |w, _| w * 0.866_877_899_18),
        _ => 0.0,
    }
}

/// Share of women among voters of an age (rises with age).
fn female_share(age: i32) -> f64 {
    0.505 + f64::from((age - 40).max(0)) * 0.0016
}

/// Birth-date slots: bucket `b` is day `b / 2` from `first_day`, sex `H` for even
/// `b`; `starts[b]..starts[b + 1]` are the slots of the citizens in it.
#[derive(Clone, Debug)]
struct BirthTable {
    first_day: i64,
    starts: Vec<u64>,
}

impl BirthTable {
    fn new(cut: Date, voters: u64) -> Result<Self, SynthError> {
        let first_day = cut.add_years(-101).days_since_epoch() + 1;
        let last_day = cut.add_years(-18).days_since_epoch();
        let mut weights = Vec::with_capacity(2 * (last_day - first_day + 1).max(0) as usize);
        for day in first_day..=last_day {
            let age = Date::from_days_since_epoch(day).years_until(cut);
            let (w, f) = (age_weight(age), female_share(age));
            weights.push(w * (1.0 - f));
            weights.push(w * f);
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(SynthError::Config(
                "no birth date gives an age of 18 to 100".into(),
            ));
        }
        let mut starts = Vec::with_capacity(weights.len() + 1);
        starts.push(0);
        let mut cumulative = 0.0;
        let mut largest = 0.0f64;
        for w in &weights {
            cumulative += w;
            largest = largest.max(*w);
            starts.push(((voters as f64) * cumulative / total).round() as u64);
        }
        if let Some(last) = starts.last_mut() {
            *last = voters;
        }
        let fullest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        if fullest > SLOTS_PER_DAY {
            let max = ((SLOTS_PER_DAY as f64 - 1.0) * total / largest) as u64;
            return Err(SynthError::Capacity { voters, max });
        }
        Ok(Self { first_day, starts })
    }

    fn buckets(&self) -> usize {
        self.starts.len() - 1
    }

    fn bucket_of(&self, slot: u64) -> usize {
        self.starts
            .partition_point(|s| *s <= slot)
            .saturating_sub(1)
    }

    fn count(&self, bucket: usize) -> u64 {
        self.starts[bucket + 1] - self.starts[bucket]
    }
}

#[derive(Clone, Debug)]
struct MunicipioTable {
    ine_number: u16,
    sections: Vec<u16>,
    section_weights: Weighted,
}

/// One credential of a citizen.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Credential {
    pub model: CredentialModel,
    /// Numbers (printed with 9 digits); the CIC is on the card for models D–H only.
    pub cic: u32,
    pub citizen_id: u32,
    pub section: u16,
    pub issue_number: u8,
    pub issue_date: Date,
    pub expiry_year: u16,
    pub optional_digits: u32,
}

impl Credential {
    pub(crate) fn has_cic(&self) -> bool {
        self.model >= CredentialModel::D
    }

    pub(crate) fn expiry_date(&self) -> Date {
        Date::new(i32::from(self.expiry_year), 12, 31).unwrap_or(self.issue_date)
    }
}

/// One citizen with every credential the roll holds for them.
#[derive(Clone, Debug)]
pub(crate) struct Citizen<'a> {
    pub paternal: &'a NameInfo,
    pub maternal: Option<&'a NameInfo>,
    pub given: &'a NameInfo,
    pub sex: Sex,
    pub birth_date: Date,
    /// Index into the generator's municipios.
    pub municipio_index: usize,
    pub municipio: u16,
    pub clave: [u8; 18],
    pub curp: Option<[u8; 18]>,
    /// Status and cause of the current credential.
    pub status: RollStatus,
    pub cause: Option<RemovalCause>,
    /// `[0]` is the current credential, `[1..count]` the superseded ones, newest first.
    pub credentials: [Credential; 3],
    pub count: usize,
}

impl Citizen<'_> {
    pub(crate) fn current(&self) -> &Credential {
        &self.credentials[0]
    }

    fn row_status(&self, j: usize) -> (RollStatus, Option<RemovalCause>) {
        if j == 0 {
            (self.status, self.cause)
        } else {
            (RollStatus::Reemplazada, None)
        }
    }

    pub(crate) fn clave_str(&self) -> &str {
        std::str::from_utf8(&self.clave).unwrap_or_default()
    }

    pub(crate) fn curp_str(&self) -> Option<&str> {
        self.curp.as_ref().and_then(|c| std::str::from_utf8(c).ok())
    }

    pub(crate) fn maternal_normalized(&self) -> &str {
        self.maternal
            .map_or(apoyo_domain::names::NO_SURNAME, |m| m.normalized.as_str())
    }

    /// Roll row `j` (0 = current) as the domain type.
    pub(crate) fn record(&self, j: usize, entidad: u8) -> RollRecord {
        let credential = &self.credentials[j];
        let (status, removal_cause) = self.row_status(j);
        RollRecord {
            clave_elector: self.clave_str().to_owned(),
            curp: self.curp_str().map(str::to_owned),
            given_names: self.given.normalized.clone(),
            paternal_surname: self.paternal.normalized.clone(),
            maternal_surname: self.maternal_normalized().to_owned(),
            sex: self.sex,
            birth_date: self.birth_date,
            state: entidad,
            municipality: self.municipio,
            section: credential.section,
            model: credential.model,
            cic: credential
                .has_cic()
                .then(|| format!("{:09}", credential.cic)),
            ocr: Some(format!(
                "{:04}{:09}",
                credential.section, credential.citizen_id
            )),
            citizen_id: credential
                .has_cic()
                .then(|| format!("{:09}", credential.citizen_id)),
            issue_number: credential.issue_number,
            expiry_year: credential.expiry_year,
            status,
            removal_cause,
        }
    }

    /// Every row, oldest credential first (the current one last).
    pub(crate) fn records(&self, entidad: u8) -> Vec<RollRecord> {
        (0..self.count)
            .rev()
            .map(|j| self.record(j, entidad))
            .collect()
    }

    /// Appends row `j` in the roll's CSV form; byte-identical to joining
    /// `RollRecord::to_fields` with commas (tested), without allocating.
    pub(crate) fn write_row(&self, j: usize, entidad: u8, buf: &mut Vec<u8>) {
        let credential = &self.credentials[j];
        let (status, cause) = self.row_status(j);
        buf.extend_from_slice(&self.clave);
        buf.push(b',');
        if let Some(curp) = &self.curp {
            buf.extend_from_slice(curp);
        }
        buf.push(b',');
        buf.extend_from_slice(self.given.normalized.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(self.paternal.normalized.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(self.maternal_normalized().as_bytes());
        buf.push(b',');
        buf.push(sex_byte(self.sex));
        buf.push(b',');
        push_date(buf, self.birth_date);
        buf.push(b',');
        push_number(buf, u64::from(entidad));
        buf.push(b',');
        push_number(buf, u64::from(self.municipio));
        buf.push(b',');
        push_number(buf, u64::from(credential.section));
        buf.push(b',');
        buf.push(model_byte(credential.model));
        buf.push(b',');
        if credential.has_cic() {
            push_padded(buf, u64::from(credential.cic), 9);
        }
        buf.push(b',');
        push_padded(buf, u64::from(credential.section), 4);
        push_padded(buf, u64::from(credential.citizen_id), 9);
        buf.push(b',');
        if credential.has_cic() {
            push_padded(buf, u64::from(credential.citizen_id), 9);
        }
        buf.push(b',');
        push_padded(buf, u64::from(credential.issue_number), 2);
        buf.push(b',');
        push_number(buf, u64::from(credential.expiry_year));
        buf.push(b',');
        buf.extend_from_slice(status.code().as_bytes());
        buf.push(b',');
        if let Some(cause) = cause {
            buf.extend_from_slice(cause.code().as_bytes());
        }
        buf.push(b'\n');
    }

    /// Credential `j` as a collector captures it: every field typed, the MRZ for
    /// models D–H. `display_names` types the names as people write them (accents,
    /// dots) instead of the roll's normalised form.
    pub(crate) fn credential_fields(&self, j: usize, display_names: bool) -> CredentialFields {
        let credential = &self.credentials[j];
        let ocr = format!("{:04}{:09}", credential.section, credential.citizen_id);
        let cic = format!("{:09}", credential.cic);
        let mrz = credential.has_cic().then(|| {
            let mut surnames = vec![self.paternal.mrz.clone()];
            surnames.extend(self.maternal.map(|m| m.mrz.clone()));
            format_mrz(&MrzData {
                cic: cic.clone(),
                ocr: ocr.clone(),
                birth_date: self.birth_date,
                sex: self.sex,
                expiry_date: credential.expiry_date(),
                issue_number: credential.issue_number,
                optional_digits: format!("{:05}", credential.optional_digits),
                surnames,
                given_names: vec![self.given.mrz.clone()],
            })
            .to_vec()
        });
        let name = |n: &NameInfo| {
            if display_names {
                n.display.to_owned()
            } else {
                n.normalized.clone()
            }
        };
        CredentialFields {
            model: Some(credential.model.to_string()),
            mrz,
            cic: credential.has_cic().then_some(cic),
            citizen_id: credential
                .has_cic()
                .then(|| format!("{:09}", credential.citizen_id)),
            ocr: Some(ocr),
            section: Some(format!("{:04}", credential.section)),
            issue_number: Some(format!("{:02}", credential.issue_number)),
            clave_elector: Some(self.clave_str().to_owned()),
            curp: self.curp_str().map(str::to_owned),
            birth_date: Some(self.birth_date.to_string()),
            sex: Some(char::from(sex_byte(self.sex)).to_string()),
            expiry_date: Some(credential.expiry_date().to_string()),
            paternal_surname: Some(name(self.paternal)),
            maternal_surname: self.maternal.map(name),
            given_names: Some(name(self.given)),
        }
    }
}

/// Exactly the fields of [`apoyo_domain::CredentialInput`], serialisable (the
/// domain type only deserialises). Absent values are written as `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CredentialFields {
    pub model: Option<String>,
    /// The three MRZ lines.
    pub mrz: Option<Vec<String>>,
    pub cic: Option<String>,
    pub ocr: Option<String>,
    pub citizen_id: Option<String>,
    pub section: Option<String>,
    pub issue_number: Option<String>,
    pub clave_elector: Option<String>,
    pub curp: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub expiry_date: Option<String>,
    pub paternal_surname: Option<String>,
    pub maternal_surname: Option<String>,
    pub given_names: Option<String>,
}

impl CredentialFields {
    /// The same data as the domain's input type (what deserialising the JSON gives).
    pub fn to_input(&self) -> CredentialInput {
        CredentialInput {
            model: self.model.clone(),
            mrz: self.mrz.as_ref().map(|lines| lines.join("\n")),
            cic: self.cic.clone(),
            ocr: self.ocr.clone(),
            citizen_id: self.citizen_id.clone(),
            section: self.section.clone(),
            issue_number: self.issue_number.clone(),
            clave_elector: self.clave_elector.clone(),
            curp: self.curp.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            expiry_date: self.expiry_date.clone(),
            paternal_surname: self.paternal_surname.clone(),
            maternal_surname: self.maternal_surname.clone(),
            given_names: self.given_names.clone(),
        }
    }
}

fn sex_byte(sex: Sex) -> u8 {
    match sex {
        Sex::H => b'H',
        Sex::M => b'M',
    }
}

fn model_byte(model: CredentialModel) -> u8 {
    match model {
        CredentialModel::A => b'A',
        CredentialModel::B => b'B',
        CredentialModel::C => b'C',
        CredentialModel::D => b'D',
        CredentialModel::E => b'E',
        CredentialModel::F => b'F',
        CredentialModel::G => b'G',
        CredentialModel::H => b'H',
    }
}

fn push_number(buf: &mut Vec<u8>, n: u64) {
    push_padded(buf, n, 1);
}

/// `n` in decimal with at least `width` digits (leading zeros).
fn push_padded(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(digits.len().saturating_sub(width));
    buf.extend_from_slice(&digits[start..]);
}

fn push_two(buf: &mut [u8], at: usize, n: u32) {
    buf[at] = b'0' + (n / 10 % 10) as u8;
    buf[at + 1] = b'0' + (n % 10) as u8;
}

fn push_date(buf: &mut Vec<u8>, date: Date) {
    let year = date.year().max(0) as u32;
    let mut text = *b"0000-00-00";
    push_two(&mut text, 0, year / 100);
    push_two(&mut text, 2, year % 100);
    push_two(&mut text, 5, u32::from(date.month()));
    push_two(&mut text, 8, u32::from(date.day()));
    buf.extend_from_slice(&text);
}

/// The model issued on a date (synthetic reading of DOMAIN §4: A–C before 2013,
/// D in 2013 to mid-2014, E to November 2019, G and H from December 2019, F for
/// a few citizens registered abroad from 2016).
fn model_for(issue: Date, rng: &mut Rng) -> CredentialModel {
    let day = issue.days_since_epoch();
    if day < day_number(1997, 1, 1) {
        CredentialModel::A
    } else if day < day_number(2003, 1, 1) {
        CredentialModel::B
    } else if day < day_number(2013, 1, 1) {
        CredentialModel::C
    } else if day < day_number(2014, 7, 1) {
        CredentialModel::D
    } else if day >= day_number(2016, 2, 1) && rng.chance(0.015) {
        CredentialModel::F
    } else if day < day_number(2019, 12, 1) {
        CredentialModel::E
    } else if day < day_number(2021, 1, 1) || rng.chance(0.4) {
        CredentialModel::G
    } else {
        CredentialModel::H
    }
}

/// Everything fixed by a [`RollConfig`]; citizens are computed from it on demand.
#[derive(Clone, Debug)]
pub(crate) struct Generator {
    pub config: RollConfig,
    names: Names,
    municipios: Vec<MunicipioTable>,
    municipio_weights: Weighted,
    birth_states: Vec<u8>,
    birth_state_weights: Weighted,
    births: BirthTable,
    removal_weights: Weighted,
    order: Permutation,
    cics: Permutation,
    ids: Permutation,
}

impl Generator {
    pub(crate) fn new(config: &RollConfig) -> Result<Self, SynthError> {
        config.validate()?;
        let municipios: Vec<MunicipioTable> = config
            .territory
            .iter()
            .filter_map(|m| {
                let section_weights =
                    Weighted::new(m.sections.iter().map(|s| 60 + mix64(u64::from(*s)) % 81))?;
                Some(MunicipioTable {
                    ine_number: m.ine_number,
                    sections: m.sections.clone(),
                    section_weights,
                })
            })
            .collect();
        if municipios.len() != config.territory.len() {
            return Err(SynthError::Config(
                "every municipio needs at least one sección".into(),
            ));
        }
        let municipio_weights = Weighted::new(
            config.territory.iter().map(|m| u64::from(m.roll_2022)),
        )
        .ok_or_else(|| SynthError::Config("the territory's roll weights are all zero".into()))?;
        let mut birth_states = vec![config.entidad];
        let mut state_weights = vec![8600u64];
        for state in STATES
            .iter()
            .map(|s| s.number)
            .filter(|n| *n != config.entidad)
        {
            birth_states.push(state);
            state_weights.push(
                OTHER_BIRTH_STATES
                    .iter()
                    .find(|(n, _)| *n == state)
                    .map_or(5, |(_, w)| *w),
            );
        }
        let birth_state_weights = Weighted::new(state_weights)
            .ok_or_else(|| SynthError::Internal("birth states".into()))?;
        let seed = config.seed;
        Ok(Self {
            names: Names::new()?,
            municipios,
            municipio_weights,
            birth_states,
            birth_state_weights,
            births: BirthTable::new(config.cut_date, config.voters)?,
            removal_weights: Weighted::new(REMOVAL_WEIGHTS.map(|(_, w)| w))
                .ok_or_else(|| SynthError::Internal("removal weights".into()))?,
            order: Permutation::new(config.voters.max(1), hash(&[seed, STREAM_ORDER])),
            cics: Permutation::new(IDENTIFIER_SPACE, hash(&[seed, STREAM_CIC])),
            ids: Permutation::new(IDENTIFIER_SPACE, hash(&[seed, STREAM_ID])),
            config: config.clone(),
        })
    }

    pub(crate) fn voters(&self) -> u64 {
        self.config.voters
    }

    pub(crate) fn municipio_number(&self, index: usize) -> u16 {
        self.municipios[index].ine_number
    }

    pub(crate) fn municipio_index(&self, ine_number: u16) -> Option<usize> {
        self.municipios
            .iter()
            .position(|m| m.ine_number == ine_number)
    }

    /// The highest slot use of any (day, sex): at most [`SLOTS_PER_DAY`].
    pub(crate) fn fullest_day(&self) -> u64 {
        (0..self.births.buckets())
            .map(|b| self.births.count(b))
            .max()
            .unwrap_or(0)
    }

    /// Citizen `index` (`index < voters`).
    pub(crate) fn citizen(&self, index: u64) -> Citizen<'_> {
        let slot = self.order.apply(index);
        let bucket = self.births.bucket_of(slot);
        let k = slot - self.births.starts[bucket];
        let rng = Rng::new(hash(&[self.config.seed, STREAM_CITIZEN, index]));
        self.build(bucket, k, rng, index * CREDENTIALS_PER_CITIZEN, None)
    }

    /// A person who is on no row of the roll: a birth-date slot no citizen owns,
    /// and credential numbers from `3·voters + 3j` on, in municipio `municipio_index`,
    /// with a current, valid credential. `None` if no slot is free (roll at capacity).
    pub(crate) fn fabricate(&self, j: u64, municipio_index: usize) -> Option<Citizen<'_>> {
        let mut rng = Rng::new(hash(&[self.config.seed, STREAM_FABRICATED, j]));
        let base = (self.config.voters + j).checked_mul(CREDENTIALS_PER_CITIZEN)?;
        if base + CREDENTIALS_PER_CITIZEN > IDENTIFIER_SPACE {
            return None;
        }
        for _ in 0..1000 {
            let bucket = rng.below(self.births.buckets() as u64) as usize;
            let used = self.births.count(bucket);
            if used < SLOTS_PER_DAY {
                let k = used + rng.below(SLOTS_PER_DAY - used);
                return Some(self.build(bucket, k, rng, base, Some(municipio_index)));
            }
        }
        None
    }

    fn build(
        &self,
        bucket: usize,
        k: u64,
        mut rng: Rng,
        credential_base: u64,
        fabricated_in: Option<usize>,
    ) -> Citizen<'_> {
        let config = &self.config;
        let birth_date = Date::from_days_since_epoch(self.births.first_day + (bucket / 2) as i64);
        let sex = if bucket % 2 == 0 { Sex::H } else { Sex::M };
        let municipio_index =
            fabricated_in.unwrap_or_else(|| self.municipio_weights.pick(&mut rng));
        let municipio = &self.municipios[municipio_index];
        let section = municipio.sections[municipio.section_weights.pick(&mut rng)];
        let birth_state = self.birth_states[self.birth_state_weights.pick(&mut rng)];
        let paternal = self.names.surnames.pick(&mut rng);
        let maternal = (!rng.chance(SINGLE_SURNAME)).then(|| self.names.surnames.pick(&mut rng));
        let given = match sex {
            Sex::H => self.names.male.pick(&mut rng),
            Sex::M => self.names.female.pick(&mut rng),
        };

        // Clave de elector: letters, YYMMDD, state, sex, 3 digits unique in the day.
        let mut yymmdd = [0u8; 6];
        push_two(&mut yymmdd, 0, birth_date.year().rem_euclid(100) as u32);
        push_two(&mut yymmdd, 2, u32::from(birth_date.month()));
        push_two(&mut yymmdd, 4, u32::from(birth_date.day()));
        let offset = hash(&[config.seed, STREAM_CLAVE, bucket as u64]) % SLOTS_PER_DAY;
        let digits = (k * 737 + offset) % SLOTS_PER_DAY;
        let mut clave = [b'0'; 18];
        clave[0..2].copy_from_slice(&paternal.clave);
        clave[2..4].copy_from_slice(maternal.map_or(b"XX", |m| &m.clave));
        clave[4..6].copy_from_slice(&given.clave);
        clave[6..12].copy_from_slice(&yymmdd);
        push_two(&mut clave, 12, u32::from(birth_state));
        clave[14] = sex_byte(sex);
        clave[15] = b'0' + (digits / 100) as u8;
        push_two(&mut clave, 16, (digits % 100) as u32);

        // CURP, RENAPO style, with a valid check digit.
        let curp = rng.chance(CURP_SHARE).then(|| {
            let mut curp = [b'0'; 18];
            curp[0..4].copy_from_slice(&curp_initials(paternal, maternal, given));
            curp[4..10].copy_from_slice(&yymmdd);
            curp[10] = sex_byte(sex);
            let code = STATES
                .iter()
                .find(|s| s.number == birth_state)
                .map_or("NE", |s| s.curp_code);
            curp[11..13].copy_from_slice(code.as_bytes());
            curp[13] = paternal.curp[2];
            curp[14] = maternal.map_or(b'X', |m| m.curp[2]);
            curp[15] = given.curp[2];
            let common = rng.chance(0.9);
            curp[16] = if birth_date.year() < 2000 {
                if common {
                    b'0'
                } else {
                    b'1' + rng.below(9) as u8
                }
            } else if common {
                b'A'
            } else {
                b'B' + rng.below(25) as u8
            };
            let first17 = std::str::from_utf8(&curp[..17]).unwrap_or_default();
            curp[17] = check_digit(first17).map_or(b'0', |c| c as u8);
            curp
        });

        // Status of the current credential.
        let (status, cause) = if fabricated_in.is_some() {
            (RollStatus::ListaNominal, None)
        } else {
            let r = rng.unit();
            if r < config.register_only_share {
                (RollStatus::Padron, None)
            } else if r < config.register_only_share + config.removed_share {
                let pick = self.removal_weights.pick(&mut rng);
                (RollStatus::Baja, Some(REMOVAL_WEIGHTS[pick].0))
            } else {
                (RollStatus::ListaNominal, None)
            }
        };

        // Current credential: issued within the last 10 years (so valid at the cut),
        // or, for some padrón and pérdida-de-vigencia rows, 11 to 20 years ago.
        let cut = config.cut_date;
        let cut_day = cut.days_since_epoch();
        let adult = birth_date.add_years(18).days_since_epoch();
        let first_issue = day_number(1991, 1, 1);
        let recent_from = adult.max(day_number(cut.year() - 10, 1, 1));
        let expired = match (status, cause) {
            (RollStatus::Padron, _) => rng.chance(0.3),
            (RollStatus::Baja, Some(RemovalCause::ExpiredCredential)) => rng.chance(0.5),
            _ => false,
        };
        let old_from = adult
            .max(first_issue)
            .max(day_number(cut.year() - 20, 1, 1));
        let old_to = day_number(cut.year() - 11, 12, 31);
        let issue_day = if expired && old_from <= old_to {
            rng.between(old_from, old_to)
        } else {
            rng.between(recent_from, cut_day)
        };

        // Superseded credentials: earlier issues, at least a year apart, within 12 years.
        let superseded_wanted = if fabricated_in.is_some() {
            0
        } else {
            let r = rng.unit();
            if r < config.superseded_share * 0.2 {
                2
            } else if r < config.superseded_share {
                1
            } else {
                0
            }
        };
        let mut issue_days = [issue_day, 0, 0];
        let mut count = 1;
        while count <= superseded_wanted {
            let to = issue_days[count - 1] - 365;
            let from = adult.max(first_issue).max(issue_days[count - 1] - 12 * 365);
            if from > to {
                break;
            }
            issue_days[count] = rng.between(from, to);
            count += 1;
        }
        let extra = match rng.below(20) {
            0..=11 => 0,
            12..=16 => 1,
            _ => 2,
        };
        let current_issue_number = (count + extra) as u8;

        let mut credentials = [Credential {
            model: CredentialModel::H,
            cic: 0,
            citizen_id: 0,
            section,
            issue_number: 0,
            issue_date: cut,
            expiry_year: 0,
            optional_digits: 0,
        }; 3];
        for (j, credential) in credentials.iter_mut().enumerate().take(count) {
            let issue_date = Date::from_days_since_epoch(issue_days[j]);
            let number = credential_base + j as u64;
            let moved = j > 0 && rng.chance(0.15);
            *credential = Credential {
                model: model_for(issue_date, &mut rng),
                cic: self.cics.apply(number) as u32,
                citizen_id: self.ids.apply(number) as u32,
                section: if moved {
                    municipio.sections[municipio.section_weights.pick(&mut rng)]
                } else {
                    section
                },
                issue_number: current_issue_number - j as u8,
                issue_date,
                expiry_year: (issue_date.year() + 10) as u16,
                optional_digits: rng.below(100_000) as u32,
            };
        }

        Citizen {
            paternal,
            maternal,
            given,
            sex,
            birth_date,
            municipio_index,
            municipio: municipio.ine_number,
            clave,
            curp,
            status,
            cause,
            credentials,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formatting() {
        let mut buf = Vec::new();
        push_padded(&mut buf, 42, 4);
        buf.push(b',');
        push_number(&mut buf, 0);
        buf.push(b',');
        push_padded(&mut buf, 123_456_789, 9);
        buf.push(b',');
        push_date(&mut buf, Date::from_days_since_epoch(-1));
        assert_eq!(String::from_utf8_lossy(&buf), "0042,0,123456789,1969-12-31");
    }

    #[test]
    fn age_pyramid_is_positive_on_18_to_100_only() {
        assert!(age_weight(17) == 0.0 && age_weight(101) == 0.0);
        assert!((18..=100).all(|a| age_weight(a) > 0.0));
    }
}
