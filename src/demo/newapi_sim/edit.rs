//! The simulated writes beyond enable/disable (controller/channel.go,
//! controller/option.go at new-api 9f8a4ec): adding channels (one, or a
//! batch with one key per line), deleting a batch, setting an option, and
//! the key-reveal route an access token can never pass.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, EXPIRES, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::model::SimChannel;
use super::{Shared, lock, reply, unix_now};

/// The part of `model.Channel` a request to add one sets.
#[derive(Debug, Default, Deserialize)]
pub struct NewChannel {
    #[serde(default, rename = "type")]
    kind: i64,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    models: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    priority: Option<i64>,
    #[serde(default)]
    weight: Option<u64>,
    #[serde(default)]
    test_model: Option<String>,
    #[serde(default)]
    model_mapping: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    auto_ban: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct AddRequest {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    batch_add_set_key_prefix_2_name: bool,
    channel: Option<NewChannel>,
}

/// `POST /api/channel/`: no id in the answer (find a new channel with
/// `id_sort=true`). In batch mode with `batch_add_set_key_prefix_2_name`,
/// each name gets the key's first 8 characters appended to the *previous*
/// channel's name — the names accumulate, as on the real server (it edits
/// one shared struct in the loop).
pub async fn add(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let req: AddRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return reply::api_error(&e.to_string()),
    };
    let Some(ch) = req.channel else { return reply::api_error("channel cannot be empty") };
    let keys: Vec<String> = match req.mode.as_str() {
        "single" => vec![ch.key.clone()],
        "batch" => ch.key.split('\n').map(str::to_owned).collect(),
        _ => return reply::api_error("不支持的添加模式"),
    };
    let mut st = lock(&state);
    let now = unix_now();
    let mut name = ch.name.clone();
    let many = keys.len() > 1;
    for key in keys.into_iter().filter(|k| !k.is_empty()) {
        if req.batch_add_set_key_prefix_2_name && many {
            let prefix: String = key.chars().take(8).collect();
            name = format!("{name} {prefix}");
        }
        let id = st.channels.iter().map(|c| c.id).max().unwrap_or(0) + 1;
        let mut c = SimChannel::new(id, ch.kind, &name, &ch.models);
        c.key = key;
        c.created_time = now;
        c.base_url.clone_from(&ch.base_url);
        c.group = if ch.group.is_empty() { "default".into() } else { ch.group.clone() };
        c.priority = Some(ch.priority.unwrap_or(0));
        c.weight = Some(ch.weight.unwrap_or(0));
        c.auto_ban = Some(ch.auto_ban.unwrap_or(1));
        c.test_model.clone_from(&ch.test_model);
        c.model_mapping.clone_from(&ch.model_mapping);
        c.tag.clone_from(&ch.tag);
        st.channels.push(c);
    }
    reply::msg(StatusCode::OK, "", true)
}

#[derive(Debug, Deserialize)]
pub struct Batch {
    #[serde(default)]
    ids: Vec<i64>,
}

/// `POST /api/channel/batch`: delete; `data` is the number of ids sent.
pub async fn batch_delete(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let ids = match serde_json::from_slice::<Batch>(&body) {
        Ok(b) if !b.ids.is_empty() => b.ids,
        _ => return reply::msg(StatusCode::OK, "参数错误", false),
    };
    lock(&state).channels.retain(|c| !ids.contains(&c.id));
    reply::data(ids.len())
}

#[derive(Debug, Deserialize)]
pub struct OptionUpdate {
    key: String,
    value: serde_json::Value,
}

/// `PUT /api/option/` (root only): the options the simulator acts on.
pub async fn option(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let Ok(o) = serde_json::from_slice::<OptionUpdate>(&body) else {
        return reply::msg(StatusCode::BAD_REQUEST, "无效的参数", false);
    };
    let on = match &o.value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s == "true",
        _ => false,
    };
    let mut st = lock(&state);
    match o.key.as_str() {
        "AutomaticDisableChannelEnabled" => st.auto_disable_enabled = on,
        "AutomaticEnableChannelEnabled" => st.auto_enable_enabled = on,
        _ => {}
    }
    reply::msg(StatusCode::OK, "", true)
}

/// `gin.H{"success", "message", "code"}` (sorted).
#[derive(Serialize)]
struct NeedsVerification {
    code: &'static str,
    message: &'static str,
    success: bool,
}

/// `POST /api/channel/:id/key`: root, then a 2FA/passkey check stored in the
/// *session*; an access token has none, so it always ends here.
pub async fn reveal_key() -> Response {
    let mut resp = reply::json(
        StatusCode::FORBIDDEN,
        &NeedsVerification { code: "VERIFICATION_REQUIRED", message: "需要安全验证", success: false },
    );
    // middleware.DisableCache.
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache, must-revalidate, private, max-age=0"));
    h.insert(EXPIRES, HeaderValue::from_static("0"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}
