use super::*;
use proptest::prelude::*;

fn reference() -> Date {
    Date::new(2026, 11, 28).unwrap_or_else(|| unreachable!())
}

fn run(text: &str) -> (Checks, Option<MrzFields>) {
    let mut checks = Checks::new();
    let fields = check_mrz(text, reference(), &mut checks);
    (checks, fields)
}

const WOMAN: &str = "IDMEX1234567897<<0405123456789\n8501019M3512311MEX<02<<12345<9\nPEREZ<LOPEZ<<MARIA<GUADALUPE<<";
const MAN: &str = "IDMEX9876543213<<1234000000017\n7006159H2912316MEX<00<<00001<7\nHERNANDEZ<HERNANDEZ<<JUAN<<<<<";
const ICAO_SPECIMEN: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
const INE_SPECIMEN: &str = "IDMEX1836577170<<0747116375842\n8007057M1812315MEX<02<<12345<7\nGOMEZ<VELAZQUEZ<<MARGARITA<<<<";

fn failed_codes(checks: &Checks) -> Vec<&'static str> {
    checks
        .as_slice()
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.code.as_str())
        .collect()
}

#[test]
fn reads_the_valid_woman_vector() {
    let (checks, fields) = run(WOMAN);
    assert!(checks.all_errors_pass(), "{:?}", failed_codes(&checks));
    let f = fields.unwrap_or_default();
    assert_eq!(f.cic.as_deref(), Some("123456789"));
    assert_eq!(f.ocr.as_deref(), Some("0405123456789"));
    assert_eq!(f.section(), Some("0405"));
    assert_eq!(f.citizen_id(), Some("123456789"));
    assert_eq!(
        f.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1985-01-01")
    );
    assert_eq!(f.sex, Some(Sex::M));
    assert_eq!(
        f.expiry_date.map(|d| d.to_string()).as_deref(),
        Some("2035-12-31")
    );
    assert_eq!(f.issue_number.as_deref(), Some("02"));
    assert_eq!(f.surnames, ["PEREZ", "LOPEZ"]);
    assert_eq!(f.given_names, ["MARIA", "GUADALUPE"]);
    assert!(!f.names_truncated);
    assert!(f.check_digits_hold);
}

#[test]
fn reads_the_valid_man_vector() {
    let (checks, fields) = run(MAN);
    assert!(checks.all_errors_pass(), "{:?}", failed_codes(&checks));
    let f = fields.unwrap_or_default();
    assert_eq!(f.sex, Some(Sex::H));
    assert_eq!(
        f.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1970-06-15")
    );
    assert_eq!(
        f.expiry_date.map(|d| d.to_string()).as_deref(),
        Some("2029-12-31")
    );
    assert_eq!(f.issue_number.as_deref(), Some("00"));
    assert_eq!(f.section(), Some("1234"));
    assert_eq!(f.citizen_id(), Some("000000017"));
    assert_eq!(f.given_names, ["JUAN"]);
}

#[test]
fn icao_specimen_has_good_check_digits_but_is_not_an_ine_credential() {
    let (checks, fields) = run(ICAO_SPECIMEN);
    for code in [
        CheckCode::MrzCicCheckDigit,
        CheckCode::MrzBirthDateCheckDigit,
        CheckCode::MrzExpiryDateCheckDigit,
        CheckCode::MrzCompositeCheckDigit,
    ] {
        assert!(checks.passed(code), "{code:?}");
    }
    assert!(checks.failed(CheckCode::MrzDocumentCode));
    assert!(checks.failed(CheckCode::MrzSex));
    assert!(checks.failed(CheckCode::MrzNationality));
    assert!(fields.is_some_and(|f| f.check_digits_hold));
}

#[test]
fn invalid_vectors_fail_the_named_check_digits() {
    let cases = [
        (
            "IDMEX1234567896<<",
            &[
                CheckCode::MrzCicCheckDigit,
                CheckCode::MrzCompositeCheckDigit,
            ][..],
        ),
        (
            "8501018M",
            &[
                CheckCode::MrzBirthDateCheckDigit,
                CheckCode::MrzCompositeCheckDigit,
            ][..],
        ),
        (
            "3512312MEX",
            &[
                CheckCode::MrzExpiryDateCheckDigit,
                CheckCode::MrzCompositeCheckDigit,
            ][..],
        ),
    ];
    let originals = ["IDMEX1234567897<<", "8501019M", "3512311MEX"];
    for ((changed, must_fail), original) in cases.iter().zip(originals) {
        let text = WOMAN.replace(original, changed);
        assert_ne!(text, WOMAN);
        let (checks, fields) = run(&text);
        for code in *must_fail {
            assert!(checks.failed(*code), "{changed}: {code:?}");
        }
        let failed: Vec<_> = failed_codes(&checks);
        assert_eq!(
            failed.len(),
            must_fail.len(),
            "{changed}: only those fail: {failed:?}"
        );
        assert!(fields.is_some_and(|f| !f.check_digits_hold));
    }
}

