use super::*;
use proptest::prelude::*;

const MRZ: [&str; 3] = [
    "IDMEX1234567897<<0405123456789",
    "8501019M3512311MEX<02<<12345<9",
    "PEREZ<LOPEZ<<MARIA<GUADALUPE<<",
];

fn reference() -> Date {
    Date::new(2026, 11, 28).unwrap_or_else(|| unreachable!())
}

/// A complete, consistent capture of a model H credential.
fn full() -> CredentialInput {
    CredentialInput {
        model: Some("H".into()),
        mrz: Some(MRZ.join("\n")),
        cic: Some("123456789".into()),
        ocr: None,
        citizen_id: Some("123456789".into()),
        section: Some("405".into()),
        issue_number: Some("02".into()),
        clave_elector: Some("PRLPGD85010110M100".into()),
        curp: Some("PELM850101MDGRPR00".into()),
        birth_date: Some("1985-01-01".into()),
        sex: Some("M".into()),
        expiry_date: Some("2035".into()),
        paternal_surname: Some("Pérez".into()),
        maternal_surname: Some("López".into()),
        given_names: Some("María Guadalupe".into()),
    }
}

fn check(input: &CredentialInput) -> CredentialReport {
    check_credential(input, reference())
}

fn failed(report: &CredentialReport) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.code.as_str())
        .collect()
}

fn message(report: &CredentialReport, code: CheckCode) -> String {
    report
        .checks
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.message.clone())
        .unwrap_or_else(|| panic!("no {code:?} check in {:#?}", report.checks))
}

#[test]
fn a_complete_consistent_capture_passes_every_check() {
    let report = check(&full());
    assert!(report.valid);
    assert_eq!(failed(&report), Vec::<&str>::new());
    let codes: Vec<_> = report.checks.iter().map(|c| c.code).collect();
    for expected in [
        CheckCode::BirthDateConsistent,
        CheckCode::SexConsistent,
        CheckCode::SectionConsistent,
        CheckCode::CitizenIdConsistent,
        CheckCode::MrzAgreement,
        CheckCode::NamesMatchMrz,
        CheckCode::BirthStateConsistent,
        CheckCode::ClaveNameLetters,
        CheckCode::RequiredIdentifiers,
        CheckCode::Validity,
        CheckCode::ModelMatchesMrz,
    ] {
        assert!(codes.contains(&expected), "{expected:?} was not checked");
    }
    let f = &report.fields;
    assert_eq!(f.section.as_deref(), Some("0405"));
    assert_eq!(f.surnames.as_deref(), Some("PEREZ LOPEZ"));
    assert_eq!(f.given_names.as_deref(), Some("MARIA GUADALUPE"));
    assert_eq!(
        f.expiry_date.map(|d| d.to_string()).as_deref(),
        Some("2035-12-31")
    );
    assert_eq!(f.clave_elector.as_deref(), Some("PRLPGD85010110M100"));
}

#[test]
fn birth_dates_that_disagree_are_an_error_naming_each_source() {
    let report = check(&CredentialInput {
        birth_date: Some("02/01/1985".into()),
        ..full()
    });
    assert!(!report.valid);
    assert_eq!(failed(&report), ["credential.birth_date_consistent"]);
    let text = message(&report, CheckCode::BirthDateConsistent);
    assert!(
        text.contains("capturada 02/01/1985") && text.contains("CURP 01/01/1985"),
        "{text}"
    );
}

#[test]
fn sex_that_disagrees_is_an_error() {
    let report = check(&CredentialInput {
        sex: Some("h".into()),
        ..full()
    });
    assert_eq!(failed(&report), ["credential.sex_consistent"]);
}

#[test]
fn section_and_identifier_must_agree_with_the_ocr() {
    let report = check(&CredentialInput {
        section: Some("0406".into()),
        citizen_id: Some("123456780".into()),
        ..full()
    });
    assert!(failed(&report).contains(&"credential.section_consistent"));
    assert!(failed(&report).contains(&"credential.citizen_id_consistent"));
    assert!(message(&report, CheckCode::SectionConsistent).contains("empieza con 0405"));
}

