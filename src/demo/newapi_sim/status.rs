//! `GET /api/status` (public) and `GET /api/status/test` (admin).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Shared, lock, reply};

/// The `gin.H` of `controller.GetStatus` (keys sorted as Go sorts them).
fn status_data(version: &str, start_time: i64) -> BTreeMap<&'static str, Value> {
    let pairs: [(&'static str, Value); 64] = [
        ("HeaderNavModules", json!("")),
        ("SidebarModulesAdmin", json!("")),
        ("announcements", json!([])),
        ("announcements_enabled", json!(true)),
        ("api_info", json!([])),
        ("api_info_enabled", json!(true)),
        (
            "chats",
            json!([
                {"Cherry Studio": "cherrystudio://providers/api-keys?v=1&data={cherryConfig}"},
                {"AionUI": "aionui://provider/add?v=1&data={aionuiConfig}"},
                {"流畅阅读": "fluentread"},
                {"CC Switch": "ccswitch"}
            ]),
        ),
        ("checkin_enabled", json!(false)),
        ("custom_currency_exchange_rate", json!(1)),
        ("custom_currency_symbol", json!("¤")),
        ("data_export_default_time", json!("hour")),
        ("default_collapse_sidebar", json!(false)),
        ("default_use_auto_group", json!(false)),
        ("demo_site_enabled", json!(false)),
        ("discord_client_id", json!("")),
        ("discord_oauth", json!(false)),
        ("display_in_currency", json!(true)),
        ("docs_link", json!("")),
        ("email_verification", json!(false)),
        ("enable_batch_update", json!(false)),
        ("enable_data_export", json!(true)),
        ("enable_drawing", json!(true)),
        ("enable_task", json!(true)),
        ("faq", json!([])),
        ("faq_enabled", json!(true)),
        ("footer_html", json!("")),
        ("github_client_id", json!("")),
        ("github_oauth", json!(false)),
        ("linuxdo_client_id", json!("")),
        ("linuxdo_minimum_trust_level", json!(0)),
        ("linuxdo_oauth", json!(false)),
        ("logo", json!("")),
        ("mj_notify_enabled", json!(false)),
        ("oidc_authorization_endpoint", json!("")),
        ("oidc_client_id", json!("")),
        ("oidc_enabled", json!(false)),
        ("passkey_allow_insecure", json!(false)),
        ("passkey_attachment", json!("")),
        ("passkey_display_name", json!("New API")),
        ("passkey_login", json!(false)),
        ("passkey_origins", json!("")),
        ("passkey_rp_id", json!("")),
        ("passkey_user_verification", json!("preferred")),
        ("price", json!(7.3)),
        ("privacy_policy_enabled", json!(false)),
        ("quota_display_type", json!("USD")),
        ("quota_per_unit", json!(500_000)),
        ("self_use_mode_enabled", json!(false)),
        ("server_address", json!("https://gw.example.com")),
        ("setup", json!(true)),
        ("start_time", json!(start_time)),
        ("stripe_unit_price", json!(8)),
        ("system_name", json!("New API")),
        ("telegram_bot_name", json!("")),
        ("telegram_oauth", json!(false)),
        ("top_up_link", json!("")),
        ("turnstile_check", json!(false)),
        ("turnstile_site_key", json!("")),
        ("uptime_kuma_enabled", json!(false)),
        ("usd_exchange_rate", json!(7.3)),
        ("user_agreement_enabled", json!(false)),
        ("version", json!(version)),
        ("wechat_login", json!(false)),
        ("wechat_qrcode", json!("")),
    ];
    pairs.into_iter().collect()
}

pub async fn status(State(state): State<Shared>) -> Response {
    let (version, start) = {
        let st = lock(&state);
        (st.version.clone(), st.start_time)
    };
    reply::data(status_data(&version, start))
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
