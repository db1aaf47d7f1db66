//! The JSON LiteLLM Proxy 1.106.12 answers (see tests/fixtures/litellm), as
//! lenient serde types: unknown fields are ignored, missing ones default.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct ModelInfoResponse {
    pub data: Vec<ModelInfoEntry>,
}

#[derive(Debug, Deserialize)]
pub struct ModelInfoEntry {
    pub model_name: String,
    #[serde(default)]
    pub litellm_params: LitellmParams,
    #[serde(default)]
    pub model_info: ModelInfo,
}

#[derive(Debug, Deserialize, Default)]
pub struct LitellmParams {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub api_base: Option<String>,
    #[serde(default)]
    pub custom_llm_provider: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct ModelInfo {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub db_model: bool,
    #[serde(default)]
    pub litellm_provider: Option<String>,
    #[serde(default)]
    pub input_cost_per_token: Option<f64>,
    #[serde(default)]
    pub output_cost_per_token: Option<f64>,
}

/// `/health/readiness` and `/health/readiness/details`.
#[derive(Debug, Deserialize)]
pub struct ReadinessResponse {
    pub status: String,
    #[serde(default)]
    pub db: Option<Value>,
    #[serde(default)]
    pub cache: Option<Value>,
    #[serde(default)]
    pub litellm_version: Option<String>,
}

/// `/get/config/callbacks`.
#[derive(Debug, Deserialize)]
pub struct CallbacksResponse {
    #[serde(default)]
    pub router_settings: Option<RouterSettingsJson>,
}

#[derive(Debug, Deserialize, Default)]
pub struct RouterSettingsJson {
    #[serde(default)]
    pub fallbacks: Option<Value>,
    #[serde(default)]
    pub context_window_fallbacks: Option<Value>,
    #[serde(default)]
    pub content_policy_fallbacks: Option<Value>,
    #[serde(default)]
    pub default_fallbacks: Option<Value>,
    #[serde(default)]
    pub num_retries: Option<Value>,
    #[serde(default)]
    pub allowed_fails: Option<Value>,
    #[serde(default)]
    pub cooldown_time: Option<Value>,
    #[serde(default)]
    pub routing_strategy: Option<String>,
}

/// `/cache/ping`.
#[derive(Debug, Deserialize)]
pub struct CachePingResponse {
    pub status: String,
    #[serde(default)]
    pub cache_type: Option<String>,
    #[serde(default)]
    pub ping_response: Option<Value>,
}

/// `/v1/models`.
#[derive(Debug, Deserialize)]
pub struct ModelsResponse {
    pub data: Vec<ModelsEntry>,
}

#[derive(Debug, Deserialize)]
pub struct ModelsEntry {
    pub id: String,
}

/// `/health`.
#[derive(Debug, Deserialize)]
pub struct HealthResponse {
    #[serde(default)]
    pub healthy_endpoints: Vec<HealthEndpoint>,
    #[serde(default)]
    pub unhealthy_endpoints: Vec<HealthEndpoint>,
}

#[derive(Debug, Deserialize)]
pub struct HealthEndpoint {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub exception_status: Option<Value>,
    #[serde(default)]
    pub raw_request_typed_dict: Option<Value>,
}

/// `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// Fallback lists as the proxy reports them: `[{"a": ["b", "c"]}, …]`.
pub fn chains(v: Option<&Value>) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(Value::Array(items)) = v {
        for item in items {
            if let Value::Object(map) = item {
                for (k, targets) in map {
                    let to = match targets {
                        Value::Array(t) => t.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
                        Value::String(s) => vec![s.clone()],
                        _ => Vec::new(),
                    };
                    out.push((k.clone(), to));
                }
            }
        }
    }
    out
}

pub fn as_f64(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn as_u32(v: Option<&Value>) -> Option<u32> {
    as_f64(v).filter(|f| *f >= 0.0 && *f < f64::from(u32::MAX)).map(|f| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = f as u32;
        n
    })
}