#[test]
fn typed_identifiers_must_agree_with_the_mrz() {
    let report = check(&CredentialInput {
        cic: Some("123456788".into()),
        issue_number: Some("3".into()),
        ..full()
    });
    assert_eq!(failed(&report), ["credential.mrz_agreement"]);
    let text = message(&report, CheckCode::MrzAgreement);
    assert!(
        text.contains("CIC: capturado 123456788") && text.contains("emisión: capturado 03"),
        "{text}"
    );
}

#[test]
fn names_that_do_not_give_the_clave_letters_are_a_warning() {
    let report = check(&CredentialInput {
        given_names: Some("Ana".into()),
        ..full()
    });
    assert!(report.valid, "warnings never block");
    assert_eq!(
        failed(&report),
        ["credential.names_match_mrz", "clave.name_letters"]
    );
    assert!(message(&report, CheckCode::ClaveNameLetters).contains("«PRLPAN»"));
}

#[test]
fn names_come_from_the_mrz_when_none_were_typed() {
    let report = check(&CredentialInput {
        paternal_surname: None,
        maternal_surname: None,
        given_names: None,
        ..full()
    });
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.code == CheckCode::ClaveNameLetters && c.ok)
    );
}

#[test]
fn an_expired_credential_is_an_error() {
    let report = check_credential(
        &full(),
        Date::new(2036, 1, 1).unwrap_or_else(|| unreachable!()),
    );
    assert_eq!(failed(&report), ["credential.validity"]);
    assert!(message(&report, CheckCode::Validity).contains("venció el 31/12/2035"));
    let on_the_last_day = check_credential(
        &full(),
        Date::new(2035, 12, 31).unwrap_or_else(|| unreachable!()),
    );
    assert!(on_the_last_day.valid);
}

#[test]
fn each_model_needs_its_identifiers() {
    let only = |model: &str| CredentialInput {
        model: Some(model.into()),
        ..CredentialInput::default()
    };
    let report = check(&CredentialInput {
        cic: Some("123456789".into()),
        ..only("G")
    });
    assert!(!report.valid);
    assert!(
        message(&report, CheckCode::RequiredIdentifiers).contains("identificador del ciudadano")
    );

    let report = check(&CredentialInput {
        cic: Some("123456789".into()),
        ..only("D")
    });
    assert!(message(&report, CheckCode::RequiredIdentifiers).contains("el OCR"));
    let report = check(&CredentialInput {
        cic: Some("123456789".into()),
        ocr: Some("0405123456789".into()),
        ..only("D")
    });
    assert!(report.valid, "{:?}", failed(&report));

    let report = check(&CredentialInput {
        clave_elector: Some("GMVLMR80070501M100".into()),
        ocr: Some("0405123456789".into()),
        ..only("B")
    });
    assert!(message(&report, CheckCode::RequiredIdentifiers).contains("número de emisión"));
    let report = check(&CredentialInput {
        clave_elector: Some("GMVLMR80070501M100".into()),
        ocr: Some("0405123456789".into()),
        issue_number: Some("1".into()),
        ..only("B")
    });
    assert!(report.valid, "{:?}", failed(&report));

    let nothing = check(&CredentialInput::default());
    assert!(!nothing.valid, "an empty capture can never be sent");
}

#[test]
fn a_model_without_mrz_given_an_mrz_is_flagged() {
    let report = check(&CredentialInput {
        model: Some("C".into()),
        ..full()
    });
    assert!(failed(&report).contains(&"credential.model_matches_mrz"));
    let report = check(&CredentialInput {
        model: Some("Z".into()),
        ..full()
    });
    assert!(failed(&report).contains(&"model.format"));
}

#[test]
fn malformed_typed_fields_say_what_is_wrong() {
    let report = check(&CredentialInput {
        cic: Some("12345678".into()),
        citizen_id: Some("12345678O".into()),
        section: Some("0".into()),
        birth_date: Some("31/02/1985".into()),
        sex: Some("F".into()),
        paternal_surname: Some("P3rez".into()),
        ..full()
    });
    assert!(!report.valid);
    assert!(message(&report, CheckCode::CicFormat).contains("lleva 9 dígitos y tiene 8"));
    assert!(message(&report, CheckCode::CitizenIdFormat).contains("«O»"));
    assert!(message(&report, CheckCode::SectionFormat).contains("0001 a 9999"));
    assert!(message(&report, CheckCode::BirthDateFormat).contains("dd/mm/aaaa"));
    assert!(message(&report, CheckCode::SexFormat).contains("«F»"));
    assert!(message(&report, CheckCode::NamesFormat).contains("«3»"));
    // Malformed values are not reported as known fields.
    assert_eq!(
        report.fields.cic.as_deref(),
        Some("123456789"),
        "falls back to the MRZ"
    );
}

