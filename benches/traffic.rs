//! Issue 19: live traffic at 5,000 deployments — parsing one `/metrics/`
//! exposition, recording a sample into the history (the last 31 minutes kept),
//! the 5-minute window of every deployment in one pass (what each poll
//! computes once, for the check, the table and the status column) against one
//! search per deployment, and the 30-minute sparkline of the 60 rows a screen
//! shows; and the per-minute day: folding one sample into it, the 24-hour
//! sparkline of 60 rows, saving and loading a full day, and what a full
//! day of 5,000 deployments costs in resident memory (printed).
//!
//! `cargo bench --bench traffic`; medians in target/criterion/*/new/estimates.json.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gatewatch::gateway::litellm::metrics::{self, DeploymentTraffic};
use gatewatch::traffic::{History, Sample};

const DEPLOYMENTS: usize = 5_000;

fn exposition(tick: u64) -> String {
    let mut out = String::from("# HELP litellm_deployment_state x\n# TYPE litellm_deployment_state gauge\n");
    let mut total = String::from(
        "# HELP litellm_deployment_total_requests_total x\n# TYPE litellm_deployment_total_requests_total counter\n",
    );
    let mut failed = String::from(
        "# HELP litellm_deployment_failure_responses_total x\n# TYPE litellm_deployment_failure_responses_total counter\n",
    );
    for i in 0..DEPLOYMENTS {
        let id = format!("{i:064x}");
        let common = format!(
            "api_base=\"http://10.0.0.1:8000/v1\",api_provider=\"openai\",litellm_model_name=\"m{i}\",model_id=\"{id}\""
        );
        let per = format!(
            "{common},client_ip=\"10.1.1.1\",hashed_api_key=\"h\",model_group=\"alias{i}\",requested_model=\"alias{i}\",user_agent=\"curl/8\""
        );
        let _ = writeln!(out, "litellm_deployment_state{{{common}}} {}", u8::from(i % 50 == 0));
        let _ = writeln!(total, "litellm_deployment_total_requests_total{{{per}}} {}.0", tick * 30 + i as u64 % 7);
        if i % 50 == 0 {
            let _ = writeln!(
                failed,
                "litellm_deployment_failure_responses_total{{{per},exception_class=\"Openai.InternalServerError\",exception_status=\"500\"}} {}.0",
                tick * 20
            );
        }
    }
    format!("{out}{total}{failed}")
}

fn history(minutes: u64) -> History {
    let mut h = History::default();
    for m in 0..minutes {
        let t = metrics::parse(&exposition(m)).unwrap();
        h.record(Sample {
            gateway: "g".into(),
            replica: "http://r1".into(),
            at: 1_800_000_000 + i64::try_from(m).unwrap() * 60,
            deployments: t.deployments,
        });
    }
    h
}

fn bench(c: &mut Criterion) {
    let text = exposition(10);
    eprintln!("exposition at {DEPLOYMENTS} deployments: {} bytes", text.len());
    let mut g = c.benchmark_group("traffic_5000");
    g.sample_size(10);
    g.bench_function("parse_metrics", |b| b.iter(|| metrics::parse(black_box(&text)).unwrap()));
    let full = history(31);
    let next = metrics::parse(&exposition(31)).unwrap();
    g.bench_function("record_sample", |b| {
        b.iter_batched(
            || (full.clone(), next.deployments.clone()),
            |(mut h, d)| {
                h.record(Sample {
                    gateway: "g".into(),
                    replica: "http://r1".into(),
                    at: 1_800_000_000 + 31 * 60,
                    deployments: d,
                });
                h
            },
            BatchSize::LargeInput,
        );
    });
    let now = 1_800_000_000 + 30 * 60;
    let ids: Vec<String> = (0..DEPLOYMENTS).map(|i| format!("{i:064x}")).collect();
    g.bench_function("windows_one_pass", |b| {
        b.iter(|| full.windows(now).values().filter(|w| w.failures > 0.0).count());
    });
    g.bench_function("windows_per_deployment", |b| {
        b.iter(|| ids.iter().filter_map(|id| full.window(id, now)).filter(|w| w.failures > 0.0).count());
    });
    g.bench_function("spark_60_rows", |b| {
        b.iter(|| {
            ids.iter().take(60).map(|id| full.spark(id, now, 10, 180)).filter(|s| s.iter().any(Option::is_some)).count()
        });
    });
    // The day: 5,000 deployments, every minute of 24 h with counts.
    let mut day_h = History::default();
    let rss0 = rss_kb();
    let mut prev: Option<Sample> = None;
    for m in 0..=1440_i64 {
        let deployments = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let k = f64::from(u32::try_from(m).unwrap());
                let v = DeploymentTraffic {
                    requests: k * 40.0 + f64::from(u32::try_from(i % 7).unwrap()),
                    failures: if i % 50 == 0 { k * 3.0 } else { 0.0 },
                    ..DeploymentTraffic::default()
                };
                (id.as_str().into(), v)
            })
            .collect();
        let s = Sample { gateway: "g".into(), replica: "http://r1".into(), at: 1_800_000_000 + m * 60, deployments };
        day_h.day_mut().fold(prev.as_ref(), &s);
        prev = Some(s);
    }
    let rss1 = rss_kb();
    let day = day_h.day().clone();
    drop(day_h);
    eprintln!(
        "full day: {} deployments x 1440 minutes; resident memory +{} kB while building it (samples included); saved {} bytes",
        day.len(),
        rss1.saturating_sub(rss0),
        day.to_bytes("g").len()
    );
    let last = prev.unwrap();
    let next = Sample {
        at: last.at + 60,
        deployments: last
            .deployments
            .iter()
            .map(|(k, v)| (k.clone(), DeploymentTraffic { requests: v.requests + 40.0, ..v.clone() }))
            .collect(),
        ..last.clone()
    };
    g.bench_function("day_fold_sample", |b| {
        b.iter_batched(
            || day.clone(),
            |mut d| {
                d.fold(Some(&last), &next);
                d
            },
            BatchSize::LargeInput,
        );
    });
    g.bench_function("day_spark_60_rows_24h", |b| {
        b.iter(|| {
            ids.iter().take(60).map(|id| day.spark(id, 48, 30)).filter(|s| s.iter().any(Option::is_some)).count()
        });
    });
    g.bench_function("day_to_bytes", |b| b.iter(|| day.to_bytes("g").len()));
    let bytes = day.to_bytes("g");
    g.bench_function("day_from_bytes", |b| {
        b.iter(|| gatewatch::traffic::day::Day::from_reader(bytes.as_slice(), "g").unwrap().len());
    });
    g.finish();
}

/// This process's resident set (Linux), kB.
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

criterion_group!(benches, bench);
criterion_main!(benches);
