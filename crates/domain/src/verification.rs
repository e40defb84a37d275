//! Verification of supports against the roll (compulsa, DOMAIN §5.A) and the
//! duplicate rules (DOMAIN §6): the pure part, no I/O. The reading of the law
//! implemented here is written down in `docs/verification.md`.
//!
//! A worker verifies one support in four steps; the store does the fetching:
//!
//! 1. [`CapturedKey::from_fields`] (or [`CapturedKey::from_input`]) takes the
//!    identifiers the credential's model uses for the roll check (DOMAIN §4).
//! 2. The store fetches the rows of [`CapturedKey::lookups`], then those of
//!    [`citizen_lookups`] (the other credentials of each citizen found by CIC).
//! 3. [`match_record`] finds the captured credential and its citizen among those
//!    rows; [`preliminary_outcome`] gives the situación registral, territory and
//!    paper included.
//! 4. [`resolve_duplicates`] decides, over the supports of a process, which of
//!    the otherwise valid supports of one citizen for one office counts: the
//!    first received. Its result depends only on the set of supports, not on the
//!    order workers finished them in.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde::Serialize;

use crate::catalog::{CredentialModel, RollKey};
use crate::credential::{CredentialInput, ReportFields, check_credential};
use crate::date::Date;
use crate::outcome::RollOutcome;
use crate::roll::{RollRecord, RollStatus};

/// The identifiers that name one credential on the roll, by model (DOMAIN §4).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "key", rename_all = "snake_case")]
pub enum CredentialKey {
    /// Models E–H: CIC + identificador del ciudadano.
    CicCitizenId { cic: String, citizen_id: String },
    /// Model D: CIC + OCR.
    CicOcr { cic: String, ocr: String },
    /// Models A–C: clave de elector + número de emisión + OCR.
    ClaveIssueOcr {
        clave_elector: String,
        issue_number: u8,
        ocr: String,
    },
}

impl CredentialKey {
    pub fn roll_key(&self) -> RollKey {
        match self {
            Self::CicCitizenId { .. } => RollKey::CicCitizenId,
            Self::CicOcr { .. } => RollKey::CicOcr,
            Self::ClaveIssueOcr { .. } => RollKey::ClaveIssueOcr,
        }
    }

    /// Whether `row` is the credential these identifiers name: every identifier
    /// of the key equals the row's. A row's identificador is its
    /// `identificador_ciudadano`, or the last 9 digits of its OCR when the
    /// column is empty; an OCR is compared with the row's OCR, or by its
    /// identificador when the row has no OCR (allowed for models E–H).
    pub fn matches(&self, row: &RollRecord) -> bool {
        match self {
            Self::CicCitizenId { cic, citizen_id } => {
                row.cic.as_deref() == Some(cic.as_str())
                    && row_citizen_id(row) == Some(citizen_id.as_str())
            }
            Self::CicOcr { cic, ocr } => {
                row.cic.as_deref() == Some(cic.as_str()) && ocr_matches(row, ocr)
            }
            Self::ClaveIssueOcr {
                clave_elector,
                issue_number,
                ocr,
            } => {
                row.clave_elector == *clave_elector
                    && row.issue_number == *issue_number
                    && ocr_matches(row, ocr)
            }
        }
    }
}

fn row_citizen_id(row: &RollRecord) -> Option<&str> {
    row.citizen_id
        .as_deref()
        .or_else(|| row.ocr.as_deref().and_then(|o| o.get(4..)))
}

fn ocr_matches(row: &RollRecord, ocr: &str) -> bool {
    match &row.ocr {
        Some(row_ocr) => row_ocr == ocr,
        None => ocr
            .get(4..)
            .is_some_and(|id| row.citizen_id.as_deref() == Some(id)),
    }
}

