use std::sync::Arc;

use apoyo_store::{Reception, Store};

use crate::config::Config;

/// Shared by every handler; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    /// For logins with unknown emails: verifying against it costs what a real check costs.
    pub dummy_hash: Arc<str>,
    /// Reception of supports (group commit); its images go to `<data_dir>/blobs` by default.
    pub reception: Reception,
    /// Roll imports this instance runs (their live progress, one at a time).
    pub roll_imports: crate::api::roll_imports::RollImports,
}
