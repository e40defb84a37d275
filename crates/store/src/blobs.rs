//! Where support images live: an object-store abstraction ([`BlobStore`]) with a local
//! directory implementation. Blobs are content-addressed by their SHA-256, so a retry or
//! a duplicate image stores nothing twice.

use std::fmt::Debug;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Durable storage of immutable blobs, keyed by the SHA-256 of their content.
pub trait BlobStore: Debug + Send + Sync {
    /// Stores `bytes` durably (on return a crash loses nothing) and returns its key.
    /// Storing content that is already there does nothing.
    fn put(&self, bytes: &[u8]) -> io::Result<String>;

    /// The blob stored under `key`.
    fn get(&self, key: &str) -> io::Result<Vec<u8>>;
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Blobs in a local directory: `<root>/<first two hex digits>/<sha256>`.
#[derive(Clone, Debug)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// The directory of blobs inside a data directory.
    pub const DIR: &'static str = "blobs";

    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `<data_dir>/blobs`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join(Self::DIR))
    }

    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
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
        Ok(self.root.join(&key[..2]).join(key))
    }
}

fn sync_dir(path: &Path) -> io::Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere this is best effort.
    match File::open(path) {
        Ok(dir) => dir.sync_all().or(Ok(())),
        Err(e) => Err(e),
    }
}

impl BlobStore for LocalBlobStore {
    fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let key = sha256_hex(bytes);
        let path = self.path_of(&key)?;
        if path.exists() {
            return Ok(key);
        }
        let dir = path
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| self.root.clone());
        let created = !dir.exists();
        fs::create_dir_all(&dir)?;
        if created {
            sync_dir(&self.root)?;
        }
        // Write a temporary file, make it durable, then rename it into place: a reader
        // never sees a partial blob, and a crash leaves at worst a stray temporary file.
        let mut temp = tempfile_in(&dir, &key)?;
        let result = (|| {
            temp.1.write_all(bytes)?;
            temp.1.sync_all()?;
            fs::rename(&temp.0, &path)?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp.0);
        }
        result.map(|()| key)
    }

    fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path_of(key)?)
    }
}

/// A new temporary file next to the final one, with a unique name.
fn tempfile_in(dir: &Path, key: &str) -> io::Result<(PathBuf, File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{key}.{}.{n}.tmp", std::process::id()));
        match File::options().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_content_once_and_reads_back() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = LocalBlobStore::in_data_dir(dir.path());
        let key = store.put(b"hola")?;
        assert_eq!(key, sha256_hex(b"hola"));
        assert_eq!(store.put(b"hola")?, key, "the same content, the same key");
        assert_eq!(store.get(&key)?, b"hola");
        let shard = dir.path().join("blobs").join(&key[..2]);
        let files: Vec<_> = fs::read_dir(&shard)?.collect::<Result<_, _>>()?;
        assert_eq!(files.len(), 1, "stored once, no temporary file left");
        assert!(store.get("../../etc/passwd").is_err());
        Ok(())
    }
}