/// What the roll check of one captured support needs: the credential's key, and
/// the captured clave de elector, which finds the citizen when the credential
/// itself is not on the roll.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CapturedKey {
    /// The captured model; `None` when it was not captured (the key is then inferred).
    pub model: Option<CredentialModel>,
    pub credential: CredentialKey,
    /// The captured clave de elector (normalised), when well formed.
    pub clave_elector: Option<String>,
}

/// The captured credential lacks an identifier its model's roll check needs.
/// `check_credential` refuses such a credential (`credential.required_identifiers`),
/// so a support that passed the collector's checks never gives this.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the roll check of {} needs {}", model_text(*model), missing.join(", "))]
pub struct IncompleteKey {
    pub model: Option<CredentialModel>,
    /// English names of the missing identifiers (`cic`, `citizen_id`, `ocr`,
    /// `clave_elector`, `issue_number`).
    pub missing: Vec<&'static str>,
}

fn model_text(model: Option<CredentialModel>) -> String {
    model.map_or_else(
        || "a credential of unknown model".to_owned(),
        |m| format!("a model {m} credential"),
    )
}

impl CapturedKey {
    /// The key from a credential's best-known fields (typed values where well
    /// formed, otherwise what the MRZ says: [`ReportFields`]).
    ///
    /// With no model captured, the key is inferred: CIC + identificador when both
    /// are known (models D–H; the identificador may come from the OCR, and a CIC
    /// names one credential whatever its model), otherwise clave + emisión + OCR
    /// (models A–C).
    pub fn from_fields(fields: &ReportFields) -> Result<Self, IncompleteKey> {
        let cic = fields.cic.clone();
        let ocr = fields.ocr.clone();
        // ReportFields derives the identificador from the OCR when it was not typed.
        let citizen_id = fields.citizen_id.clone();
        let clave = fields.clave_elector.clone();
        let issue = fields
            .issue_number
            .as_deref()
            .and_then(|n| n.parse::<u8>().ok());

        let key_for = |key: RollKey| -> Result<CredentialKey, Vec<&'static str>> {
            let need = |value: &Option<String>, name: &'static str, missing: &mut Vec<_>| {
                if value.is_none() {
                    missing.push(name);
                }
            };
            let mut missing = Vec::new();
            match key {
                RollKey::CicCitizenId => {
                    need(&cic, "cic", &mut missing);
                    need(&citizen_id, "citizen_id", &mut missing);
                    match (&cic, &citizen_id) {
                        (Some(cic), Some(citizen_id)) => Ok(CredentialKey::CicCitizenId {
                            cic: cic.clone(),
                            citizen_id: citizen_id.clone(),
                        }),
                        _ => Err(missing),
                    }
                }
                RollKey::CicOcr => {
                    need(&cic, "cic", &mut missing);
                    need(&ocr, "ocr", &mut missing);
                    match (&cic, &ocr) {
                        (Some(cic), Some(ocr)) => Ok(CredentialKey::CicOcr {
                            cic: cic.clone(),
                            ocr: ocr.clone(),
                        }),
                        _ => Err(missing),
                    }
                }
                RollKey::ClaveIssueOcr => {
                    need(&clave, "clave_elector", &mut missing);
                    if issue.is_none() {
                        missing.push("issue_number");
                    }
                    need(&ocr, "ocr", &mut missing);
                    match (&clave, issue, &ocr) {
                        (Some(clave), Some(issue), Some(ocr)) => Ok(CredentialKey::ClaveIssueOcr {
                            clave_elector: clave.clone(),
                            issue_number: issue,
                            ocr: ocr.clone(),
                        }),
                        _ => Err(missing),
                    }
                }
            }
        };

        let credential = match fields.model {
            Some(model) => key_for(model.roll_key()),
            None => key_for(RollKey::CicCitizenId).or_else(|by_cic| {
                key_for(RollKey::ClaveIssueOcr).map_err(|by_clave| {
                    // Name what is missing on the route the capture started on.
                    if cic.is_some() { by_cic } else { by_clave }
                })
            }),
        }
        .map_err(|missing| IncompleteKey {
            model: fields.model,
            missing,
        })?;
        Ok(Self {
            model: fields.model,
            credential,
            clave_elector: clave,
        })
    }

    /// The key from a captured credential as sent: its fields are read and
    /// normalised by [`check_credential`] at `reference` (the date only matters
    /// for the credential's dates, which the key does not use).
    pub fn from_input(input: &CredentialInput, reference: Date) -> Result<Self, IncompleteKey> {
        Self::from_fields(&check_credential(input, reference).fields)
    }

    /// The rows the store must fetch first: the credential by CIC (models D–H),
    /// and the rows of the citizen the captured clave de elector names (the
    /// credential itself for models A–C, the citizen otherwise). Then
    /// [`citizen_lookups`].
    pub fn lookups(&self) -> Vec<Lookup> {
        let mut lookups = Vec::with_capacity(2);
        match &self.credential {
            CredentialKey::CicCitizenId { cic, .. } | CredentialKey::CicOcr { cic, .. } => {
                lookups.push(Lookup::ByCic(cic.clone()));
            }
            CredentialKey::ClaveIssueOcr { clave_elector, .. } => {
                lookups.push(Lookup::ByClave(clave_elector.clone()));
            }
        }
        if let Some(clave) = &self.clave_elector {
            let by_clave = Lookup::ByClave(clave.clone());
            if !lookups.contains(&by_clave) {
                lookups.push(by_clave);
            }
        }
        lookups
    }
}

