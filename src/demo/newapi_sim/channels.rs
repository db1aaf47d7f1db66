//! The simulated `/api/channel/*` handlers (controller/channel.go,
//! channel-test.go and channel-billing.go at new-api 9f8a4ec).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::model::{Patched, SimChannel, balance_supported, go_float};
use super::{NewApiState, Shared, lock, reply, unix_now};

/// `common.GetPageQuery`: `p` 0 or missing means 1, but a negative `p` is
/// kept (and echoed; the negative offset is ignored, so page 1 comes back);
/// `page_size` (or `ps`, `size`) defaults to 10 and is capped at 100.
fn page_query(q: &HashMap<String, String>) -> (i64, i64) {
    let int = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let page = match int("p") {
        0 => 1,
        p => p,
    };
    let size = [int("page_size"), int("ps"), int("size")].into_iter().find(|s| *s != 0).unwrap_or(10).min(100);
    (page, size)
}

/// The rows of one page: GORM ignores a negative offset and a negative limit.
fn window<T>(rows: Vec<T>, page: i64, size: i64) -> Vec<T> {
    let offset = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(0);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    rows.into_iter().skip(offset).take(take).collect()
}

/// `parseStatusFilter`: `enabled`/`1` → status 1, `disabled`/`0` → status ≠ 1,
/// anything else → no filter.
fn status_filter(q: &HashMap<String, String>) -> Option<bool> {
    match q.get("status").map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("enabled" | "1") => Some(true),
        Some("disabled" | "0") => Some(false),
        _ => None,
    }
}

#[derive(Serialize)]
struct PageBody<'a> {
    items: Vec<&'a SimChannel>,
    page: i64,
    page_size: i64,
    total: usize,
    type_counts: BTreeMap<String, usize>,
}

/// `strconv.ParseBool`.
fn go_bool(v: Option<&String>) -> bool {
    v.is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"))
}

/// `GET /api/channel/`. With `tag_mode=true` pages run over tags (`total`
/// counts tags), so channels without a tag are not listed at all.
pub async fn list(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let (page, size) = page_query(&q);
    let status = status_filter(&q);
    let type_filter = q.get("type").and_then(|t| t.parse::<i64>().ok());
    let id_sort = go_bool(q.get("id_sort"));
    let st = lock(&state);
    let by_status: Vec<&SimChannel> =
        st.channels.iter().filter(|c| status.is_none_or(|enabled| (c.status == 1) == enabled)).collect();
    let mut type_counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &by_status {
        *type_counts.entry(c.kind.to_string()).or_default() += 1;
    }
    let mut rows: Vec<&SimChannel> =
        by_status.into_iter().filter(|c| type_filter.is_none_or(|t| c.kind == t)).collect();
    if id_sort {
        rows.sort_by_key(|c| std::cmp::Reverse(c.id));
    } else {
        rows.sort_by_key(|c| std::cmp::Reverse(c.priority.unwrap_or(0)));
    }
    if go_bool(q.get("tag_mode")) {
        let mut tags: Vec<&str> =
            st.channels.iter().filter_map(|c| c.tag.as_deref()).filter(|t| !t.is_empty()).collect();
        tags.sort_unstable();
        tags.dedup();
        let total = tags.len();
        let shown = window(tags, page, size);
        let items = rows.into_iter().filter(|c| c.tag.as_deref().is_some_and(|t| shown.contains(&t))).collect();
        return reply::data(PageBody { items, page, page_size: size, total, type_counts });
    }
    let total = rows.len();
    let items = window(rows, page, size);
    reply::data(PageBody { items, page, page_size: size, total, type_counts })
}

#[derive(Serialize)]
struct SearchBody<'a> {
    items: Vec<&'a SimChannel>,
    total: usize,
    type_counts: BTreeMap<String, usize>,
}

