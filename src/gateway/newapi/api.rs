//! The JSON New API answers (see tests/fixtures/newapi and
//! gateways/newapi/README.md), as lenient serde types: unknown fields are
//! ignored, missing ones default, nullable ones are `Option`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// The part of every answer that says whether it worked.
#[derive(Debug, Deserialize)]
pub struct Head {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `{"success","message","data"}` (`common.ApiSuccess`).
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// `GET /api/status` → `data` (a big map; only these fields matter here).
#[derive(Debug, Default, Deserialize)]
pub struct StatusData {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub start_time: Option<i64>,
    #[serde(default)]
    pub system_name: Option<String>,
    #[serde(default)]
    pub quota_per_unit: Option<f64>,
    /// false: no root account yet (`POST /api/setup` is open); absent before 2025-04.
    #[serde(default)]
    pub setup: Option<bool>,
}

/// `GET /api/status/test` (no `data`).
#[derive(Debug, Default, Deserialize)]
pub struct StatusTest {
    #[serde(default)]
    pub http_stats: Option<HttpStats>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HttpStats {
    #[serde(default)]
    pub active_connections: Option<i64>,
}

/// `data` of `GET /api/channel/`: New API's page object, or One API's bare array.
#[derive(Debug)]
pub enum ListData {
    Page(ChannelPage),
    Bare(Vec<Channel>),
}

#[derive(Debug, Default, Deserialize)]
pub struct ChannelPage {
    #[serde(default)]
    pub items: Option<Vec<Channel>>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub page_size: Option<i64>,
    #[serde(default)]
    pub total: Option<i64>,
    #[serde(default)]
    pub type_counts: Option<BTreeMap<String, i64>>,
}

impl<'de> Deserialize<'de> for ListData {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ListData;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a page object {items, total, …} or an array of channels")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ListData, A::Error> {
                ChannelPage::deserialize(de::value::MapAccessDeserializer::new(map)).map(ListData::Page)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ListData, A::Error> {
                Vec::<Channel>::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(ListData::Bare)
            }
        }
        d.deserialize_any(V)
    }
}

/// `model.Channel` (struct order of new-api @ 9f8a4ec; One API's smaller
/// struct parses into the same type with the missing fields defaulted).
#[derive(Debug, Default, Deserialize)]
pub struct Channel {
    pub id: i64,
    #[serde(default, rename = "type")]
    pub kind: i64,
    #[serde(default)]
    pub test_model: Option<String>,
    #[serde(default)]
    pub status: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub test_time: i64,
    #[serde(default)]
    pub response_time: i64,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub balance: f64,
    #[serde(default)]
    pub balance_updated_time: i64,
    #[serde(default)]
    pub models: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub used_quota: i64,
    #[serde(default)]
    pub model_mapping: Option<String>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub auto_ban: Option<i64>,
    #[serde(default)]
    pub other_info: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub remark: Option<String>,
    #[serde(default)]
    pub channel_info: Option<ChannelInfo>,
}

/// `model.ChannelInfo`: multi-key pools.
#[derive(Debug, Default, Deserialize)]
pub struct ChannelInfo {
    #[serde(default)]
    pub is_multi_key: bool,
    #[serde(default)]
    pub multi_key_size: i64,
    #[serde(default)]
    pub multi_key_status_list: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    pub multi_key_mode: Option<String>,
}

/// The JSON text in `other_info`.
#[derive(Debug, Default, Deserialize)]
pub struct OtherInfo {
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub status_time: Option<i64>,
}

/// `GET /api/channel/test/:id`: top-level `time` (seconds) and `error_code`.
#[derive(Debug, Default, Deserialize)]
pub struct TestAnswer {
    #[serde(default)]
    pub time: Option<f64>,
    #[serde(default)]
    pub error_code: Option<String>,
}

/// `GET /api/channel/update_balance/:id`: top-level `balance` (USD).
#[derive(Debug, Default, Deserialize)]
pub struct BalanceAnswer {
    #[serde(default)]
    pub balance: Option<f64>,
}

/// A JSON object of strings, in the order of the text (`model_mapping`).
/// Non-string values are kept as their JSON text.
#[derive(Debug, Default, PartialEq)]
pub struct OrderedPairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for OrderedPairs {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedPairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.push((k, v));
                }
                Ok(OrderedPairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_pairs_keep_text_order() {
        let p: OrderedPairs = serde_json::from_str(r#"{"z":"1","a":"2","m":3}"#).unwrap();
        assert_eq!(p.0, vec![("z".into(), "1".into()), ("a".into(), "2".into()), ("m".into(), "3".into())]);
        assert!(serde_json::from_str::<OrderedPairs>("[1]").is_err());
    }

    #[test]
    fn list_data_accepts_page_or_bare_array() {
        let p: ListData = serde_json::from_str(r#"{"items":[{"id":1}],"total":1}"#).unwrap();
        assert!(matches!(p, ListData::Page(ChannelPage { total: Some(1), .. })));
        let b: ListData = serde_json::from_str(r#"[{"id":1},{"id":2}]"#).unwrap();
        assert!(matches!(b, ListData::Bare(v) if v.len() == 2));
        assert!(serde_json::from_str::<ListData>(r#""x""#).is_err());
    }
}
