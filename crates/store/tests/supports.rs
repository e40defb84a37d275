//! Acceptance of supports in the store itself: what the API cannot send (incomplete
//! image sets), resends, and a blob store that fails (nothing is committed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use apoyo_testkit::backends;

use std::io::Cursor;

use apoyo_domain::Date;
use apoyo_domain::roll::COLUMNS;
use apoyo_domain::threshold::{DispersionRule, ThresholdRule};
use apoyo_store::{
    Acceptance, Actor, BlobStore, ImageKind, ImportOptions, NewAspirant, NewCollector, NewImage,
    NewOffice, NewProcess, NewSupport, OfficeKind, ProcessKind, RuleViolation, Store, StoreError,
};
use serde_json::json;

const CLAVE: &str = "PRLPGD60010110M000";

async fn store_with_collector() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        apoyo_testkit::fresh_database_url().await.as_deref(),
        dir.path(),
    )
    .await
    .unwrap();
    let mut text = COLUMNS.join(",");
    text.push('\n');
    text.push_str(&format!(
        "{CLAVE},,MARIA,PEREZ,LOPEZ,M,1960-01-01,10,1,100,H,200000011,0100100000011,100000011,01,2031,lista_nominal,\n"
    ));
    store
        .import_roll(
            Cursor::new(text.into_bytes()),
            ImportOptions {
                name: "corte".into(),
                cut_date: Date::new(2026, 8, 31).unwrap(),
                activate: true,
            },
            |_| {},
        )
        .await
        .unwrap();
    let actor = Actor::system();
    let process = store
        .create_process(
            &actor,
            NewProcess {
                name: "Proceso".into(),
                kind: ProcessKind::IndependentCandidacy,
                collection_starts_on: Date::new(2026, 1, 1).unwrap(),
                collection_ends_on: Date::new(2026, 12, 31).unwrap(),
                grace_hours: 24,
                roll_snapshot: "corte".into(),
                paper_municipalities: Vec::new(),
            },
        )
        .await
        .unwrap();
    let office = store
        .create_office(
            &actor,
            process.id,
            NewOffice {
                kind: OfficeKind::Ayuntamiento,
                name: "Ayuntamiento".into(),
                state: 10,
                municipality: Some(1),
                district: None,
                sections: None,
                threshold: ThresholdRule::Fixed(1),
                dispersion: DispersionRule {
                    min_sections_bp: 0,
                    min_support_bp: 0,
                },
            },
        )
        .await
        .unwrap();
    let aspirant = store
        .create_aspirant(
            &actor,
            NewAspirant {
                process_id: process.id,
                office_id: office.id,
                name: "Aspirante".into(),
                email: "aspirante@apoyo.test".into(),
                password_hash: "x".into(),
            },
        )
        .await
        .unwrap();
    let collector = store
        .create_collector(
            &actor,
            NewCollector {
                aspirant_id: aspirant.id,
                name: "Auxiliar".into(),
                email: "auxiliar@apoyo.test".into(),
                clave_elector: CLAVE.into(),
                password_hash: "x".into(),
            },
        )
        .await
        .unwrap();
    (dir, store, collector.user_id)
}

fn support(user_id: i64, kinds: &[ImageKind]) -> NewSupport {
    NewSupport {
        collector_user_id: user_id,
        client_id: "store-test-0001".into(),
        captured_at: "2026-06-01T12:00:00Z".into(),
        latitude: None,
        longitude: None,
        credential: json!({"model": "G"}),
        precheck: json!([]),
        images: kinds
            .iter()
            .map(|kind| NewImage {
                kind: *kind,
                content_type: "image/png",
                width: 64,
                height: 64,
                phash: Some("0123456789abcdef".into()),
                bytes: kind.as_str().as_bytes().to_vec(),
            })
            .collect(),
    }
}

/// A blob store whose directory was replaced by a file: every put fails.
fn broken_disk(dir: &std::path::Path) -> BlobStore {
    let root = dir.join("broken");
    let blobs = BlobStore::local(&root).unwrap();
    std::fs::remove_dir(&root).unwrap();
    std::fs::write(&root, b"not a directory").unwrap();
    blobs
}

