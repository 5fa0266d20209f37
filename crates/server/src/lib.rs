//! Rumbo's HTTP server: server-rendered pages, the JSON API (with its OpenAPI document) and
//! sign-in. [`router`] builds the whole application; [`launch_with_listener`] serves it
//! until a shutdown signal, so tests can bind port 0.

pub mod analytics;
pub mod api;
pub mod auth;
pub mod collect;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod openrosa;
pub mod ops;
pub mod outputs;
pub mod pages;
pub mod protection;
pub mod response;
pub mod settings;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rumbo_store::Store;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use settings::Settings;

/// The largest upload accepted (boundary files).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// The forms in use and the submission writer.
    pub collect: Arc<collect::Collection>,
    /// The indicators in use; what every write asks what a submission counts for.
    pub analytics: Arc<analytics::Analytics>,
    /// Background exports: their folder and the worker's wake-up call.
    pub exports: Arc<outputs::jobs::Exports>,
    /// The protection key (identifying fields) and the live alert feed.
    pub protection: Arc<protection::Protection>,
}

/// The settings the running server needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub session_hours: i64,
    pub secure_cookies: bool,
    /// The largest OpenRosa submission (XML and attachments together) taken in one request;
    /// clients split bigger ones (`X-OpenRosa-Accept-Content-Length`).
    pub max_submission_bytes: usize,
    /// The largest single attachment.
    pub max_attachment_bytes: usize,
    /// Accept HTTP Basic sign-in on OpenRosa over plain HTTP (local use only).
    pub openrosa_allow_basic: bool,
    /// The data folder: background exports are written under `exports/` in it.
    pub data_dir: std::path::PathBuf,
    /// The key that seals identifying fields (default `protection.key` in the data folder;
    /// keep it, and its backup, apart from the database's).
    pub key_file: Option<std::path::PathBuf>,
    /// Create the key file when there is none (a new instance); otherwise a missing key
    /// stops the server.
    pub create_key: bool,
    /// How the 5W report rows are consolidated into people reached (default: the RMRP method;
    /// see docs/response.md).
    pub consolidation: rumbo_analytics::fivew::Rules,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            secure_cookies: false,
            max_submission_bytes: 10 * 1024 * 1024,
            max_attachment_bytes: 10 * 1024 * 1024,
            openrosa_allow_basic: false,
            data_dir: std::path::PathBuf::from("rumbo-data"),
            key_file: None,
            create_key: true,
            consolidation: rumbo_analytics::fivew::Rules::default(),
        }
    }
}

impl AppState {
    /// Builds the state, starts the submission writer and compiles the indicators in use
    /// (call it inside the runtime, before taking requests: writes need the indicators).
    pub async fn open(store: Store, config: ServerConfig) -> Result<Self, error::ApiError> {
        let analytics = Arc::new(analytics::Analytics::new());
        let collect = Arc::new(collect::Collection::new(store.clone(), analytics.clone()));
        let exports = Arc::new(outputs::jobs::Exports::new(config.data_dir.join("exports")));
        let protection = protection::open_checked(&store, &config).await?;
        let state = Self { store, config: Arc::new(config), collect, analytics, exports, protection };
        state.analytics.reload(&state).await?;
        protection::flags::reload(&state).await?;
        Ok(state)
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let errors = axum::middleware::from_fn_with_state(state.clone(), pages::render_page_errors);
    Router::new()
        .merge(openrosa::router(&state))
        .merge(api::router())
        .merge(analytics::api::router())
        .merge(collect::api::router())
        .merge(collect::web::router())
        .merge(collect::import::router())
        .merge(outputs::report::router())
        .merge(outputs::exports::router())
        .merge(pages::router())
        .merge(protection::router())
        .merge(response::router())
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .layer(errors)
        .layer(axum::middleware::map_response_with_state(state.clone(), security_headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                    // Device keys travel in the path (/openrosa/key/TOKEN/…): never log them.
                    tracing::info_span!("request", method = %request.method(), uri = %loggable_path(request.uri()))
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The request's path for the log, with any OpenRosa device key replaced by `***`.
fn loggable_path(uri: &axum::http::Uri) -> String {
    match uri.path().strip_prefix("/openrosa/key/") {
        Some(rest) => match rest.split_once('/') {
            Some((_, after)) => format!("/openrosa/key/***/{after}"),
            None => "/openrosa/key/***".to_string(),
        },
        None => uri.path().to_string(),
    }
}

/// Unknown addresses: a JSON error under `/api/`, a page elsewhere.
async fn not_found(uri: axum::http::Uri) -> Response {
    let error = error::ApiError::NotFound(format!("nothing at {}", uri.path()));
    if uri.path().starts_with("/api/") { error.into_response() } else { pages::PageError(error).into_response() }
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: Response,
) -> Response {
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    // Pages and API answers hold data some people may not see: no cache keeps them.
    // The embedded assets set their own caching.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Serves the application on `listener` until `shutdown` completes, then finishes the
/// requests under way. The export worker runs meanwhile; on shutdown it gives its job back,
/// to be resumed on the next start.
pub async fn launch_with_listener(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let exports = outputs::jobs::Worker::start(state.clone());
    let warm = tokio::spawn(analytics::public::warm(state.clone()));
    let served = axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await;
    warm.abort();
    exports.stop().await;
    served
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
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
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_keys_stay_out_of_the_log() {
        let uri: axum::http::Uri = "/openrosa/key/rumbo_secret123/submission?x=1".parse().unwrap();
        assert_eq!(super::loggable_path(&uri), "/openrosa/key/***/submission");
        let uri: axum::http::Uri = "/openrosa/key/rumbo_secret123".parse().unwrap();
        assert_eq!(super::loggable_path(&uri), "/openrosa/key/***");
        let uri: axum::http::Uri = "/sites?country=COL".parse().unwrap();
        assert_eq!(super::loggable_path(&uri), "/sites");
    }
}
