//! The New API adapter over HTTP, against the simulated server and against
//! small broken servers, all on 127.0.0.1.
#![allow(clippy::print_stderr)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState, Shared};
use gatewatch::gateway::newapi::NewApi;
use gatewatch::gateway::newapi::pacer::PacerConfig;
use gatewatch::gateway::{
    AdminOp, AdminResult, AuthState, Deployment, DeploymentStatus, Gateway, GatewayError, ReplicaSnapshot,
    ReplicaTarget, Section,
};
use gatewatch::secret::Secret;
use tokio_util::sync::CancellationToken;

struct Sim {
    state: Shared,
    target: ReplicaTarget,
    cancel: CancellationToken,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start(state: NewApiState) -> Sim {
    let state = Arc::new(Mutex::new(state));
    let cancel = CancellationToken::new();
    let addr = newapi_sim::serve(state.clone(), cancel.clone()).await.expect("simulator binds 127.0.0.1");
    Sim { state, target: ReplicaTarget { index: 0, url: format!("http://{addr}") }, cancel }
}

fn spec(url: &str) -> GatewaySpec {
    let mut s = GatewaySpec::new("sim", GatewayKind::NewApi, url);
    s.timeout = Duration::from_secs(3);
    s.action_timeout = Duration::from_secs(5);
    s.user_id = Some(1);
    s
}

/// Short back-offs so the tests stay fast; limits as the real default.
fn fast() -> PacerConfig {
    PacerConfig {
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(400),
        max_wait: Duration::from_secs(5),
        ..PacerConfig::default()
    }
}

fn adapter(url: &str, token: Option<&str>, user: Option<&str>) -> NewApi {
    NewApi::with_pacing(spec(url), token.map(Secret::new), user.map(str::to_owned), fast())
}

fn admin(url: &str) -> NewApi {
    adapter(url, Some(DEMO_ACCESS_TOKEN), Some("1"))
}

fn deployments(s: &ReplicaSnapshot) -> &[Deployment] {
    s.deployments.ok().unwrap_or_else(|| panic!("no deployments: {:?}", s.deployments))
}

fn channel<'a>(s: &'a ReplicaSnapshot, id: &str) -> &'a Deployment {
    deployments(s).iter().find(|d| d.id == id).unwrap_or_else(|| panic!("no channel #{id}"))
}

#[tokio::test]
async fn poll_reads_status_probe_and_every_channel() {
    let sim = start(NewApiState::demo()).await;
    let (version, start_time) = {
        let st = sim.state.lock().unwrap();
        (st.version.clone(), st.start_time)
    };
    let gw = admin(&sim.target.url);
    let s = gw.poll(&sim.target).await.unwrap();
    assert_eq!(s.version.as_deref(), Some(version.as_str()));
    assert_eq!(s.started_at, Some(start_time));
    assert_eq!(s.auth, AuthState::Ok);
    assert_eq!(s.readiness.ok().unwrap().db.as_deref(), Some("ok"));
    assert!(matches!(&s.router, Section::Unavailable(why) if why.contains("no fallback")));
    assert!(matches!(&s.cache, Section::Unavailable(why) if why.contains("no response cache")));
    assert_eq!(deployments(&s).len(), 13);
    assert_eq!(s.requests, 6, "status + the console at / + status/test + one page + the error and consume logs");
    let budget = gw.rate_budget().unwrap();
    assert_eq!((budget.used, budget.limit, budget.window), (5, 180, Duration::from_secs(180)));
    assert_eq!((budget.refused, budget.last_refused, budget.resume_at), (0, None, None));
    // The staged incident reads through.
    assert_eq!(channel(&s, "4").status, DeploymentStatus::AutoDisabled);
    assert!(channel(&s, "4").status_reason.as_deref().unwrap().starts_with("status_code=401"));
    assert!(channel(&s, "4").balance.get().unwrap() > 0.0);
    assert_eq!(channel(&s, "8").status, DeploymentStatus::ManuallyDisabled);
    assert_eq!(channel(&s, "9").multi_key, Some((2, 3)));
    assert_eq!(channel(&s, "5").groups, ["vip"]);
    assert_eq!(channel(&s, "7").model_mapping, [("deepseek-v3".to_owned(), "deepseek-chat".to_owned())]);
    assert_eq!(&*channel(&s, "3").provider, "Azure OpenAI");
    let served = s.served_models.ok().unwrap();
    assert!(served.contains(&"gpt-4o".to_owned()) && served.contains(&"claude-opus-4-1".to_owned()));
    assert!(!served.contains(&"text-embedding-3-small".to_owned()), "only on the auto-disabled channel");
    // The budget carries over between polls.
    gw.poll(&sim.target).await.unwrap();
    assert_eq!(
        gw.rate_budget().unwrap().used,
        10,
        "the console at / is not paced, and not asked again for ten minutes"
    );
    assert_eq!(sim.state.lock().unwrap().requests, 11);
    // The staged error log reaches the snapshot, grouped by model.
    let logged = s.recent_errors.ok().unwrap();
    assert_eq!(logged[0].model, "gpt-4.1");
    assert_eq!((logged[0].count, logged[0].status_code), (6, Some(404)));
}

