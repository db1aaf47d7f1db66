//! Ten times today's load (issue 20): 50,000 New API channels and 5,000
//! LiteLLM deployments in one app. (a) A key press to a finished 200x60
//! frame — move, typing a filter, sort, gateway switch — budget 16 ms; (b) a
//! poll folded in (`App::update(Msg::Poll)`: merge, every check, the table)
//! and the page parsing, which run off the UI thread (the poller's task).
//!
//! gatewatch's adapter reads at most 20,000 New API channels per list (200
//! pages: over three minutes of the default rate limit); these figures are
//! what the screen and the model cost at 50,000.
//!
//! `cargo bench --bench scale`; medians in target/criterion/*/new/estimates.json.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

mod common;

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crossterm::event::KeyCode;
use gatewatch::app::Msg;
use gatewatch::fleet::PollReport;
use gatewatch::gateway::Section;

use common::{Scenario, bench_keys, bench_merge, code, key, parse_newapi_pages};

// The allocator the app ships with (src/main.rs): a poll frees the last
// snapshot's maps and lists, and what that costs is part of what is measured.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const CHANNELS: usize = 50_000;
const DEPLOYMENTS: usize = 5_000;

fn key_to_frame(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("key_to_frame_200x60_10x");
    let down_up = [key('j'), key('j'), key('j'), key('k'), key('k'), key('k')];
    let app = s.app_on_table('1');
    assert_eq!(app.table().unwrap().rows.len(), CHANNELS);
    bench_keys(&mut g, "newapi_50000_j", app, &down_up);

    let mut app = s.app_on_table('1');
    for m in [key('/'), key('g'), key('p')] {
        app.update(m);
    }
    bench_keys(&mut g, "newapi_50000_filter_typing", app, &[key('t'), code(KeyCode::Backspace)]);

    bench_keys(&mut g, "newapi_50000_sort_o", s.app_on_table('1'), &[key('o')]);
    bench_keys(&mut g, "litellm_5000_j", s.app_on_table('2'), &down_up);
    bench_keys(&mut g, "switch_gateway", s.app_on_table('1'), &[key('2'), key('1')]);
    // A key pressed while a poll is folded waits for it: the poll, its
    // frame, the key, its frame (the event loop draws once per batch), for a
    // poll of the same list and of a new one the poller worked out, and for
    // a LiteLLM poll (its snapshot and drift rows are made again each poll).
    for (name, table, report) in [
        ("newapi_50000_key_behind_a_poll", '1', s.newapi_report.clone()),
        ("newapi_50000_key_behind_a_new_list", '1', fresh_list(s, true)),
        ("litellm_5000_key_behind_a_poll", '2', s.litellm_report.clone()),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || (s.app_on_table(table), Box::new(report_again(&report, s)), common::terminal()),
                |(mut app, r, mut term)| {
                    app.update(Msg::Poll(r));
                    common::draw(&mut term, &app);
                    app.update(key('j'));
                    common::draw(&mut term, &app);
                    app
                },
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

fn ingest(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("ingest_10x");
    g.bench_function("newapi_parse_500_pages", |b| {
        b.iter_batched(|| s.newapi_pages.clone(), |p| parse_newapi_pages(p).unwrap(), BatchSize::PerIteration);
    });
    bench_merge(&mut g, "newapi_50000_merge_poll", s, &s.newapi_report);
    new_list(&mut g, s);
    patch_assembled(&mut g, s);
    bench_merge(&mut g, "litellm_5000_merge_poll", s, &s.litellm_report);
    g.finish();
}

/// The New API poll with the same channels in another list (a crawl step
/// landed, a channel changed): `warm` as the TUI's poller sends it, what the
/// list says on its own worked out off the UI thread.
fn fresh_list(s: &Scenario, warm: bool) -> PollReport {
    use std::sync::Arc;
    let mut r = s.newapi_report.clone();
    let list = Arc::new(r.list().unwrap().as_ref().clone());
    if let Some((_, Ok(snap))) = r.replicas.first_mut() {
        snap.deployments = Section::Ok(Arc::clone(&list));
    }
    if warm {
        let spec = s.app().model.gateway(0).unwrap().spec.clone();
        r.warmed = Some(gatewatch::triage::memo::warm(&spec, &list, r.at));
    }
    r
}

/// `report` for one more iteration: its poller-made memo is not cloned
/// (a clone of a cache starts empty), so a warmed report is made again.
fn report_again(report: &PollReport, s: &Scenario) -> PollReport {
    if report.warmed.is_some() { fresh_list(s, true) } else { report.clone() }
}

/// A poll of a new list folded in: worked out whole on the UI thread, or
/// taken over from the poller; and what the poller spends on it.
fn new_list(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, s: &Scenario) {
    for (name, warm) in [("newapi_50000_merge_poll_new_list", false), ("newapi_50000_merge_poll_new_list_warmed", true)]
    {
        g.bench_function(name, |b| {
            b.iter_batched(
                || (s.app(), Box::new(fresh_list(s, warm))),
                |(mut app, r)| {
                    app.update(Msg::Poll(r));
                    app
                },
                BatchSize::PerIteration,
            );
        });
    }
    let spec = s.app().model.gateway(0).unwrap().spec.clone();
    let list = s.newapi_report.list().unwrap().clone();
    g.bench_function("newapi_50000_poller_warm_new_list", |b| {
        b.iter(|| gatewatch::triage::memo::warm(&spec, &list, std::time::SystemTime::UNIX_EPOCH));
    });
}

/// A poll past the cap with a whole list assembled over earlier polls: this
/// poll's fresh reads (page 1, every disabled channel) laid over 50,000
/// channels — the usual case, nothing changed (no copy), and 500 channels
/// disabled since (one copy, a snapshot still sharing the list).
fn patch_assembled(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, s: &Scenario) {
    use gatewatch::gateway::DeploymentStatus;
    use gatewatch::gateway::newapi::crawl::{Assembled, Fresh};
    use std::sync::Arc;
    let channels = parse_newapi_pages(s.newapi_pages.clone()).unwrap();
    let off = |d: &gatewatch::gateway::Deployment| {
        matches!(d.status, DeploymentStatus::AutoDisabled | DeploymentStatus::ManuallyDisabled)
    };
    let disabled: Vec<_> = channels.iter().filter(|d| off(d)).cloned().collect();
    let first_page: Vec<_> = channels.iter().take(100).cloned().collect();
    let mut more = disabled.clone();
    more.extend(channels.iter().filter(|d| !off(d)).take(500).map(|d| {
        let mut d = d.clone();
        d.status = DeploymentStatus::AutoDisabled;
        d
    }));
    let assembled = Assembled { deployments: Arc::new(channels), first_at: 1, last_at: 2, pages: 500, steps: 25 };
    let fresh =
        |disabled| Fresh { total: CHANNELS, first_page: &first_page, disabled: Some(disabled), models: Vec::new() };
    g.bench_function("newapi_50000_assembled_patch_unchanged", |b| {
        b.iter_batched(
            || assembled.clone(),
            |mut a| assert_eq!(a.patch(&fresh(&disabled)), Ok(false)),
            BatchSize::PerIteration,
        );
    });
    g.bench_function("newapi_50000_assembled_patch_500_disabled_since", |b| {
        b.iter_batched(
            || (assembled.clone(), Arc::clone(&assembled.deployments)),
            |(mut a, shared)| {
                assert_eq!(a.patch(&fresh(&more)), Ok(true));
                (a, shared)
            },
            BatchSize::PerIteration,
        );
    });
}

fn benches(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let s = Scenario::scaled(CHANNELS, DEPLOYMENTS);
    eprintln!(
        "scenario: {CHANNELS} channels ({} pages), {DEPLOYMENTS} deployments (/model/info {} bytes), built in {:?}",
        s.newapi_pages.len(),
        s.model_info.len(),
        started.elapsed()
    );
    key_to_frame(c, &s);
    ingest(c, &s);
}

criterion_group! {
    name = scale;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(scale);
