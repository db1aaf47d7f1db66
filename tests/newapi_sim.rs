//! The simulated New API server answers byte-for-byte like the fixtures
//! (field names and order, Go's number formatting), with the real HTTP
//! status of every auth failure, and pages and filters like the real handler.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatewatch::demo::newapi_sim::scenario::INSUFFICIENT_QUOTA;
use gatewatch::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState, Shared, SimChannel};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newapi");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture readable")
}

/// The text without whitespace outside strings: compares order and formatting.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_str, mut escaped) = (false, false);
    for ch in text.chars() {
        if in_str {
            out.push(ch);
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_str = false;
            }
        } else if ch == '"' {
            in_str = true;
            out.push(ch);
        } else if !ch.is_whitespace() {
            out.push(ch);
        }
    }
    out
}

struct Sim {
    state: Shared,
    base: String,
    http: reqwest::Client,
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
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("http client");
    Sim { state, base: format!("http://{addr}"), http, cancel }
}

impl Sim {
    fn req(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {DEMO_ACCESS_TOKEN}"))
            .header("New-Api-User", "1")
    }

    async fn text(&self, path: &str) -> (u16, String) {
        let r = self.req(path).send().await.expect("request");
        (r.status().as_u16(), r.text().await.expect("body"))
    }

    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.text(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }
}

/// The fixture's page-1 channels, plus lower-priority fillers so the totals
/// and type counts are those of the fixture (14 channels).
fn fixture_state() -> NewApiState {
    let v: Value = serde_json::from_str(&fixture("channel_list_page1.json")).expect("fixture JSON");
    let mut channels: Vec<SimChannel> = serde_json::from_value(v["data"]["items"].clone()).expect("fixture channels");
    for (i, kind) in [1, 1, 1, 14, 3, 3, 24, 43].into_iter().enumerate() {
        let mut c = SimChannel::new(100 + i64::try_from(i).unwrap_or(0), kind, "filler", "m");
        c.priority = Some(-1);
        channels.push(c);
    }
    let mut st = NewApiState::with_channels(0);
    st.channels = channels;
    st
}

#[tokio::test]
async fn channel_list_matches_the_fixture_exactly() {
    let sim = start(fixture_state()).await;
    let (status, body) = sim.text("/api/channel/?p=1&page_size=6").await;
    assert_eq!(status, 200);
    assert_eq!(minify(&body), minify(&fixture("channel_list_page1.json")));
}