/// One query the store answers with roll rows of the process's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Lookup {
    /// The row whose `cic` is this (at most one: CICs are unique in a roll).
    ByCic(String),
    /// Every row of the citizen with this clave de elector: current and
    /// `reemplazada` credentials (served by the `(clave_elector, issue_number)` index).
    ByClave(String),
}

/// The second round of lookups, once the rows of [`CapturedKey::lookups`] are in
/// `found`: every row of each citizen found by CIC, so that the citizen's current
/// credential (their standing and domicile) is known when an old one was captured.
pub fn citizen_lookups(key: &CapturedKey, found: &[RollRecord]) -> Vec<Lookup> {
    let done = key.lookups();
    let mut claves: Vec<&str> = found.iter().map(|r| r.clave_elector.as_str()).collect();
    claves.sort_unstable();
    claves.dedup();
    claves
        .into_iter()
        .map(|c| Lookup::ByClave(c.to_owned()))
        .filter(|l| !done.contains(l))
        .collect()
}

/// Where a captured support stands against the roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollMatch<'r> {
    /// No row is the captured credential, and no citizen has the captured clave de elector.
    NotFound,
    /// `record` is the captured credential. `current` is its citizen's current row
    /// (the one that is not `reemplazada`): `record` itself unless `record` is
    /// `reemplazada`.
    Found {
        record: &'r RollRecord,
        current: &'r RollRecord,
    },
    /// The captured clave de elector names a citizen on the roll, but the captured
    /// credential is none of their rows (an emisión, OCR, CIC or identificador the
    /// roll does not give them): "no corresponde a la credencial actual".
    OtherCredential { current: &'r RollRecord },
}

impl<'r> RollMatch<'r> {
    /// The citizen's current row: their standing, domicile and identity.
    pub fn citizen(&self) -> Option<&'r RollRecord> {
        match self {
            Self::NotFound => None,
            Self::Found { current, .. } | Self::OtherCredential { current } => Some(current),
        }
    }

    /// The citizen's identity for duplicates (DOMAIN §6): the roll's clave de
    /// elector, never the typed name.
    pub fn clave_elector(&self) -> Option<&'r str> {
        self.citizen().map(|r| r.clave_elector.as_str())
    }
}

/// A total order on rows, so that choices among candidates never depend on the
/// order the store returned them in (a valid roll leaves no ties to break).
fn row_order(a: &RollRecord, b: &RollRecord) -> Ordering {
    (&a.clave_elector, a.issue_number)
        .cmp(&(&b.clave_elector, b.issue_number))
        .then_with(|| a.to_fields().cmp(&b.to_fields()))
}