#[test]
fn a_missing_maternal_surname_is_fine() {
    let report = check(&CredentialInput {
        model: Some("H".into()),
        cic: Some("123456789".into()),
        citizen_id: Some("123456789".into()),
        clave_elector: Some("SNXXLS85010110M100".into()),
        paternal_surname: Some("Sánchez".into()),
        maternal_surname: Some("XX".into()),
        given_names: Some("Luisa".into()),
        ..CredentialInput::default()
    });
    assert_eq!(failed(&report), Vec::<&str>::new());
    assert_eq!(report.fields.surnames.as_deref(), Some("SANCHEZ"));
}

#[test]
fn a_birth_state_that_differs_between_curp_and_clave_is_a_warning() {
    let report = check(&CredentialInput {
        clave_elector: Some("PRLPGD85010101M100".into()),
        ..full()
    });
    assert!(report.valid);
    assert_eq!(failed(&report), ["credential.birth_state_consistent"]);
}

#[test]
fn an_implausible_age_is_a_warning() {
    let report = check(&CredentialInput {
        birth_date: Some("2012-03-04".into()),
        ..CredentialInput::default()
    });
    assert!(message(&report, CheckCode::Age).contains("debe tener 18"));
}

#[test]
fn truncated_mrz_names_match_the_full_typed_names() {
    let lines = [
        "IDMEX1234567897<<0405123456789",
        "8501019M3512311MEX<02<<12345<9",
        "HERNANDEZ<MONTENEGRO<<MAXIMILI",
    ];
    let input = CredentialInput {
        mrz: Some(lines.join("\n")),
        paternal_surname: Some("Hernández".into()),
        maternal_surname: Some("Montenegro".into()),
        given_names: Some("Maximiliano José".into()),
        ..CredentialInput::default()
    };
    let report = check(&input);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.code == CheckCode::NamesMatchMrz && c.ok),
        "{:#?}",
        report.checks
    );
    assert_eq!(report.fields.names_truncated, Some(true));
    let wrong = check(&CredentialInput {
        given_names: Some("Mariano".into()),
        ..input
    });
    assert!(failed(&wrong).contains(&"credential.names_match_mrz"));
}

