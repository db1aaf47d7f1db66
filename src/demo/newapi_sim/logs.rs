//! `GET /api/log/` (type 5: error logs), shaped like the real capture
//! (tests/fixtures/newapi/real/http/23_log_type5.http), and type 2 (consume
//! logs: requests that succeeded) in the same shape, from New API's `Log`
//! struct (no capture of type 2 here: its `other` holds billing ratios).

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;

use super::{Shared, lock, reply};

/// One error-log row the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimErrorLog {
    pub created_at: i64,
    pub model_name: String,
    pub content: String,
    pub status_code: u16,
    pub channel: i64,
    pub channel_name: String,
    pub error_code: String,
}

#[derive(Serialize)]
struct Item<'a> {
    id: usize,
    user_id: i64,
    created_at: i64,
    #[serde(rename = "type")]
    kind: i64,
    content: &'a str,
    username: &'a str,
    token_name: &'a str,
    model_name: &'a str,
    quota: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    use_time: i64,
    is_stream: bool,
    channel: i64,
    channel_name: &'a str,
    token_id: i64,
    group: &'a str,
    ip: &'a str,
    request_id: String,
    other: String,
}

#[derive(Serialize)]
struct LogPage<'a> {
    page: usize,
    page_size: usize,
    total: usize,
    items: Vec<Item<'a>>,
}

#[derive(serde::Deserialize)]
pub struct Params {
    #[serde(default)]
    p: Option<usize>,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default, rename = "type")]
    kind: Option<i64>,
}

pub async fn list(State(state): State<Shared>, Query(q): Query<Params>) -> Response {
    let s = lock(&state);
    let page = q.p.unwrap_or(1).max(1);
    let size = q.page_size.unwrap_or(10).clamp(1, 100);
    let kind = q.kind.unwrap_or(0);
    let rows: Vec<&SimErrorLog> = match kind {
        0 | 5 => s.error_logs.iter().collect(),
        2 => s.consume_logs.iter().collect(),
        _ => Vec::new(),
    };
    let kind = if kind == 2 { 2 } else { 5 };
    let total = rows.len();
    let items = rows
        .iter()
        .enumerate()
        .skip((page - 1) * size)
        .take(size)
        .map(|(i, r)| Item {
            id: 900_000 + total - i,
            user_id: 17,
            created_at: r.created_at,
            kind,
            content: &r.content,
            username: "acme-svc",
            token_name: "backend-prod",
            model_name: &r.model_name,
            quota: if kind == 2 { 1_250 } else { 0 },
            prompt_tokens: if kind == 2 { 120 } else { 0 },
            completion_tokens: if kind == 2 { 40 } else { 0 },
            use_time: i64::from(kind == 2),
            is_stream: false,
            channel: r.channel,
            channel_name: &r.channel_name,
            token_id: 44,
            group: "default",
            ip: "",
            request_id: format!("{}{:08}sim", r.created_at, total - i),
            other: if kind == 2 {
                serde_json::json!({
                    "admin_info": {"use_channel": [r.channel.to_string()]},
                    "frt": 380, "model_ratio": 1.25, "completion_ratio": 4, "group_ratio": 1
                })
                .to_string()
            } else {
                serde_json::json!({
                    "admin_info": {"use_channel": [r.channel.to_string()]},
                    "channel_id": r.channel, "channel_name": r.channel_name, "channel_type": 1,
                    "error_code": r.error_code, "error_type": "openai_error",
                    "request_path": "/v1/chat/completions", "status_code": r.status_code
                })
                .to_string()
            },
        })
        .collect();
    reply::data(LogPage { page, page_size: size, total, items })
}
