//! Live traffic per deployment from the proxy's Prometheus exposition
//! (`GET /metrics/` with the master key; `litellm_settings.callbacks:
//! ["prometheus"]`, no licence needed), parsed with `prom_text_format_parser`
//! (label values are quoted strings with escapes: a client's `user_agent`
//! cannot inject a `model_id`; it writes nothing to stderr, which a parser
//! that did — `nom-openmetrics` 0.3 prints every number's sign — would
//! scribble over the TUI).
//!
//! Measured on LiteLLM Proxy 1.106.12 (tests/litellm_traffic_real.rs), per
//! deployment, labelled `model_id` (the id gatewatch computes from the file):
//! `litellm_deployment_total_requests_total`,
//! `litellm_deployment_success_responses_total`,
//! `litellm_deployment_failure_responses_total` (with `exception_status`
//! and `exception_class`), `litellm_deployment_cooled_down_total`, and the
//! gauge `litellm_deployment_state` (0 healthy, 1 partial outage, 2 complete
//! outage; three refused connections in a row left it at 1). Every other
//! label (the client's ip, user agent, hashed key, `api_base`) is dropped
//! here and never shown.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod exposition;

/// The most deployments kept from one exposition (more are counted, not kept).
pub const MAX_DEPLOYMENTS: usize = 50_000;
/// The most distinct errors kept per deployment.
const MAX_ERRORS: usize = 16;
/// Longest label value kept (a model id is 64 hex characters).
const MAX_LABEL: usize = 200;

/// The counters of one deployment, since its process started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentTraffic {
    /// The alias (`model_group`): a fixed config gives the deployment a new
    /// id, and the alias ties its history to the old one.
    #[serde(default, skip_serializing_if = "str_is_empty")]
    pub alias: Arc<str>,
    pub requests: f64,
    pub successes: f64,
    pub failures: f64,
    pub cooled_down: f64,
    /// Unix time the process first counted this deployment (the earliest
    /// `*_created`; 0: not reported). A restart moves it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub created: f64,
    /// `litellm_deployment_state`: 0 healthy, 1 partial outage, 2 complete outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<u8>,
    /// Failures by `"<status> <class>"` (`"500 Openai.InternalServerError"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, f64>,
}

/// One exposition, reduced to what gatewatch uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// By deployment id. Ids and aliases are shared strings: the history
    /// keeps half an hour of these maps and shares them between samples.
    pub deployments: BTreeMap<Arc<str>, DeploymentTraffic>,
    /// Samples for deployments over [`MAX_DEPLOYMENTS`], dropped.
    pub dropped: usize,
    /// The exposition declares LiteLLM's deployment families (the
    /// prometheus callback is on), even before any request.
    pub callback_on: bool,
}

#[allow(clippy::ref_option)]
fn str_is_empty(s: &Arc<str>) -> bool {
    s.is_empty()
}

impl DeploymentTraffic {
    /// The error seen most often (ties: the first in order).
    pub fn dominant_error(&self) -> Option<(&str, f64)> {
        dominant(&self.errors)
    }
}

/// The most frequent error of a count by `"<status> <class>"` (ties: the
/// first in order); none when nothing failed.
pub fn dominant(errors: &BTreeMap<String, f64>) -> Option<(&str, f64)> {
    errors
        .iter()
        .filter(|(_, n)| **n > 0.0)
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(k, n)| (k.as_str(), *n))
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

pub fn bounded(v: &str) -> String {
    v.chars().take(MAX_LABEL).collect()
}

