//! The machine-readable zone on the back of credentials D–H: ICAO 9303 TD1 in
//! INE's layout, with the sex written `H`/`M`.
//!
//! ```text
//! IDMEX1234567897<<0405123456789   IDMEX, CIC (9) + check, <<, OCR (13) = sección (4) + identificador (9)
//! 8501019M3512311MEX<02<<12345<9   birth + check, sex, expiry + check, MEX, <NN<<DDDDD<, composite
//! PEREZ<LOPEZ<<MARIA<GUADALUPE<<   PATERNO<MATERNO<<NOMBRES, cut at 30 without a marker
//! ```

use crate::catalog::Sex;
use crate::check::{CheckCode, Checks};
use crate::date::{Date, ShortDate};

pub const LINE_LENGTH: usize = 30;
pub const DOCUMENT_CODE: &str = "IDMEX";
pub const NATIONALITY: &str = "MEX";

/// ICAO 9303 character value: digits as themselves, `A`=10 … `Z`=35, `<`=0.
pub fn char_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
        '<' => Some(0),
        _ => None,
    }
}

/// ICAO 9303 check digit (weights 7, 3, 1 repeating); `None` on a character outside the alphabet.
pub fn check_digit(data: &str) -> Option<char> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0;
    for (i, c) in data.chars().enumerate() {
        sum += char_value(c)? * WEIGHTS[i % 3];
    }
    char::from_digit(sum % 10, 10)
}

/// The data the MRZ of one credential holds, for writing one (generators, tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MrzData {
    /// 9 digits.
    pub cic: String,
    /// 13 digits: sección (4) + identificador del ciudadano (9).
    pub ocr: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub expiry_date: Date,
    /// Número de emisión, 0–99.
    pub issue_number: u8,
    /// The five digits after the emisión in the optional field (meaning unpublished).
    pub optional_digits: String,
    /// Surnames, each already in MRZ form (A–Z only, words joined with `<`).
    pub surnames: Vec<String>,
    pub given_names: Vec<String>,
}

/// Writes the three lines (with check digits) of `data`.
pub fn format_mrz(data: &MrzData) -> [String; 3] {
    let line1 = {
        let head = format!("{DOCUMENT_CODE}{}", data.cic);
        let cic_digit = check_digit(&data.cic).unwrap_or('<');
        format!("{head}{cic_digit}<<{}", data.ocr)
    };
    let birth = data.birth_date.to_yymmdd();
    let expiry = data.expiry_date.to_yymmdd();
    let optional = format!("<{:02}<<{:0>5}<", data.issue_number, data.optional_digits);
    let mut line2 = format!(
        "{birth}{}{}{expiry}{}{NATIONALITY}{optional}",
        check_digit(&birth).unwrap_or('<'),
        data.sex.letter(),
        check_digit(&expiry).unwrap_or('<'),
    );
    let composite_input = composite_input(&line1, &line2);
    line2.push(check_digit(&composite_input).unwrap_or('<'));
    let mut line3 = format!(
        "{}<<{}",
        data.surnames.join("<"),
        data.given_names.join("<")
    );
    line3.truncate(LINE_LENGTH);
    while line3.len() < LINE_LENGTH {
        line3.push('<');
    }
    [line1, line2, line3]
}

/// The characters the composite check digit covers (TD1): line 1 from position 6,
/// and line 2's birth date, expiry and optional field with their check digits.
fn composite_input(line1: &str, line2: &str) -> String {
    let mut input = String::with_capacity(54);
    input.push_str(&line1[5..30]);
    input.push_str(&line2[0..7]);
    input.push_str(&line2[8..15]);
    input.push_str(&line2[18..29]);
    input
}

/// What was read from an MRZ. Fields are present when they could be read,
/// even if a check digit says one of them is wrong: the checks say that.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MrzFields {
    /// The three normalised lines.
    pub lines: Vec<String>,
    pub cic: Option<String>,
    pub ocr: Option<String>,
    pub birth_date: Option<Date>,
    pub sex: Option<Sex>,
    pub expiry_date: Option<Date>,
    pub issue_number: Option<String>,
    pub surnames: Vec<String>,
    pub given_names: Vec<String>,
    pub names_truncated: bool,
    /// All four check digits hold.
    pub check_digits_hold: bool,
}