/// The citizen's current row among `candidates`: the one that is not
/// `reemplazada`; failing that (an imported roll always has one) the one with the
/// highest emisión, which then is `reemplazada`.
fn current_row<'r>(candidates: &'r [RollRecord], clave: &str) -> Option<&'r RollRecord> {
    candidates
        .iter()
        .filter(|r| r.clave_elector == clave)
        .max_by(|a, b| {
            let current = |r: &RollRecord| r.status != RollStatus::Reemplazada;
            current(a).cmp(&current(b)).then_with(|| row_order(a, b))
        })
}

/// Finds the captured credential and its citizen among `candidates`, the rows
/// the store fetched for [`CapturedKey::lookups`] and [`citizen_lookups`] (extra
/// rows do no harm; the order of rows does not matter).
///
/// The credential is found only when every identifier of its model's key
/// matches one row: a CIC on the roll with another identificador or OCR is not
/// that credential. When the credential is not found, the captured clave de
/// elector decides between a citizen on the roll with another credential
/// ([`RollMatch::OtherCredential`]) and [`RollMatch::NotFound`].
pub fn match_record<'r>(key: &CapturedKey, candidates: &'r [RollRecord]) -> RollMatch<'r> {
    let credential = candidates
        .iter()
        .filter(|r| key.credential.matches(r))
        .min_by(|a, b| row_order(a, b));
    if let Some(record) = credential {
        let current = if record.status == RollStatus::Reemplazada {
            current_row(candidates, &record.clave_elector).unwrap_or(record)
        } else {
            record
        };
        return RollMatch::Found { record, current };
    }
    key.clave_elector
        .as_deref()
        .and_then(|clave| current_row(candidates, clave))
        .map_or(RollMatch::NotFound, |current| RollMatch::OtherCredential {
            current,
        })
}

/// The situación registral of one support before duplicates are resolved
/// (DOMAIN §5.A, §8). When several reasons apply, the first in this order is
/// given (docs/verification.md explains why):
///
/// 1. [`RollOutcome::NotFound`];
/// 2. the citizen's standing, from their current row: [`RollOutcome::Removed`]
///    (baja, with its cause) or [`RollOutcome::RegisterOnly`] (padrón);
/// 3. [`RollOutcome::OutOfTerritory`]: the current row's (entidad, sección) is
///    not in the office's territory (`in_territory(state, section)`);
/// 4. [`RollOutcome::SupersededCredential`]: the captured credential is not the
///    citizen's current one;
/// 5. [`RollOutcome::PaperNotAllowed`]: `paper` and the citizen's (entidad,
///    municipio) is not where paper is allowed (`paper_allowed(state, municipality)`);
/// 6. [`RollOutcome::Valid`], which [`resolve_duplicates`] may still turn into a
///    duplicate.
///
/// A `baja` row without a cause cannot come from a roll file (`parse_row`
/// refuses it); should one be given, the support is [`RollOutcome::RegisterOnly`]:
/// not on the Lista Nominal, with no cause to name.
pub fn preliminary_outcome(
    matched: &RollMatch<'_>,
    in_territory: impl Fn(u8, u16) -> bool,
    paper: bool,
    paper_allowed: impl Fn(u8, u16) -> bool,
) -> RollOutcome {
    let (credential_is_current, current) = match matched {
        RollMatch::NotFound => return RollOutcome::NotFound,
        RollMatch::Found { record, current } => {
            (record.status != RollStatus::Reemplazada, *current)
        }
        RollMatch::OtherCredential { current } => (false, *current),
    };
    match (current.status, current.removal_cause) {
        (RollStatus::Baja, Some(cause)) => return RollOutcome::Removed(cause),
        (RollStatus::Baja, None) | (RollStatus::Padron, _) => return RollOutcome::RegisterOnly,
        // No current row known for the citizen: their standing and domicile are
        // unknown, the captured credential is in any case not current.
        (RollStatus::Reemplazada, _) => return RollOutcome::SupersededCredential,
        (RollStatus::ListaNominal, _) => {}
    }
    if !in_territory(current.state, current.section) {
        return RollOutcome::OutOfTerritory;
    }
    if !credential_is_current {
        return RollOutcome::SupersededCredential;
    }
    if paper && !paper_allowed(current.state, current.municipality) {
        return RollOutcome::PaperNotAllowed;
    }
    RollOutcome::Valid
}

