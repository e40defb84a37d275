//! One captured credential checked as a whole: each identifier on its own, then
//! their consistency, the way a field collector must check before sending.

use serde::{Deserialize, Deserializer, Serialize};

use crate::catalog::{CredentialModel, RollKey, Sex};
use crate::check::{Check, CheckCode, Checks};
use crate::clave::{ClaveInfo, check_clave, check_clave_letters};
use crate::curp::{CurpInfo, check_curp};
use crate::date::{Date, ShortDate};
use crate::mrz::{MrzFields, check_mrz};
use crate::names::{self, NO_SURNAME};

/// The fields a collector captures from a credential (documented in `docs/credential-input.md`).
/// Every field is optional; text fields also accept numbers, which lose leading zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialInput {
    /// Credential model, `A`–`H`.
    #[serde(default, deserialize_with = "text")]
    pub model: Option<String>,
    /// The three MRZ lines, as one text or a list of three lines.
    #[serde(default, deserialize_with = "mrz_text")]
    pub mrz: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub cic: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub ocr: Option<String>,
    /// Identificador del ciudadano.
    #[serde(default, deserialize_with = "text")]
    pub citizen_id: Option<String>,
    /// Sección electoral.
    #[serde(default, deserialize_with = "text")]
    pub section: Option<String>,
    /// Número de emisión.
    #[serde(default, deserialize_with = "text")]
    pub issue_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub clave_elector: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub curp: Option<String>,
    /// `YYYY-MM-DD` or `dd/mm/aaaa`.
    #[serde(default, deserialize_with = "text")]
    pub birth_date: Option<String>,
    /// `H` or `M`.
    #[serde(default, deserialize_with = "text")]
    pub sex: Option<String>,
    /// `YYYY-MM-DD`, `dd/mm/aaaa`, or the year printed as VIGENCIA.
    #[serde(default, deserialize_with = "text")]
    pub expiry_date: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub paternal_surname: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub maternal_surname: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub given_names: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(u64),
}

/// Text, or a number written as text; blank text counts as absent.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<TextOrNumber>::deserialize(deserializer)?;
    Ok(match value {
        Some(TextOrNumber::Text(s)) if s.trim().is_empty() => None,
        Some(TextOrNumber::Text(s)) => Some(s),
        Some(TextOrNumber::Number(n)) => Some(n.to_string()),
        None => None,
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MrzShape {
    Text(String),
    Lines(Vec<String>),
}

fn mrz_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<MrzShape>::deserialize(deserializer)? {
        Some(MrzShape::Text(s)) if s.trim().is_empty() => None,
        Some(MrzShape::Text(s)) => Some(s),
        Some(MrzShape::Lines(lines)) => Some(lines.join("\n")),
        None => None,
    })
}

/// The answer to "can this credential be sent?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CredentialReport {
    /// No error-severity check failed.
    pub valid: bool,
    /// The date used for ages and expiry.
    pub reference_date: Date,
    pub checks: Vec<Check>,
    pub fields: ReportFields,
}

/// The credential's data as best known: typed values where they are well formed,
/// otherwise what the MRZ, CURP or clave say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<CredentialModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clave_elector: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surnames: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_names: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names_truncated: Option<bool>,
    /// The three normalised MRZ lines, when an MRZ was given and readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<Vec<String>>,
}

/// Checks the three MRZ lines alone.
pub fn check_mrz_text(text: &str, reference: Date) -> CredentialReport {
    check_credential(
        &CredentialInput {
            mrz: Some(text.to_owned()),
            ..CredentialInput::default()
        },
        reference,
    )
}

/// Names split into their components, normalised.
#[derive(Clone, Debug, Default)]
struct Names {
    paternal: String,
    maternal: String,
    given: String,
}