/// Parse a Prometheus text exposition. Only the `litellm_deployment_*`
/// samples are kept; every line is checked, and an exposition that does not
/// parse is an error naming the line, never a partial picture.
///
/// Read a line at a time and folded as it goes: a parser building the whole
/// exposition first held 18 MB for the 4.9 MB of 5,000 deployments.
pub fn parse(text: &str) -> Result<Traffic, String> {
    let mut out = Traffic::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if let Some(comment) = line.strip_prefix('#') {
            // `# HELP name …` / `# TYPE name …`: a family declared, sampled or not
            // (prometheus_client declares every family it registered).
            let mut words = comment.split_whitespace();
            if matches!(words.next(), Some("HELP" | "TYPE"))
                && words.next().is_some_and(|name| name.starts_with("litellm_deployment_"))
            {
                out.callback_on = true;
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let sample = exposition::sample(line).map_err(|e| {
            // The reason names the metric: its characters are checked, its length is not.
            let e: String = e.chars().take(200).collect();
            format!("the /metrics/ exposition does not parse (line {}): {e}", n + 1)
        })?;
        let Some(field) = sample.name.strip_prefix("litellm_deployment_") else { continue };
        out.callback_on = true;
        let label = |k: &str| sample.labels.iter().find(|(key, _)| *key == k).map(|(_, v)| v.as_ref());
        let Some(id) = label("model_id").filter(|v| !v.is_empty() && *v != "None") else { continue };
        let Ok(v) = sample.value.parse::<f64>() else { continue };
        if !v.is_finite() || v < 0.0 {
            continue;
        }
        let known = out.deployments.contains_key(id);
        if !known && out.deployments.len() >= MAX_DEPLOYMENTS {
            out.dropped += 1;
            continue;
        }
        let d = out.deployments.entry(bounded(id).into()).or_default();
        add(d, field, v, label("model_group"), label("exception_status"), label("exception_class"));
    }
    Ok(out)
}

/// Fold one sample of family `field` (the name after `litellm_deployment_`)
/// into a deployment's counters: a scrape's series and Prometheus's sums
/// read the same way.
pub fn add(
    d: &mut DeploymentTraffic,
    field: &str,
    v: f64,
    alias: Option<&str>,
    status: Option<&str>,
    class: Option<&str>,
) {
    if !v.is_finite() || v < 0.0 {
        return;
    }
    if d.alias.is_empty()
        && let Some(alias) = alias
    {
        d.alias = bounded(alias).into();
    }
    match field {
        "total_requests_total" | "total_requests" => d.requests += v,
        "success_responses_total" | "success_responses" => d.successes += v,
        "cooled_down_total" | "cooled_down" => d.cooled_down += v,
        "state" => d.state = Some(u8::from(v >= 1.0) + u8::from(v >= 2.0)),
        "failure_responses_total" | "failure_responses" => {
            d.failures += v;
            let key = format!("{} {}", bounded(status.unwrap_or("?")), bounded(class.unwrap_or("?")));
            if d.errors.len() < MAX_ERRORS || d.errors.contains_key(&key) {
                *d.errors.entry(key).or_default() += v;
            }
        }
        // When the process first counted the deployment: a restart moves it.
        "total_requests_created" | "success_responses_created" | "failure_responses_created" => {
            d.created = if d.created > 0.0 { d.created.min(v) } else { v };
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = include_str!("../../../tests/fixtures/litellm/metrics_1.106.12.txt");

    #[test]
    fn the_captured_exposition_gives_each_deployment_its_counters() {
        let t = parse(CAPTURED).unwrap();
        let good = &t.deployments["a6c96835c921bb7fe57e3bdd45ae2618ef611f69af422e0dfbdbdb482742d38b"];
        assert_eq!((good.requests, good.successes, good.failures, good.state), (3.0, 3.0, 0.0, Some(0)));
        let bad = &t.deployments["c0d9744b35ec2dd5f2a5a9e66f57c7a53901790d156b5fc36d2e6652fba62115"];
        assert_eq!((bad.requests, bad.failures, bad.state), (3.0, 3.0, Some(1)));
        assert_eq!(bad.dominant_error(), Some(("500 Openai.InternalServerError", 3.0)));
        assert_eq!((&*good.alias, &*bad.alias), ("good", "bad"));
        assert!(bad.created > 1.7e9 && good.created > 1.7e9, "{good:?}");
        assert_eq!(t.deployments.len(), 2, "{:?}", t.deployments.keys());
        assert!(t.callback_on);
        let other =
            parse("# HELP python_info x\n# TYPE python_info gauge\npython_info{version=\"3.11\"} 1.0\n").unwrap();
        assert!(!other.callback_on && other.deployments.is_empty());
    }

    #[test]
    fn a_label_value_cannot_inject_another_label() {
        let text = "# TYPE litellm_deployment_failure_responses_total counter\n\
            litellm_deployment_failure_responses_total{model_id=\"real\",user_agent=\"x\\\",model_id=\\\"forged\",exception_status=\"401\",exception_class=\"AuthenticationError\"} 4.0\n";
        let t = parse(text).unwrap();
        assert_eq!(t.deployments.keys().map(|k| &**k).collect::<Vec<_>>(), vec!["real"]);
        assert_eq!(t.deployments["real"].dominant_error(), Some(("401 AuthenticationError", 4.0)));
    }

    /// The text format as Prometheus reads it: escapes in label values,
    /// a trailing comma, a timestamp, `+Inf`/`NaN` values (not counted), a
    /// family declared before any sample (the callback is on).
    #[test]
    fn the_text_format_is_read_as_prometheus_reads_it() {
        let text = "# HELP litellm_deployment_total_requests_total x\n\
            # TYPE litellm_deployment_total_requests_total counter\n\
            litellm_deployment_total_requests_total{model_group=\"a \\\"quoted\\\" \\\\ alias\\n\",model_id=\"m1\",} 5 1700000000000\n\
            litellm_deployment_total_requests_total{model_id=\"m2\"} +Inf\n\
            litellm_deployment_success_responses_total{model_id=\"m2\"} NaN\n\
            litellm_deployment_success_responses_total { model_id = \"m2\" } 2.5e0\r\n\
            \n";
        let t = parse(text).unwrap();
        assert_eq!((t.deployments["m1"].requests, t.deployments["m1"].successes), (5.0, 0.0));
        assert_eq!(&*t.deployments["m1"].alias, "a \"quoted\" \\ alias\n");
        assert_eq!((t.deployments["m2"].requests, t.deployments["m2"].successes), (0.0, 2.5));
        let declared = parse("# HELP litellm_deployment_state x\n# TYPE litellm_deployment_state gauge\n").unwrap();
        assert!(declared.callback_on && declared.deployments.is_empty());
    }

    #[test]
    fn garbage_is_an_error_naming_the_line_not_a_partial_picture() {
        for (bad, why) in [
            ("<html><title>502</title>", "no metric name"),
            ("x{a=\"b} 1", "not closed"),
            ("x{a=b} 1", "not quoted"),
            ("x{a=\"\\q\"} 1", "unknown escape"),
            ("x{a=\"b\" c=\"d\"} 1", "commas"),
            ("x 1 2 3", "more after"),
            ("x one", "not a number"),
            ("x", "no value"),
        ] {
            let e = parse(&format!("# TYPE x gauge\nx 1\n{bad}\n")).unwrap_err();
            assert!(e.contains("does not parse (line 3)") && e.contains(why), "{bad}: {e}");
        }
        let long = parse(&format!("{} {{", "x".repeat(100_000))).unwrap_err();
        assert!(long.len() < 300, "the reason is bounded: {} bytes", long.len());

        let e = parse("# TYPE litellm_deployment_state gauge\nlitellm_deployment_state{model_id=\"a\"} 0\nnot a metric line at all {\n")
            .unwrap_err();
        assert!(e.contains("does not parse"), "{e}");
        assert!(parse("").unwrap().deployments.is_empty());
    }
}