/// `GET /api/channel/search` (`model.SearchChannels` + the controller's
/// in-memory paging): `keyword` matches the id, a name or base URL
/// containing it, or the exact key; `model` is `models LIKE %model%` (a
/// substring: `gpt-4o` also finds `gpt-4o-mini` channels); `group` a
/// comma-separated member; then the status and type filters; `p` from 1 and
/// `page_size` default 20 with **no cap**. The answer has no `page` or
/// `page_size` field.
pub async fn search(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let keyword = q.get("keyword").cloned().unwrap_or_default();
    let model = q.get("model").cloned().unwrap_or_default();
    let group = q.get("group").cloned().filter(|g| !g.is_empty() && g != "null");
    let status = status_filter(&q);
    let type_filter = q.get("type").and_then(|t| t.parse::<i64>().ok());
    let int = |k: &str, d: i64| q.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(d);
    let page = int("p", 1).max(1);
    let size = match int("page_size", 20) {
        s if s <= 0 => 20,
        s => s,
    };
    let st = lock(&state);
    let kw_id = keyword.parse::<i64>().unwrap_or(0);
    let mut rows: Vec<&SimChannel> = st
        .channels
        .iter()
        .filter(|c| {
            c.id == kw_id
                || c.name.contains(&keyword)
                || c.key == keyword
                || c.base_url.as_deref().unwrap_or_default().contains(&keyword)
        })
        .filter(|c| c.models.contains(&model))
        .filter(|c| group.as_ref().is_none_or(|g| c.group.split(',').any(|x| x == g)))
        .filter(|c| status.is_none_or(|enabled| (c.status == 1) == enabled))
        .collect();
    let mut type_counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &rows {
        *type_counts.entry(c.kind.to_string()).or_default() += 1;
    }
    rows.retain(|c| type_filter.is_none_or(|t| c.kind == t));
    if go_bool(q.get("id_sort")) {
        rows.sort_by_key(|c| std::cmp::Reverse(c.id));
    } else {
        rows.sort_by_key(|c| std::cmp::Reverse(c.priority.unwrap_or(0)));
    }
    let total = rows.len();
    let items = window(rows, page, size);
    reply::data(SearchBody { items, total, type_counts })
}

fn find(st: &mut NewApiState, id: i64) -> Option<&mut SimChannel> {
    st.channels.iter_mut().find(|c| c.id == id)
}

/// Run `f` on the channel of the path's id, answering as the real handlers
/// do when the id is not a number (Go's `strconv.Atoi` error) or unknown.
fn with_channel(state: &Shared, id: &str, f: impl FnOnce(&mut SimChannel) -> Response) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return reply::api_error(&format!("strconv.Atoi: parsing {id:?}: invalid syntax"));
    };
    let mut st = lock(state);
    match find(&mut st, id) {
        Some(c) => f(c),
        None => reply::api_error("record not found"),
    }
}

/// `GET /api/channel/:id`.
pub async fn get_one(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    with_channel(&state, &id, |c| reply::data(&*c))
}

#[derive(Serialize)]
struct TestOk {
    message: &'static str,
    success: bool,
    #[serde(serialize_with = "go_float")]
    time: f64,
}

#[derive(Serialize)]
struct TestFail<'a> {
    error_code: &'a str,
    message: &'a str,
    success: bool,
    #[serde(serialize_with = "go_float")]
    time: f64,
}

