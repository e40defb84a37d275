use std::sync::Arc;

use apoyo_store::{BlobStore, Store};

use crate::config::Config;

/// Shared by every handler; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// For logins with unknown emails: verifying against it costs what a real check costs.
    pub dummy_hash: Arc<str>,
    /// Support images: `<data_dir>/blobs` by default.
    pub blobs: Arc<dyn BlobStore>,
}
