//! Two `apoyo serve` instances over one PostgreSQL database (and one S3 bucket when
//! `APOYO_TEST_S3_URL` is set) behave as one system: a session made on one is valid on
//! the other and a logout on one ends it on both; supports sent to both — including the
//! same support sent to both at the same moment — are stored once each, with reception
//! sequences 1..n without gaps; every support is verified exactly once although both
//! instances' workers take jobs; duplicate groups split across instances resolve to one
//! counted support; progress is the same on both and equals a recount.
//!
//! PostgreSQL only (SQLite is the single-instance default): skipped without
//! `APOYO_TEST_POSTGRES_URL`, failed instead when `APOYO_TEST_SERVICES=required`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{TestApp, TestBackend, on_backend, support_fields, support_images};

/// Supports per collector; every one is a different citizen of the harness roll, and
/// every fifth one is captured a second time through the other instance (a duplicate).
const PER_COLLECTOR: u32 = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behave_as_one() {
    on_backend(TestBackend::Postgres, async {
        let a = Arc::new(TestApp::start().await);
        let world = a.world_in_period().await;
        let b = Arc::new(a.another_instance().await);
        assert_ne!(a.base, b.base);

        // Sessions are rows of the shared database: valid on any instance.
        let aspirant = world.a.session.bearer();
        b.get("/api/v1/session", &aspirant).await.expect(200);
        let extra = b
            .login(&world.a.account.email, &world.a.account.password)
            .await;
        a.get("/api/v1/session", &extra.bearer()).await.expect(200);
        a.delete("/api/v1/session", &extra.bearer()).await.expect(204);
        b.get("/api/v1/session", &extra.bearer())
            .await
            .expect_error(401, "unauthenticated");

        // Both collectors send through both instances at once.
        let mut tasks = tokio::task::JoinSet::new();
        for (collector, first) in [(world.col_a.session.bearer(), 0), (world.col_b.session.bearer(), 100)] {
            for i in 0..PER_COLLECTOR {
                let (here, there) = if i % 2 == 0 {
                    (Arc::clone(&a), Arc::clone(&b))
                } else {
                    (Arc::clone(&b), Arc::clone(&a))
                };
                let collector = collector.clone();
                tasks.spawn(async move {
                    // Citizen `first + i`'s credential of emisión 1.
                    let n = (first + i) * 10 + 1;
                    let client_id = format!("0190f1c2-dddd-7000-8000-{:06}{:06}", first, i);
                    let fields = support_fields(&client_id, n);
                    let mut receipts = Vec::new();
                    if i % 3 == 0 {
                        // The same support to both instances at the same moment.
                        let (one, two) = tokio::join!(
                            here.send_support(&collector, &fields, support_images(7)),
                            there.send_support(&collector, &fields, support_images(7)),
                        );
                        let mut statuses = [one.status, two.status];
                        statuses.sort_unstable();
                        assert_eq!(statuses, [200, 201], "one stores it, the other answers the receipt");
                        assert_eq!(one.body["support_id"], two.body["support_id"]);
                        assert_eq!(one.body["sequence"], two.body["sequence"]);
                        receipts.push(one.body);
                    } else {
                        receipts.push(here.send_support(&collector, &fields, support_images(7)).await.expect(201).body);
                    }
                    if i % 5 == 0 {
                        // The same citizen again, another capture, through the other instance.
                        let again = format!("0190f1c2-eeee-7000-8000-{:06}{:06}", first, i);
                        receipts.push(
                            there
                                .send_support(&collector, &support_fields(&again, n), support_images(9))
                                .await
                                .expect(201)
                                .body,
                        );
                    }
                    receipts
                });
            }
        }
        let mut receipts = Vec::new();
        while let Some(done) = tasks.join_next().await {
            receipts.extend(done.unwrap());
        }
        let duplicates = (0..PER_COLLECTOR).filter(|i| i % 5 == 0).count() as i64 * 2;
        let expected = i64::from(PER_COLLECTOR) * 2 + duplicates;
        assert_eq!(receipts.len() as i64, expected);

        // Stored once each, sequences 1..n without gaps or repeats.
        let ids: BTreeSet<i64> = receipts.iter().map(|r| r["support_id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len() as i64, expected, "no support stored twice");
        let mut sequences: Vec<i64> = receipts.iter().map(|r| r["sequence"].as_i64().unwrap()).collect();
        sequences.sort_unstable();
        assert_eq!(sequences, (1..=expected).collect::<Vec<_>>());
        assert_eq!(
            a.scalar(&format!("SELECT COUNT(*) FROM supports WHERE process_id = {}", world.process_id)).await,
            expected
        );

        // Both workers verified; each job exactly once.
        a.all_verified().await;
        assert_eq!(a.scalar("SELECT COUNT(*) FROM verification_jobs WHERE status = 'done'").await, expected);
        assert_eq!(a.scalar("SELECT COUNT(*) FROM verification_jobs WHERE attempts <> 1").await, 0);
        assert_eq!(a.scalar("SELECT COUNT(*) FROM supports WHERE outcome IS NULL").await, 0);
        // Each duplicate group counts one support, the earliest by sequence.
        assert_eq!(
            a.scalar(
                "SELECT COUNT(*) FROM (SELECT citizen_clave FROM supports WHERE outcome = 'valid' \
                 GROUP BY aspirant_id, citizen_clave HAVING COUNT(*) > 1) AS g"
            )
            .await,
            0,
            "a citizen counted twice for one aspirant"
        );
        assert_eq!(
            a.scalar(
                "SELECT COUNT(*) FROM supports d JOIN supports f ON f.sequence = d.duplicate_of \
                 AND f.process_id = d.process_id WHERE d.duplicate_of IS NOT NULL AND f.sequence > d.sequence"
            )
            .await,
            0,
            "a duplicate points at a later support"
        );
        assert!(
            a.scalar("SELECT COUNT(*) FROM supports WHERE duplicate_of IS NOT NULL").await <= duplicates
        );

        // Progress: the same on both instances, equal to a recount.
        for (aspirant_id, session) in [(world.aspirant_a, &world.a), (world.aspirant_b, &world.b)] {
            let path = format!("/api/v1/aspirants/{aspirant_id}/progress");
            let on_a = a.get(&path, &session.session.bearer()).await.expect(200).body;
            let on_b = b.get(&path, &session.session.bearer()).await.expect(200).body;
            assert_eq!(on_a, on_b);
            let received = a
                .scalar(&format!("SELECT COUNT(*) FROM supports WHERE aspirant_id = {aspirant_id}"))
                .await;
            let valid = a
                .scalar(&format!(
                    "SELECT COUNT(*) FROM supports WHERE aspirant_id = {aspirant_id} AND outcome = 'valid'"
                ))
                .await;
            assert_eq!(on_a["received"], received, "{on_a:#}");
            assert_eq!(on_a["valid"], valid, "{on_a:#}");
        }

        let b = Arc::into_inner(b).unwrap();
        b.stop().await.unwrap();
        let a = Arc::into_inner(a).unwrap();
        a.stop().await.unwrap();
    })
    .await;
}