impl MrzFields {
    /// Sección: the first four digits of the OCR.
    pub fn section(&self) -> Option<&str> {
        self.ocr.as_deref().map(|ocr| &ocr[..4])
    }

    /// Identificador del ciudadano: the last nine digits of the OCR.
    pub fn citizen_id(&self) -> Option<&str> {
        self.ocr.as_deref().map(|ocr| &ocr[4..])
    }
}

/// Accepts what people paste: surrounding whitespace and blank lines, lowercase,
/// `«` or `‹` for `<`, and the 90 characters on a single line.
pub fn normalize_lines(text: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.chars()
                .map(|c| match c {
                    '«' | '‹' | '＜' => '<',
                    c if c.is_ascii_lowercase() => c.to_ascii_uppercase(),
                    c => c,
                })
                .collect()
        })
        .collect();
    if let [single] = lines.as_slice() {
        if single.chars().count() == 3 * LINE_LENGTH && single.is_ascii() {
            return (0..3)
                .map(|i| single[i * LINE_LENGTH..(i + 1) * LINE_LENGTH].to_owned())
                .collect();
        }
    }
    lines
}

const LINE_NAMES: [&str; 3] = ["primer", "segundo", "tercer"];

/// Checks MRZ text and reads its fields; `None` when its layout is too broken to read.
pub fn check_mrz(text: &str, reference: Date, checks: &mut Checks) -> Option<MrzFields> {
    let lines = normalize_lines(text);
    if lines.len() != 3 {
        checks.fail(
            CheckCode::MrzLines,
            format!(
                "La zona de lectura mecánica (reverso de la credencial) tiene 3 renglones y se recibieron {}. Capture los 3 renglones completos.",
                lines.len()
            ),
        );
        return None;
    }
    let mut layout_ok = true;
    for (i, line) in lines.iter().enumerate() {
        let length = line.chars().count();
        if length != LINE_LENGTH {
            layout_ok = false;
            checks.fail(
                CheckCode::MrzLines,
                format!(
                    "El {} renglón tiene {length} caracteres y debe tener {LINE_LENGTH}. Revise que no falte ni sobre ningún carácter (los < también cuentan).",
                    LINE_NAMES[i]
                ),
            );
        }
    }
    if !layout_ok {
        return None;
    }
    checks.pass(
        CheckCode::MrzLines,
        "La zona de lectura mecánica tiene 3 renglones de 30 caracteres.",
    );

    let mut bad_characters = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        for (j, c) in line.chars().enumerate() {
            if char_value(c).is_none() {
                bad_characters.push(format!(
                    "renglón {}, posición {}: «{}»",
                    i + 1,
                    j + 1,
                    c.escape_debug()
                ));
            }
        }
    }
    if !bad_characters.is_empty() {
        let shown = bad_characters.len().min(5);
        checks.fail(
            CheckCode::MrzCharacters,
            format!(
                "Sólo pueden aparecer letras A–Z sin acentos, dígitos 0–9 y el signo <. No válidos: {}{}.",
                bad_characters[..shown].join("; "),
                if bad_characters.len() > shown { format!(" y {} más", bad_characters.len() - shown) } else { String::new() }
            ),
        );
        return None;
    }
    checks.pass(
        CheckCode::MrzCharacters,
        "Todos los caracteres son válidos.",
    );

    // From here every line is 30 ASCII characters, so byte slicing is safe.
    let (l1, l2, l3) = (lines[0].as_str(), lines[1].as_str(), lines[2].as_str());
    let mut fields = MrzFields {
        lines: lines.clone(),
        ..MrzFields::default()
    };
    let mut digits_hold = true;

    checks.record(
        CheckCode::MrzDocumentCode,
        &l1[..5] == DOCUMENT_CODE,
        "El documento es una credencial para votar (IDMEX).",
        format!(
            "El primer renglón debe empezar con IDMEX (credencial para votar del INE) y empieza con «{}». Verifique que sea el reverso de una credencial para votar.",
            &l1[..5]
        ),
    );

    let cic = &l1[5..14];
    if checks.record(
        CheckCode::MrzCicFormat,
        is_digits(cic),
        "El CIC tiene 9 dígitos.",
        format!(
            "Renglón 1, posiciones 6 a 14: el CIC debe ser de 9 dígitos y es «{cic}».{}",
            digit_hint(cic)
        ),
    ) {
        fields.cic = Some(cic.to_owned());
    }
    digits_hold &= record_check_digit(
        checks,
        CheckCode::MrzCicCheckDigit,
        cic,
        l1.as_bytes()[14] as char,
        "del CIC",
        "renglón 1, posición 15",
        "Revise el CIC y el dígito que le sigue",
    );

    let ocr = &l1[17..30];
    if checks.record(
        CheckCode::MrzOcrFormat,
        &l1[15..17] == "<<" && is_digits(ocr),
        "El OCR tiene 13 dígitos (sección e identificador).",
        format!(
            "Renglón 1, posiciones 16 a 30: se esperaba «<<» y los 13 dígitos del OCR, y hay «{}».{}",
            &l1[15..30],
            digit_hint(ocr)
        ),
    ) {
        fields.ocr = Some(ocr.to_owned());
    }

    let birth_text = &l2[0..6];
    let birth = ShortDate::parse_digits(birth_text).and_then(|s| s.resolve_birth_date(reference));
    match birth {
        Some(date) => checks.pass(CheckCode::MrzBirthDate, format!("Fecha de nacimiento: {}.", date.to_es())),
        None => checks.fail(
            CheckCode::MrzBirthDate,
            format!(
                "Renglón 2, posiciones 1 a 6: la fecha de nacimiento «{birth_text}» (año, mes, día) no es una fecha real.{}",
                digit_hint(birth_text)
            ),
        ),
    }
    fields.birth_date = birth;
    digits_hold &= record_check_digit(
        checks,
        CheckCode::MrzBirthDateCheckDigit,
        birth_text,
        l2.as_bytes()[6] as char,
        "de la fecha de nacimiento",
        "renglón 2, posición 7",
        "Revise la fecha de nacimiento y el dígito que le sigue",
    );

    let sex_letter = l2.as_bytes()[7] as char;
    fields.sex = Sex::from_letter(sex_letter);
    checks.record(
        CheckCode::MrzSex,
        fields.sex.is_some(),
        "El sexo está escrito como lo hace el INE (H o M).",
        format!(
            "Renglón 2, posición 8: el sexo debe ser H (hombre) o M (mujer), como lo escribe el INE, y hay «{sex_letter}».{}",
            if sex_letter == 'F' { " Una F indica un documento que no es del INE." } else { "" }
        ),
    );

    let expiry_text = &l2[8..14];
    let expiry = ShortDate::parse_digits(expiry_text).and_then(ShortDate::resolve_expiry_date);
    match expiry {
        Some(date) => {
            checks.pass(CheckCode::MrzExpiryDate, format!("Vigencia: hasta el {}.", date.to_es()));
            checks.record(
                CheckCode::MrzExpiryDecember,
                date.month() == 12 && date.day() == 31,
                "La vigencia termina el 31 de diciembre, como en toda credencial.",
                format!(
                    "La vigencia leída es el {}, pero las credenciales vencen siempre el 31 de diciembre. Revise los dígitos de la vigencia (renglón 2, posiciones 9 a 14).",
                    date.to_es()
                ),
            );
        }
        None => checks.fail(
            CheckCode::MrzExpiryDate,
            format!(
                "Renglón 2, posiciones 9 a 14: la vigencia «{expiry_text}» (año, mes, día) no es una fecha real.{}",
                digit_hint(expiry_text)
            ),
        ),
    }
    fields.expiry_date = expiry;
    digits_hold &= record_check_digit(
        checks,
        CheckCode::MrzExpiryDateCheckDigit,
        expiry_text,
        l2.as_bytes()[14] as char,
        "de la vigencia",
        "renglón 2, posición 15",
        "Revise la vigencia y el dígito que le sigue",
    );

    checks.record(
        CheckCode::MrzNationality,
        &l2[15..18] == NATIONALITY,
        "Nacionalidad: MEX.",
        format!(
            "Renglón 2, posiciones 16 a 18: se esperaba MEX y hay «{}».",
            &l2[15..18]
        ),
    );

    let optional = &l2[18..29];
    let issue = &optional[1..3];
    if checks.record(
        CheckCode::MrzOptionalData,
        optional.starts_with('<')
            && is_digits(issue)
            && &optional[3..5] == "<<"
            && is_digits(&optional[5..10])
            && optional.ends_with('<'),
        format!("Número de emisión: {issue}."),
        format!(
            "Renglón 2, posiciones 19 a 29: se esperaba «<», los 2 dígitos del número de emisión, «<<», 5 dígitos y «<», y hay «{optional}».{}",
            digit_hint(issue)
        ),
    ) {
        fields.issue_number = Some(issue.to_owned());
    }

    let composite = composite_input(l1, l2);
    digits_hold &= record_check_digit(
        checks,
        CheckCode::MrzCompositeCheckDigit,
        &composite,
        l2.as_bytes()[29] as char,
        "general",
        "renglón 2, posición 30",
        "Algún dígito de los renglones 1 o 2 está mal capturado; compárelos carácter por carácter con la credencial",
    );
    fields.check_digits_hold = digits_hold;

    read_names(l3, checks, &mut fields);
    Some(fields)
}