#[tokio::test]
async fn test_balance_and_status_answers_match_fixtures() {
    let mut st = fixture_state();
    let c = st.channels.iter_mut().find(|c| c.id == 12).unwrap();
    c.sim.latency_ms = 1532;
    c.sim.upstream_balance = 87.42;
    let c = st.channels.iter_mut().find(|c| c.id == 11).unwrap();
    c.sim.test_ok = false;
    c.sim.test_error_code = "insufficient_quota".into();
    c.sim.test_error = INSUFFICIENT_QUOTA.into();
    // As the real server answered before its setup (fixtures/newapi/status.json is that capture's body).
    st.version = "v0.0.0-9f8a4ec05".into();
    st.start_time = 1_796_119_705;
    st.setup = false;
    let sim = start(st).await;
    for (path, name) in [
        ("/api/channel/test/12", "channel_test_ok.json"),
        ("/api/channel/test/11", "channel_test_fail.json"),
        ("/api/channel/update_balance/12", "update_balance.json"),
        ("/api/status", "status.json"),
    ] {
        let (status, body) = sim.text(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(minify(&body), minify(&fixture(name)), "{path} vs {name}");
    }
    // A test never changes the status, but records when and how long.
    let st = sim.state.lock().unwrap();
    let c = st.channel(11).unwrap();
    assert_eq!(c.status, 1);
    assert!(c.test_time > 1_777_350_000);
}

/// Fixture entry, `Authorization`, `New-Api-User`, server setup.
type AuthCase = (&'static str, Option<&'static str>, Option<&'static str>, fn(&mut NewApiState));

#[tokio::test]
async fn every_auth_failure_has_its_real_status_and_body() {
    let mut st = NewApiState::demo();
    st.rate_limit = None;
    let sim = start(st).await;
    let v: Value = serde_json::from_str(&fixture("unauthorized.json")).unwrap();
    let cases: [AuthCase; 7] = [
        ("no_session_no_token", None, Some("1"), |_| {}),
        ("invalid_access_token", Some("Bearer sk-relay-token-not-an-access-token"), Some("1"), |_| {}),
        ("missing_new_api_user", Some("Bearer demo-newapi-access-token-0000"), None, |_| {}),
        ("bad_new_api_user_format", Some("Bearer demo-newapi-access-token-0000"), Some("admin"), |_| {}),
        ("new_api_user_mismatch", Some("Bearer demo-newapi-access-token-0000"), Some("2"), |_| {}),
        ("user_banned", Some("Bearer demo-newapi-access-token-0000"), Some("1"), |s| s.admin_mut().unwrap().status = 2),
        ("not_admin", Some("Bearer demo-newapi-access-token-0000"), Some("1"), |s| s.admin_mut().unwrap().role = 1),
    ];
    for (name, auth, user, setup) in cases {
        for (lang, key) in [("en", "body"), ("zh-CN", "body_zh_CN")] {
            {
                let mut st = sim.state.lock().unwrap();
                let admin = st.admin_mut().unwrap();
                (admin.status, admin.role) = (1, 100);
                setup(&mut st);
            }
            let mut r = sim.http.get(format!("{}/api/channel/?p=1", sim.base)).header("Accept-Language", lang);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            if let Some(u) = user {
                r = r.header("New-Api-User", u);
            }
            let resp = r.send().await.unwrap();
            assert_eq!(u64::from(resp.status().as_u16()), v[name]["http_status"].as_u64().unwrap(), "{name}");
            let body = resp.text().await.unwrap();
            assert_eq!(body, serde_json::to_string(&v[name][key]).unwrap(), "{name} {lang}");
        }
    }
    // A bare token (no "Bearer ") is accepted too, as ValidateAccessToken strips it.
    sim.state.lock().unwrap().admin_mut().unwrap().role = 100;
    let r = sim
        .http
        .get(format!("{}/api/status/test", sim.base))
        .header("Authorization", DEMO_ACCESS_TOKEN)
        .header("New-Api-User", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["auth-version"], "864b7076dbcd0a3c01b5520316720ebf");
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"http_stats":{"active_connections":1},"message":"Server is running","success":true}"#
    );
}

#[tokio::test]
async fn rate_limit_answers_an_empty_429() {
    let mut st = NewApiState::demo();
    st.rate_limit = Some((3, Duration::from_secs(60)));
    let sim = start(st).await;
    for _ in 0..3 {
        assert_eq!(sim.text("/api/status").await.0, 200);
    }
    let (status, body) = sim.text("/api/status").await;
    assert_eq!((status, body.as_str()), (429, ""));
    assert_eq!(sim.state.lock().unwrap().rate_limited, 1);
}

