//! Live traffic from a Prometheus server that scrapes the proxy's
//! `/metrics/` (`prometheus_url:` in the gateway's config): one query API
//! answers for every replica at once, and for the half hour before
//! gatewatch started. The counters it returns are the proxy's own (the same
//! families [`super::metrics`] parses), summed over the client labels by
//! Prometheus and kept as [`Sample`]s, so the rates, the restarts and the
//! before/after figures come from the same code as a direct scrape.
//!
//! Times: the range ends at the server's own clock (`time()`), and samples
//! are moved onto gatewatch's clock by the measured difference, so actions
//! (gatewatch's clock) and traffic line up even when the two hosts disagree.
//!
//! Measured against Prometheus 2.42 (Debian) scraping LiteLLM 1.106.12
//! (tests/litellm_prometheus_real.rs). Set operators (`or`) match series
//! without their metric name, so the three families are three queries, not
//! one joined with `or` (which would silently drop the `_created` series).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::metrics::{self, DeploymentTraffic};
use crate::gateway::http::HttpClient;
use crate::traffic::{KEEP_SECS, Sample};

/// The resolution of a range read.
pub const STEP_SECS: i64 = 30;
/// The most series one answer may hold (5,000 deployments × a few errors each).
const MAX_SERIES: usize = 200_000;
/// The shortest time a range query is given (a half-hour backfill of
/// thousands of deployments is more work than a poll).
const MIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What one read of Prometheus gave.
#[derive(Debug, Clone, PartialEq)]
pub struct PromRead {
    /// The server (as configured) and the job it was asked about.
    pub url: String,
    pub job: Option<String>,
    pub at: SystemTime,
    pub result: Result<PromTraffic, String>,
}

/// What a successful read holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromTraffic {
    /// Oldest first; taken out when folded into the history.
    pub samples: Vec<Sample>,
    /// Every scrape instance with LiteLLM series, as Prometheus names it.
    pub instances: Vec<String>,
    /// Replicas gatewatch polls that Prometheus has no series for.
    pub unscraped: Vec<String>,
    /// Instances that match no replica gatewatch polls (counted all the same).
    pub unmatched: Vec<String>,
    /// The server's clock minus gatewatch's, seconds.
    pub skew_secs: i64,
    /// The range read (gatewatch's clock): a first read goes back
    /// [`KEEP_SECS`], later ones from the last read on.
    pub from: i64,
    pub to: i64,
    /// The oldest sample the server had in the range (gatewatch's clock).
    pub samples_from: i64,
    /// Series over the bounds, dropped.
    pub dropped: usize,
}

impl PromRead {
    /// Prometheus answered with LiteLLM series: the replicas need not be scraped.
    pub fn serving(&self) -> bool {
        self.result.as_ref().is_ok_and(|t| !t.instances.is_empty())
    }

    /// "Prometheus at URL (job x)".
    pub fn source(&self) -> String {
        match &self.job {
            Some(j) => format!("Prometheus at {} (job {j})", self.url),
            None => format!("Prometheus at {}", self.url),
        }
    }

    /// One line on what was read, or why nothing was.
    pub fn describe(&self) -> String {
        match &self.result {
            Err(e) => format!("{} not usable: {e}", self.source()),
            Ok(t) => {
                let back = t.to - t.samples_from;
                let mut s = format!(
                    "from {}: {} scrape instance(s), history back {}",
                    self.source(),
                    t.instances.len(),
                    if back >= 120 { format!("{} min", back / 60) } else { format!("{} s", back.max(0)) }
                );
                if !t.unscraped.is_empty() {
                    s.push_str(&format!("; not scraped by it: {} (their traffic is not counted)", few(&t.unscraped)));
                }
                if !t.unmatched.is_empty() {
                    s.push_str(&format!(
                        "; instance(s) gatewatch does not poll, not counted: {} (another fleet? set prometheus_job)",
                        few(&t.unmatched)
                    ));
                }
                if t.skew_secs.abs() >= 5 {
                    s.push_str(&format!("; its clock is {:+} s from this host's (corrected)", t.skew_secs));
                }
                s
            }
        }
    }
}

/// At most five names, and how many more (a server's labels are data of any size).
fn few(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| metrics::bounded(n)).collect();
    match names.len().saturating_sub(5) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The three queries: counters summed over the client labels, the state