fn read_names(line: &str, checks: &mut Checks, fields: &mut MrzFields) {
    fields.names_truncated = may_be_truncated(line);
    if let Some(position) = line.find(|c: char| c.is_ascii_digit()) {
        checks.fail(
            CheckCode::MrzNames,
            format!(
                "Renglón 3, posición {}: el nombre no puede tener dígitos. Revise si es una letra (0 por O, 1 por I).",
                position + 1
            ),
        );
        return;
    }
    let content = line.trim_end_matches('<');
    let (surnames, given) = match content.split_once("<<") {
        Some((surnames, given)) => (surnames, Some(given)),
        None => (content, None),
    };
    fields.surnames = mrz_words(surnames);
    fields.given_names = given.map(mrz_words).unwrap_or_default();
    let ok =
        !fields.surnames.is_empty() && (!fields.given_names.is_empty() || fields.names_truncated);
    checks.record(
        CheckCode::MrzNames,
        ok,
        "El nombre tiene la forma APELLIDOS<<NOMBRES.",
        "El tercer renglón debe tener los apellidos, «<<» y los nombres (por ejemplo PEREZ<LOPEZ<<MARIA). Revise el tercer renglón.",
    );
    checks.record(
        CheckCode::MrzNamesTruncated,
        !fields.names_truncated,
        "El nombre cabe completo en el tercer renglón.",
        "El nombre ocupa los 30 caracteres del tercer renglón y puede estar cortado (el INE lo corta sin avisar). No es un error: capture el nombre completo del frente de la credencial.",
    );
}

