//! The outcome catalogue of a support's roll check (situación registral, DOMAIN §5.A)
//! and the causes of removal from the register (causas de baja).

use serde::{Deserialize, Serialize};

/// Why a registration was removed from the padrón (causa de baja). The official
/// list has 12 causes and only these are public: adding one is adding a variant
/// with a new stable code; codes are never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalCause {
    /// Defunción.
    Death,
    /// Suspensión de derechos políticos.
    SuspendedRights,
    /// Duplicado en padrón.
    DuplicateRegistration,
    /// Usurpación de identidad.
    IdentityTheft,
    /// Determinación judicial.
    CourtOrder,
    /// Datos personales irregulares.
    IrregularPersonalData,
    /// Domicilio irregular.
    IrregularAddress,
    /// Pérdida de vigencia.
    ExpiredCredential,
    /// Pérdida de la nacionalidad o ciudadanía.
    LostCitizenship,
    /// Cancelación de trámite.
    CancelledApplication,
}

impl RemovalCause {
    pub const ALL: [RemovalCause; 10] = [
        Self::Death,
        Self::SuspendedRights,
        Self::DuplicateRegistration,
        Self::IdentityTheft,
        Self::CourtOrder,
        Self::IrregularPersonalData,
        Self::IrregularAddress,
        Self::ExpiredCredential,
        Self::LostCitizenship,
        Self::CancelledApplication,
    ];

    /// The code used in roll files (`causa_baja`), Spanish like the file's other values.
    pub fn code(self) -> &'static str {
        match self {
            Self::Death => "defuncion",
            Self::SuspendedRights => "suspension_derechos",
            Self::DuplicateRegistration => "duplicado",
            Self::IdentityTheft => "usurpacion_identidad",
            Self::CourtOrder => "determinacion_judicial",
            Self::IrregularPersonalData => "datos_irregulares",
            Self::IrregularAddress => "domicilio_irregular",
            Self::ExpiredCredential => "perdida_vigencia",
            Self::LostCitizenship => "perdida_nacionalidad",
            Self::CancelledApplication => "cancelacion_tramite",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Spanish label for people.
    pub fn label_es(self) -> &'static str {
        match self {
            Self::Death => "Defunción",
            Self::SuspendedRights => "Suspensión de derechos políticos",
            Self::DuplicateRegistration => "Duplicado en padrón",
            Self::IdentityTheft => "Usurpación de identidad",
            Self::CourtOrder => "Determinación judicial",
            Self::IrregularPersonalData => "Datos personales irregulares",
            Self::IrregularAddress => "Domicilio irregular",
            Self::ExpiredCredential => "Pérdida de vigencia",
            Self::LostCitizenship => "Pérdida de la nacionalidad o ciudadanía",
            Self::CancelledApplication => "Cancelación de trámite",
        }
    }
}

/// The roll-check outcome of one support (situación registral), before human review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "cause", rename_all = "snake_case")]
pub enum RollOutcome {
    /// En Lista Nominal: found, current credential, in territory, first of its citizen.
    Valid,
    /// No encontrado.
    NotFound,
    /// En padrón, no en Lista Nominal.
    RegisterOnly,
    /// Baja del padrón, with its cause.
    Removed(RemovalCause),
    /// Credencial no vigente / no corresponde a la credencial actual.
    SupersededCredential,
    /// Fuera del ámbito geográfico.
    OutOfTerritory,
    /// Fuera del régimen de excepción (paper support where paper is not allowed).
    PaperNotAllowed,
    /// The same citizen already supports the same aspirant (an earlier reception counts).
    DuplicateSameAspirant,
    /// The same citizen already supports another aspirant for the same office, received earlier.
    DuplicateOtherAspirant,
    /// Found on the roll, but the Mesa de Control recorded an inconsistency that
    /// invalidates it (DOMAIN §5.B). Such a support neither counts nor blocks a later
    /// support of the same citizen.
    ReviewInconsistent,
}

impl RollOutcome {
    /// Stable code, e.g. `removed:defuncion`.
    pub fn code(self) -> String {
        match self {
            Self::Valid => "valid".into(),
            Self::NotFound => "not_found".into(),
            Self::RegisterOnly => "register_only".into(),
            Self::Removed(cause) => format!("removed:{}", cause.code()),
            Self::SupersededCredential => "superseded_credential".into(),
            Self::OutOfTerritory => "out_of_territory".into(),
            Self::PaperNotAllowed => "paper_not_allowed".into(),
            Self::DuplicateSameAspirant => "duplicate_same_aspirant".into(),
            Self::DuplicateOtherAspirant => "duplicate_other_aspirant".into(),
            Self::ReviewInconsistent => "review_inconsistent".into(),
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        if let Some(cause) = code.strip_prefix("removed:") {
            return RemovalCause::from_code(cause).map(Self::Removed);
        }
        Some(match code {
            "valid" => Self::Valid,
            "not_found" => Self::NotFound,
            "register_only" => Self::RegisterOnly,
            "superseded_credential" => Self::SupersededCredential,
            "out_of_territory" => Self::OutOfTerritory,
            "paper_not_allowed" => Self::PaperNotAllowed,
            "duplicate_same_aspirant" => Self::DuplicateSameAspirant,
            "duplicate_other_aspirant" => Self::DuplicateOtherAspirant,
            "review_inconsistent" => Self::ReviewInconsistent,
            _ => return None,
        })
    }

    pub fn counts(self) -> bool {
        self == Self::Valid
    }

    /// Spanish label, as the law names it.
    pub fn label_es(self) -> String {
        match self {
            Self::Valid => "En Lista Nominal".into(),
            Self::NotFound => "No encontrado".into(),
            Self::RegisterOnly => "En padrón, no en Lista Nominal".into(),
            Self::Removed(cause) => format!("Baja del padrón: {}", cause.label_es()),
            Self::SupersededCredential => {
                "Credencial no vigente (no corresponde a la credencial actual)".into()
            }
            Self::OutOfTerritory => "Fuera del ámbito geográfico".into(),
            Self::PaperNotAllowed => "Fuera del régimen de excepción".into(),
            Self::DuplicateSameAspirant => "Duplicado (mismo aspirante)".into(),
            Self::DuplicateOtherAspirant => "Duplicado (apoyo previo a otro aspirante)".into(),
            Self::ReviewInconsistent => "Con inconsistencias (Mesa de Control)".into(),
        }
    }

    /// Every outcome, causes expanded.
    pub fn all() -> Vec<Self> {
        let mut all = vec![Self::Valid, Self::NotFound, Self::RegisterOnly];
        all.extend(RemovalCause::ALL.map(Self::Removed));
        all.extend([
            Self::SupersededCredential,
            Self::OutOfTerritory,
            Self::PaperNotAllowed,
            Self::DuplicateSameAspirant,
            Self::DuplicateOtherAspirant,
            Self::ReviewInconsistent,
        ]);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let all = RollOutcome::all();
        let mut codes: Vec<String> = all.iter().map(|o| o.code()).collect();
        for outcome in &all {
            assert_eq!(RollOutcome::from_code(&outcome.code()), Some(*outcome));
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(RollOutcome::from_code("removed:nope"), None);
        assert_eq!(RollOutcome::from_code("nope"), None);
        assert!(RollOutcome::Valid.counts());
        assert!(!RollOutcome::Removed(RemovalCause::Death).counts());
    }
}
