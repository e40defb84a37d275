//! One row of a Lista Nominal / padrón file (docs/roll-format.md): its columns,
//! and the validation every row passes before it is stored.

use serde::Serialize;

use crate::catalog::{CredentialModel, RollKey, Sex};
use crate::check::Checks;
use crate::clave::check_clave;
use crate::curp::check_curp;
use crate::date::Date;
use crate::names;
use crate::outcome::RemovalCause;

/// Column names, in file order.
pub const COLUMNS: [&str; 18] = [
    "clave_elector",
    "curp",
    "nombre",
    "apellido_paterno",
    "apellido_materno",
    "sexo",
    "fecha_nacimiento",
    "entidad",
    "municipio",
    "seccion",
    "modelo",
    "cic",
    "ocr",
    "identificador_ciudadano",
    "emision",
    "vigencia",
    "situacion",
    "causa_baja",
];

/// Registration status of one credential row (situación).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollStatus {
    /// On the Lista Nominal.
    ListaNominal,
    /// Registered (padrón) but not on the Lista Nominal.
    Padron,
    /// Removed from the padrón, with a cause.
    Baja,
    /// A superseded credential: the citizen's current one is another row.
    Reemplazada,
}

impl RollStatus {
    pub const ALL: [RollStatus; 4] = [
        Self::ListaNominal,
        Self::Padron,
        Self::Baja,
        Self::Reemplazada,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::ListaNominal => "lista_nominal",
            Self::Padron => "padron",
            Self::Baja => "baja",
            Self::Reemplazada => "reemplazada",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// One credential ever issued to a citizen, as the roll file gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollRecord {
    /// The citizen's identity across reissues.
    pub clave_elector: String,
    pub curp: Option<String>,
    pub given_names: String,
    pub paternal_surname: String,
    pub maternal_surname: String,
    pub sex: Sex,
    pub birth_date: Date,
    /// Entidad, 1–32.
    pub state: u8,
    /// Municipio, INE numbering.
    pub municipality: u16,
    pub section: u16,
    pub model: CredentialModel,
    pub cic: Option<String>,
    pub ocr: Option<String>,
    pub citizen_id: Option<String>,
    pub issue_number: u8,
    /// Vigencia: the credential is valid through 31 December of this year.
    pub expiry_year: u16,
    pub status: RollStatus,
    pub removal_cause: Option<RemovalCause>,
}

/// What is wrong with one column of one row (English: operators read it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    pub problem: String,
}

impl FieldError {
    fn new(column: &'static str, problem: impl Into<String>) -> Self {
        Self {
            column,
            problem: problem.into(),
        }
    }
}

