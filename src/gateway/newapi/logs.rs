//! New API's error log (`GET /api/log/?type=5`): the model names of recent
//! failed requests, for the model-name check. New API writes these only with
//! `ERROR_LOG_ENABLED=true`, and at the commit read only for requests that
//! reached a channel (a request no channel serves fails in the distributor
//! and is not logged); an empty log therefore proves nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::{Calls, Client, Req};
use super::pacer::Class;
use crate::gateway::{ErrorLogEntry, ErrorLogModel, GatewayError};

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    data: Option<Items>,
}

#[derive(Debug, Deserialize)]
struct Items {
    #[serde(default)]
    items: Vec<LogEntry>,
}

#[derive(Debug, Deserialize)]
struct LogEntry {
    #[serde(default)]
    model_name: String,
    #[serde(default)]
    channel: i64,
    #[serde(default)]
    channel_name: String,
    #[serde(default)]
    created_at: i64,
    #[serde(default)]
    content: String,
    #[serde(default)]
    other: String,
}

/// Group log entries by model name (newest first in the page, so the first
/// message seen per model is its latest).
pub fn aggregate(body: &[u8], path: &str) -> Result<Vec<ErrorLogModel>, GatewayError> {
    let page: Page = crate::gateway::http::decode_json(body, path)?;
    let mut by: BTreeMap<String, ErrorLogModel> = BTreeMap::new();
    for e in page.data.map(|d| d.items).unwrap_or_default() {
        if e.model_name.trim().is_empty() {
            continue;
        }
        let status = serde_json::from_str::<serde_json::Value>(&e.other)
            .ok()
            .and_then(|o| o.get("status_code").and_then(serde_json::Value::as_u64))
            .and_then(|s| u16::try_from(s).ok());
        let entry = by.entry(e.model_name.clone()).or_insert_with(|| ErrorLogModel {
            model: e.model_name.clone(),
            count: 0,
            status_code: status,
            last_error: crate::gateway::http::first_line(&e.content),
        });
        entry.count += 1;
    }
    let mut out: Vec<ErrorLogModel> = by.into_values().collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.model.cmp(&b.model)));
    Ok(out)
}

/// Each entry as one failed request: channel, time, status, model.
pub fn entries(body: &[u8], path: &str) -> Result<Vec<ErrorLogEntry>, GatewayError> {
    let page: Page = crate::gateway::http::decode_json(body, path)?;
    Ok(page
        .data
        .map(|d| d.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.channel > 0)
        .map(|e| ErrorLogEntry {
            channel: e.channel,
            channel_name: e.channel_name.chars().take(200).collect(),
            at: e.created_at,
            status: serde_json::from_str::<serde_json::Value>(&e.other)
                .ok()
                .and_then(|o| o.get("status_code").and_then(serde_json::Value::as_u64))
                .and_then(|s| u16::try_from(s).ok()),
            model: e.model_name.chars().take(200).collect(),
        })
        .collect())
}

/// The newest 100 consume-log entries (type 2: requests that succeeded),
/// one by one: the successes beside the error log's failures.
pub async fn consumed(client: &Client, calls: &Calls, base: &str) -> Result<Vec<ErrorLogEntry>, GatewayError> {
    let path = "/api/log/?p=1&page_size=100&type=2";
    let resp = client.call(calls, base, &Req::get(path, Class::Poll)).await?;
    entries(&resp.body, "/api/log/")
}

/// The last 100 error-log entries: grouped by model, one by one, and the
/// server's clock when it answered (its `Date` header): entry times are the
/// server's, and the server may run on another host with another clock.
pub async fn recent(
    client: &Client,
    calls: &Calls,
    base: &str,
) -> Result<(Vec<ErrorLogModel>, Vec<ErrorLogEntry>, Option<i64>), GatewayError> {
    let path = "/api/log/?p=1&page_size=100&type=5";
    let resp = client.call(calls, base, &Req::get(path, Class::Poll)).await?;
    let server_now = resp
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    Ok((aggregate(&resp.body, "/api/log/")?, entries(&resp.body, "/api/log/")?, server_now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_entry_of_the_real_capture_names_its_channel_time_and_status() {
        let raw = include_str!("../../../tests/fixtures/newapi/real/http/23_log_type5.http");
        let body = raw.lines().find(|l| l.starts_with("{\"data\"")).unwrap();
        let e = entries(body.as_bytes(), "/api/log/").unwrap();
        assert_eq!(e.len(), 5);
        assert!(e.iter().all(|x| x.channel == 4 && x.channel_name == "dead-upstream" && x.status == Some(500)));
        assert!(e.iter().all(|x| x.at == 1_796_119_758 && x.model == "gpt-4o"));
    }

    #[test]
    fn groups_the_fixture_page_by_model() {
        let body = include_bytes!("../../../tests/fixtures/newapi/log_page.json");
        let models = aggregate(body, "/api/log/").unwrap();
        assert_eq!(models.len(), 3);
        let mini = models.iter().find(|m| m.model == "gpt-4o-mini").unwrap();
        assert_eq!(mini.status_code, Some(429));
        assert!(mini.last_error.contains("exceeded your current quota"));
    }
}