impl Names {
    fn surnames(&self) -> String {
        [self.paternal.as_str(), self.maternal.as_str()]
            .iter()
            .filter(|s| !s.is_empty() && **s != NO_SURNAME)
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Everything read from the input, each value only when well formed.
#[derive(Default)]
struct Captured {
    model: Option<CredentialModel>,
    mrz: Option<MrzFields>,
    cic: Option<String>,
    ocr: Option<String>,
    citizen_id: Option<String>,
    section: Option<String>,
    issue_number: Option<String>,
    birth_date: Option<Date>,
    sex: Option<Sex>,
    expiry_date: Option<Date>,
    names: Option<Names>,
    clave: Option<ClaveInfo>,
    curp: Option<CurpInfo>,
    curp_text: Option<String>,
}

/// Checks every captured field and their consistency at `reference` (usually today).
pub fn check_credential(input: &CredentialInput, reference: Date) -> CredentialReport {
    let mut checks = Checks::new();
    let captured = read_fields(input, reference, &mut checks);
    check_consistency(&captured, reference, &mut checks);
    let fields = best_fields(&captured);
    CredentialReport {
        valid: checks.all_errors_pass(),
        reference_date: reference,
        checks: checks.into_vec(),
        fields,
    }
}

fn read_fields(input: &CredentialInput, reference: Date, checks: &mut Checks) -> Captured {
    let mut c = Captured::default();
    if let Some(model) = &input.model {
        c.model = CredentialModel::parse(model);
        checks.record(
            CheckCode::ModelFormat,
            c.model.is_some(),
            format!("Credencial modelo {}.", model.trim().to_uppercase()),
            format!(
                "El modelo de credencial «{}» no existe: es una letra de la A a la H.",
                model.trim()
            ),
        );
    }
    if let Some(text) = &input.mrz {
        c.mrz = check_mrz(text, reference, checks);
    }
    c.cic = digits_field(
        input.cic.as_deref(),
        9,
        9,
        CheckCode::CicFormat,
        "El CIC",
        checks,
    );
    c.ocr = digits_field(
        input.ocr.as_deref(),
        13,
        13,
        CheckCode::OcrFormat,
        "El OCR",
        checks,
    );
    c.citizen_id = digits_field(
        input.citizen_id.as_deref(),
        9,
        9,
        CheckCode::CitizenIdFormat,
        "El identificador del ciudadano",
        checks,
    );
    c.section = input.section.as_deref().and_then(|raw| {
        let value: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let number = (!value.is_empty() && value.len() <= 4 && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<u32>().unwrap_or(0))
            .filter(|n| *n > 0);
        checks.record(
            CheckCode::SectionFormat,
            number.is_some(),
            "La sección tiene el formato correcto.",
            format!("La sección «{value}» debe ser un número de 1 a 4 dígitos, de 0001 a 9999. Revísela en el frente de la credencial."),
        );
        number.map(|n| format!("{n:04}"))
    });
    c.issue_number = digits_field(
        input.issue_number.as_deref(),
        1,
        2,
        CheckCode::IssueNumberFormat,
        "El número de emisión",
        checks,
    )
    .map(|s| format!("{:0>2}", s));
    c.birth_date = date_field(
        input.birth_date.as_deref(),
        false,
        CheckCode::BirthDateFormat,
        "La fecha de nacimiento",
        checks,
    );
    c.expiry_date = date_field(
        input.expiry_date.as_deref(),
        true,
        CheckCode::ExpiryDateFormat,
        "La vigencia",
        checks,
    );
    if let Some(sex) = &input.sex {
        let letter = sex.trim().to_uppercase();
        c.sex = letter
            .chars()
            .next()
            .filter(|_| letter.len() == 1)
            .and_then(Sex::from_letter);
        checks.record(
            CheckCode::SexFormat,
            c.sex.is_some(),
            "Sexo válido.",
            format!(
                "El sexo debe ser H (hombre) o M (mujer) y se capturó «{}».",
                sex.trim()
            ),
        );
    }
    c.names = read_names(input, checks);
    if let Some(clave) = &input.clave_elector {
        c.clave = check_clave(clave, checks);
    }
    if let Some(curp) = &input.curp {
        c.curp = check_curp(curp, checks);
        c.curp_text = c.curp.as_ref().map(|_| curp.trim().to_uppercase());
    }
    c
}

fn digits_field(
    value: Option<&str>,
    min: usize,
    max: usize,
    code: CheckCode,
    label: &str,
    checks: &mut Checks,
) -> Option<String> {
    let value: String = value?.chars().filter(|c| !c.is_whitespace()).collect();
    let length = value.chars().count();
    let all_digits = value.chars().all(|c| c.is_ascii_digit());
    let size = if min == max {
        format!("{min}")
    } else {
        format!("de {min} a {max}")
    };
    let ok = all_digits && (min..=max).contains(&length);
    let problem = if !all_digits {
        let bad = value.chars().find(|c| !c.is_ascii_digit()).unwrap_or('?');
        format!("sólo lleva dígitos y tiene «{bad}»")
    } else {
        format!("lleva {size} dígitos y tiene {length}")
    };
    checks.record(
        code,
        ok,
        format!("{label} tiene el formato correcto."),
        format!("{label} {problem}. Revíselo en la credencial."),
    );
    ok.then_some(value)
}

fn date_field(
    value: Option<&str>,
    year_means_december: bool,
    code: CheckCode,
    label: &str,
    checks: &mut Checks,
) -> Option<Date> {
    let text = value?.trim();
    let parsed = parse_date(text).or_else(|| {
        let year: i32 = text
            .parse()
            .ok()
            .filter(|_| year_means_december && text.len() == 4)?;
        Date::new(year, 12, 31)
    });
    checks.record(
        code,
        parsed.is_some(),
        format!("{label} es una fecha válida."),
        format!(
            "{label} «{text}» no es una fecha real; escríbala como dd/mm/aaaa (por ejemplo 05/07/1980){}.",
            if year_means_december { " o sólo el año de vigencia" } else { "" }
        ),
    );
    parsed
}

/// `YYYY-MM-DD` or `dd/mm/aaaa`.
fn parse_date(text: &str) -> Option<Date> {
    if let Ok(date) = Date::parse_iso(text) {
        return Some(date);
    }
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        [d, m, y] if d.len() <= 2 && m.len() <= 2 && y.len() == 4 => {
            Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
        }
        _ => None,
    }
}

fn read_names(input: &CredentialInput, checks: &mut Checks) -> Option<Names> {
    let parts = [
        ("apellido paterno", &input.paternal_surname),
        ("apellido materno", &input.maternal_surname),
        ("nombre", &input.given_names),
    ];
    if parts.iter().all(|(_, v)| v.is_none()) {
        return None;
    }
    let mut normalized = Vec::with_capacity(3);
    let mut problems = Vec::new();
    for (label, value) in parts {
        match names::normalize(value.as_deref().unwrap_or("")) {
            Ok(n) => normalized.push(n),
            Err(c) => {
                problems.push(format!("el {label} tiene «{c}», que no va en un nombre"));
                normalized.push(String::new());
            }
        }
    }
    let names = Names {
        paternal: normalized[0].clone(),
        maternal: normalized[1].clone(),
        given: normalized[2].clone(),
    };
    if names.given.is_empty() {
        problems.push("falta el nombre (o nombres)".to_owned());
    }
    if names.paternal.is_empty() && (names.maternal.is_empty() || names.maternal == NO_SURNAME) {
        problems.push("falta al menos un apellido".to_owned());
    }
    let ok = checks.record(
        CheckCode::NamesFormat,
        problems.is_empty(),
        "El nombre está completo.",
        format!("Revise el nombre: {}.", problems.join("; ")),
    );
    ok.then_some(names)
}

/// Names from the MRZ when none were typed: the first surname word (with any
/// particles before it) as the paternal surname, the rest as the maternal.
fn names_from_mrz(mrz: &MrzFields) -> Option<Names> {
    if mrz.surnames.is_empty() || mrz.given_names.is_empty() || mrz.names_truncated {
        return None;
    }
    let split = mrz
        .surnames
        .iter()
        .position(|w| !names::PARTICLES.contains(&w.as_str()))
        .map_or(mrz.surnames.len(), |p| p + 1);
    Some(Names {
        paternal: mrz.surnames[..split].join(" "),
        maternal: mrz.surnames[split..].join(" "),
        given: mrz.given_names.join(" "),
    })
}

fn check_consistency(c: &Captured, reference: Date, checks: &mut Checks) {
    let mrz = c.mrz.as_ref();

    if let (Some(model), Some(_)) = (c.model, mrz) {
        checks.record(
            CheckCode::ModelMatchesMrz,
            model.has_mrz(),
            "El modelo de credencial lleva zona de lectura mecánica.",
            format!(
                "Se capturó una zona de lectura mecánica, pero las credenciales modelo {model} no la tienen (sólo D a H). Revise el modelo."
            ),
        );
    }

    check_required_identifiers(c, checks);

    // Birth date: full dates must be equal; the clave's YYMMDD must match them.
    let mut full_dates: Vec<(&str, Date)> = Vec::new();
    if let Some(d) = c.birth_date {
        full_dates.push(("capturada", d));
    }
    if let Some(d) = mrz.and_then(|m| m.birth_date) {
        full_dates.push(("zona de lectura mecánica", d));
    }
    if let Some(info) = &c.curp {
        full_dates.push(("CURP", info.birth_date));
    }
    let clave_date = c.clave.as_ref().map(|k| k.birth_date);
    let sources = full_dates.len() + usize::from(clave_date.is_some());
    if sources >= 2 {
        let first = full_dates.first().map(|(_, d)| *d);
        let agree = full_dates.iter().all(|(_, d)| Some(*d) == first)
            && match (clave_date, first) {
                (Some(short), Some(date)) => short.matches(date),
                _ => true,
            };
        let mut listed: Vec<String> = full_dates
            .iter()
            .map(|(source, d)| format!("{source} {}", d.to_es()))
            .collect();
        if let Some(short) = clave_date {
            listed.push(format!("clave de elector {}", short_es(short)));
        }
        checks.record(
            CheckCode::BirthDateConsistent,
            agree,
            "La fecha de nacimiento coincide en todos los datos.",
            format!(
                "La fecha de nacimiento no coincide: {}. Revise cada dato contra la credencial.",
                listed.join(", ")
            ),
        );
    }

    let sexes: Vec<(&str, Sex)> = [
        ("capturado", c.sex),
        ("zona de lectura mecánica", mrz.and_then(|m| m.sex)),
        ("clave de elector", c.clave.as_ref().map(|k| k.sex)),
        ("CURP", c.curp.as_ref().map(|k| k.sex)),
    ]
    .into_iter()
    .filter_map(|(source, sex)| sex.map(|s| (source, s)))
    .collect();
    if sexes.len() >= 2 {
        checks.record(
            CheckCode::SexConsistent,
            sexes.iter().all(|(_, s)| *s == sexes[0].1),
            "El sexo coincide en todos los datos.",
            format!(
                "El sexo no coincide: {}. Revise cada dato contra la credencial.",
                sexes
                    .iter()
                    .map(|(source, s)| format!("{source} {}", s.label_es()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }

    let ocr = c
        .ocr
        .as_deref()
        .or_else(|| mrz.and_then(|m| m.ocr.as_deref()));
    if let (Some(section), Some(ocr)) = (c.section.as_deref(), ocr) {
        checks.record(
            CheckCode::SectionConsistent,
            ocr.starts_with(section),
            "La sección coincide con el OCR.",
            format!(
                "La sección capturada es {section}, pero el OCR ({ocr}) empieza con {}: los primeros 4 dígitos del OCR son la sección. Revise ambos.",
                &ocr[..4]
            ),
        );
    }
    if let (Some(citizen_id), Some(ocr)) = (c.citizen_id.as_deref(), ocr) {
        checks.record(
            CheckCode::CitizenIdConsistent,
            ocr.ends_with(citizen_id),
            "El identificador del ciudadano coincide con el OCR.",
            format!(
                "El identificador capturado es {citizen_id}, pero el OCR ({ocr}) termina en {}: son los últimos 9 dígitos del OCR. Revise ambos.",
                &ocr[4..]
            ),
        );
    }

    if let Some(m) = mrz {
        check_mrz_agreement(c, m, checks);
    }

    if let (Some(curp), Some(clave)) = (&c.curp, &c.clave) {
        if let Some(curp_state) = curp.birth_state {
            checks.record(
                CheckCode::BirthStateConsistent,
                curp_state.number == clave.birth_state.number,
                "La entidad de nacimiento coincide en la CURP y la clave de elector.",
                format!(
                    "La CURP dice que nació en {} y la clave de elector en {}. Revise ambas.",
                    curp_state.name, clave.birth_state.name
                ),
            );
        }
    }

    let names = c.names.clone().or_else(|| mrz.and_then(names_from_mrz));
    if let (Some(clave), Some(names)) = (&c.clave, &names) {
        check_clave_letters(
            &clave.letters,
            &names.paternal,
            &names.maternal,
            &names.given,
            checks,
        );
    }

    let expiry = c.expiry_date.or_else(|| mrz.and_then(|m| m.expiry_date));
    if let Some(expiry) = expiry {
        checks.record(
            CheckCode::Validity,
            expiry >= reference,
            format!("La credencial está vigente (hasta el {}).", expiry.to_es()),
            format!(
                "La credencial venció el {} (vigencia {}). Una credencial vencida no sirve para dar apoyo: pida al ciudadano su credencial vigente.",
                expiry.to_es(),
                expiry.year()
            ),
        );
    }

    let birth = c
        .birth_date
        .or_else(|| mrz.and_then(|m| m.birth_date))
        .or_else(|| c.curp.as_ref().map(|k| k.birth_date));
    if let Some(birth) = birth {
        let age = birth.years_until(reference);
        checks.record(
            CheckCode::Age,
            (18..=120).contains(&age),
            format!("Edad: {age} años."),
            if age < 18 {
                format!("Con la fecha de nacimiento {} el ciudadano tiene {age} años: debe tener 18 cumplidos. Revise la fecha.", birth.to_es())
            } else {
                format!("Con la fecha de nacimiento {} el ciudadano tendría {age} años. Revise la fecha.", birth.to_es())
            },
        );
    }
}

fn short_es(short: ShortDate) -> String {
    format!("{:02}/{:02}/..{:02}", short.day, short.month, short.yy)
}

fn check_required_identifiers(c: &Captured, checks: &mut Checks) {
    let mrz = c.mrz.as_ref();
    let has_cic = c.cic.is_some() || mrz.is_some_and(|m| m.cic.is_some());
    let has_ocr = c.ocr.is_some() || mrz.is_some_and(|m| m.ocr.is_some());
    let has_citizen_id = c.citizen_id.is_some() || has_ocr;
    let has_clave = c.clave.is_some();
    let has_issue = c.issue_number.is_some() || mrz.is_some_and(|m| m.issue_number.is_some());

    let missing_for = |key: RollKey| -> Vec<&'static str> {
        let needed: &[(bool, &'static str)] = match key {
            RollKey::ClaveIssueOcr => &[
                (has_clave, "la clave de elector"),
                (has_issue, "el número de emisión"),
                (has_ocr, "el OCR"),
            ],
            RollKey::CicOcr => &[(has_cic, "el CIC"), (has_ocr, "el OCR")],
            RollKey::CicCitizenId => &[
                (has_cic, "el CIC"),
                (has_citizen_id, "el identificador del ciudadano"),
            ],
        };
        needed
            .iter()
            .filter(|(has, _)| !has)
            .map(|(_, name)| *name)
            .collect()
    };

    match c.model {
        Some(model) => {
            let missing = missing_for(model.roll_key());
            checks.record(
                CheckCode::RequiredIdentifiers,
                missing.is_empty(),
                format!("Están los datos que el modelo {model} necesita para buscar al ciudadano en la Lista Nominal."),
                format!(
                    "Para buscar en la Lista Nominal una credencial modelo {model} falta: {}. Captúrelos de la credencial.",
                    missing.join(", ")
                ),
            );
        }
        None => {
            let keys = [
                RollKey::CicCitizenId,
                RollKey::CicOcr,
                RollKey::ClaveIssueOcr,
            ];
            let complete = keys.iter().any(|k| missing_for(*k).is_empty());
            checks.record(
                CheckCode::RequiredIdentifiers,
                complete,
                "Están los datos necesarios para buscar al ciudadano en la Lista Nominal.",
                "Faltan datos para buscar al ciudadano en la Lista Nominal: capture el CIC y el identificador del ciudadano (modelos E a H), el CIC y el OCR (modelo D), o la clave de elector, el número de emisión y el OCR (modelos A a C).",
            );
        }
    }
}

fn check_mrz_agreement(c: &Captured, m: &MrzFields, checks: &mut Checks) {
    let mut differences = Vec::new();
    let mut compared = false;
    let mut compare = |label: &str, typed: Option<&str>, read: Option<&str>| {
        if let (Some(typed), Some(read)) = (typed, read) {
            compared = true;
            if typed != read {
                differences.push(format!(
                    "{label}: capturado {typed}, en la zona de lectura mecánica {read}"
                ));
            }
        }
    };
    compare("CIC", c.cic.as_deref(), m.cic.as_deref());
    compare("OCR", c.ocr.as_deref(), m.ocr.as_deref());
    compare("sección", c.section.as_deref(), m.section());
    compare("identificador", c.citizen_id.as_deref(), m.citizen_id());
    compare(
        "emisión",
        c.issue_number.as_deref(),
        m.issue_number.as_deref(),
    );
    let typed_expiry = c.expiry_date.map(|d| d.to_es());
    let read_expiry = m.expiry_date.map(|d| d.to_es());
    compare("vigencia", typed_expiry.as_deref(), read_expiry.as_deref());
    if compared {
        checks.record(
            CheckCode::MrzAgreement,
            differences.is_empty(),
            "Los datos capturados coinciden con la zona de lectura mecánica.",
            format!(
                "Los datos capturados no coinciden con el reverso de la credencial: {}. Corrija el que esté mal.",
                differences.join("; ")
            ),
        );
    }

    if let Some(names) = &c.names {
        if m.surnames.is_empty() {
            return;
        }
        let read = format!("{}<<{}", m.surnames.join("<"), m.given_names.join("<"));
        let read = read.trim_end_matches('<');
        let candidates = [
            names.surnames(),
            format!("{} {}", names.paternal, names.maternal)
                .trim()
                .to_owned(),
        ];
        let matches = candidates.iter().any(|surnames| {
            let full = format!(
                "{}<<{}",
                names::mrz_form(surnames),
                names::mrz_form(&names.given)
            );
            if m.names_truncated {
                full.starts_with(read)
            } else {
                full == read
            }
        });
        checks.record(
            CheckCode::NamesMatchMrz,
            matches,
            "El nombre capturado coincide con el de la zona de lectura mecánica.",
            format!(
                "El nombre capturado ({} {}) no coincide con el del reverso ({}). Revise cómo se escribió.",
                names.given,
                names.surnames(),
                read.replace("<<", ", ").replace('<', " ")
            ),
        );
    }
}

fn best_fields(c: &Captured) -> ReportFields {
    let mrz = c.mrz.as_ref();
    let ocr = c.ocr.clone().or_else(|| mrz.and_then(|m| m.ocr.clone()));
    let names = c.names.clone();
    ReportFields {
        model: c.model,
        cic: c.cic.clone().or_else(|| mrz.and_then(|m| m.cic.clone())),
        section: c
            .section
            .clone()
            .or_else(|| ocr.as_ref().map(|o| o[..4].to_owned())),
        citizen_id: c
            .citizen_id
            .clone()
            .or_else(|| ocr.as_ref().map(|o| o[4..].to_owned())),
        ocr,
        birth_date: c
            .birth_date
            .or_else(|| mrz.and_then(|m| m.birth_date))
            .or_else(|| c.curp.as_ref().map(|k| k.birth_date)),
        sex: c
            .sex
            .or_else(|| mrz.and_then(|m| m.sex))
            .or_else(|| c.curp.as_ref().map(|k| k.sex))
            .or_else(|| c.clave.as_ref().map(|k| k.sex)),
        expiry_date: c.expiry_date.or_else(|| mrz.and_then(|m| m.expiry_date)),
        issue_number: c
            .issue_number
            .clone()
            .or_else(|| mrz.and_then(|m| m.issue_number.clone())),
        clave_elector: c.clave.as_ref().map(|k| k.clave.clone()),
        curp: c.curp_text.clone(),
        surnames: names.as_ref().map(Names::surnames).or_else(|| {
            mrz.filter(|m| !m.surnames.is_empty())
                .map(|m| m.surnames.join(" "))
        }),
        given_names: names.as_ref().map(|n| n.given.clone()).or_else(|| {
            mrz.filter(|m| !m.given_names.is_empty())
                .map(|m| m.given_names.join(" "))
        }),
        names_truncated: mrz.map(|m| m.names_truncated),
        mrz: mrz.map(|m| m.lines.clone()),
    }
}

/// How the typed credential compares with the MRZ a reader took from a photo of the
/// card's back (the server's cross-check for the Mesa de Control).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageAgreement {
    /// Nothing typed contradicts the MRZ read from the image.
    pub agrees: bool,
    /// Each contradiction, with its Spanish message naming the fields.
    pub differences: Vec<Check>,
}

/// Compares what was typed (`input`) with `read_mrz`, the three lines read from the
/// image (whose check digits the caller has verified). A difference is a check that
/// fails once the read MRZ stands in for the typed one but passes with no MRZ at all —
/// so an inconsistency among the typed fields themselves is not blamed on the image —
/// plus a typed MRZ that is not the one read.
pub fn compare_with_read_mrz(
    input: &CredentialInput,
    read_mrz: &str,
    reference: Date,
) -> ImageAgreement {
    let without = CredentialInput {
        mrz: None,
        ..input.clone()
    };
    let with_read = CredentialInput {
        mrz: Some(read_mrz.to_owned()),
        ..input.clone()
    };
    let failing_alone: Vec<CheckCode> = check_credential(&without, reference)
        .checks
        .into_iter()
        .filter(|c| !c.ok)
        .map(|c| c.code)
        .collect();
    let read_report = check_credential(&with_read, reference);
    let mut differences: Vec<Check> = read_report
        .checks
        .into_iter()
        .filter(|c| !c.ok && !failing_alone.contains(&c.code))
        // The read MRZ's own syntax is the reader's business, not the collector's.
        .filter(|c| !c.code.as_str().starts_with("mrz."))
        .collect();
    if let (Some(typed), Some(read)) = (
        input.mrz.as_deref().and_then(normalized_mrz),
        normalized_mrz(read_mrz),
    ) {
        if typed != read {
            differences.push(Check {
                code: CheckCode::MrzAgreement,
                severity: CheckCode::MrzAgreement.severity(),
                ok: false,
                message: "La zona de lectura mecánica capturada no es la que se lee en la foto del reverso.".into(),
            });
        }
    }
    ImageAgreement {
        agrees: differences.is_empty(),
        differences,
    }
}

/// The MRZ as three trimmed, upper-case lines (for comparing two captures of it).
fn normalized_mrz(text: &str) -> Option<Vec<String>> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim().to_uppercase())
        .filter(|l| !l.is_empty())
        .collect();
    (lines.len() == 3).then_some(lines)
}

#[cfg(test)]
mod tests;
