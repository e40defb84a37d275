use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;

use super::*;
use crate::catalog::Sex;
use crate::outcome::RemovalCause;

const CLAVE: &str = "PRLPGD85010110M100";
const OTHER_CLAVE: &str = "GOHRJN90020210H200";
const UNKNOWN_CLAVE: &str = "MRSNJS70101010H300";

fn date(y: i32, m: u8, d: u8) -> Date {
    Date::new(y, m, d).unwrap_or_else(|| unreachable!())
}

/// A roll row; models D–H get a CIC and an identificador (the OCR's last 9).
fn row(
    clave: &str,
    model: CredentialModel,
    cic: Option<&str>,
    ocr: &str,
    issue: u8,
    status: RollStatus,
) -> RollRecord {
    RollRecord {
        clave_elector: clave.to_owned(),
        curp: None,
        given_names: "MARIA GUADALUPE".into(),
        paternal_surname: "PEREZ".into(),
        maternal_surname: "LOPEZ".into(),
        sex: Sex::M,
        birth_date: date(1985, 1, 1),
        state: 10,
        municipality: 5,
        section: ocr[..4].parse().unwrap_or(0),
        model,
        cic: cic.map(str::to_owned),
        ocr: Some(ocr.to_owned()),
        citizen_id: cic.map(|_| ocr[4..].to_owned()),
        issue_number: issue,
        expiry_year: 2035,
        status,
        removal_cause: None,
    }
}

/// A citizen with a current model H credential and a superseded model E one.
fn citizen() -> Vec<RollRecord> {
    vec![
        row(
            CLAVE,
            CredentialModel::E,
            Some("111111111"),
            "0405100000001",
            1,
            RollStatus::Reemplazada,
        ),
        row(
            CLAVE,
            CredentialModel::H,
            Some("222222222"),
            "0405200000002",
            3,
            RollStatus::ListaNominal,
        ),
    ]
}

fn key_h(cic: &str, citizen_id: &str, clave: Option<&str>) -> CapturedKey {
    CapturedKey {
        model: Some(CredentialModel::H),
        credential: CredentialKey::CicCitizenId {
            cic: cic.into(),
            citizen_id: citizen_id.into(),
        },
        clave_elector: clave.map(str::to_owned),
    }
}

fn key_c(clave: &str, issue: u8, ocr: &str) -> CapturedKey {
    CapturedKey {
        model: Some(CredentialModel::C),
        credential: CredentialKey::ClaveIssueOcr {
            clave_elector: clave.into(),
            issue_number: issue,
            ocr: ocr.into(),
        },
        clave_elector: Some(clave.into()),
    }
}

/// The office's territory in the tests: secciones 400–499 of entidad 10.
fn in_territory(state: u8, section: u16) -> bool {
    state == 10 && (400..500).contains(&section)
}

/// Paper is allowed in municipio 14 of entidad 10 only.
fn paper_allowed(state: u8, municipality: u16) -> bool {
    state == 10 && municipality == 14
}

fn outcome(matched: &RollMatch<'_>, paper: bool) -> RollOutcome {
    preliminary_outcome(matched, in_territory, paper, paper_allowed)
}

// ---------------------------------------------------------------- keys

