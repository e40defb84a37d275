//! Checks: the unit in which every rule reports, with a stable code, a severity
//! and a Spanish message that tells a field collector what to look at.

use serde::Serialize;

/// How much a failed check matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The data cannot be sent as it is: something is certainly wrong.
    Error,
    /// Probably wrong, or not decidable from public rules: look again, but it may be sent.
    Warning,
}

macro_rules! check_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $severity:ident; )*) => {
        /// Every check the domain performs. The string codes are stable: clients,
        /// reports and stored supports keep them, so a code is never renamed or reused.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum CheckCode {
            $( $(#[$doc])* $variant, )*
        }

        impl CheckCode {
            /// All codes, in documentation order.
            pub const ALL: &'static [CheckCode] = &[$(CheckCode::$variant),*];

            /// The stable code, e.g. `mrz.cic_check_digit`.
            pub fn as_str(self) -> &'static str {
                match self { $(CheckCode::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(CheckCode::$variant => Severity::$severity,)* }
            }
        }
    };
}

check_codes! {
    /// Three lines of 30 characters.
    MrzLines => "mrz.lines", Error;
    /// Only `A`–`Z`, `0`–`9` and `<`.
    MrzCharacters => "mrz.characters", Error;
    /// Line 1 starts with `IDMEX`.
    MrzDocumentCode => "mrz.document_code", Error;
    /// Nine digits of CIC.
    MrzCicFormat => "mrz.cic_format", Error;
    MrzCicCheckDigit => "mrz.cic_check_digit", Error;
    /// `<<` followed by the 13 OCR digits (sección + identificador).
    MrzOcrFormat => "mrz.ocr_format", Error;
    MrzBirthDate => "mrz.birth_date", Error;
    MrzBirthDateCheckDigit => "mrz.birth_date_check_digit", Error;
    /// `H` or `M`, INE's Spanish letters.
    MrzSex => "mrz.sex", Error;
    MrzExpiryDate => "mrz.expiry_date", Error;
    MrzExpiryDateCheckDigit => "mrz.expiry_date_check_digit", Error;
    /// Credentials expire on 31 December.
    MrzExpiryDecember => "mrz.expiry_december", Warning;
    MrzNationality => "mrz.nationality", Error;
    /// The optional field `<NN<<DDDDD<`: número de emisión and five digits.
    MrzOptionalData => "mrz.optional_data", Error;
    MrzCompositeCheckDigit => "mrz.composite_check_digit", Error;
    /// `PATERNO<MATERNO<<NOMBRES`.
    MrzNames => "mrz.names", Error;
    /// The name fills line 3 and may have been cut at 30 characters.
    MrzNamesTruncated => "mrz.names_truncated", Warning;

    ClaveFormat => "clave.format", Error;
    ClaveBirthDate => "clave.birth_date", Error;
    ClaveState => "clave.state", Error;
    ClaveSex => "clave.sex", Error;
    /// The six letters against the captured names (no public rule: a warning).
    ClaveNameLetters => "clave.name_letters", Warning;

    CurpFormat => "curp.format", Error;
    CurpBirthDate => "curp.birth_date", Error;
    CurpState => "curp.state", Error;
    CurpSex => "curp.sex", Error;
    CurpCheckDigit => "curp.check_digit", Error;

    /// Credential model A–H.
    ModelFormat => "model.format", Error;
    CicFormat => "cic.format", Error;
    OcrFormat => "ocr.format", Error;
    CitizenIdFormat => "citizen_id.format", Error;
    SectionFormat => "section.format", Error;
    IssueNumberFormat => "issue_number.format", Error;
    BirthDateFormat => "birth_date.format", Error;
    ExpiryDateFormat => "expiry_date.format", Error;
    SexFormat => "sex.format", Error;
    NamesFormat => "names.format", Error;

    /// The identifiers the roll check needs for this model are present.
    RequiredIdentifiers => "credential.required_identifiers", Error;
    BirthDateConsistent => "credential.birth_date_consistent", Error;
    SexConsistent => "credential.sex_consistent", Error;
    /// The sección is the first four digits of the OCR.
    SectionConsistent => "credential.section_consistent", Error;
    /// The identificador is the last nine digits of the OCR.
    CitizenIdConsistent => "credential.citizen_id_consistent", Error;
    /// Typed CIC, OCR, emisión and expiry agree with the MRZ.
    MrzAgreement => "credential.mrz_agreement", Error;
    /// Typed names agree with the names in the MRZ.
    NamesMatchMrz => "credential.names_match_mrz", Warning;
    /// CURP and clave de elector name the same state of birth.
    BirthStateConsistent => "credential.birth_state_consistent", Warning;
    /// The model carries an MRZ (D–H) or not (A–C).
    ModelMatchesMrz => "credential.model_matches_mrz", Warning;
    /// Not expired at the reference date.
    Validity => "credential.validity", Error;
    /// The holder's age is one a voter can have.
    Age => "credential.age", Warning;
}

impl Serialize for CheckCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The result of one rule on one credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub code: CheckCode,
    pub severity: Severity,
    pub ok: bool,
    /// Spanish, for the person holding the credential.
    pub message: String,
}

impl Check {
    /// A failed check that makes the credential unacceptable (error) or suspicious (warning).
    pub fn is_blocking(&self) -> bool {
        !self.ok && self.severity == Severity::Error
    }
}

/// Checks in the order they were made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checks(Vec<Check>);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn pass(&mut self, code: CheckCode, message: impl Into<String>) {
        self.push(code, true, message);
    }

    pub fn fail(&mut self, code: CheckCode, message: impl Into<String>) {
        self.push(code, false, message);
    }

    /// Records `ok_message` or `fail_message` depending on `ok`; returns `ok`.
    pub fn record(
        &mut self,
        code: CheckCode,
        ok: bool,
        ok_message: impl Into<String>,
        fail_message: impl Into<String>,
    ) -> bool {
        if ok {
            self.pass(code, ok_message);
        } else {
            self.fail(code, fail_message);
        }
        ok
    }

    fn push(&mut self, code: CheckCode, ok: bool, message: impl Into<String>) {
        self.0.push(Check {
            code,
            severity: code.severity(),
            ok,
            message: message.into(),
        });
    }

    pub fn extend(&mut self, other: Checks) {
        self.0.extend(other.0);
    }

    pub fn as_slice(&self) -> &[Check] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Check> {
        self.0
    }

    /// Whether no error-severity check failed.
    pub fn all_errors_pass(&self) -> bool {
        !self.0.iter().any(Check::is_blocking)
    }

    pub fn failed(&self, code: CheckCode) -> bool {
        self.0.iter().any(|c| c.code == code && !c.ok)
    }

    pub fn passed(&self, code: CheckCode) -> bool {
        self.0.iter().any(|c| c.code == code && c.ok)
    }

    pub fn get(&self, code: CheckCode) -> Option<&Check> {
        self.0.iter().find(|c| c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for code in CheckCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            let (group, name) = text.split_once('.').unwrap_or_default();
            assert!(!group.is_empty() && !name.is_empty(), "{text}");
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.'),
                "{text}"
            );
        }
    }

    #[test]
    fn only_failed_errors_block() {
        let mut checks = Checks::new();
        checks.fail(CheckCode::ClaveNameLetters, "x");
        checks.pass(CheckCode::MrzLines, "x");
        assert!(checks.all_errors_pass());
        checks.fail(CheckCode::MrzLines, "x");
        assert!(!checks.all_errors_pass());
    }
}
