//! Where support images live: any [`ObjectStore`] (`object_store`), a local directory by
//! default. Blobs are content-addressed by their SHA-256, so a retry or a duplicate image
//! stores nothing twice.
//!
//! Durability: a put must be durable when it returns (a crash right after loses nothing).
//! Remote object stores (S3 and the like) promise that on success; the local directory
//! does when built with [`BlobStore::local`], which turns on `LocalFileSystem`'s fsync:
//! the object is written to a staging file, fsynced, renamed into place, and its directory
//! (and any directory just created) fsynced. A crash leaves at worst a stray staging file,
//! never a partial blob under its key.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

/// Durable storage of immutable blobs, keyed by the SHA-256 of their content (lower-case
/// hex), at `<first two hex digits>/<sha256>` in the object store. Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    objects: Arc<dyn ObjectStore>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobStore({})", self.objects)
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn io_error(error: object_store::Error) -> io::Error {
    match error {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, error),
        other => io::Error::other(other),
    }
}

impl BlobStore {
    /// The directory of blobs inside a data directory.
    pub const DIR: &'static str = "blobs";

    /// Blobs in `objects`, which must make a put durable before it returns.
    pub fn new(objects: Arc<dyn ObjectStore>) -> Self {
        Self { objects }
    }

    /// Blobs in a local directory (created if needed), every put fsynced.
    pub fn local(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let local = LocalFileSystem::new_with_prefix(root)
            .map_err(io_error)?
            .with_fsync(true);
        Ok(Self::new(Arc::new(local)))
    }

    /// `<data_dir>/blobs`.
    pub fn in_data_dir(data_dir: &Path) -> io::Result<Self> {
        Self::local(&data_dir.join(Self::DIR))
    }

