//! The apoyo server: configuration, the JSON API, sessions and roles.
//! `cli` builds an [`App`] and serves it; tests build one on port 0.

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod crosscheck;
pub mod error;
pub mod images;
pub mod pwa;
pub mod state;
pub mod telemetry;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, header};
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use apoyo_store::{BlobStore, Reception, Store, StoreError};

pub use config::Config;
use state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Api(#[from] error::ApiError),
}

/// A bound, ready-to-serve application.
#[derive(Debug)]
pub struct App {
    pub address: SocketAddr,
    pub state: AppState,
    listener: TcpListener,
    router: Router,
}

#[derive(Clone, Copy, Default)]
struct UuidRequestId;

impl MakeRequestId for UuidRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// The OpenAPI document the server publishes at `/api/v1/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::ApiDoc::openapi()
}

pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let max_json = state.config.max_json_bytes;
    Router::new()
        .merge(api::routes(state.config.max_support_bytes))
        .merge(pwa::routes())
        .merge(console::routes())
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi()))
        .fallback(api::json::not_found)
        .method_not_allowed_fallback(api::json::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_json))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, UuidRequestId))
}

impl App {
    /// Opens the store in `config.data_dir` (applying migrations) and binds the listener,
    /// so that the address is known (port 0 → a free port) before serving.
    pub async fn build(config: Config) -> Result<Self, ServerError> {
        let store = Store::open(config.database_url.as_deref(), &config.data_dir).await?;
        Self::with_store(config, store).await
    }

    /// With support images in the object store of `config.object_store_url`, or in
    /// `<data_dir>/blobs` when there is none.
    pub async fn with_store(config: Config, store: Store) -> Result<Self, ServerError> {
        if let Some(url) = config.object_store_url.as_deref() {
            let blobs = BlobStore::open_url(url).await.map_err(StoreError::Blob)?;
            tracing::info!(object_store = %url, "support images go to the object store");
            return Self::with_store_and_blobs(config, store, blobs).await;
        }
        let root = config.data_dir.join(BlobStore::DIR);
        match BlobStore::sweep_local_staging(&root) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                files = n,
                "removed staging blob files left by an earlier stop"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot sweep staging blob files"),
        }
        let blobs =
            BlobStore::in_data_dir(&config.data_dir).map_err(|source| StoreError::DataDir {
                path: config.data_dir.join(BlobStore::DIR),
                source,
            })?;
        Self::with_store_and_blobs(config, store, blobs).await
    }

    /// With support images in any object store (it must make a put durable before it
    /// returns; see [`BlobStore`]).
    pub async fn with_store_and_blobs(
        config: Config,
        store: Store,
        blobs: BlobStore,
    ) -> Result<Self, ServerError> {
        let reception = Reception::start(store.clone(), blobs);
        Self::with_reception(config, store, reception).await
    }

    /// With a reception already started (e.g. with another group-commit size).
    pub async fn with_reception(
        config: Config,
        store: Store,
        reception: Reception,
    ) -> Result<Self, ServerError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    address: config.listen,
                    source,
                })?;
        let address = listener.local_addr().map_err(ServerError::Serve)?;
        let store = store.with_job_lease(Duration::from_secs(config.job_lease_seconds.max(1)));
        let state = AppState {
            store,
            dummy_hash: Arc::from(auth::dummy_hash().await?),
            reception,
            config: Arc::new(config),
            roll_imports: api::roll_imports::RollImports::default(),
        };
        Ok(Self {
            address,
            router: router(state.clone()),
            state,
            listener,
        })
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish. The
    /// verification worker ([`worker::run`]) runs alongside and stops with the server,
    /// after the job in hand.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        tracing::info!(address = %self.address, "serving");
        let store = self.state.store.clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(worker::run(store.clone(), stopped.clone()));
        let crosscheck = tokio::spawn(crosscheck::run(
            store.clone(),
            self.state.reception.blobs().clone(),
            stopped,
        ));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServerError::Serve);
        let _ = stop.send(true);
        if let Err(e) = worker.await {
            tracing::error!(error = %e, "verification worker ended abnormally");
        }
        if let Err(e) = crosscheck.await {
            tracing::error!(error = %e, "image cross-check ended abnormally");
        }
        served?;
        tokio::time::timeout(Duration::from_secs(10), store.close())
            .await
            .ok();
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