fn digits(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

fn number<T: TryFrom<u32>>(
    column: &'static str,
    value: &str,
    max_digits: usize,
    range: std::ops::RangeInclusive<u32>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let parsed = digits(value, 1, max_digits)
        .then(|| value.parse::<u32>().ok())
        .flatten()
        .filter(|n| range.contains(n))
        .and_then(|n| T::try_from(n).ok());
    if parsed.is_none() {
        errors.push(FieldError::new(
            column,
            format!(
                "expected a whole number from {} to {}, found {value:?}",
                range.start(),
                range.end()
            ),
        ));
    }
    parsed
}

fn optional(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

fn name(column: &'static str, value: &str, errors: &mut Vec<FieldError>) -> String {
    match names::normalize(value) {
        Ok(normalized) => normalized,
        Err(c) => {
            errors.push(FieldError::new(
                column,
                format!("character {c:?} cannot be part of a name"),
            ));
            String::new()
        }
    }
}

/// Validates one row (fields in [`COLUMNS`] order, already unquoted). Returns every
/// problem found in the row, so a file can be fixed in one pass.
pub fn parse_row(fields: &[&str]) -> Result<RollRecord, Vec<FieldError>> {
    let mut errors = Vec::new();
    if fields.len() != COLUMNS.len() {
        return Err(vec![FieldError::new(
            COLUMNS[fields.len().min(COLUMNS.len() - 1)],
            if fields.len() < COLUMNS.len() {
                format!(
                    "the row ends before this column: expected {} columns, found {} (a truncated line?)",
                    COLUMNS.len(),
                    fields.len()
                )
            } else {
                format!(
                    "expected {} columns, found {} (a comma inside a value?)",
                    COLUMNS.len(),
                    fields.len()
                )
            },
        )]);
    }
    let f = |i: usize| fields[i].trim();

    let mut clave_checks = Checks::new();
    let clave = check_clave(f(0), &mut clave_checks);
    if let Some(failed) = clave_checks.as_slice().iter().find(|c| c.is_blocking()) {
        errors.push(FieldError::new(
            "clave_elector",
            format!(
                "invalid clave de elector {:?} ({})",
                f(0),
                failed.code.as_str()
            ),
        ));
    }

    let curp = optional(f(1)).map(str::to_uppercase);
    let mut curp_checks = Checks::new();
    let curp_info = curp
        .as_deref()
        .and_then(|c| check_curp(c, &mut curp_checks));
    if let Some(failed) = curp_checks.as_slice().iter().find(|c| c.is_blocking()) {
        errors.push(FieldError::new(
            "curp",
            format!("invalid CURP {:?} ({})", f(1), failed.code.as_str()),
        ));
    }

    let given_names = name("nombre", f(2), &mut errors);
    let paternal_surname = name("apellido_paterno", f(3), &mut errors);
    let maternal_surname = name("apellido_materno", f(4), &mut errors);
    if given_names.is_empty() && fields[2].trim().is_empty() {
        errors.push(FieldError::new("nombre", "the given name is empty"));
    }
    if paternal_surname.is_empty()
        && (maternal_surname.is_empty() || maternal_surname == names::NO_SURNAME)
    {
        errors.push(FieldError::new(
            "apellido_paterno",
            "a citizen needs at least one surname",
        ));
    }

    let sex = match f(5) {
        "H" => Some(Sex::H),
        "M" => Some(Sex::M),
        other => {
            errors.push(FieldError::new(
                "sexo",
                format!("expected H or M, found {other:?}"),
            ));
            None
        }
    };
    let birth_date = match Date::parse_iso(f(6)) {
        Ok(date) => Some(date),
        Err(e) => {
            errors.push(FieldError::new("fecha_nacimiento", e.to_string()));
            None
        }
    };
    if let (Some(clave), Some(date)) = (&clave, birth_date) {
        if !clave.birth_date.matches(date) {
            errors.push(FieldError::new(
                "fecha_nacimiento",
                format!(
                    "{date} does not match the clave de elector's date {}",
                    &clave.clave[6..12]
                ),
            ));
        }
    }
    if let (Some(clave), Some(sex)) = (&clave, sex) {
        if clave.sex != sex {
            errors.push(FieldError::new(
                "sexo",
                "does not match the clave de elector's sex letter",
            ));
        }
    }
    if let (Some(info), Some(date), Some(sex)) = (&curp_info, birth_date, sex) {
        if info.birth_date != date || info.sex != sex {
            errors.push(FieldError::new(
                "curp",
                "birth date or sex differs from fecha_nacimiento / sexo",
            ));
        }
    }

    let state = number::<u8>("entidad", f(7), 2, 1..=32, &mut errors);
    let municipality = number::<u16>("municipio", f(8), 3, 1..=999, &mut errors);
    let section = number::<u16>("seccion", f(9), 4, 1..=9999, &mut errors);
    let model = CredentialModel::parse(f(10));
    if model.is_none() {
        errors.push(FieldError::new(
            "modelo",
            format!("expected a model letter A to H, found {:?}", f(10)),
        ));
    }

    let cic = optional(f(11)).map(str::to_owned);
    let ocr = optional(f(12)).map(str::to_owned);
    let citizen_id = optional(f(13)).map(str::to_owned);
    if cic.as_deref().is_some_and(|v| !digits(v, 9, 9)) {
        errors.push(FieldError::new(
            "cic",
            format!("expected 9 digits, found {:?}", f(11)),
        ));
    }
    if ocr.as_deref().is_some_and(|v| !digits(v, 13, 13)) {
        errors.push(FieldError::new(
            "ocr",
            format!("expected 13 digits, found {:?}", f(12)),
        ));
    }
    if citizen_id.as_deref().is_some_and(|v| !digits(v, 9, 9)) {
        errors.push(FieldError::new(
            "identificador_ciudadano",
            format!("expected 9 digits, found {:?}", f(13)),
        ));
    }
    if let (Some(ocr), Some(id)) = (&ocr, &citizen_id) {
        if ocr.len() == 13 && !ocr.ends_with(id.as_str()) {
            errors.push(FieldError::new(
                "identificador_ciudadano",
                "must be the last 9 digits of the ocr",
            ));
        }
    }
    if let Some(model) = model {
        let missing: &[(&'static str, bool)] = match model.roll_key() {
            RollKey::ClaveIssueOcr => &[("ocr", ocr.is_none())],
            RollKey::CicOcr => &[("cic", cic.is_none()), ("ocr", ocr.is_none())],
            RollKey::CicCitizenId => &[
                ("cic", cic.is_none()),
                ("identificador_ciudadano", citizen_id.is_none()),
            ],
        };
        for (column, is_missing) in missing {
            if *is_missing {
                errors.push(FieldError::new(
                    column,
                    format!("required for a model {model} credential"),
                ));
            }
        }
    }

    let issue_number = number::<u8>("emision", f(14), 2, 0..=99, &mut errors);
    let expiry_year = number::<u16>("vigencia", f(15), 4, 1990..=2099, &mut errors);
    let status = RollStatus::from_code(f(16));
    if status.is_none() {
        errors.push(FieldError::new(
            "situacion",
            format!(
                "expected lista_nominal, padron, baja or reemplazada, found {:?}",
                f(16)
            ),
        ));
    }
    let removal_cause = match (status, optional(f(17))) {
        (Some(RollStatus::Baja), Some(code)) => {
            let cause = RemovalCause::from_code(code);
            if cause.is_none() {
                errors.push(FieldError::new(
                    "causa_baja",
                    format!(
                        "unknown cause {code:?}; known: {}",
                        RemovalCause::ALL.map(RemovalCause::code).join(", ")
                    ),
                ));
            }
            cause
        }
        (Some(RollStatus::Baja), None) => {
            errors.push(FieldError::new(
                "causa_baja",
                "required when situacion is baja",
            ));
            None
        }
        (_, Some(_)) => {
            errors.push(FieldError::new(
                "causa_baja",
                "must be empty unless situacion is baja",
            ));
            None
        }
        (_, None) => None,
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    match (
        clave,
        sex,
        birth_date,
        state,
        municipality,
        section,
        model,
        issue_number,
        expiry_year,
        status,
    ) {
        (
            Some(clave),
            Some(sex),
            Some(birth_date),
            Some(state),
            Some(municipality),
            Some(section),
            Some(model),
            Some(issue_number),
            Some(expiry_year),
            Some(status),
        ) => Ok(RollRecord {
            clave_elector: clave.clave,
            curp,
            given_names,
            paternal_surname,
            maternal_surname,
            sex,
            birth_date,
            state,
            municipality,
            section,
            model,
            cic,
            ocr,
            citizen_id,
            issue_number,
            expiry_year,
            status,
            removal_cause,
        }),
        // Every None above pushed an error.
        _ => Err(vec![FieldError::new("clave_elector", "invalid row")]),
    }
}

impl RollRecord {
    /// The row's fields in [`COLUMNS`] order, as written to a roll file.
    pub fn to_fields(&self) -> [String; 18] {
        [
            self.clave_elector.clone(),
            self.curp.clone().unwrap_or_default(),
            self.given_names.clone(),
            self.paternal_surname.clone(),
            self.maternal_surname.clone(),
            self.sex.letter().to_string(),
            self.birth_date.to_string(),
            self.state.to_string(),
            self.municipality.to_string(),
            self.section.to_string(),
            self.model.to_string(),
            self.cic.clone().unwrap_or_default(),
            self.ocr.clone().unwrap_or_default(),
            self.citizen_id.clone().unwrap_or_default(),
            format!("{:02}", self.issue_number),
            self.expiry_year.to_string(),
            self.status.code().to_owned(),
            self.removal_cause
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Vec<String> {
        "PRLPGD85010110M100,PELM850101MDGRPR00,MARIA GUADALUPE,PEREZ,LOPEZ,M,1985-01-01,10,5,405,H,123456789,0405123456789,123456789,02,2035,lista_nominal,"
            .split(',')
            .map(str::to_owned)
            .collect()
    }

    fn parse(fields: &[String]) -> Result<RollRecord, Vec<FieldError>> {
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        parse_row(&refs)
    }

    fn with(column: &str, value: &str) -> Vec<String> {
        let mut fields = row();
        let i = COLUMNS
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("{column}"));
        fields[i] = value.to_owned();
        fields
    }

    fn error_columns(fields: &[String]) -> Vec<&'static str> {
        parse(fields)
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.column)
            .collect()
    }

    #[test]
    fn a_good_row_round_trips() {
        let record = parse(&row()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(record.section, 405);
        assert_eq!(record.status, RollStatus::ListaNominal);
        assert_eq!(record.to_fields().to_vec(), row());
    }

    #[test]
    fn each_bad_column_is_named() {
        assert_eq!(
            error_columns(&with("clave_elector", "PRLPGD85013210M100")),
            ["clave_elector"]
        );
        assert_eq!(error_columns(&with("curp", "PELM850101MDGRPR01")), ["curp"]);
        assert_eq!(error_columns(&with("sexo", "X")), ["sexo"]);
        assert_eq!(
            error_columns(&with("fecha_nacimiento", "1985-01-02")),
            ["fecha_nacimiento", "curp"]
        );
        assert_eq!(error_columns(&with("entidad", "33")), ["entidad"]);
        assert_eq!(error_columns(&with("seccion", "0")), ["seccion"]);
        assert_eq!(error_columns(&with("modelo", "Z")), ["modelo"]);
        assert_eq!(error_columns(&with("cic", "")), ["cic"]);
        assert_eq!(
            error_columns(&with("identificador_ciudadano", "123456780")),
            ["identificador_ciudadano"]
        );
        assert_eq!(error_columns(&with("situacion", "activo")), ["situacion"]);
        assert_eq!(
            error_columns(&with("causa_baja", "defuncion")),
            ["causa_baja"]
        );
        assert_eq!(error_columns(&with("situacion", "baja")), ["causa_baja"]);
        assert_eq!(error_columns(&with("nombre", "M4RIA")), ["nombre"]);
        let mut short = row();
        short.pop();
        assert_eq!(error_columns(&short), ["causa_baja"]);
    }

    #[test]
    fn bajas_carry_a_known_cause() {
        let mut fields = with("situacion", "baja");
        fields[17] = "defuncion".into();
        let record = parse(&fields).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(record.removal_cause, Some(RemovalCause::Death));
        fields[17] = "mudanza".into();
        let errors = parse(&fields).err().unwrap_or_default();
        assert!(errors[0].problem.contains("known: defuncion"));
    }

    #[test]
    fn curp_may_be_absent_and_older_models_need_no_cic() {
        let mut fields = with("curp", "");
        fields[10] = "B".into();
        fields[11] = String::new();
        fields[13] = String::new();
        assert!(parse(&fields).is_ok());
    }
}