/// gauge (the worst of any series), and when each counter was created.
pub fn queries(job: Option<&str>) -> [String; 3] {
    let m = job.map(|j| format!(",job=\"{}\"", escape(j))).unwrap_or_default();
    [
        format!(
            "sum by (__name__, instance, model_id, model_group, exception_status, exception_class) \
             ({{__name__=~\"litellm_deployment_(total_requests|success_responses|failure_responses|cooled_down)_total\"{m}}})"
        ),
        format!("max by (__name__, instance, model_id) ({{__name__=\"litellm_deployment_state\"{m}}})"),
        format!(
            "min by (__name__, instance, model_id, model_group) \
             ({{__name__=~\"litellm_deployment_(total_requests|success_responses|failure_responses)_created\"{m}}})"
        ),
    ]
}

/// A PromQL string literal's body.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Envelope<T> {
    status: String,
    #[serde(default = "none")]
    data: Option<T>,
    #[serde(default)]
    error: Option<String>,
}

const fn none<T>() -> Option<T> {
    None
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<Series>,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct Scalar {
    result: (f64, String),
}

fn envelope<T: for<'de> Deserialize<'de>>(status: u16, body: &[u8]) -> Result<T, String> {
    let e: Envelope<T> = serde_json::from_slice(body).map_err(|e| {
        let head = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        format!("HTTP {status}, not a Prometheus API answer ({e}): {}", crate::sanitize::line(&head))
    })?;
    if e.status != "success" {
        let why = e.error.unwrap_or_else(|| "no reason given".into());
        return Err(format!("HTTP {status}: {}", crate::sanitize::line(&why.chars().take(200).collect::<String>())));
    }
    e.data.ok_or_else(|| format!("HTTP {status}: an answer without data"))
}

/// `host:port` of a URL, as a scrape target's `instance` label names it.
pub fn instance_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
}

/// Turn range answers (one per query) into samples per replica and time.
/// `replicas` are the URLs gatewatch polls; an instance that matches one is
/// keyed by it, any other by the instance itself.
fn to_traffic(gateway: &str, replicas: &[String], answers: Vec<Vec<Series>>, skew: i64) -> PromTraffic {
    let by_instance: BTreeMap<String, &String> =
        replicas.iter().filter_map(|r| instance_of(r).map(|i| (i, r))).collect();
    let mut out = PromTraffic { skew_secs: skew, ..PromTraffic::default() };
    let mut at: BTreeMap<(i64, String), BTreeMap<std::sync::Arc<str>, DeploymentTraffic>> = BTreeMap::new();
    let mut instances: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut series_seen = 0usize;
    for series in answers.into_iter().flatten() {
        series_seen += 1;
        if series_seen > MAX_SERIES {
            out.dropped += 1;
            continue;
        }
        let label = |k: &str| series.metric.get(k).map(String::as_str);
        let Some(field) = label("__name__").and_then(|n| n.strip_prefix("litellm_deployment_")) else { continue };
        let Some(id) = label("model_id").filter(|v| !v.is_empty() && *v != "None") else { continue };
        let instance = metrics::bounded(label("instance").unwrap_or("?"));
        let replica = by_instance.get(&instance).map_or_else(|| instance.clone(), |r| (*r).clone());
        instances.insert(instance);
        for (t, v) in &series.values {
            let Ok(v) = v.parse::<f64>() else { continue };
            #[allow(clippy::cast_possible_truncation)]
            let when = t.round() as i64 - skew;
            let deployments = at.entry((when, replica.clone())).or_default();
            if !deployments.contains_key(id) && deployments.len() >= metrics::MAX_DEPLOYMENTS {
                out.dropped += 1;
                continue;
            }
            let d = deployments.entry(metrics::bounded(id).into()).or_default();
            metrics::add(d, field, v, label("model_group"), label("exception_status"), label("exception_class"));
        }
    }
    out.samples = at
        .into_iter()
        .map(|((when, replica), deployments)| Sample { gateway: gateway.to_owned(), replica, at: when, deployments })
        .collect();
    out.instances = instances.into_iter().collect();
    out.unmatched = out.instances.iter().filter(|i| !by_instance.contains_key(*i)).cloned().collect();
    // Behind a load balancer gatewatch polls one address and Prometheus the
    // pods: no instance matches, and none of them is missing.
    let matched_any = out.unmatched.len() < out.instances.len();
    if matched_any {
        // Instances beside the polled replicas may be another fleet scraped
        // under the same job: named, never counted as this gateway's traffic.
        out.samples.retain(|s| replicas.contains(&s.replica));
    }
    if matched_any || replicas.len() > 1 {
        out.unscraped =
            by_instance.iter().filter(|(i, _)| !out.instances.contains(i)).map(|(_, r)| (*r).clone()).collect();
    }
    if !matched_any && replicas.len() <= 1 {
        out.unmatched.clear();
    }
    out
}