/// One received support, as duplicate resolution sees it. `A`, `O` and `C` are
/// whatever identifies an aspirant, an office and a citizen (for the citizen:
/// the clave de elector of the matched rows, [`RollMatch::clave_elector`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportForDuplicates<A, O, C> {
    /// Reception order, assigned at reception, unique in the process.
    pub sequence: u64,
    pub aspirant: A,
    pub office: O,
    /// `None` when no citizen was found.
    pub citizen: Option<C>,
    /// The outcome from [`preliminary_outcome`].
    pub preliminary: RollOutcome,
}

/// The outcome of one support once duplicates are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub outcome: RollOutcome,
    /// For a duplicate: the `sequence` of the support of the same citizen for the
    /// same office that counts.
    pub duplicate_of: Option<u64>,
}

/// Applies DOMAIN §6 to the supports of a process; the result is in input order.
///
/// Only supports whose preliminary outcome is [`RollOutcome::Valid`] take part:
/// a support rejected for another reason neither counts nor blocks. Among the
/// otherwise valid supports of one citizen for one office, the first received
/// (lowest `sequence`) counts, whichever aspirant it went to; each later one is
/// [`RollOutcome::DuplicateSameAspirant`] when it went to the aspirant of the
/// support that counts, [`RollOutcome::DuplicateOtherAspirant`] otherwise.
/// Supports for different offices never conflict. Any other outcome is kept.
///
/// The result depends only on the set of supports: supports are ordered by
/// `sequence` here, never by their position. Groups are independent, so the
/// supports of one (citizen, office) may be resolved alone with the same
/// result. `sequence` must be unique (ties are broken by aspirant). An otherwise
/// valid support with no citizen cannot be compared and stays valid.
pub fn resolve_duplicates<A: Ord, O: Ord, C: Ord>(
    supports: &[SupportForDuplicates<A, O, C>],
) -> Vec<Resolved> {
    let mut resolved: Vec<Resolved> = supports
        .iter()
        .map(|s| Resolved {
            outcome: s.preliminary,
            duplicate_of: None,
        })
        .collect();
    let mut taking_part: Vec<(&SupportForDuplicates<A, O, C>, &C, usize)> = supports
        .iter()
        .enumerate()
        .filter(|(_, s)| s.preliminary == RollOutcome::Valid)
        .filter_map(|(i, s)| s.citizen.as_ref().map(|c| (s, c, i)))
        .collect();
    taking_part
        .sort_by(|(a, ..), (b, ..)| (a.sequence, &a.aspirant).cmp(&(b.sequence, &b.aspirant)));
    let mut counted: BTreeMap<(&O, &C), &SupportForDuplicates<A, O, C>> = BTreeMap::new();
    for (support, citizen, i) in taking_part {
        match counted.entry((&support.office, citizen)) {
            Entry::Vacant(slot) => {
                slot.insert(support);
            }
            Entry::Occupied(first) => {
                let first = *first.get();
                resolved[i] = Resolved {
                    outcome: if first.aspirant == support.aspirant {
                        RollOutcome::DuplicateSameAspirant
                    } else {
                        RollOutcome::DuplicateOtherAspirant
                    },
                    duplicate_of: Some(first.sequence),
                };
            }
        }
    }
    resolved
}

#[cfg(test)]
mod tests;
