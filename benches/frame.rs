//! (b) One frame of each screen at 200x60, and (c) a key press to a finished
//! frame (`App::update(Msg::Key)` + one draw) with 5,000 New API channels and
//! 500 LiteLLM deployments loaded. Budget for (c): 16 ms. And (d) the TUI's
//! safety net alone (`ui::util::clean_buffer`: hidden characters and known
//! secrets on a finished 200x60 frame), which every frame above includes.
//!
//! `cargo bench --bench frame`; medians in target/criterion/*/new/estimates.json.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::KeyCode;
use gatewatch::app::{App, Overlay};

use common::{Scenario, bench_keys, code, draw, key, screen, terminal};

/// One frame of `app`, on a terminal that already shows it (as the event loop draws).
fn bench_render(c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str, app: &App) {
    let mut term = terminal();
    draw(&mut term, app);
    c.bench_function(name, |b| b.iter(|| draw(&mut term, app)));
}

fn render(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("render_200x60");

    let newapi = s.app_on_table('1');
    let out = screen(&newapi);
    assert!(out.contains("Channels (5000"), "{out}");
    bench_render(&mut g, "newapi_main", &newapi);

    let litellm = s.app_on_table('2');
    let out = screen(&litellm);
    assert!(out.contains("Deployments (500") && out.contains("DRIFT"), "{out}");
    bench_render(&mut g, "litellm_main", &litellm);

    let mut help = s.app();
    help.update(key('?'));
    assert!(matches!(help.overlay, Some(Overlay::Help { .. })));
    bench_render(&mut g, "help_overlay", &help);

    let mut detail = s.app_on_table('1');
    detail.update(code(KeyCode::Enter));
    assert!(matches!(detail.overlay, Some(Overlay::DeploymentDetail { .. })), "{:?}", detail.overlay);
    bench_render(&mut g, "channel_detail", &detail);

    let mut confirm = s.app_on_table('1');
    confirm.update(key('t'));
    assert!(confirm.confirming().is_some(), "{:?}", confirm.overlay);
    bench_render(&mut g, "confirm_test_channel", &confirm);

    let mut restart = s.app_on_table('2');
    restart.update(key('R'));
    assert!(restart.confirming().is_some(), "{:?}", restart.overlay);
    bench_render(&mut g, "confirm_restart_litellm", &restart);

    let mut node = s.app();
    node.update(key('1'));
    node.views.current_mut().unwrap().tree.selected = "p5-weight".into();
    node.update(code(KeyCode::Enter));
    if !matches!(node.overlay, Some(Overlay::NodeDetail { .. })) {
        let leaf = node.tree.nodes.iter().find(|n| n.is_leaf()).unwrap().id.clone();
        node.views.current_mut().unwrap().tree.selected = leaf;
        node.update(code(KeyCode::Enter));
    }
    assert!(matches!(node.overlay, Some(Overlay::NodeDetail { .. })), "{:?}", node.overlay);
    bench_render(&mut g, "node_detail", &node);
    g.finish();
}

fn key_to_frame(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("key_to_frame_200x60");
    let down_up = [key('j'), key('j'), key('j'), key('k'), key('k'), key('k')];

    let mut app = s.app_on_table('1');
    for _ in 0..40 {
        app.update(key('j'));
    }
    bench_keys(&mut g, "newapi_5000_j", app, &down_up);

    // An active filter: the table shows the matching rows only.
    let mut app = s.app_on_table('1');
    for m in [key('/'), key('g'), key('p'), key('t'), code(KeyCode::Enter)] {
        app.update(m);
    }
    assert!(!app.table().unwrap().editing && app.table().unwrap().filter == "gpt");
    let shown = app.table().unwrap().rows.len();
    assert!(shown > 100 && shown < 5_000, "{shown}");
    bench_keys(&mut g, "newapi_5000_j_filtered", app, &down_up);

    // Typing the filter: every key re-filters and re-sorts 5,000 channels.
    let mut app = s.app_on_table('1');
    for m in [key('/'), key('g'), key('p')] {
        app.update(m);
    }
    assert!(app.table().unwrap().editing);
    bench_keys(&mut g, "newapi_5000_filter_typing", app, &[key('t'), code(KeyCode::Backspace)]);

    // `o`: the next sort column, 5,000 channels re-sorted.
    let app = s.app_on_table('1');
    bench_keys(&mut g, "newapi_5000_sort_o", app, &[key('o')]);

    let app = s.app_on_table('2');
    bench_keys(&mut g, "litellm_500_j", app, &down_up);

    // Switching gateways redraws everything and rebuilds the table rows.
    let app = s.app_on_table('1');
    bench_keys(&mut g, "switch_gateway", app, &[key('2'), key('1')]);
    g.finish();
}

/// The net under every widget, on the busiest frame, with ten known secrets
/// (the benches above run it with none: the demo's redactor is not set).
fn clean_frame(c: &mut Criterion, s: &Scenario) {
    let mut g = c.benchmark_group("clean_buffer_200x60");
    let app = s.app_on_table('2');
    let mut term = terminal();
    draw(&mut term, &app);
    let frame = term.backend().buffer().clone();
    let none = gatewatch::secret::Redactor::default();
    let ten = gatewatch::secret::Redactor::new(
        (0..10).map(|i| gatewatch::secret::Secret::new(format!("sk-bench-secret-{i:04}-abcdefgh"))),
    );
    for (name, r) in [("no_secret", &none), ("ten_secrets", &ten)] {
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || frame.clone(),
                |buf| gatewatch::ui::util::clean_buffer(buf, r),
                criterion::BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let s = Scenario::build();
    render(c, &s);
    key_to_frame(c, &s);
    clean_frame(c, &s);
}

criterion_group! {
    name = frame;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(frame);