#[tokio::test]
async fn liveness_is_public_and_reports_version_and_start() {
    let sim = start(NewApiState::demo()).await;
    let gw = adapter(&sim.target.url, None, None);
    let l = gw.liveness(&sim.target).await.unwrap();
    assert!(l.version.unwrap().starts_with("v0.9"));
    assert!(l.started_at.is_some());
    assert!(l.latency < Duration::from_secs(2));
}

#[tokio::test]
async fn db_down_shows_in_readiness_and_auth_still_ok() {
    let mut st = NewApiState::demo();
    st.db_down = true;
    let sim = start(st).await;
    let s = admin(&sim.target.url).poll(&sim.target).await.unwrap();
    assert_eq!(s.readiness.ok().unwrap().status, "database unreachable");
    assert_eq!(s.auth, AuthState::Ok);
}

/// Name, token, New-Api-User, server setup, HTTP status, message part, hint part.
type AuthCase =
    (&'static str, Option<&'static str>, Option<&'static str>, fn(&mut NewApiState), u16, &'static str, &'static str);

/// Each admin-auth failure, as the adapter reports it.
#[tokio::test]
async fn every_auth_failure_maps_to_a_plain_error_with_a_hint() {
    let sim = start(NewApiState::demo()).await;
    let url = sim.target.url.clone();
    let cases: [AuthCase; 6] = [
        ("invalid token", Some("sk-relay-token"), Some("1"), |_| {}, 200, "is not valid", "system access token"),
        ("no user header", Some(DEMO_ACCESS_TOKEN), None, |_| {}, 401, "New-Api-User header is missing", "user_id"),
        ("user not int", Some(DEMO_ACCESS_TOKEN), Some("root"), |_| {}, 401, "not an integer", "numeric id"),
        ("user mismatch", Some(DEMO_ACCESS_TOKEN), Some("2"), |_| {}, 401, "does not match", "id of the user"),
        ("banned", Some(DEMO_ACCESS_TOKEN), Some("1"), |s| s.admin_mut().unwrap().status = 2, 200, "banned", "unban"),
        (
            "not admin",
            Some(DEMO_ACCESS_TOKEN),
            Some("1"),
            |s| s.admin_mut().unwrap().role = 1,
            200,
            "not an admin",
            "admin (10)",
        ),
    ];
    for (name, token, user, setup, status, msg, hint_part) in cases {
        {
            let mut st = sim.state.lock().unwrap();
            let admin = st.admin_mut().unwrap();
            (admin.status, admin.role) = (1, 100);
            setup(&mut st);
        }
        let gw = adapter(&url, token, user);
        let s = gw.poll(&sim.target).await.unwrap();
        let Some(GatewayError::Auth { status: got, message, hint }) = s.deployments.error().cloned() else {
            panic!("{name}: {:?}", s.deployments)
        };
        assert_eq!(got, status, "{name}");
        assert!(message.contains(msg), "{name}: {message}");
        assert!(hint.contains(hint_part), "{name}: {hint}");
        assert!(matches!(&s.auth, AuthState::Rejected { .. }), "{name}");
        assert_eq!(s.requests, 3, "{name}: no channel request once the credential is refused");
        // Actions report the same error.
        let e = gw.admin(&sim.target, &AdminOp::TestChannel { id: "1".into(), model: None }).await.unwrap_err();
        assert!(matches!(e, GatewayError::Auth { status: s, .. } if s == status), "{name}: {e:?}");
    }
    // No token at all: nothing is sent that needs one.
    let gw = adapter(&url, None, Some("1"));
    let s = gw.poll(&sim.target).await.unwrap();
    assert_eq!(s.auth, AuthState::Missing { env: "NEW_API_ACCESS_TOKEN".into() });
    assert_eq!(s.deployments.error(), Some(&GatewayError::MissingCredential { env: "NEW_API_ACCESS_TOKEN".into() }));
    assert_eq!(s.requests, 2, "status and the console at /");
    let e = gw.admin(&sim.target, &AdminOp::TestAllChannels).await.unwrap_err();
    assert!(matches!(e, GatewayError::MissingCredential { .. }));
}

#[tokio::test]
async fn full_refresh_of_5000_channels() {
    let sim = start(NewApiState::with_channels(5_000)).await;
    let gw = admin(&sim.target.url);
    let started = Instant::now();
    let s = gw.poll(&sim.target).await.unwrap();
    let took = started.elapsed();
    eprintln!("full refresh of 5000 channels: {took:?}, {} HTTP requests", s.requests);
    let deps = deployments(&s);
    assert_eq!(deps.len(), 5_000);
    let mut ids: Vec<&str> = deps.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5_000, "every channel exactly once");
    assert_eq!(s.requests, 50 + 5, "50 pages of 100 + status + / + status/test + the error and consume logs");
    assert_eq!(sim.state.lock().unwrap().rate_limited, 0);
    assert!(deps.iter().any(|d| d.multi_key.is_some()));
    assert!(took < Duration::from_secs(30), "{took:?}");
}

