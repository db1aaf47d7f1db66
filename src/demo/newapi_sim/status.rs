//! `GET /api/status` (public) and `GET /api/status/test` (admin).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Shared, lock, reply};

/// The `gin.H` of `controller.GetStatus` as a real server with its defaults
/// answered it (tests/fixtures/newapi/real/http/01_status_before_setup.http),
/// without the three values that change: `version`, `start_time`, `setup`.
const STATUS_DEFAULTS: &str = r#"{"HeaderNavModules":"","SidebarModulesAdmin":"","announcements":[],"announcements_enabled":true,"api_info":[],"api_info_enabled":true,"chats":[{"Cherry Studio":"cherrystudio://providers/api-keys?v=1&data={cherryConfig}"},{"AionUI":"aionui://provider/add?v=1&data={aionuiConfig}"},{"流畅阅读":"fluentread"},{"CC Switch":"ccswitch"},{"Lobe Chat 官方示例":"https://chat-preview.lobehub.com/?settings={\"keyVaults\":{\"openai\":{\"apiKey\":\"{key}\",\"baseURL\":\"{address}/v1\"}}}"},{"AI as Workspace":"https://aiaw.app/set-provider?provider={\"type\":\"openai\",\"settings\":{\"apiKey\":\"{key}\",\"baseURL\":\"{address}/v1\",\"compatibility\":\"strict\"}}"},{"AMA 问天":"ama://set-api-key?server={address}&key={key}"},{"OpenCat":"opencat://team/join?domain={address}&token={key}"}],"checkin_enabled":false,"custom_currency_exchange_rate":1,"custom_currency_symbol":"¤","data_export_default_time":"hour","default_collapse_sidebar":false,"default_use_auto_group":false,"demo_site_enabled":false,"discord_client_id":"","discord_oauth":false,"display_in_currency":true,"docs_link":"https://docs.newapi.pro","email_verification":false,"enable_batch_update":false,"enable_data_export":true,"enable_drawing":true,"enable_task":true,"faq":[],"faq_enabled":true,"footer_html":"","github_client_id":"","github_oauth":false,"linuxdo_client_id":"","linuxdo_minimum_trust_level":0,"linuxdo_oauth":false,"logo":"","mj_notify_enabled":false,"oidc_authorization_endpoint":"","oidc_client_id":"","oidc_enabled":false,"passkey_allow_insecure":false,"passkey_attachment":"","passkey_display_name":"New API","passkey_login":false,"passkey_origins":"http://localhost:3000","passkey_rp_id":"localhost:3000","passkey_user_verification":"preferred","price":7.3,"privacy_policy_enabled":false,"quota_display_type":"USD","quota_per_unit":500000,"self_use_mode_enabled":false,"server_address":"http://localhost:3000","stripe_unit_price":8,"system_name":"New API","telegram_bot_name":"","telegram_oauth":false,"top_up_link":"","turnstile_check":false,"turnstile_site_key":"","uptime_kuma_enabled":true,"usd_exchange_rate":7.3,"user_agreement_enabled":false,"wechat_login":false,"wechat_qrcode":""}"#;

/// The status data; Go sorts a `gin.H`'s keys, a `BTreeMap` does too.
fn status_data(version: &str, start_time: i64, setup: bool) -> BTreeMap<String, Value> {
    let mut data: BTreeMap<String, Value> = serde_json::from_str(STATUS_DEFAULTS).unwrap_or_default();
    data.insert("version".into(), json!(version));
    data.insert("start_time".into(), json!(start_time));
    data.insert("setup".into(), json!(setup));
    data
}

pub async fn status(State(state): State<Shared>) -> Response {
    let (version, start, setup) = {
        let st = lock(&state);
        (st.version.clone(), st.start_time, st.setup)
    };
    reply::data(status_data(&version, start, setup))
}

#[derive(Serialize)]
struct HttpStats {
    active_connections: i64,
}

#[derive(Serialize)]
struct StatusTest<'a> {
    http_stats: HttpStats,
    message: &'a str,
    success: bool,
}

pub async fn status_test(State(state): State<Shared>) -> Response {
    let db_down = lock(&state).db_down;
    if db_down {
        return reply::msg(StatusCode::SERVICE_UNAVAILABLE, "数据库连接失败", false);
    }
    reply::json(
        StatusCode::OK,
        &StatusTest { http_stats: HttpStats { active_connections: 1 }, message: "Server is running", success: true },
    )
}
