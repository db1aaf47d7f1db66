//! (a) A poll of 5,000 New API channels and 500 LiteLLM deployments, from
//! JSON to state: page parsing, `App::update(Msg::Poll)` (merge, every check
//! re-evaluated, table re-sorted), and the pieces alone: `evidence::evaluate`,
//! the LiteLLM config loader and the drift comparison.
//!
//! `cargo bench --bench ingest`; medians in target/criterion/*/new/estimates.json.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gatewatch::app::Msg;
use gatewatch::gateway::litellm::{config_file, drift};
use gatewatch::triage::evidence;

use common::{
    CHANNELS, DEPLOYMENTS, Scenario, bench_merge, litellm_report, model_info_response, newapi_report, parse_model_info,
    parse_newapi_pages, t0,
};

fn newapi(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("newapi_5000");
    g.bench_function("parse_50_pages", |b| {
        b.iter_batched(|| s.newapi_pages.clone(), |p| parse_newapi_pages(p).unwrap(), BatchSize::PerIteration);
    });
    bench_merge(&mut g, "merge_poll", s, &s.newapi_report);
    g.bench_function("parse_and_merge", |b| {
        b.iter_batched(
            || (s.app(), s.newapi_pages.clone()),
            |(mut app, pages)| {
                let deps = parse_newapi_pages(pages).unwrap();
                app.update(Msg::Poll(Box::new(newapi_report(deps))));
                assert_eq!(app.model.fleet.gateways[0].deployments().len(), CHANNELS);
                app
            },
            BatchSize::PerIteration,
        );
    });
    let app = s.app();
    g.bench_function("evidence_evaluate", |b| {
        b.iter(|| evidence::evaluate(black_box(&app.model.fleet.gateways[0]), t0()));
    });
    g.finish();
}

fn litellm(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("litellm_500");
    g.bench_function("parse_model_info", |b| {
        b.iter_batched(
            || model_info_response(s.model_info.clone()),
            |r| parse_model_info(r).unwrap(),
            BatchSize::PerIteration,
        );
    });
    bench_merge(&mut g, "merge_poll", s, &s.litellm_report);
    g.bench_function("parse_and_merge", |b| {
        b.iter_batched(
            || (s.app(), model_info_response(s.model_info.clone()), s.litellm_report.local.clone()),
            |(mut app, resp, local)| {
                let deps = parse_model_info(resp).unwrap();
                app.update(Msg::Poll(Box::new(litellm_report(deps, local, s.memory.clone()))));
                assert_eq!(app.model.fleet.gateways[1].deployments().len(), DEPLOYMENTS);
                app
            },
            BatchSize::PerIteration,
        );
    });
    let app = s.app();
    g.bench_function("evidence_evaluate", |b| {
        b.iter(|| evidence::evaluate(black_box(&app.model.fleet.gateways[1]), t0()));
    });
    g.bench_function("config_parse", |b| {
        b.iter(|| config_file::parse(black_box(&s.file_text), Path::new(common::CONFIG_PATH), &common::env).unwrap());
    });
    let running = app.model.fleet.gateways[1].deployments();
    g.bench_function("drift_compare", |b| {
        b.iter(|| drift::compare(black_box(&s.file), black_box(running), &s.memory));
    });
    g.bench_function("config_parse_and_drift_compare", |b| {
        b.iter(|| {
            let cfg =
                config_file::parse(black_box(&s.file_text), Path::new(common::CONFIG_PATH), &common::env).unwrap();
            drift::compare(&cfg, black_box(running), &s.memory)
        });
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let s = Scenario::build();
    // The scenario is what it claims: drift on every 50th deployment.
    let app = s.app();
    let rows = app.model.fleet.gateways[1].drift_rows().unwrap();
    let drifted = rows.iter().filter(|r| r.state.is_problem()).count();
    assert_eq!(drifted, DEPLOYMENTS / 50, "{rows:?}");
    newapi(c, &s);
    litellm(c, &s);
}

criterion_group! {
    name = ingest;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(ingest);