/// The pacer keeps a poll under a small server limit: no 429 at all.
#[tokio::test]
async fn pacing_stays_under_the_server_limit() {
    let mut st = NewApiState::with_channels(2_000);
    st.rate_limit = Some((10, Duration::from_secs(1)));
    let sim = start(st).await;
    let pacing = PacerConfig { limit: 10, window: Duration::from_secs(1), budget: 8, action_reserve: 2, ..fast() };
    let gw = NewApi::with_pacing(spec(&sim.target.url), Some(Secret::new(DEMO_ACCESS_TOKEN)), Some("1".into()), pacing);
    let started = Instant::now();
    let s = gw.poll(&sim.target).await.unwrap();
    assert_eq!(deployments(&s).len(), 2_000);
    assert_eq!(s.requests, 25);
    assert_eq!(sim.state.lock().unwrap().rate_limited, 0);
    // 22 requests at ≤ 6 per second take a few seconds, not less.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(15));
}

/// A pacer that believes in a higher limit than the server's meets 429s,
/// backs off and still completes.
#[tokio::test]
async fn backs_off_on_429_and_completes() {
    let mut st = NewApiState::with_channels(800);
    st.rate_limit = Some((4, Duration::from_millis(500)));
    let sim = start(st).await;
    let pacing = PacerConfig { max_retries: 8, ..fast() };
    let gw = NewApi::with_pacing(spec(&sim.target.url), Some(Secret::new(DEMO_ACCESS_TOKEN)), Some("1".into()), pacing);
    let started = Instant::now();
    let s = gw.poll(&sim.target).await.unwrap();
    assert_eq!(deployments(&s).len(), 800);
    let (seen, limited) = {
        let st = sim.state.lock().unwrap();
        (st.requests, st.rate_limited)
    };
    assert!(limited > 0, "the small limit must have been hit");
    assert_eq!(u64::from(s.requests), seen, "retries are counted");
    assert_eq!(u64::from(s.requests), 13 + limited);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// When the server keeps refusing, the adapter gives up in bounded time.
#[tokio::test]
async fn gives_up_with_rate_limited_after_bounded_retries() {
    let mut st = NewApiState::with_channels(10);
    st.rate_limit = Some((1, Duration::from_secs(60)));
    let sim = start(st).await;
    let pacing = PacerConfig { max_retries: 2, ..fast() };
    let gw = NewApi::with_pacing(spec(&sim.target.url), Some(Secret::new(DEMO_ACCESS_TOKEN)), Some("1".into()), pacing);
    let started = Instant::now();
    let first = gw.liveness(&sim.target).await;
    assert!(first.is_ok());
    let e = gw.poll(&sim.target).await.unwrap_err();
    assert!(matches!(e, GatewayError::RateLimited { .. }), "{e:?}");
    assert_eq!(sim.state.lock().unwrap().rate_limited, 3, "one try and two retries");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn channel_tests_report_result_and_latency_without_changing_status() {
    let sim = start(NewApiState::demo()).await;
    let gw = admin(&sim.target.url);
    let t = &sim.target;
    let r = gw.admin(t, &AdminOp::TestChannel { id: "1".into(), model: None }).await.unwrap();
    assert_eq!(r, AdminResult::ChannelTest { ok: true, message: String::new(), seconds: 0.812 });
    let r = gw.admin(t, &AdminOp::TestChannel { id: "6".into(), model: Some("gpt-4o".into()) }).await.unwrap();
    let AdminResult::ChannelTest { ok: false, message, seconds } = r else { panic!("{r:?}") };
    assert!(message.starts_with("[insufficient_quota] bad response status code 429"), "{message}");
    assert!(seconds.abs() < f64::EPSILON);
    let r = gw.admin(t, &AdminOp::TestChannel { id: "1".into(), model: Some("no such/model".into()) }).await.unwrap();
    assert!(
        matches!(r, AdminResult::ChannelTest { ok: false, ref message, .. } if message.contains("model_not_found"))
    );
    let e = gw.admin(t, &AdminOp::TestChannel { id: "999".into(), model: None }).await.unwrap_err();
    assert!(matches!(e, GatewayError::Rejected { ref message } if message.contains("no channel")), "{e:?}");
    let before = sim.state.lock().unwrap().requests;
    let e = gw.admin(t, &AdminOp::TestChannel { id: "1; DROP".into(), model: None }).await.unwrap_err();
    assert!(matches!(e, GatewayError::Rejected { .. }));
    assert_eq!(sim.state.lock().unwrap().requests, before, "a bad id is refused before sending");
    let s = gw.poll(t).await.unwrap();
    assert_eq!(channel(&s, "6").status, DeploymentStatus::Serving, "a single test never changes status");
    assert_eq!(channel(&s, "6").response_time_ms.get(), Some(310));
    assert!(channel(&s, "6").test_time.is_some());

    assert!(matches!(gw.admin(t, &AdminOp::TestAllChannels).await.unwrap(), AdminResult::Done { .. }));
    let e = gw.admin(t, &AdminOp::TestAllChannels).await.unwrap_err();
    assert!(e.to_string().starts_with("a test of all channels is already running"), "{e}");
    let e = gw.admin(t, &AdminOp::PurgeResponseCache).await.unwrap_err();
    assert!(matches!(e, GatewayError::Unsupported(_)));
}

#[tokio::test]
async fn balances_single_unsupported_multi_key_and_all() {
    let sim = start(NewApiState::demo()).await;
    let gw = admin(&sim.target.url);
    let t = &sim.target;
    let balance = gw.admin(t, &AdminOp::RefreshBalance { id: "1".into() }).await.unwrap();
    assert_eq!(balance, AdminResult::Balance { balance: 87.42 });
    let e = gw.admin(t, &AdminOp::RefreshBalance { id: "10".into() }).await.unwrap_err();
    assert!(e.to_string().contains("does not support balance queries"), "{e}");
    let e = gw.admin(t, &AdminOp::RefreshBalance { id: "9".into() }).await.unwrap_err();
    assert!(e.to_string().starts_with("multi-key channels do not support balance queries"), "{e}");

    assert!(matches!(gw.admin(t, &AdminOp::UpdateAllBalances).await.unwrap(), AdminResult::Done { .. }));
    let s = gw.poll(t).await.unwrap();
    for id in ["6", "12"] {
        let c = channel(&s, id);
        assert_eq!(c.status, DeploymentStatus::AutoDisabled, "#{id}: empty upstream account");
        assert_eq!(c.status_reason.as_deref(), Some("余额不足"));
        assert_eq!(c.balance.get(), Some(0.0));
    }
    assert_eq!(channel(&s, "7").status, DeploymentStatus::Serving, "auto_ban 0 is never disabled");
    assert_eq!(channel(&s, "1").status, DeploymentStatus::Serving);
    assert_eq!(channel(&s, "10").status, DeploymentStatus::Serving, "unsupported type is left alone");
}

#[tokio::test]
async fn disable_and_enable_round_trip() {
    let sim = start(NewApiState::demo()).await;
    let gw = admin(&sim.target.url);
    let t = &sim.target;
    let r = gw.admin(t, &AdminOp::SetChannelEnabled { id: "2".into(), enabled: false }).await.unwrap();
    assert!(matches!(r, AdminResult::Done { ref message } if message.contains("disabled")));
    assert_eq!(channel(&gw.poll(t).await.unwrap(), "2").status, DeploymentStatus::ManuallyDisabled);
    gw.admin(t, &AdminOp::SetChannelEnabled { id: "2".into(), enabled: true }).await.unwrap();
    assert_eq!(channel(&gw.poll(t).await.unwrap(), "2").status, DeploymentStatus::Serving);
    // Re-enabling the auto-disabled channel works the same way.
    gw.admin(t, &AdminOp::SetChannelEnabled { id: "4".into(), enabled: true }).await.unwrap();
    assert_eq!(channel(&gw.poll(t).await.unwrap(), "4").status, DeploymentStatus::Serving);
    let e = gw.admin(t, &AdminOp::SetChannelEnabled { id: "404".into(), enabled: true }).await.unwrap_err();
    assert!(matches!(e, GatewayError::Rejected { .. }), "{e:?}");
}

/// A server already at its limit — other clients at this address used it —
/// answers 429: the poll gives up within seconds with `RateLimited` (not
/// "down"), the budget says what the server said, and the next poll during
/// the cool-down fails at once without sending anything.
#[tokio::test]
async fn a_server_at_its_limit_is_rate_limited_and_the_adapter_cools_down() {
    let mut st = NewApiState::demo();
    st.rate_limit = Some((3, Duration::from_secs(60)));
    let sim = start(st).await;
    // Another client from the same address (a browser, a script) takes the budget.
    let other = reqwest::Client::new();
    for _ in 0..3 {
        let r = other.get(format!("{}/api/status", sim.target.url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let pacing = PacerConfig { cooldown_base: Duration::from_secs(30), ..fast() };
    let gw = NewApi::with_pacing(spec(&sim.target.url), Some(Secret::new(DEMO_ACCESS_TOKEN)), Some("1".into()), pacing);
    let started = Instant::now();
    let e = gw.poll(&sim.target).await.unwrap_err();
    assert!(matches!(e, GatewayError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)), "{e:?}");
    assert!(!e.is_unreachable());
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let b = gw.rate_budget().unwrap();
    assert_eq!((b.used, b.refused), (0, 3), "one try and two retries, none accepted");
    assert!(b.last_refused.is_some() && b.resume_at.is_some());
    // Cooling down: nothing is sent, the answer is immediate.
    let seen = sim.state.lock().unwrap().requests;
    let started = Instant::now();
    let e = gw.poll(&sim.target).await.unwrap_err();
    assert!(matches!(e, GatewayError::RateLimited { .. }));
    assert!(started.elapsed() < Duration::from_millis(200));
    assert_eq!(sim.state.lock().unwrap().requests, seen, "no request during the cool-down");
    // An action asked for now says so at once too, rather than hang.
    let e = gw.admin(&sim.target, &AdminOp::ReadChannel { id: "1".into() }).await.unwrap_err();
    assert!(matches!(e, GatewayError::RateLimited { .. }), "{e:?}");
}
