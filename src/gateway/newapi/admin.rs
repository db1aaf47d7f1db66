//! The admin actions New API offers (README §5), each checked against what
//! the server answered.

use reqwest::Method;
use serde_json::json;

use crate::gateway::http::{self, RawResponse};
use crate::gateway::{AdminOp, AdminResult, GatewayError};

use super::answer::{self, AuthFailure};
use super::api::{BalanceAnswer, Channel, Envelope, Head, TestAnswer};
use super::channel::{Flavor, to_deployment};
use super::client::{Calls, Client, Req, encode_query};
use super::list;
use super::pacer::Class;
use crate::gateway::text::Interner;

fn channel_id(id: &str) -> Result<i64, GatewayError> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| GatewayError::Rejected { message: format!("channel id {id:?} is not a positive integer") })
}

/// Run one operation.
pub async fn run(client: &Client, calls: &Calls, base: &str, op: &AdminOp) -> Result<AdminResult, GatewayError> {
    match op {
        AdminOp::TestChannel { id, model } => test_channel(client, calls, base, id, model.as_deref()).await,
        AdminOp::TestAllChannels => {
            client.call(calls, base, &Req::get("/api/channel/test", Class::Action).slow()).await?;
            Ok(AdminResult::Done {
                message: "testing every channel except manually disabled ones, one after another in the background; \
                          watch test_time in the list (there is no progress endpoint)"
                    .into(),
            })
        }
        AdminOp::RefreshBalance { id } => {
            let path = format!("/api/channel/update_balance/{}", channel_id(id)?);
            let resp = client.call(calls, base, &Req::get(&path, Class::Action).slow()).await?;
            let b: BalanceAnswer = resp.json()?;
            let balance = b.balance.ok_or_else(|| GatewayError::WrongShape {
                path: path.clone(),
                detail: "no top-level `balance` in a successful answer".into(),
            })?;
            Ok(AdminResult::Balance { balance })
        }
        AdminOp::UpdateAllBalances => {
            client.call(calls, base, &Req::get("/api/channel/update_balance", Class::Action).slow()).await?;
            Ok(AdminResult::Done {
                message:
                    "balances updated for every enabled single-key channel; any with balance ≤ 0 (and auto_ban on) \
                          is now auto-disabled"
                        .into(),
            })
        }
        AdminOp::SetChannelEnabled { id, enabled } => set_enabled(client, calls, base, id, *enabled).await,
        AdminOp::ReadChannel { id } => {
            let path = format!("/api/channel/{}", channel_id(id)?);
            let resp = client.call(calls, base, &Req::get(&path, Class::Action)).await?;
            let channel = resp.json::<Envelope<Channel>>()?.data;
            Ok(AdminResult::Channels {
                channels: vec![to_deployment(channel, Flavor::NewApi, &mut Interner::default())],
            })
        }
        AdminOp::ReadDisabledChannels => {
            let channels = list::read_disabled(client, calls, base).await?;
            Ok(AdminResult::Channels { channels })
        }
        other => Err(GatewayError::Unsupported(format!("{other:?} is not a New API operation"))),
    }
}

/// `GET /api/channel/test/:id`: `success/message/time/error_code` at the top
/// level. A failed test is a result, not an error; an auth failure or an
/// unknown channel is an error.
async fn test_channel(
    client: &Client,
    calls: &Calls,
    base: &str,
    id: &str,
    model: Option<&str>,
) -> Result<AdminResult, GatewayError> {
    let mut path = format!("/api/channel/test/{}", channel_id(id)?);
    if let Some(m) = model.filter(|m| !m.trim().is_empty()) {
        path.push_str("?model=");
        path.push_str(&encode_query(m.trim()));
    }
    let resp = client.send_raw(calls, base, &Req::get(&path, Class::Action).slow()).await?;
    let head: Option<Head> = resp.json().ok();
    match head {
        Some(Head { success: Some(ok), message }) if resp.status.is_success() && !resp.is_html() => {
            let message = message.unwrap_or_default();
            if !ok && (AuthFailure::recognise(&message).is_some() || is_unknown_channel(&message)) {
                return Err(answer::refusal(resp.status.as_u16(), &message, client.sent()));
            }
            test_result(&resp, ok, &message)
        }
        // Anything else (HTML, 401, 429, garbage, no `success`) is classified as usual.
        _ => answer::check(resp, client.sent()).and_then(|r| {
            Err(GatewayError::WrongShape { path: r.path, detail: "test answer without `success`".into() })
        }),
    }
}

fn is_unknown_channel(message: &str) -> bool {
    message.contains("record not found") || message.contains("渠道不存在")
}

fn test_result(resp: &RawResponse, ok: bool, message: &str) -> Result<AdminResult, GatewayError> {
    let t: TestAnswer = resp.json()?;
    let seconds = t.time.unwrap_or(0.0);
    let first = http::first_line(message);
    let message = match t.error_code.filter(|c| !c.is_empty()) {
        Some(code) if !ok => format!("[{code}] {first}"),
        _ => first,
    };
    Ok(AdminResult::ChannelTest { ok, message, seconds })
}

/// `PUT /api/channel/ {"id", "status": 1|2}` — how the console enables and
/// disables; the answer's channel must show the new status.
async fn set_enabled(
    client: &Client,
    calls: &Calls,
    base: &str,
    id: &str,
    enabled: bool,
) -> Result<AdminResult, GatewayError> {
    let n = channel_id(id)?;
    let want = if enabled { 1 } else { 2 };
    let req = Req {
        method: Method::PUT,
        path: "/api/channel/",
        body: Some(json!({ "id": n, "status": want })),
        class: Class::Action,
        auth: true,
        // The server reloads its whole channel cache before answering.
        slow: true,
    };
    let resp = client.call(calls, base, &req).await?;
    let channel = resp.json::<Envelope<Channel>>()?.data;
    if channel.id != n || channel.status != want {
        return Err(GatewayError::Rejected {
            message: format!(
                "the gateway accepted the update but returned channel {} with status {} (wanted {want})",
                channel.id, channel.status
            ),
        });
    }
    Ok(AdminResult::Done {
        message: format!(
            "channel {n} {} (status {want}); nodes with the memory cache follow within SYNC_FREQUENCY",
            if enabled { "enabled" } else { "disabled" }
        ),
    })
}