#[tokio::test]
async fn paging_and_filters_follow_the_real_handler() {
    let mut st = NewApiState::with_channels(250);
    st.rate_limit = None;
    let sim = start(st).await;
    let page = |v: &Value| v["data"]["items"].as_array().unwrap().len();
    // Defaults: page 1 of 10; p < 1 means 1; page_size capped at 100; aliases.
    let v = sim.json("/api/channel/").await;
    assert_eq!((page(&v), v["data"]["page"].as_i64(), v["data"]["page_size"].as_i64()), (10, Some(1), Some(10)));
    assert_eq!(v["data"]["total"], 250);
    let v = sim.json("/api/channel/?p=0&page_size=500").await;
    assert_eq!((page(&v), v["data"]["page"].as_i64(), v["data"]["page_size"].as_i64()), (100, Some(1), Some(100)));
    assert_eq!(page(&sim.json("/api/channel/?ps=7").await), 7);
    assert_eq!(page(&sim.json("/api/channel/?size=9").await), 9);
    assert_eq!(page(&sim.json("/api/channel/?p=3&page_size=100").await), 50);
    assert_eq!(page(&sim.json("/api/channel/?p=4&page_size=100").await), 0);
    // id_sort orders by id desc; the default by priority desc.
    let v = sim.json("/api/channel/?page_size=3&id_sort=true").await;
    let ids: Vec<i64> = v["data"]["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [250, 249, 248]);
    let v = sim.json("/api/channel/?page_size=100").await;
    let prios: Vec<i64> =
        v["data"]["items"].as_array().unwrap().iter().map(|c| c["priority"].as_i64().unwrap()).collect();
    assert!(prios.windows(2).all(|w| w[0] >= w[1]));
    // status: enabled / disabled (2 and 3) / anything else = no filter.
    let (enabled, disabled) = {
        let st = sim.state.lock().unwrap();
        (st.channels.iter().filter(|c| c.status == 1).count(), st.channels.iter().filter(|c| c.status != 1).count())
    };
    assert_eq!(sim.json("/api/channel/?status=enabled").await["data"]["total"], enabled);
    assert_eq!(sim.json("/api/channel/?status=1").await["data"]["total"], enabled);
    assert_eq!(sim.json("/api/channel/?status=disabled").await["data"]["total"], disabled);
    assert_eq!(sim.json("/api/channel/?status=3").await["data"]["total"], 250);
    // type filters items but not type_counts; keys are always blank.
    let v = sim.json("/api/channel/?type=14&page_size=100").await;
    assert!(v["data"]["items"].as_array().unwrap().iter().all(|c| c["type"] == 14 && c["key"] == ""));
    let counts: i64 = v["data"]["type_counts"].as_object().unwrap().values().map(|n| n.as_i64().unwrap()).sum();
    assert_eq!(counts, 250);
    // Single channel; unknown id; bad id.
    assert_eq!(sim.json("/api/channel/7").await["data"]["id"], 7);
    assert_eq!(sim.text("/api/channel/9999").await.1, r#"{"message":"record not found","success":false}"#);
    assert_eq!(
        sim.text("/api/channel/x").await.1,
        r#"{"message":"strconv.Atoi: parsing \"x\": invalid syntax","success":false}"#
    );
}

#[tokio::test]
async fn put_echoes_the_patched_channel_and_update_all_disables_empty_accounts() {
    let mut st = NewApiState::demo();
    st.rate_limit = None;
    let sim = start(st).await;
    let r = sim
        .http
        .put(format!("{}/api/channel/", sim.base))
        .header("Authorization", format!("Bearer {DEMO_ACCESS_TOKEN}"))
        .header("New-Api-User", "1")
        .json(&serde_json::json!({"id": 2, "status": 2}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["status"], 2);
    assert_eq!(v["data"]["key"], "");
    assert!(v["data"]["key_mode"].is_null() && v["data"].get("multi_key_mode").is_some());
    assert_eq!(sim.state.lock().unwrap().channel(2).unwrap().status, 2);

    assert_eq!(sim.text("/api/channel/update_balance").await.1, r#"{"message":"","success":true}"#);
    let st = sim.state.lock().unwrap();
    let disabled: Vec<i64> = st.channels.iter().filter(|c| c.other_info.contains("余额不足")).map(|c| c.id).collect();
    assert!(disabled.contains(&12), "{disabled:?}");
    assert!(st.channels.iter().filter(|c| disabled.contains(&c.id)).all(|c| c.status == 3));
    // auto_ban 0 never disables; a manually disabled channel is skipped.
    assert_eq!(st.channel(7).unwrap().status, 1);
    assert_eq!(st.channel(2).unwrap().status, 2);
}