#[test]
fn ine_specimen_is_a_negative_case() {
    let (checks, _) = run(INE_SPECIMEN);
    assert!(checks.failed(CheckCode::MrzCicCheckDigit));
    assert!(checks.failed(CheckCode::MrzBirthDateCheckDigit));
    assert!(checks.failed(CheckCode::MrzExpiryDateCheckDigit));
    let message = checks
        .get(CheckCode::MrzCicCheckDigit)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("«0»") && message.contains("«7»"),
        "{message}"
    );
}

#[test]
fn tolerates_what_people_paste() {
    let pasted = "\n   idmex1234567897‹‹0405123456789  \r\n\r\n8501019m3512311mex«02««12345«9\n perez<lopez<<maria<guadalupe<< \n\n";
    let (checks, fields) = run(pasted);
    assert!(checks.all_errors_pass(), "{:?}", failed_codes(&checks));
    assert_eq!(fields.map(|f| f.lines.join("\n")).as_deref(), Some(WOMAN));
    let one_line = WOMAN.replace('\n', "");
    let (checks, _) = run(&one_line);
    assert!(checks.all_errors_pass());
}

#[test]
fn reports_layout_problems_precisely() {
    let (checks, fields) = run("IDMEX1234567897<<0405123456789\n8501019M3512311MEX<02<<12345<9");
    assert!(fields.is_none());
    assert!(
        checks
            .get(CheckCode::MrzLines)
            .is_some_and(|c| c.message.contains("se recibieron 2"))
    );

    let (checks, _) = run(&WOMAN.replace("0405123456789\n", "040512345678\n"));
    let message = checks
        .get(CheckCode::MrzLines)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("primer renglón tiene 29"), "{message}");

    let (checks, _) = run(&WOMAN.replace("IDMEX1234", "IDMEX12 4"));
    let message = checks
        .get(CheckCode::MrzCharacters)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("renglón 1, posición 8"), "{message}");

    let (checks, _) = run(&WOMAN.replace("PEREZ", "PÉREZ"));
    assert!(checks.failed(CheckCode::MrzCharacters));

    let (checks, _) = run(&WOMAN.replace("1234567897", "12345O7897"));
    let message = checks
        .get(CheckCode::MrzCicFormat)
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("¿un 0?"), "{message}");
}

#[test]
fn marks_names_cut_at_thirty_characters_as_truncated_not_wrong() {
    let data = sample_data(
        vec!["HERNANDEZ".into(), "MONTENEGRO".into()],
        vec!["MAXIMILIANO".into(), "JOSE".into()],
    );
    let lines = format_mrz(&data);
    assert_eq!(lines[2], "HERNANDEZ<MONTENEGRO<<MAXIMILI");
    let (checks, fields) = run(&lines.join("\n"));
    assert!(checks.all_errors_pass(), "{:?}", failed_codes(&checks));
    assert!(checks.failed(CheckCode::MrzNamesTruncated));
    let f = fields.unwrap_or_default();
    assert!(f.names_truncated);
    assert_eq!(f.given_names, ["MAXIMILI"]);
}

#[test]
fn a_name_with_digits_or_without_given_names_is_wrong() {
    let (checks, _) = run(&WOMAN.replace(
        "PEREZ<LOPEZ<<MARIA<GUADALUPE<<",
        "PEREZ<L0PEZ<<MARIA<GUADALUPE<<",
    ));
    assert!(
        checks
            .get(CheckCode::MrzNames)
            .is_some_and(|c| !c.ok && c.message.contains("posición 8"))
    );
    let (checks, _) = run(&WOMAN.replace(
        "PEREZ<LOPEZ<<MARIA<GUADALUPE<<",
        "PEREZ<LOPEZ<<<<<<<<<<<<<<<<<<<",
    ));
    assert!(checks.failed(CheckCode::MrzNames));
}

#[test]
fn expiry_not_on_31_december_is_flagged() {
    let mut data = sample_data(vec!["SOTO".into()], vec!["ANA".into()]);
    data.expiry_date = Date::new(2030, 6, 30).unwrap_or_else(|| unreachable!());
    let (checks, _) = run(&format_mrz(&data).join("\n"));
    assert!(checks.failed(CheckCode::MrzExpiryDecember));
    assert!(checks.all_errors_pass());
}