fn mrz_words(part: &str) -> Vec<String> {
    part.split('<')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether line 3 may hold a name cut at 30 characters. INE cuts without a marker,
/// so a cut can also fall on a `<` separator: only three or more fillers, or two
/// after a complete `<<`-separated name, prove the name is whole.
fn may_be_truncated(line: &str) -> bool {
    let content = line.trim_end_matches('<');
    match line.len() - content.len() {
        0 | 1 => true,
        2 => !content.contains("<<"),
        _ => false,
    }
}

/// Records a check digit; returns whether it holds.
fn record_check_digit(
    checks: &mut Checks,
    code: CheckCode,
    data: &str,
    found: char,
    what: &str,
    place: &str,
    advice: &str,
) -> bool {
    let expected = check_digit(data);
    let ok = expected == Some(found);
    checks.record(
        code,
        ok,
        format!("El dígito verificador {what} es correcto."),
        format!(
            "El dígito verificador {what} ({place}) es «{found}», pero los datos dan «{}». {advice}.",
            expected.unwrap_or('?')
        ),
    );
    ok
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Points at letters where digits must be, the usual reading mistake.
fn digit_hint(text: &str) -> String {
    match text.chars().position(|c| !c.is_ascii_digit()) {
        Some(i) => {
            let c = text.chars().nth(i).unwrap_or('?');
            let guess = match c {
                'O' | 'Q' | 'D' => " (¿un 0?)",
                'I' | 'L' => " (¿un 1?)",
                'Z' => " (¿un 2?)",
                'S' => " (¿un 5?)",
                'B' => " (¿un 8?)",
                'G' => " (¿un 6?)",
                '<' => " (falta un dígito)",
                _ => "",
            };
            format!(
                " El carácter {} del tramo, «{c}», no es un dígito{guess}.",
                i + 1
            )
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