/// Test one channel: deterministic per channel. Never changes its status;
/// writes `test_time` and `response_time` (`UpdateResponseTime`).
fn run_test(c: &mut SimChannel, model: Option<&str>, now: i64) -> Result<f64, (String, String)> {
    c.test_time = now;
    c.response_time = c.sim.latency_ms;
    let model = model
        .map(str::to_owned)
        .or_else(|| c.test_model.clone().filter(|m| !m.is_empty()))
        .or_else(|| c.models_list().next().map(str::to_owned))
        .unwrap_or_else(|| "gpt-4o-mini".into());
    let mapped_or_listed = c.models_list().any(|m| m == model)
        || c.model_mapping.as_deref().is_some_and(|m| m.contains(&format!("\"{model}\"")));
    if !c.sim.test_ok {
        return Err((c.sim.test_error_code.clone(), c.sim.test_error.clone()));
    }
    if !mapped_or_listed {
        return Err((
            "model_not_found".into(),
            format!(
                "bad response status code 404, message: The model `{model}` does not exist or you do not have access to it., body: "
            ),
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(c.sim.latency_ms as f64 / 1000.0)
}

/// `GET /api/channel/test/:id?model=`.
pub async fn test_one(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let model = q.get("model").map(String::as_str).filter(|m| !m.is_empty());
    with_channel(&state, &id, |c| match run_test(c, model, unix_now()) {
        Ok(time) => reply::json(StatusCode::OK, &TestOk { message: "", success: true, time }),
        Err((code, message)) => {
            reply::json(StatusCode::OK, &TestFail { error_code: &code, message: &message, success: false, time: 0.0 })
        }
    })
}

/// `GET /api/channel/test`: every channel except status 2, in the background
/// on the real server; here at once, with the run "going" for
/// `test_all_duration`. Failures disable (auto_ban channels) only when
/// `AutomaticDisableChannelEnabled`; successes re-enable status 3 only when
/// `AutomaticEnableChannelEnabled`.
pub async fn test_all(State(state): State<Shared>) -> Response {
    let mut st = lock(&state);
    let now = Instant::now();
    if st.test_all_until.is_some_and(|t| t > now) {
        return reply::api_error("测试已在运行中");
    }
    st.test_all_until = Some(now + st.test_all_duration);
    let (disable, enable, ts) = (st.auto_disable_enabled, st.auto_enable_enabled, unix_now());
    for c in st.channels.iter_mut().filter(|c| c.status != 2) {
        match run_test(c, None, ts) {
            Ok(_) if enable && c.status == 3 => {
                c.status = 1;
                c.set_status_reason("", ts);
            }
            Err((_, message)) if disable && c.auto_ban == Some(1) && c.status == 1 => {
                c.status = 3;
                c.set_status_reason(&message, ts);
            }
            _ => {}
        }
    }
    reply::msg(StatusCode::OK, "", true)
}

#[derive(Serialize)]
struct BalanceOk {
    #[serde(serialize_with = "go_float")]
    balance: f64,
    message: &'static str,
    success: bool,
}

/// `GET /api/channel/update_balance/:id`.
pub async fn update_one(State(state): State<Shared>, Path(id): Path<String>) -> Response {
    with_channel(&state, &id, |c| {
        if c.channel_info.is_multi_key {
            return reply::api_error("多密钥渠道不支持余额查询");
        }
        if !balance_supported(c.kind) {
            return reply::api_error("尚未实现");
        }
        if let Some(e) = &c.sim.balance_error {
            return reply::api_error(e);
        }
        c.balance = c.sim.upstream_balance;
        c.balance_updated_time = unix_now();
        reply::json(StatusCode::OK, &BalanceOk { balance: c.balance, message: "", success: true })
    })
}

/// `GET /api/channel/update_balance`: every enabled single-key channel whose
/// type supports it; a balance ≤ 0 disables the channel ("余额不足") when
/// its auto_ban is on, whatever `AutomaticDisableChannelEnabled` says.
pub async fn update_all(State(state): State<Shared>) -> Response {
    let mut st = lock(&state);
    let now = unix_now();
    for c in &mut st.channels {
        if c.status != 1 || c.channel_info.is_multi_key || !balance_supported(c.kind) || c.sim.balance_error.is_some() {
            continue;
        }
        c.balance = c.sim.upstream_balance;
        c.balance_updated_time = now;
        if c.balance <= 0.0 && c.auto_ban.unwrap_or(1) == 1 {
            c.status = 3;
            c.set_status_reason("余额不足", now);
        }
    }
    reply::msg(StatusCode::OK, "", true)
}

/// The fields of a `PUT /api/channel/` body the simulator applies. GORM
/// `Updates` skips zero values of plain fields; pointer fields apply as sent.
#[derive(Debug, Deserialize)]
pub struct Patch {
    id: i64,
    #[serde(default)]
    status: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    models: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    weight: Option<u64>,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    auto_ban: Option<i64>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    model_mapping: Option<String>,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    test_model: Option<String>,
}

/// `PUT /api/channel/`: the console's way to enable, disable and edit.
pub async fn update(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let p: Patch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return reply::api_error(&e.to_string()),
    };
    let mut st = lock(&state);
    let Some(c) = find(&mut st, p.id) else {
        return reply::api_error("record not found");
    };
    if p.status != 0 {
        c.status = p.status;
    }
    for (field, value) in [(&mut c.name, p.name), (&mut c.models, p.models), (&mut c.group, p.group)] {
        if !value.is_empty() {
            *field = value;
        }
    }
    c.weight = p.weight.or(c.weight);
    c.priority = p.priority.or(c.priority);
    c.auto_ban = p.auto_ban.or(c.auto_ban);
    c.tag = p.tag.or(c.tag.take());
    c.model_mapping = p.model_mapping.or(c.model_mapping.take());
    c.base_url = p.base_url.or(c.base_url.take());
    c.test_model = p.test_model.or(c.test_model.take());
    reply::data(Patched { channel: c, multi_key_mode: None, key_mode: None })
}