#[test]
fn json_input_is_strict_about_field_names_and_lenient_about_shapes() {
    let parsed: Result<CredentialInput, _> =
        serde_json::from_str(r#"{"cic": "1", "colour": "red"}"#);
    assert!(parsed.is_err_and(|e| e.to_string().contains("unknown field `colour`")));

    let parsed: CredentialInput = serde_json::from_str(
        r#"{"section": 405, "issue_number": 2, "mrz": ["a", "b", "c"], "curp": "  ", "sex": null}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.section.as_deref(), Some("405"));
    assert_eq!(parsed.issue_number.as_deref(), Some("2"));
    assert_eq!(parsed.mrz.as_deref(), Some("a\nb\nc"));
    assert_eq!(parsed.curp, None);
    assert_eq!(parsed.sex, None);

    let wrong_type: Result<CredentialInput, _> = serde_json::from_str(r#"{"cic": true}"#);
    assert!(wrong_type.is_err());
}

#[test]
fn report_serializes_to_the_documented_shape() {
    let value = serde_json::to_value(check(&full())).unwrap_or_default();
    assert_eq!(value["valid"], true);
    assert_eq!(value["reference_date"], "2026-11-28");
    let first = &value["checks"][0];
    for key in ["code", "severity", "ok", "message"] {
        assert!(first.get(key).is_some(), "{key}");
    }
    assert_eq!(value["fields"]["birth_date"], "1985-01-01");
    assert_eq!(value["fields"]["sex"], "M");
    assert_eq!(value["fields"]["model"], "H");
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_fields(
        fields in prop::collection::vec(prop::option::of("\\PC{0,40}"), 15),
    ) {
        let f = |i: usize| fields[i].clone();
        let input = CredentialInput {
            model: f(0), mrz: f(1), cic: f(2), ocr: f(3), citizen_id: f(4), section: f(5),
            issue_number: f(6), clave_elector: f(7), curp: f(8), birth_date: f(9), sex: f(10),
            expiry_date: f(11), paternal_surname: f(12), maternal_surname: f(13), given_names: f(14),
        };
        let report = check(&input);
        prop_assert_eq!(report.valid, !report.checks.iter().any(Check::is_blocking));
    }

    #[test]
    fn never_panics_on_near_valid_fields(
        cic in "[0-9A-Z]{7,10}",
        ocr in "[0-9O]{11,14}",
        section in "[0-9]{0,5}",
        clave in "[A-Z0-9]{16,19}",
        curp in "[A-Z0-9Ñ]{16,19}",
        date in "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    ) {
        let input = CredentialInput {
            cic: Some(cic), ocr: Some(ocr), section: Some(section), clave_elector: Some(clave),
            curp: Some(curp), birth_date: Some(date.clone()), expiry_date: Some(date),
            ..full()
        };
        let _ = check(&input);
    }
}

#[test]
fn typed_data_agrees_with_the_mrz_read_from_its_own_card() {
    let typed = full();
    let agreement = compare_with_read_mrz(&typed, &MRZ.join("\n"), reference());
    assert!(agreement.agrees, "{:?}", agreement.differences);
    // Typed without the MRZ (a collector who skipped it): still agrees.
    let without = CredentialInput {
        mrz: None,
        ..full()
    };
    assert!(compare_with_read_mrz(&without, &MRZ.join("\n"), reference()).agrees);
}

#[test]
fn a_typed_cic_or_name_that_the_image_contradicts_is_a_difference() {
    let typed = CredentialInput {
        mrz: None,
        cic: Some("123456788".into()),
        ..full()
    };
    let agreement = compare_with_read_mrz(&typed, &MRZ.join("\n"), reference());
    assert!(!agreement.agrees);
    let codes: Vec<&str> = agreement
        .differences
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes, ["credential.mrz_agreement"]);
    assert!(
        agreement.differences[0].message.contains("CIC"),
        "{:?}",
        agreement.differences
    );

    let renamed = CredentialInput {
        mrz: None,
        given_names: Some("Juana".into()),
        ..full()
    };
    let agreement = compare_with_read_mrz(&renamed, &MRZ.join("\n"), reference());
    let codes: Vec<&str> = agreement
        .differences
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert!(codes.contains(&"credential.names_match_mrz"), "{codes:?}");
}

#[test]
fn a_typed_mrz_other_than_the_one_read_is_a_difference() {
    let mut other = MRZ.map(str::to_owned);
    // Line 3 holds the names, outside every check digit: a typo there changes nothing else.
    other[2] = other[2].replacen('<', "A", 1);
    let typed = CredentialInput {
        mrz: Some(other.join("\n")),
        ..full()
    };
    let agreement = compare_with_read_mrz(&typed, &MRZ.join("\n"), reference());
    assert!(!agreement.agrees);
    assert!(
        agreement
            .differences
            .iter()
            .any(|c| c.message.contains("foto del reverso"))
    );
}

#[test]
fn inconsistencies_among_typed_fields_are_not_blamed_on_the_image() {
    // The clave's birth date disagrees with the typed one whatever the image says.
    let typed = CredentialInput {
        mrz: None,
        birth_date: Some("1985-01-02".into()),
        ..full()
    };
    let alone: Vec<&str> = failed(&check(&typed));
    assert!(
        alone.contains(&"credential.birth_date_consistent"),
        "{alone:?}"
    );
    let agreement = compare_with_read_mrz(&typed, &MRZ.join("\n"), reference());
    assert!(
        agreement
            .differences
            .iter()
            .all(|c| c.code.as_str() != "credential.birth_date_consistent")
    );
}