/// The client of one gateway's Prometheus server.
pub struct PromClient {
    url: String,
    job: Option<String>,
    /// `time()`: the gateway's own timeout (a hanging server is given up fast).
    quick: HttpClient,
    /// Range reads: a half-hour backfill of thousands of deployments takes longer.
    http: HttpClient,
    /// The end of the last range read (the server's clock).
    last_end: Mutex<Option<i64>>,
    serving: AtomicBool,
}

impl PromClient {
    pub fn new(url: &str, job: Option<&str>, timeout: Duration, max_body: usize) -> Self {
        Self {
            url: url.to_owned(),
            job: job.map(str::to_owned),
            quick: HttpClient::new(timeout, 1 << 20),
            http: HttpClient::new(timeout.max(MIN_TIMEOUT), max_body),
            last_end: Mutex::new(None),
            serving: AtomicBool::new(false),
        }
    }

    /// The last read had the proxy's series (its replicas need not be scraped).
    pub fn serving(&self) -> bool {
        self.serving.load(Ordering::Relaxed)
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        http: &HttpClient,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<T, String> {
        let mut u = reqwest::Url::parse("http://x/").map_err(|e| e.to_string())?;
        u.set_path(path);
        u.query_pairs_mut().extend_pairs(params);
        let path_and_query = format!("{}?{}", u.path(), u.query().unwrap_or_default());
        let resp = http
            .send(Method::GET, &self.url, &path_and_query, HeaderMap::new(), None)
            .await
            .map_err(|e| e.to_string())?;
        if resp.is_html() {
            return Err(format!("HTTP {}: an HTML page, not Prometheus's query API", resp.status.as_u16()));
        }
        envelope(resp.status.as_u16(), &resp.body)
    }

    /// Read the proxy's counters since the last read (the last
    /// [`KEEP_SECS`] on the first), for the replicas gatewatch polls.
    pub async fn read(&self, gateway: &str, replicas: &[String]) -> PromRead {
        let result = self.read_inner(gateway, replicas).await;
        let read = PromRead { url: self.url.clone(), job: self.job.clone(), at: SystemTime::now(), result };
        self.serving.store(read.serving(), Ordering::Relaxed);
        if !read.serving() {
            // Read again from scratch once it answers.
            *self.last_end.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
        read
    }

    async fn read_inner(&self, gateway: &str, replicas: &[String]) -> Result<PromTraffic, String> {
        let clock: Scalar = self.get(&self.quick, "/api/v1/query", &[("query", "time()")]).await?;
        // The server's now, to the millisecond: a whole second earlier can
        // miss the newest scrape.
        let end_at = clock.result.0;
        #[allow(clippy::cast_possible_truncation)]
        let end = end_at.floor() as i64;
        let skew = end - crate::poller::unix_now(SystemTime::now());
        let last = *self.last_end.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let steps = last.map_or(KEEP_SECS / STEP_SECS, |l| ((end - l - 1) / STEP_SECS).clamp(0, KEEP_SECS / STEP_SECS));
        let start = end - steps * STEP_SECS;
        #[allow(clippy::cast_precision_loss)]
        let start_at = end_at - (steps * STEP_SECS) as f64;
        let (s, e, st) = (format!("{start_at:.3}"), format!("{end_at:.3}"), STEP_SECS.to_string());
        let [q1, q2, q3] = queries(self.job.as_deref());
        let range = |q: String| {
            let (s, e, st) = (s.clone(), e.clone(), st.clone());
            async move {
                let m: Matrix = self
                    .get(&self.http, "/api/v1/query_range", &[("query", &q), ("start", &s), ("end", &e), ("step", &st)])
                    .await?;
                if m.result_type != "matrix" {
                    return Err(format!(
                        "a {} where a range answer was expected",
                        crate::sanitize::line(&m.result_type)
                    ));
                }
                Ok::<_, String>(m.result)
            }
        };
        let (a, b, c) = tokio::join!(range(q1), range(q2), range(q3));
        let answers = vec![a?, b?, c?];
        let mut t = to_traffic(gateway, replicas, answers, skew);
        // Several replicas polled and none of them is an instance Prometheus
        // scrapes: whose traffic the series are cannot be told.
        if replicas.len() > 1 && !t.instances.is_empty() && t.unmatched.len() == t.instances.len() {
            return Err(format!(
                "none of its scrape instances ({}) is a replica gatewatch polls: list the replicas as Prometheus names them (host:port), or set prometheus_job",
                few(&t.instances)
            ));
        }
        if t.instances.is_empty() {
            let job = self.job.as_deref().map(|j| format!(" with job=\"{j}\"")).unwrap_or_default();
            return Err(format!(
                "it has no litellm_deployment_* series{job}: it does not scrape the proxy's /metrics/ (scrape it with metrics_path: /metrics/ and the master key as bearer credentials), or the proxy has no prometheus callback"
            ));
        }
        *self.last_end.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(end);
        t.from = start - skew;
        t.to = end - skew;
        t.samples_from = t.samples.first().map_or(t.to, |s| s.at);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(metric: &[(&str, &str)], values: &[(f64, &str)]) -> Series {
        Series {
            metric: metric.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            values: values.iter().map(|(t, v)| (*t, (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn a_range_answer_becomes_samples_per_replica_and_time() {
        let req = series(
            &[
                ("__name__", "litellm_deployment_total_requests_total"),
                ("instance", "127.0.0.1:4001"),
                ("model_id", "abc"),
                ("model_group", "gpt-4o"),
            ],
            &[(1000.0, "3"), (1030.0, "9")],
        );
        let fail = series(
            &[
                ("__name__", "litellm_deployment_failure_responses_total"),
                ("instance", "127.0.0.1:4001"),
                ("model_id", "abc"),
                ("exception_status", "401"),
                ("exception_class", "AuthenticationError"),
            ],
            &[(1000.0, "1"), (1030.0, "7")],
        );
        let state = series(
            &[("__name__", "litellm_deployment_state"), ("instance", "127.0.0.1:4001"), ("model_id", "abc")],
            &[(1030.0, "2")],
        );
        let elsewhere = series(
            &[
                ("__name__", "litellm_deployment_failure_responses_total"),
                ("instance", "10.0.0.9:4000"),
                ("model_id", "abc"),
            ],
            &[(1030.0, "500")],
        );
        let replicas = vec!["http://127.0.0.1:4001".to_owned(), "http://127.0.0.1:4002/".to_owned()];
        let t = to_traffic("gw", &replicas, vec![vec![req, fail, elsewhere], vec![state]], 10);
        // Moved onto gatewatch's clock: the server runs 10 s ahead.
        let times: Vec<(i64, &str)> = t.samples.iter().map(|s| (s.at, s.replica.as_str())).collect();
        // 10.0.0.9:4000 is scraped but not polled: named, not counted (another fleet's traffic is not ours).
        assert_eq!(times, [(990, "http://127.0.0.1:4001"), (1020, "http://127.0.0.1:4001")]);
        let d = &t.samples[1].deployments["abc"];
        assert_eq!((d.requests, d.failures, &*d.alias), (9.0, 7.0, "gpt-4o"));
        assert_eq!(d.dominant_error(), Some(("401 AuthenticationError", 7.0)));
        assert_eq!(d.state, Some(2));
        assert_eq!(t.instances, ["10.0.0.9:4000", "127.0.0.1:4001"]);
        assert_eq!(t.unscraped, ["http://127.0.0.1:4002/"], "a polled replica Prometheus does not scrape is named");
        assert_eq!(t.unmatched, ["10.0.0.9:4000"]);
    }

    #[test]
    fn behind_a_load_balancer_the_pods_are_the_replicas() {
        let s = |inst: &str| {
            series(
                &[("__name__", "litellm_deployment_total_requests_total"), ("instance", inst), ("model_id", "a")],
                &[(60.0, "1")],
            )
        };
        let t = to_traffic(
            "gw",
            &["https://llm.example.com".to_owned()],
            vec![vec![s("10.1.0.4:4000"), s("10.1.0.5:4000")]],
            0,
        );
        assert_eq!(t.samples.len(), 2);
        assert!(t.unscraped.is_empty() && t.unmatched.is_empty(), "{t:?}");
    }

    #[test]
    fn errors_and_foreign_answers_are_said_not_guessed() {
        let e =
            envelope::<Matrix>(400, br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#)
                .err()
                .unwrap();
        assert!(e.contains("400") && e.contains("parse error"), "{e}");
        let e = envelope::<Matrix>(200, b"<html><title>Grafana</title>").err().unwrap();
        assert!(e.contains("not a Prometheus API answer"), "{e}");
        let e = envelope::<Matrix>(200, b"{\"status\":\"error\",\"error\":\"\\u001b[2Jgone\"}").err().unwrap();
        assert!(!e.contains('\u{1b}'), "terminal escapes from the server are not passed on: {e:?}");
    }

    #[test]
    fn the_job_is_quoted_into_the_queries() {
        let [a, b, c] = queries(Some("lite\"llm"));
        for q in [&a, &b, &c] {
            assert!(q.contains(r#"job="lite\"llm""#), "{q}");
        }
        assert!(queries(None)[0].contains("litellm_deployment_(total_requests|"));
        assert_eq!(instance_of("https://[::1]/x").as_deref(), Some("[::1]:443"));
        assert_eq!(instance_of("http://127.0.0.1:4000").as_deref(), Some("127.0.0.1:4000"));
    }
}