#[test]
fn keys_follow_the_model() {
    let fields = ReportFields {
        model: Some(CredentialModel::H),
        cic: Some("123456789".into()),
        ocr: Some("0405987654321".into()),
        citizen_id: Some("987654321".into()),
        issue_number: Some("02".into()),
        clave_elector: Some(CLAVE.into()),
        ..ReportFields::default()
    };
    let key = CapturedKey::from_fields(&fields).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        key.credential,
        CredentialKey::CicCitizenId {
            cic: "123456789".into(),
            citizen_id: "987654321".into()
        }
    );
    assert_eq!(key.clave_elector.as_deref(), Some(CLAVE));
    assert_eq!(key.credential.roll_key(), RollKey::CicCitizenId);

    let d = CapturedKey::from_fields(&ReportFields {
        model: Some(CredentialModel::D),
        ..fields.clone()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        d.credential,
        CredentialKey::CicOcr {
            cic: "123456789".into(),
            ocr: "0405987654321".into()
        }
    );

    let c = CapturedKey::from_fields(&ReportFields {
        model: Some(CredentialModel::C),
        cic: None,
        ..fields.clone()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.credential,
        CredentialKey::ClaveIssueOcr {
            clave_elector: CLAVE.into(),
            issue_number: 2,
            ocr: "0405987654321".into()
        }
    );
}

#[test]
fn without_a_model_the_key_is_inferred() {
    let by_cic = CapturedKey::from_fields(&ReportFields {
        cic: Some("123456789".into()),
        ocr: Some("0405987654321".into()),
        citizen_id: Some("987654321".into()),
        clave_elector: Some(CLAVE.into()),
        ..ReportFields::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_cic.model, None);
    assert_eq!(by_cic.credential.roll_key(), RollKey::CicCitizenId);

    let by_clave = CapturedKey::from_fields(&ReportFields {
        ocr: Some("0405987654321".into()),
        citizen_id: Some("987654321".into()),
        issue_number: Some("01".into()),
        clave_elector: Some(CLAVE.into()),
        ..ReportFields::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_clave.credential.roll_key(), RollKey::ClaveIssueOcr);

    let missing = CapturedKey::from_fields(&ReportFields {
        ocr: Some("0405987654321".into()),
        clave_elector: Some(CLAVE.into()),
        ..ReportFields::default()
    });
    assert_eq!(
        missing,
        Err(IncompleteKey {
            model: None,
            missing: vec!["issue_number"]
        })
    );
    let missing = CapturedKey::from_fields(&ReportFields {
        model: Some(CredentialModel::G),
        cic: Some("123456789".into()),
        ..ReportFields::default()
    })
    .err()
    .unwrap_or_else(|| panic!("complete?"));
    assert_eq!(missing.missing, ["citizen_id"]);
    assert_eq!(
        missing.to_string(),
        "the roll check of a model G credential needs citizen_id"
    );
}

#[test]
fn keys_come_from_the_mrz_when_nothing_was_typed() {
    let input = CredentialInput {
        model: Some("H".into()),
        mrz: Some(
            [
                "IDMEX1234567897<<0405123456789",
                "8501019M3512311MEX<02<<12345<9",
                "PEREZ<LOPEZ<<MARIA<GUADALUPE<<",
            ]
            .join("\n"),
        ),
        clave_elector: Some(" prlpgd85010110m100 ".into()),
        ..CredentialInput::default()
    };
    let key = CapturedKey::from_input(&input, date(2026, 1, 1)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(key, key_h("123456789", "123456789", Some(CLAVE)));
}

#[test]
fn lookups_fetch_the_credential_then_its_citizen() {
    let key = key_h("222222222", "200000002", Some(UNKNOWN_CLAVE));
    assert_eq!(
        key.lookups(),
        [
            Lookup::ByCic("222222222".into()),
            Lookup::ByClave(UNKNOWN_CLAVE.into())
        ]
    );
    let rows = citizen();
    assert_eq!(
        citizen_lookups(&key, &rows[1..]),
        [Lookup::ByClave(CLAVE.into())]
    );
    // Nothing more when the captured clave already fetched the citizen.
    let key = key_h("222222222", "200000002", Some(CLAVE));
    assert!(citizen_lookups(&key, &rows).is_empty());
    assert_eq!(
        key_c(CLAVE, 1, "0405100000001").lookups(),
        [Lookup::ByClave(CLAVE.into())]
    );
}

// ---------------------------------------------------------------- matching

#[test]
fn the_current_credential_is_found() {
    let rows = citizen();
    let matched = match_record(&key_h("222222222", "200000002", Some(CLAVE)), &rows);
    assert_eq!(
        matched,
        RollMatch::Found {
            record: &rows[1],
            current: &rows[1]
        }
    );
    assert_eq!(matched.clave_elector(), Some(CLAVE));
    assert_eq!(outcome(&matched, false), RollOutcome::Valid);
}

#[test]
fn a_superseded_credential_is_found_with_the_citizens_current_one() {
    let rows = citizen();
    let matched = match_record(&key_h("111111111", "100000001", Some(CLAVE)), &rows);
    assert_eq!(
        matched,
        RollMatch::Found {
            record: &rows[0],
            current: &rows[1]
        }
    );
    assert_eq!(outcome(&matched, false), RollOutcome::SupersededCredential);
    // Without the citizen's other rows, the old one stands in: still superseded.
    let alone = match_record(&key_h("111111111", "100000001", None), &rows[..1]);
    assert_eq!(
        alone,
        RollMatch::Found {
            record: &rows[0],
            current: &rows[0]
        }
    );
    assert_eq!(outcome(&alone, false), RollOutcome::SupersededCredential);
}

#[test]
fn a_cic_with_another_identificador_is_not_that_credential() {
    let rows = citizen();
    // The captured clave names nobody: not found.
    let stranger = match_record(&key_h("222222222", "999999999", Some(UNKNOWN_CLAVE)), &rows);
    assert_eq!(stranger, RollMatch::NotFound);
    assert_eq!(outcome(&stranger, false), RollOutcome::NotFound);
    assert_eq!(stranger.clave_elector(), None);
    // The captured clave names the citizen: not their current credential.
    let theirs = match_record(&key_h("222222222", "999999999", Some(CLAVE)), &rows);
    assert_eq!(theirs, RollMatch::OtherCredential { current: &rows[1] });
    assert_eq!(outcome(&theirs, false), RollOutcome::SupersededCredential);
    // A credential unknown to the roll of a citizen who is on it.
    let unknown = match_record(&key_h("333333333", "300000003", Some(CLAVE)), &rows);
    assert_eq!(unknown, RollMatch::OtherCredential { current: &rows[1] });
}

#[test]
fn old_models_are_found_by_clave_emision_and_ocr() {
    let mut rows = citizen();
    rows.insert(
        0,
        row(
            CLAVE,
            CredentialModel::C,
            None,
            "0405000000009",
            0,
            RollStatus::Reemplazada,
        ),
    );
    let exact = match_record(&key_c(CLAVE, 0, "0405000000009"), &rows);
    assert_eq!(
        exact,
        RollMatch::Found {
            record: &rows[0],
            current: &rows[2]
        }
    );
    // Right clave and emisión, another OCR (a simulated "Tipo C" card).
    let forged = match_record(&key_c(CLAVE, 0, "0405000000008"), &rows);
    assert_eq!(forged, RollMatch::OtherCredential { current: &rows[2] });
    // An emisión the citizen never had on this roll.
    let other = match_record(&key_c(CLAVE, 2, "0405000000009"), &rows);
    assert_eq!(other, RollMatch::OtherCredential { current: &rows[2] });
    assert_eq!(outcome(&other, false), RollOutcome::SupersededCredential);
    assert_eq!(
        match_record(&key_c(UNKNOWN_CLAVE, 0, "0405000000009"), &rows),
        RollMatch::NotFound
    );
}

#[test]
fn model_d_compares_the_whole_ocr() {
    let rows = vec![row(
        CLAVE,
        CredentialModel::D,
        Some("444444444"),
        "0405400000004",
        1,
        RollStatus::ListaNominal,
    )];
    let key = |ocr: &str| CapturedKey {
        model: Some(CredentialModel::D),
        credential: CredentialKey::CicOcr {
            cic: "444444444".into(),
            ocr: ocr.into(),
        },
        clave_elector: None,
    };
    assert!(matches!(
        match_record(&key("0405400000004"), &rows),
        RollMatch::Found { .. }
    ));
    assert_eq!(
        match_record(&key("0406400000004"), &rows),
        RollMatch::NotFound
    );
    // A row without an OCR (allowed for E–H) is compared by its identificador.
    let mut no_ocr = rows[0].clone();
    no_ocr.ocr = None;
    assert!(key("0405400000004").credential.matches(&no_ocr));
    assert!(!key("0405400000005").credential.matches(&no_ocr));
}

// ---------------------------------------------------------------- outcomes

#[test]
fn every_standing_gives_its_outcome() {
    let rows = citizen();
    let key = key_h("222222222", "200000002", Some(CLAVE));
    let with = |status: RollStatus, cause: Option<RemovalCause>| {
        let mut rows = rows.clone();
        rows[1].status = status;
        rows[1].removal_cause = cause;
        outcome(&match_record(&key, &rows), false)
    };
    assert_eq!(with(RollStatus::ListaNominal, None), RollOutcome::Valid);
    assert_eq!(with(RollStatus::Padron, None), RollOutcome::RegisterOnly);
    for cause in RemovalCause::ALL {
        assert_eq!(
            with(RollStatus::Baja, Some(cause)),
            RollOutcome::Removed(cause)
        );
    }
    assert_eq!(with(RollStatus::Baja, None), RollOutcome::RegisterOnly);
}

#[test]
fn precedence_goes_from_the_citizen_to_the_support() {
    let mut rows = citizen();
    let old = key_h("111111111", "100000001", Some(CLAVE));
    let current = key_h("222222222", "200000002", Some(CLAVE));

    // An old credential of a removed citizen: the removal.
    rows[1].status = RollStatus::Baja;
    rows[1].removal_cause = Some(RemovalCause::Death);
    assert_eq!(
        outcome(&match_record(&old, &rows), true),
        RollOutcome::Removed(RemovalCause::Death)
    );

    // An old credential, in the territory at the time, of a citizen who moved out:
    // out of territory (the citizen's current sección decides).
    let mut rows = citizen();
    rows[1].section = 900;
    assert!(in_territory(rows[0].state, rows[0].section));
    assert_eq!(
        outcome(&match_record(&old, &rows), true),
        RollOutcome::OutOfTerritory
    );
    assert_eq!(
        outcome(&match_record(&current, &rows), true),
        RollOutcome::OutOfTerritory
    );

    // An old credential on paper where paper is not allowed: superseded.
    let rows = citizen();
    assert_eq!(
        outcome(&match_record(&old, &rows), true),
        RollOutcome::SupersededCredential
    );
    assert_eq!(
        outcome(&match_record(&current, &rows), true),
        RollOutcome::PaperNotAllowed
    );

    // Paper where it is allowed is an ordinary support.
    let mut rows = citizen();
    rows[1].municipality = 14;
    assert_eq!(
        outcome(&match_record(&current, &rows), true),
        RollOutcome::Valid
    );

    // A padrón citizen out of the territory: padrón.
    let mut rows = citizen();
    rows[1].status = RollStatus::Padron;
    rows[1].section = 900;
    assert_eq!(
        outcome(&match_record(&current, &rows), false),
        RollOutcome::RegisterOnly
    );
}

#[test]
fn territory_is_by_entidad_and_seccion() {
    let mut rows = citizen();
    rows[1].state = 11;
    let key = key_h("222222222", "200000002", Some(CLAVE));
    assert_eq!(
        outcome(&match_record(&key, &rows), false),
        RollOutcome::OutOfTerritory
    );
}

// ---------------------------------------------------------------- duplicates

fn support(
    sequence: u64,
    aspirant: &'static str,
    office: u16,
    citizen: Option<&'static str>,
    preliminary: RollOutcome,
) -> SupportForDuplicates<&'static str, u16, &'static str> {
    SupportForDuplicates {
        sequence,
        aspirant,
        office,
        citizen,
        preliminary,
    }
}

fn outcomes(resolved: &[Resolved]) -> Vec<(RollOutcome, Option<u64>)> {
    resolved
        .iter()
        .map(|r| (r.outcome, r.duplicate_of))
        .collect()
}

#[test]
fn the_first_received_counts_whichever_aspirant_it_went_to() {
    use RollOutcome::*;
    let supports = [
        support(7, "B", 5, Some(CLAVE), Valid),
        support(3, "A", 5, Some(CLAVE), Valid),
        support(9, "A", 5, Some(CLAVE), Valid),
        support(12, "B", 5, Some(CLAVE), Valid),
        // Another office: no conflict.
        support(10, "G", 99, Some(CLAVE), Valid),
        // Another citizen.
        support(11, "A", 5, Some(OTHER_CLAVE), Valid),
    ];
    assert_eq!(
        outcomes(&resolve_duplicates(&supports)),
        [
            (DuplicateOtherAspirant, Some(3)),
            (Valid, None),
            (DuplicateSameAspirant, Some(3)),
            // B's second support: B's first did not count either.
            (DuplicateOtherAspirant, Some(3)),
            (Valid, None),
            (Valid, None),
        ]
    );
}

#[test]
fn rejected_supports_neither_count_nor_block() {
    use RollOutcome::*;
    let supports = [
        support(1, "A", 5, Some(CLAVE), SupersededCredential),
        support(2, "A", 5, Some(CLAVE), PaperNotAllowed),
        support(3, "B", 5, Some(CLAVE), Valid),
        support(4, "A", 5, Some(CLAVE), Valid),
        support(5, "A", 5, None, NotFound),
        support(6, "A", 5, None, NotFound),
    ];
    assert_eq!(
        outcomes(&resolve_duplicates(&supports)),
        [
            (SupersededCredential, None),
            (PaperNotAllowed, None),
            (Valid, None),
            (DuplicateOtherAspirant, Some(3)),
            (NotFound, None),
            (NotFound, None),
        ]
    );
}

type Support = SupportForDuplicates<u8, u8, u8>;

fn arb_preliminary() -> impl Strategy<Value = RollOutcome> {
    prop_oneof![
        6 => Just(RollOutcome::Valid),
        1 => Just(RollOutcome::NotFound),
        1 => Just(RollOutcome::SupersededCredential),
        1 => Just(RollOutcome::PaperNotAllowed),
        1 => Just(RollOutcome::OutOfTerritory),
        1 => Just(RollOutcome::Removed(RemovalCause::Death)),
    ]
}

/// Supports with unique sequences, in random order; few aspirants, offices and
/// citizens so that groups are common.
fn arb_supports() -> impl Strategy<Value = Vec<Support>> {
    prop::collection::vec(
        (0u8..3, 0u8..2, prop::option::of(0u8..5), arb_preliminary()),
        0..40,
    )
    .prop_flat_map(|specs| {
        let n = specs.len();
        (Just(specs), prop::collection::btree_set(1u64..100_000, n))
    })
    .prop_map(|(specs, sequences)| {
        specs
            .into_iter()
            .zip(sequences)
            .map(
                |((aspirant, office, citizen, preliminary), sequence)| SupportForDuplicates {
                    sequence,
                    // An aspirant seeks one office.
                    aspirant: aspirant + 10 * office,
                    office,
                    citizen,
                    preliminary,
                },
            )
            .collect::<Vec<_>>()
    })
    .prop_shuffle()
}

fn by_sequence(supports: &[Support], resolved: &[Resolved]) -> BTreeMap<u64, Resolved> {
    supports
        .iter()
        .zip(resolved)
        .map(|(s, r)| (s.sequence, *r))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn resolution_depends_only_on_the_set(
        (supports, shuffled) in arb_supports().prop_flat_map(|s| (Just(s.clone()), Just(s).prop_shuffle()))
    ) {
        let a = by_sequence(&supports, &resolve_duplicates(&supports));
        let b = by_sequence(&shuffled, &resolve_duplicates(&shuffled));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn one_support_counts_per_citizen_and_office(supports in arb_supports()) {
        let resolved = resolve_duplicates(&supports);
        prop_assert_eq!(resolved.len(), supports.len());
        // (office, citizen) → the earliest otherwise valid support.
        let mut first: HashMap<(u8, u8), &Support> = HashMap::new();
        for s in &supports {
            if let (RollOutcome::Valid, Some(c)) = (s.preliminary, s.citizen) {
                let slot = first.entry((s.office, c)).or_insert(s);
                if s.sequence < slot.sequence {
                    *slot = s;
                }
            }
        }
        let mut valid_per_group: HashMap<(u8, u8), usize> = HashMap::new();
        for (s, r) in supports.iter().zip(&resolved) {
            match (s.preliminary, s.citizen) {
                (RollOutcome::Valid, Some(c)) => {
                    let counted = first[&(s.office, c)];
                    if counted.sequence == s.sequence {
                        prop_assert_eq!(*r, Resolved { outcome: RollOutcome::Valid, duplicate_of: None });
                        *valid_per_group.entry((s.office, c)).or_default() += 1;
                    } else {
                        let expected = if counted.aspirant == s.aspirant {
                            RollOutcome::DuplicateSameAspirant
                        } else {
                            RollOutcome::DuplicateOtherAspirant
                        };
                        prop_assert_eq!(r.outcome, expected);
                        prop_assert_eq!(r.duplicate_of, Some(counted.sequence));
                        prop_assert!(counted.sequence < s.sequence);
                    }
                }
                // Nothing else changes: no citizen to compare, or rejected already.
                _ => prop_assert_eq!(*r, Resolved { outcome: s.preliminary, duplicate_of: None }),
            }
        }
        prop_assert_eq!(valid_per_group.len(), first.len());
        prop_assert!(valid_per_group.values().all(|n| *n == 1));
    }

    #[test]
    fn groups_resolve_alone_and_rejected_supports_do_not_block(supports in arb_supports()) {
        let whole = by_sequence(&supports, &resolve_duplicates(&supports));
        let mut groups: BTreeMap<(u8, Option<u8>), Vec<Support>> = BTreeMap::new();
        for s in &supports {
            groups.entry((s.office, s.citizen)).or_default().push(s.clone());
        }
        for group in groups.values() {
            let alone = by_sequence(group, &resolve_duplicates(group));
            for (sequence, r) in alone {
                prop_assert_eq!(whole[&sequence], r);
            }
        }
        let valid_only: Vec<Support> = supports
            .iter()
            .filter(|s| s.preliminary == RollOutcome::Valid)
            .cloned()
            .collect();
        for (sequence, r) in by_sequence(&valid_only, &resolve_duplicates(&valid_only)) {
            prop_assert_eq!(whole[&sequence], r);
        }
    }
}

// ---------------------------------------------------------------- matching, properties

const CLAVES: [&str; 3] = [CLAVE, OTHER_CLAVE, UNKNOWN_CLAVE];

fn cic(i: usize) -> String {
    format!("{:09}", 100 + i)
}

fn ocr(i: usize) -> String {
    format!("0405{:09}", 500 + i)
}

/// Small rolls whose identifiers collide often (also in ways a valid roll forbids).
fn arb_rows() -> impl Strategy<Value = Vec<RollRecord>> {
    prop::collection::vec(
        (
            0usize..3,
            0u8..3,
            prop::option::of(0usize..3),
            0usize..3,
            0usize..4,
        ),
        0..8,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .map(|(clave, issue, cic_index, ocr_index, status)| {
                let model = if cic_index.is_some() {
                    CredentialModel::H
                } else {
                    CredentialModel::C
                };
                let cic_text = cic_index.map(cic);
                let mut record = row(
                    CLAVES[clave],
                    model,
                    cic_text.as_deref(),
                    &ocr(ocr_index),
                    issue,
                    RollStatus::ALL[status],
                );
                if record.status == RollStatus::Baja {
                    record.removal_cause = Some(RemovalCause::ALL[usize::from(issue)]);
                }
                record
            })
            .collect::<Vec<_>>()
    })
}

fn arb_key() -> impl Strategy<Value = CapturedKey> {
    (
        0usize..3,
        0usize..3,
        0usize..3,
        0u8..3,
        prop::option::of(0usize..3),
        0usize..3,
    )
        .prop_map(|(kind, a, b, issue, clave, key_clave)| {
            let credential = match kind {
                0 => CredentialKey::CicCitizenId {
                    cic: cic(a),
                    citizen_id: ocr(b)[4..].to_owned(),
                },
                1 => CredentialKey::CicOcr {
                    cic: cic(a),
                    ocr: ocr(b),
                },
                _ => CredentialKey::ClaveIssueOcr {
                    clave_elector: CLAVES[key_clave].to_owned(),
                    issue_number: issue,
                    ocr: ocr(b),
                },
            };
            CapturedKey {
                model: None,
                credential,
                clave_elector: clave.map(|c| CLAVES[c].to_owned()),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn matching_ignores_the_order_of_candidates(
        (rows, shuffled) in arb_rows().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
        key in arb_key(),
    ) {
        let a = match_record(&key, &rows);
        let b = match_record(&key, &shuffled);
        prop_assert_eq!(a, b);
        prop_assert_eq!(
            preliminary_outcome(&a, in_territory, true, paper_allowed),
            preliminary_outcome(&b, in_territory, true, paper_allowed)
        );
        match a {
            RollMatch::NotFound => {
                prop_assert!(!rows.iter().any(|r| key.credential.matches(r)));
                prop_assert!(!rows.iter().any(|r| Some(&r.clave_elector) == key.clave_elector.as_ref()));
            }
            RollMatch::Found { record, current } => {
                prop_assert!(key.credential.matches(record));
                prop_assert_eq!(&record.clave_elector, &current.clave_elector);
                if record.status != RollStatus::Reemplazada {
                    prop_assert_eq!(record, current);
                }
            }
            RollMatch::OtherCredential { current } => {
                prop_assert!(!rows.iter().any(|r| key.credential.matches(r)));
                prop_assert_eq!(Some(&current.clave_elector), key.clave_elector.as_ref());
            }
        }
    }
}