    /// Blobs in S3-compatible object storage: `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    /// Credentials, region and endpoint come from the standard environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`). A successful S3 put is durable. The bucket is checked here, so
    /// a wrong name, endpoint or credential stops the start-up instead of the first
    /// support.
    pub async fn open_url(url: &str) -> io::Result<Self> {
        let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            invalid(format!(
                "object_store_url must look like s3://BUCKET or s3://BUCKET/PREFIX (got {url:?})"
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid(format!("object_store_url {url:?} names no bucket")));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        // Servers other than AWS (MinIO, Ceph, moto) are addressed by path, not by a
        // bucket subdomain.
        if std::env::var_os("AWS_ENDPOINT_URL").is_some() {
            builder = builder.with_virtual_hosted_style_request(false);
        }
        let s3 = builder.build().map_err(|e| {
            invalid(format!(
                "cannot configure S3 for {url:?}: {e} (set AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            ))
        })?;
        let prefix = prefix.trim_matches('/');
        let objects: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        let store = Self::new(objects);
        store.check_reachable().await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "the object store {url:?} does not answer as expected: {e} \
                     (check the bucket name, AWS_ENDPOINT_URL and the credentials)"
                ),
            )
        })?;
        Ok(store)
    }

    /// Writes and reads back a small marker object: the only proof that the bucket
    /// exists and the credentials may write (a read of a missing key answers "not
    /// found" for a missing bucket too).
    async fn check_reachable(&self) -> io::Result<()> {
        let marker = ObjectPath::from("apoyo-reachability-check");
        let text = b"apoyo: this bucket keeps support images".to_vec();
        self.objects
            .put(&marker, PutPayload::from(text.clone()))
            .await
            .map_err(io_error)?;
        let read = self.objects.get(&marker).await.map_err(io_error)?;
        if read.bytes().await.map_err(io_error)?.as_ref() != text.as_slice() {
            return Err(io::Error::other("the marker object read back differently"));
        }
        Ok(())
    }

    /// Removes the staging files a killed process left in a local blob directory
    /// (`<aa>/<sha256>#<n>`: written, never renamed into place, so never referenced).
    /// Only while no put is in flight: the server calls it at start-up, before serving.
    /// Returns how many were removed.
    pub fn sweep_local_staging(root: &Path) -> io::Result<usize> {
        let mut removed = 0;
        let shards = match std::fs::read_dir(root) {
            Ok(shards) => shards,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        for shard in shards {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(shard.path())? {
                let file = file?;
                if file.file_name().to_string_lossy().contains('#') {
                    std::fs::remove_file(file.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    fn location(key: &str) -> io::Result<ObjectPath> {
        let valid = key.len() == 64
            && key
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a blob key: {key:?}"),
            ));
        }
        Ok(ObjectPath::from(format!("{}/{key}", &key[..2])))
    }

    /// Stores `bytes` durably and returns its key. Content already there is not written again.
    pub async fn put(&self, bytes: Vec<u8>) -> io::Result<String> {
        let key = sha256_hex(&bytes);
        self.put_keyed(&key, bytes).await?;
        Ok(key)
    }

    /// [`put`](Self::put) with the key already computed by the caller (`sha256_hex(bytes)`).
    pub(crate) async fn put_keyed(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let location = Self::location(key)?;
        // An object under its key is whole: it was made durable before it was renamed (or
        // uploaded) into place.
        match self.objects.head(&location).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        self.objects
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(io_error)?;
        Ok(())
    }

    /// The keys of every blob stored (for audits and tests; walks the whole store).
    pub async fn keys(&self) -> io::Result<Vec<String>> {
        use futures_util::TryStreamExt;
        let objects: Vec<object_store::ObjectMeta> = self
            .objects
            .list(None)
            .try_collect()
            .await
            .map_err(io_error)?;
        Ok(objects
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.filename()?.to_owned();
                Self::location(&key).is_ok().then_some(key)
            })
            .collect())
    }

    /// The blob stored under `key`.
    pub async fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        let location = Self::location(key)?;
        let result = self.objects.get(&location).await.map_err(io_error)?;
        Ok(result.bytes().await.map_err(io_error)?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::fs;

    use super::*;

    #[tokio::test]
    async fn staging_files_left_by_a_kill_are_swept_and_blobs_kept() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::in_data_dir(dir.path())?;
        let key = store.put(b"una imagen".to_vec()).await?;
        let root = dir.path().join(BlobStore::DIR);
        let stray = root.join(&key[..2]).join(format!("{key}#3"));
        fs::write(&stray, b"a medio escribir")?;
        assert_eq!(BlobStore::sweep_local_staging(&root)?, 1);
        assert!(!stray.exists());
        assert_eq!(store.get(&key).await?, b"una imagen");
        assert_eq!(BlobStore::sweep_local_staging(&root)?, 0);
        Ok(())
    }

    #[tokio::test]
    async fn stores_by_content_once_and_reads_back() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = BlobStore::in_data_dir(dir.path())?;
        let key = store.put(b"hola".to_vec()).await?;
        assert_eq!(key, sha256_hex(b"hola"));
        assert_eq!(
            store.put(b"hola".to_vec()).await?,
            key,
            "the same content, the same key"
        );
        assert_eq!(store.get(&key).await?, b"hola");
        let shard = dir.path().join("blobs").join(&key[..2]);
        let files: Vec<_> = fs::read_dir(&shard)?.collect::<Result<_, _>>()?;
        assert_eq!(files.len(), 1, "stored once, no staging file left");
        assert_eq!(fs::read(shard.join(&key))?, b"hola", "at <aa>/<sha256>");
        assert!(store.get("../../etc/passwd").await.is_err());
        let missing = store.get(&sha256_hex(b"adios")).await.unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        Ok(())
    }

    #[tokio::test]
    async fn any_object_store_will_do() -> io::Result<()> {
        let store = BlobStore::new(Arc::new(object_store::memory::InMemory::new()));
        let key = store.put(b"en memoria".to_vec()).await?;
        assert_eq!(store.get(&key).await?, b"en memoria");
        Ok(())
    }
}
