//! A simulated New API server (axum) for `gatewatch demo` and the tests.
//!
//! It answers the admin routes gatewatch uses with the JSON new-api
//! (9f8a4ec) produces — same field names and order as tests/fixtures/newapi
//! — behind the same admin auth (every failure with its real HTTP status,
//! several of them HTTP 200 with `success:false`) and the same per-IP rate
//! limit (an empty 429). Keys are never returned. Channel tests are
//! deterministic per channel and never change a channel's status.
//!
//! Not simulated: session login, `tag_mode`, search, logs, multi-key
//! management, the key-reveal route.

mod channels;
mod guard;
mod logs;
pub mod model;
mod reply;
pub mod scenario;
mod status;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

pub use logs::SimErrorLog;
pub use model::{SimBehaviour, SimChannel, SimChannelInfo};

/// The fake credentials of the demo server (obviously not real).
pub const DEMO_ACCESS_TOKEN: &str = "demo-newapi-access-token-0000";
pub const DEMO_USER_ID: i64 = 1;

/// Everything the simulated server knows.
#[derive(Debug)]
pub struct NewApiState {
    pub channels: Vec<SimChannel>,
    /// The one system access token that works.
    pub access_token: String,
    /// The id of the token's user (`New-Api-User` must equal it).
    pub user_id: i64,
    /// The token user's role: 1 common, 10 admin, 100 root.
    pub role: i64,
    pub banned: bool,
    /// `GLOBAL_API_RATE_LIMIT` per `GLOBAL_API_RATE_LIMIT_DURATION`, per IP; `None` = off.
    pub rate_limit: Option<(u32, Duration)>,
    pub version: String,
    pub start_time: i64,
    /// `GET /api/status/test` answers 503 `数据库连接失败`.
    pub db_down: bool,
    /// `AutomaticDisableChannelEnabled` (default off, as upstream).
    pub auto_disable_enabled: bool,
    /// `AutomaticEnableChannelEnabled` (default off, as upstream).
    pub auto_enable_enabled: bool,
    /// How long a "test all" run counts as running.
    pub test_all_duration: Duration,
    /// Requests that reached the server (429s included).
    pub requests: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// The type-5 error log, newest first (empty = ERROR_LOG_ENABLED off).
    pub error_logs: Vec<SimErrorLog>,
    hits: HashMap<String, VecDeque<Instant>>,
    test_all_until: Option<Instant>,
}

impl NewApiState {
    fn base(channels: Vec<SimChannel>, start_time: i64) -> Self {
        Self {
            channels,
            access_token: DEMO_ACCESS_TOKEN.to_owned(),
            user_id: DEMO_USER_ID,
            role: 100,
            banned: false,
            rate_limit: Some((180, Duration::from_secs(180))),
            version: "v0.9.0-sim".to_owned(),
            start_time,
            db_down: false,
            auto_disable_enabled: false,
            auto_enable_enabled: false,
            test_all_duration: Duration::from_secs(5),
            requests: 0,
            rate_limited: 0,
            error_logs: Vec::new(),
            hits: HashMap::new(),
            test_all_until: None,
        }
    }

    /// The staged incident ([`scenario::demo`]), started three hours ago.
    pub fn demo() -> Self {
        let now = unix_now();
        let mut s = Self::base(scenario::demo(now), now - 3 * 3600);
        s.error_logs = scenario::error_logs(now);
        s
    }

    /// `n` deterministic channels for scale tests ([`scenario::many`]).
    pub fn with_channels(n: usize) -> Self {
        Self::base(scenario::many(n), 1_777_300_000)
    }

    pub fn channel(&self, id: i64) -> Option<&SimChannel> {
        self.channels.iter().find(|c| c.id == id)
    }
}

/// The state the handlers share. The lock is never held across an `.await`.
pub type Shared = Arc<Mutex<NewApiState>>;

fn lock(state: &Shared) -> MutexGuard<'_, NewApiState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The routes. Serve with `into_make_service_with_connect_info::<SocketAddr>`
/// for a per-client rate limit (without it every client shares one budget).
pub fn router(state: Shared) -> Router {
    let admin = Router::new()
        .route("/api/status/test", get(status::status_test))
        .route("/api/channel/", get(channels::list).put(channels::update))
        .route("/api/channel/test", get(channels::test_all))
        .route("/api/channel/test/{id}", get(channels::test_one))
        .route("/api/channel/update_balance", get(channels::update_all))
        .route("/api/channel/update_balance/{id}", get(channels::update_one))
        .route("/api/channel/{id}", get(channels::get_one))
        .route("/api/log/", get(logs::list))
        .route_layer(from_fn_with_state(state.clone(), guard::admin_auth));
    Router::new()
        .route("/api/status", get(status::status))
        .merge(admin)
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found").into_response() })
        .layer(from_fn_with_state(state.clone(), guard::rate_limit))
        .with_state(state)
}

/// Serve on 127.0.0.1 (a free port) until `cancel` fires.
pub async fn serve(state: Shared, cancel: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let result = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "simulated New API server stopped");
        }
    });
    Ok(addr)
}
