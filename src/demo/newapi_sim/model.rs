//! The simulated server's channel, serialized exactly as new-api's
//! `model.Channel` (struct fields in declaration order; Go maps with sorted
//! keys; Go's float formatting).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

/// Go encodes a float64 with an integral value without a fraction (`0`, `12`),
/// where serde_json would write `0.0`.
pub fn go_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if v.fract() == 0.0 && v.abs() < EXACT {
        #[allow(clippy::cast_possible_truncation)]
        let i = *v as i64;
        s.serialize_i64(i)
    } else {
        s.serialize_f64(*v)
    }
}

/// Keys never leave the server: list, get and update answer `""`.
#[allow(clippy::ptr_arg, clippy::trivially_copy_pass_by_ref)]
fn blank<S: Serializer>(_: &String, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("")
}

/// `model.ChannelInfo` as the list, get and update handlers return it
/// (`clearChannelInfo` drops the per-key disabled reasons and times).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimChannelInfo {
    pub is_multi_key: bool,
    pub multi_key_size: i64,
    /// Go `map[int]int`: keys sorted as strings.
    pub multi_key_status_list: Option<BTreeMap<String, i64>>,
    pub multi_key_polling_index: i64,
    pub multi_key_mode: String,
}

/// How the simulated upstream behind a channel answers tests and balance queries.
#[derive(Debug, Clone, PartialEq)]
pub struct SimBehaviour {
    /// A test of this channel succeeds.
    pub test_ok: bool,
    /// `error_code` and `message` of a failed test.
    pub test_error_code: String,
    pub test_error: String,
    /// Round trip a test reports.
    pub latency_ms: i64,
    /// What the provider's billing API would report (types that support it).
    pub upstream_balance: f64,
    /// The billing API cannot be reached: the Go error New API answers with
    /// (HTTP 200, `success:false`), e.g. a dial error.
    pub balance_error: Option<String>,
}

impl SimBehaviour {
    /// An upstream nobody listens on: tests fail as `do_request_failed`,
    /// balance queries with Go's dial error (as captured on a real server).
    pub fn dead(base_url: &str) -> Self {
        let host = base_url.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
        Self {
            test_ok: false,
            test_error_code: "do_request_failed".into(),
            test_error: "do request failed: upstream error: do request failed".into(),
            latency_ms: 0,
            upstream_balance: 0.0,
            balance_error: Some(format!(
                "Get \"{}/v1/dashboard/billing/subscription\": dial tcp {host}: connect: connection refused",
                base_url.trim_end_matches('/')
            )),
        }
    }
}

impl Default for SimBehaviour {
    fn default() -> Self {
        Self {
            test_ok: true,
            test_error_code: String::new(),
            test_error: String::new(),
            latency_ms: 800,
            upstream_balance: 0.0,
            balance_error: None,
        }
    }
}

/// One channel (`model.Channel` at new-api 9f8a4ec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimChannel {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: i64,
    #[serde(serialize_with = "blank", default)]
    pub key: String,
    pub openai_organization: Option<String>,
    pub test_model: Option<String>,
    pub status: i64,
    pub name: String,
    pub weight: Option<u64>,
    pub created_time: i64,
    pub test_time: i64,
    pub response_time: i64,
    pub base_url: Option<String>,
    pub other: String,
    #[serde(serialize_with = "go_float")]
    pub balance: f64,
    pub balance_updated_time: i64,
    pub models: String,
    pub group: String,
    pub used_quota: i64,
    pub model_mapping: Option<String>,
    pub status_code_mapping: Option<String>,
    pub priority: Option<i64>,
    pub auto_ban: Option<i64>,
    pub other_info: String,
    pub tag: Option<String>,
    pub setting: Option<String>,
    pub param_override: Option<String>,
    pub header_override: Option<String>,
    pub remark: Option<String>,
    pub channel_info: SimChannelInfo,
    pub settings: String,
    #[serde(skip)]
    pub sim: SimBehaviour,
}