async fn supports(store: &Store) -> usize {
    store
        .audit_entries(&apoyo_store::AuditFilter {
            action: Some("support.receive".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

#[backends]
async fn a_support_needs_one_image_of_each_kind() {
    let (dir, store, user) = store_with_collector().await;
    let blobs = BlobStore::in_data_dir(dir.path()).unwrap();
    for kinds in [
        &ImageKind::ALL[..3],
        &[
            ImageKind::Front,
            ImageKind::Front,
            ImageKind::Back,
            ImageKind::Signature,
        ][..],
    ] {
        let result = store
            .accept_support(&Actor::system(), &blobs, support(user, kinds))
            .await;
        assert!(
            matches!(
                result,
                Err(StoreError::Rule(RuleViolation::SupportImagesIncomplete))
            ),
            "{result:?}"
        );
    }
    assert_eq!(supports(&store).await, 0);
}

#[backends]
async fn nothing_is_committed_when_the_images_cannot_be_stored() {
    let (dir, store, user) = store_with_collector().await;
    let result = store
        .accept_support(
            &Actor::system(),
            &broken_disk(dir.path()),
            support(user, &ImageKind::ALL),
        )
        .await;
    assert!(matches!(result, Err(StoreError::Blob(_))), "{result:?}");
    assert_eq!(supports(&store).await, 0);

    // The same support once the disk works: sequence 1 (the failure used none), then a
    // resend answers the same receipt.
    let blobs = BlobStore::in_data_dir(dir.path()).unwrap();
    let Acceptance::Accepted(first) = store
        .accept_support(&Actor::system(), &blobs, support(user, &ImageKind::ALL))
        .await
        .unwrap()
    else {
        panic!("accepted")
    };
    assert_eq!((first.sequence, first.folio.as_str()), (1, "1-00000001"));
    for image in &first.images {
        assert_eq!(
            blobs.get(&image.object_key).await.unwrap(),
            image.kind.as_str().as_bytes()
        );
        assert_eq!(image.object_key, image.sha256);
        assert_eq!(image.phash.as_deref(), Some("0123456789abcdef"));
    }
    let again = store
        .accept_support(&Actor::system(), &blobs, support(user, &ImageKind::ALL))
        .await
        .unwrap();
    assert_eq!(again, Acceptance::Repeated(first));
    assert_eq!(supports(&store).await, 1);
}

#[backends(flavor = "multi_thread", worker_threads = 4)]
async fn reception_commits_concurrent_supports_together_in_order() {
    let (dir, store, user) = store_with_collector().await;
    let reception =
        apoyo_store::Reception::start(store.clone(), BlobStore::in_data_dir(dir.path()).unwrap());
    let send = |client_id: String, marker: u8| {
        let reception = reception.clone();
        let mut new = support(user, &ImageKind::ALL);
        new.client_id = client_id;
        for image in &mut new.images {
            image.bytes.push(marker);
        }
        tokio::spawn(async move { reception.accept(&Actor::system(), new).await })
    };
    // 30 distinct supports and 5 identical sends of another, all at once.
    let mut tasks: Vec<_> = (0..30u8)
        .map(|i| send(format!("group-{i:04}"), i))
        .collect();
    tasks.extend((0..5).map(|_| send("group-same".into(), 200)));
    let mut accepted = Vec::new();
    let mut repeated = Vec::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Acceptance::Accepted(receipt) => accepted.push(receipt),
            Acceptance::Repeated(receipt) => repeated.push(receipt),
        }
    }
    assert_eq!(accepted.len(), 31, "one of the identical sends is stored");
    assert_eq!(repeated.len(), 4);
    let same = accepted
        .iter()
        .find(|r| r.client_id == "group-same")
        .unwrap();
    assert!(repeated.iter().all(|r| r == same), "the same receipt");
    let mut sequences: Vec<i64> = accepted.iter().map(|r| r.sequence).collect();
    sequences.sort_unstable();
    assert_eq!(
        sequences,
        (1..=31).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    assert_eq!(supports(&store).await, 31, "one audit entry each");

    // The same client id with other content: refused, nothing stored.
    let conflict = send("group-same".into(), 201).await.unwrap();
    assert!(
        matches!(conflict, Err(StoreError::Conflict(_))),
        "{conflict:?}"
    );
    assert_eq!(supports(&store).await, 31);
}