#[test]
fn check_digit_matches_icao_examples() {
    assert_eq!(check_digit("D23145890"), Some('7'));
    assert_eq!(check_digit("740812"), Some('2'));
    assert_eq!(check_digit("<<<"), Some('0'));
    assert_eq!(check_digit("a"), None);
}

fn sample_data(surnames: Vec<String>, given_names: Vec<String>) -> MrzData {
    MrzData {
        cic: "123456789".into(),
        ocr: "0405123456789".into(),
        birth_date: Date::new(1985, 1, 1).unwrap_or_else(|| unreachable!()),
        sex: Sex::M,
        expiry_date: Date::new(2035, 12, 31).unwrap_or_else(|| unreachable!()),
        issue_number: 2,
        optional_digits: "12345".into(),
        surnames,
        given_names,
    }
}

prop_compose! {
    fn name_word()(word in "[A-Z]{1,12}") -> String { word }
}

prop_compose! {
    pub(crate) fn mrz_data()(
        cic in "[0-9]{9}",
        section in 1u32..=9999,
        citizen in "[0-9]{9}",
        // Holders aged 18 to 106 at the reference date.
        birth_days in Date::new(1920, 1, 1).map_or(0, Date::days_since_epoch)..=Date::new(2008, 11, 28).map_or(0, Date::days_since_epoch),
        sex in prop::sample::select(vec![Sex::H, Sex::M]),
        expiry_year in 2019i32..=2045,
        issue_number in 0u8..=99,
        optional_digits in "[0-9]{5}",
        surnames in prop::collection::vec(name_word(), 1..=3),
        given_names in prop::collection::vec(name_word(), 1..=3),
    ) -> MrzData {
        MrzData {
            cic,
            ocr: format!("{section:04}{citizen}"),
            birth_date: Date::from_days_since_epoch(birth_days),
            sex,
            expiry_date: Date::new(expiry_year, 12, 31).unwrap_or_else(|| unreachable!()),
            issue_number,
            optional_digits,
            surnames,
            given_names,
        }
    }
}

/// Positions (line, column) covered by a check digit, check digits included.
fn covered_positions() -> Vec<(usize, usize)> {
    let mut positions: Vec<(usize, usize)> = (5..30).map(|c| (0, c)).collect();
    positions.extend((0..7).chain(8..15).chain(18..30).map(|c| (1, c)));
    positions
}

const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_valid_credential_round_trips(data in mrz_data()) {
        let lines = format_mrz(&data);
        let (checks, fields) = run(&lines.join("\n"));
        prop_assert!(checks.all_errors_pass(), "{:?} {:?}", lines, failed_codes(&checks));
        let f = fields.unwrap_or_default();
        prop_assert!(f.check_digits_hold);
        prop_assert_eq!(f.cic.as_deref(), Some(data.cic.as_str()));
        prop_assert_eq!(f.ocr.as_deref(), Some(data.ocr.as_str()));
        prop_assert_eq!(f.birth_date, Some(data.birth_date));
        prop_assert_eq!(f.sex, Some(data.sex));
        prop_assert_eq!(f.expiry_date, Some(data.expiry_date));
        let issue = format!("{:02}", data.issue_number);
        prop_assert_eq!(f.issue_number.as_deref(), Some(issue.as_str()));
        let full = format!("{}<<{}", data.surnames.join("<"), data.given_names.join("<"));
        if full.len() <= LINE_LENGTH - 3 {
            prop_assert!(!f.names_truncated);
            prop_assert_eq!(&f.surnames, &data.surnames);
            prop_assert_eq!(&f.given_names, &data.given_names);
        } else {
            // Cut by INE: what was read is a prefix of the full name.
            let read = format!("{}<<{}", f.surnames.join("<"), f.given_names.join("<"));
            prop_assert!(full.starts_with(read.trim_end_matches('<')), "{} / {}", full, read);
        }
    }

    #[test]
    fn every_single_change_in_a_checked_field_is_detected(
        data in mrz_data(),
        position in prop::sample::select(covered_positions()),
        replacement in prop::sample::select(ALPHABET.chars().collect::<Vec<_>>()),
    ) {
        let mut lines = format_mrz(&data);
        let (line, column) = position;
        let original = lines[line].as_bytes()[column] as char;
        prop_assume!(original != replacement);
        lines[line].replace_range(column..=column, &replacement.to_string());
        let (checks, _) = run(&lines.join("\n"));
        prop_assert!(!checks.all_errors_pass(), "undetected change at {:?}: {:?}", position, lines);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,120}") {
        let _ = run(&text);
    }

    #[test]
    fn never_panics_on_near_mrz_text(lines in prop::collection::vec("[A-Z0-9<«‹ a-zñ]{25,35}", 0..5)) {
        let _ = run(&lines.join("\n"));
    }
}