impl SimChannel {
    /// An enabled single-key channel as `POST /api/channel/` creates one
    /// (null `model_mapping` and `setting`, as captured on a real server).
    pub fn new(id: i64, kind: i64, name: &str, models: &str) -> Self {
        Self {
            id,
            kind,
            key: format!("sk-sim-{id:04}-not-a-real-key"),
            openai_organization: None,
            test_model: None,
            status: 1,
            name: name.to_owned(),
            weight: Some(0),
            created_time: 1_760_000_000 + id * 86_400,
            test_time: 0,
            response_time: 0,
            base_url: Some(String::new()),
            other: String::new(),
            balance: 0.0,
            balance_updated_time: 0,
            models: models.to_owned(),
            group: "default".to_owned(),
            used_quota: 0,
            model_mapping: None,
            status_code_mapping: Some(String::new()),
            priority: Some(0),
            auto_ban: Some(1),
            other_info: String::new(),
            tag: None,
            setting: None,
            param_override: None,
            header_override: None,
            remark: None,
            channel_info: SimChannelInfo::default(),
            settings: String::new(),
            sim: SimBehaviour::default(),
        }
    }

    pub fn models_list(&self) -> impl Iterator<Item = &str> {
        self.models.split(',').map(str::trim).filter(|m| !m.is_empty())
    }

    /// `SetOtherInfo`: merge into the JSON text (Go re-encodes the map sorted).
    pub fn set_status_reason(&mut self, reason: &str, at: i64) {
        let mut info: BTreeMap<String, serde_json::Value> = serde_json::from_str(&self.other_info).unwrap_or_default();
        info.insert("status_reason".into(), reason.into());
        info.insert("status_time".into(), at.into());
        self.other_info = serde_json::to_string(&info).unwrap_or_default();
    }

    /// A multi-key pool of `size` keys, with the given per-key statuses.
    pub fn multi_key(mut self, size: i64, statuses: &[(i64, i64)], mode: &str) -> Self {
        let list: BTreeMap<String, i64> = statuses.iter().map(|(i, s)| (i.to_string(), *s)).collect();
        self.channel_info = SimChannelInfo {
            is_multi_key: true,
            multi_key_size: size,
            multi_key_status_list: (!list.is_empty()).then_some(list),
            multi_key_polling_index: 0,
            multi_key_mode: mode.to_owned(),
        };
        self
    }
}

/// `PatchChannel`: the channel plus the two request-only fields, which is
/// what `PUT /api/channel/` echoes back.
#[derive(Debug, Serialize)]
pub struct Patched<'a> {
    #[serde(flatten)]
    pub channel: &'a SimChannel,
    pub multi_key_mode: Option<String>,
    pub key_mode: Option<String>,
}

/// Channel types whose balance `updateChannelBalance` can fetch
/// (OpenAI, Custom, OpenRouter, Moonshot, SiliconFlow, DeepSeek).
pub fn balance_supported(kind: i64) -> bool {
    matches!(kind, 1 | 8 | 20 | 25 | 40 | 43)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_encode_like_go() {
        #[derive(Serialize)]
        struct F(#[serde(serialize_with = "go_float")] f64);
        assert_eq!(serde_json::to_string(&F(0.0)).unwrap(), "0");
        assert_eq!(serde_json::to_string(&F(87.42)).unwrap(), "87.42");
        assert_eq!(serde_json::to_string(&F(-3.0)).unwrap(), "-3");
        assert_eq!(serde_json::to_string(&F(1.532)).unwrap(), "1.532");
    }

    #[test]
    fn key_is_never_serialized() {
        let c = SimChannel::new(1, 1, "x", "gpt-4o");
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains(r#""key":"""#));
        assert!(!text.contains("sk-sim"));
    }

    #[test]
    fn status_reason_merges_sorted() {
        let mut c = SimChannel::new(1, 1, "x", "m");
        c.other_info = r#"{"zz":1}"#.into();
        c.set_status_reason("余额不足", 5);
        assert_eq!(c.other_info, r#"{"status_reason":"余额不足","status_time":5,"zz":1}"#);
    }
}
