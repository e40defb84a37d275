//! Support images in S3-compatible object storage (the bucket of `APOYO_TEST_S3_URL`,
//! a moto server started by .ci/s3.sh): content addressing, resends, missing blobs,
//! large and concurrent puts, and a clear error at opening for a bucket that is not
//! there. Skipped without `APOYO_TEST_S3_URL`, failed instead when
//! `APOYO_TEST_SERVICES=required`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use apoyo_store::{BlobStore, sha256_hex};
use apoyo_testkit::services_required;

/// A store under a fresh prefix of the test bucket, so runs never see each other's blobs.
async fn bucket() -> Option<(String, BlobStore)> {
    let Ok(url) = std::env::var("APOYO_TEST_S3_URL") else {
        assert!(
            !services_required(),
            "APOYO_TEST_SERVICES=required but APOYO_TEST_S3_URL is not set: run `eval \"$(.ci/s3.sh start)\"` first"
        );
        eprintln!("skipped: APOYO_TEST_S3_URL is not set (.ci/run starts an S3 server)");
        return None;
    };
    let prefixed = format!(
        "{}/{}",
        url.trim_end_matches('/'),
        uuid::Uuid::now_v7().simple()
    );
    let store = BlobStore::open_url(&prefixed).await.unwrap();
    Some((url, store))
}

#[tokio::test]
async fn blobs_go_to_the_bucket_by_content_and_come_back_whole() {
    let Some((_, store)) = bucket().await else {
        return;
    };
    let key = store
        .put(b"anverso de una credencial sintetica".to_vec())
        .await
        .unwrap();
    assert_eq!(key, sha256_hex(b"anverso de una credencial sintetica"));
    assert_eq!(
        store.get(&key).await.unwrap(),
        b"anverso de una credencial sintetica"
    );
    // A resend stores nothing new and gives the same key.
    assert_eq!(
        store
            .put(b"anverso de una credencial sintetica".to_vec())
            .await
            .unwrap(),
        key
    );

    let missing = store.get(&sha256_hex(b"nunca guardado")).await.unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);

    // A photograph-sized blob (2 MB), byte for byte.
    let big: Vec<u8> = (0..2_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let big_key = store.put(big.clone()).await.unwrap();
    assert_eq!(store.get(&big_key).await.unwrap(), big);

    // Concurrent puts, some of the same content.
    let mut puts = tokio::task::JoinSet::new();
    for i in 0..16u32 {
        let store = store.clone();
        puts.spawn(async move { store.put(format!("imagen {}", i % 8).into_bytes()).await });
    }
    let mut keys = std::collections::BTreeSet::new();
    while let Some(put) = puts.join_next().await {
        keys.insert(put.unwrap().unwrap());
    }
    assert_eq!(keys.len(), 8);
    for i in 0..8u32 {
        let bytes = format!("imagen {i}").into_bytes();
        assert_eq!(store.get(&sha256_hex(&bytes)).await.unwrap(), bytes);
    }
}

#[tokio::test]
async fn a_bucket_that_is_not_there_is_refused_at_opening() {
    let Some((url, _)) = bucket().await else {
        return;
    };
    let bucket = url.trim_start_matches("s3://").split('/').next().unwrap();
    let wrong = format!("s3://{bucket}-que-no-existe");
    let error = BlobStore::open_url(&wrong).await.unwrap_err().to_string();
    assert!(
        error.contains("que-no-existe") && error.contains("bucket"),
        "{error}"
    );

    let error = BlobStore::open_url("gs://otro-proveedor")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("s3://BUCKET"), "{error}");
}
