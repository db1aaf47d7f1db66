//! The terminal and the event loop: `select!` (keys first) over terminal
//! events, signals, poll reports, action events and a tick; `App::update`
//! for each message; effects turned into tasks; one draw when something
//! changed. The terminal is restored on every exit path (panic hook from
//! `ratatui::init`, a drop guard, and SIGTERM/SIGHUP/SIGINT → quit).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::actions::audit::AuditLog;
use crate::actions::exec::Executor;
use crate::app::{App, Effect, Msg};
use crate::config::Config;
use crate::gateway::Gateway;
use crate::poller::{self, Control};
use crate::secret::Redactor;
use crate::triage::Tree;
use crate::ui::{self, Theme};

/// Restores the terminal when dropped (covers `?` returns): mouse
/// reporting off, then ratatui's own restore.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        mouse_off();
        ratatui::restore();
    }
}

fn mouse_off() {
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
}

/// The terminal set up for the TUI: raw mode and the alternate screen
/// (ratatui's hook restores them on a panic), mouse reporting when asked
/// (turned off again on a panic, before the previous hook prints).
pub fn terminal(mouse: bool) -> (ratatui::DefaultTerminal, impl Drop) {
    let terminal = ratatui::init();
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            mouse_off();
            previous(info);
        }));
    }
    (terminal, TerminalGuard)
}

/// A panic inside the running TUI, on purpose (`gatewatch debug-panic`, for
/// the test that the terminal is restored): the same terminal set-up as `run`.
pub fn panic_after_first_frame(mouse: bool) -> color_eyre::Result<()> {
    let (mut terminal, _guard) = terminal(mouse);
    terminal
        .draw(|f| f.render_widget(ratatui::widgets::Paragraph::new("gatewatch: panicking on purpose"), f.area()))?;
    panic!("panicking on purpose after the first frame (gatewatch debug-panic)");
}

/// Everything `run` needs besides the config.
pub struct Session {
    pub config: Config,
    pub tree: Tree,
    pub gateways: Vec<Arc<dyn Gateway>>,
    pub redactor: Redactor,
    /// `gatewatch demo`: the gateway whose incidents `n` switches, and how.
    pub demo: Option<DemoControl>,
}

/// `gatewatch demo`'s control over its staged incidents.
#[derive(Clone)]
pub struct DemoControl {
    /// The gateway the incidents are staged on.
    pub gateway: usize,
    pub hook: Arc<dyn crate::demo::scenario::DemoHook>,
    /// The incident staged at start ("1/6: stale key").
    pub first: String,
}

/// When the process started (set first thing in `main`), for the startup timing line in the log.
pub static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

pub async fn run(session: Session) -> color_eyre::Result<()> {
    let Session { config, tree, gateways, redactor: given, demo } = session;
    // One redactor for everything: what the session was given and what is read later.
    let redactor = crate::secret::known();
    redactor.absorb(&given);
    let audit = AuditLog::new(config.state_dir.join("audit.jsonl"), redactor.clone());
    let audit_problem = audit.probe().err();
    let (mut terminal, _guard) = terminal(config.mouse);
    let theme = Theme::from_env();
    let now = SystemTime::now();
    let mut app = App::new(&config, tree, now);
    app.model.fleet.timeline.set_redactor(redactor.clone());
    // The traffic history written by earlier sessions and by `check` in cron
    // (not the demo's: each demo run starts new simulated processes).
    if demo.is_none() {
        let (dir, names) =
            (config.state_dir.clone(), config.gateways.iter().map(|g| g.name.clone()).collect::<Vec<_>>());
        let days =
            tokio::task::spawn_blocking(move || crate::traffic::day::load_all(&dir, &names)).await.unwrap_or_default();
        app.model.seed_days(days);
        let store = crate::traffic::store_path(&config.state_dir);
        let history = tokio::task::spawn_blocking(move || crate::traffic::load(&store)).await.unwrap_or_default();
        app.model.seed_traffic(history, now);
        let log = crate::changes::store_path(&config.state_dir);
        let changes = tokio::task::spawn_blocking(move || crate::changes::load(&log)).await.unwrap_or_default();
        app.model.seed_changes(changes, now);
    }
    app.session.demo = demo.is_some();
    app.demo_stage = demo.as_ref().map(|d| d.first.clone());
    state_banner(&mut app, audit_problem);
    if let Ok(size) = terminal.size() {
        app.size = (size.width, size.height);
    }

    let cancel = CancellationToken::new();
    let (poll_tx, mut poll_rx) = mpsc::channel(64);
    let (seed_tx, mut seed_rx) = mpsc::channel(8);
    let (action_tx, mut action_rx) = mpsc::channel(64);
    let (internal_tx, mut internal_rx) = mpsc::channel::<Msg>(16);
    let pollers: Vec<mpsc::Sender<Control>> = gateways
        .iter()
        .enumerate()
        .map(|(i, gw)| {
            // The last full lists (not the demo's), shown with their age until the first polls land.
            let seed = demo.is_none().then(|| seed_tx.clone());
            poller::spawn(i, gw.clone(), config.state_dir.clone(), poll_tx.clone(), seed, cancel.clone())
        })
        .collect();
    let redactor_for_output = redactor.clone();
    let (audit_tx, mut audit_rx) = mpsc::channel::<Option<String>>(16);
    let executor = Executor::new(gateways.clone(), audit, redactor, action_tx).with_audit_watch(audit_tx);

    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_tick_msg = Instant::now();
    // The per-minute day is saved every few minutes (its bytes, written off
    // this thread) and at exit; the demo's simulated traffic is not kept.
    let keep_days = demo.is_none();
    let mut last_day_save = Instant::now();
    let mut day_writer: Option<tokio::task::JoinHandle<()>> = None;

    terminal.draw(|f| ui::draw(f, &app, &theme))?;
    app.dirty = false;
    let mut first_data_frame = false;
    'main: loop {
        let msg = tokio::select! {
            biased;
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Mouse(m))) => match crate::app::msg::Mouse::from_event(&m) {
                    Some(m) => Msg::Mouse(m),
                    None => continue,
                },
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => Msg::Quit,
            },
            _ = sigterm.recv() => Msg::Quit,
            _ = sighup.recv() => Msg::Quit,
            _ = sigint.recv() => Msg::Quit,
            Some(s) = seed_rx.recv() => Msg::Seed(Box::new(s)),
            Some(r) = poll_rx.recv() => Msg::Poll(Box::new(r)),
            Some(a) = action_rx.recv() => Msg::Action(a),
            Some(m) = internal_rx.recv() => m,
            Some(p) = audit_rx.recv() => Msg::AuditProblem(p),
            _ = tick.tick() => {
                // Ages on screen change once a second; the spinner four times.
                if app.actions.running().is_none() && last_tick_msg.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                last_tick_msg = Instant::now();
                Msg::Tick(SystemTime::now())
            }
        };
        let mut queue = vec![msg];
        // Drain what else is ready, then draw once.
        while let Ok(r) = poll_rx.try_recv() {
            queue.push(Msg::Poll(Box::new(r)));
        }
        while let Ok(a) = action_rx.try_recv() {
            queue.push(Msg::Action(a));
        }
        for msg in queue {
            for effect in app.update(msg) {
                match effect {
                    Effect::Quit => break 'main,
                    Effect::Refresh(g) => {
                        if let Some(p) = pollers.get(g) {
                            let _ = p.try_send(Control::RefreshNow);
                        }
                    }
                    Effect::Run { id, plan } => executor.start(id, *plan),
                    Effect::DemoNext => {
                        if let Some(d) = demo.clone() {
                            let tx = internal_tx.clone();
                            tokio::spawn(async move {
                                let _ =
                                    tx.send(Msg::DemoStaged { gateway: d.gateway, stage: d.hook.next().await }).await;
                            });
                        }
                    }
                    Effect::Validate { id, gateway, command } => {
                        let tx = internal_tx.clone();
                        let limit = gateways.get(gateway).map_or(Duration::from_secs(120), |g| g.spec().action_timeout);
                        let pass_env = gateways.get(gateway).map(|g| g.spec().pass_env.clone()).unwrap_or_default();
                        let redactor = redactor_for_output.clone();
                        tokio::spawn(async move {
                            let out = crate::command::run(&command, limit, &pass_env).await;
                            let mut output = format!("{}\n{}", out.describe(), out.output);
                            if !out.success() {
                                output.push_str(&withheld_hint(&out.output, &pass_env));
                            }
                            let output = redactor.redact(&output);
                            let _ = tx.send(Msg::Validated { id, gateway, ok: out.success(), output }).await;
                        });
                    }
                    Effect::Export { path, markdown } => {
                        let tx = internal_tx.clone();
                        let markdown = redactor_for_output.redact(&markdown);
                        tokio::task::spawn_blocking(move || {
                            let r = write_report(&path, &markdown).map_err(|e| e.to_string());
                            let _ = tx.blocking_send(Msg::Exported(r));
                        });
                    }
                }
            }
        }
        if keep_days && last_day_save.elapsed() >= DAY_SAVE_EVERY {
            last_day_save = Instant::now();
            let (dir, days) = (config.state_dir.clone(), app.model.unsaved_days());
            if !days.is_empty() {
                day_writer = Some(tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::traffic::day::save_all(&dir, &days) {
                        tracing::warn!(error = %e, "traffic day not saved");
                    }
                }));
            }
        }
        if app.dirty {
            terminal.draw(|f| ui::draw(f, &app, &theme))?;
            app.dirty = false;
            if !first_data_frame && app.model.fleet.gateways.iter().any(crate::fleet::GatewayObs::ever_polled) {
                first_data_frame = true;
                if let Some(t) = STARTED.get() {
                    tracing::info!(ms = t.elapsed().as_secs_f64() * 1000.0, "first frame with live data");
                }
            }
        }
    }
    cancel.cancel();
    drop(terminal);
    if keep_days {
        // A periodic save still writing finishes first: its older bytes never land after these.
        if let Some(w) = day_writer {
            let _ = w.await;
        }
        let (dir, days) = (config.state_dir.clone(), app.model.unsaved_days());
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || crate::traffic::day::save_all(&dir, &days)).await {
            tracing::warn!(error = %e, "traffic day not saved");
        }
    }
    Ok(())
}

/// How often the TUI saves the per-minute day.
const DAY_SAVE_EVERY: Duration = Duration::from_secs(5 * 60);

/// Write a report as a new 0600 file (never over an existing one, never
/// through a symlink); a second export in the same second gets a suffix.
fn write_report(path: &std::path::Path, markdown: &str) -> std::io::Result<PathBuf> {
    let mut candidate = path.to_owned();
    for n in 2..10 {
        match crate::statefile::write_new(&candidate, markdown.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                candidate = path.with_file_name(format!("{stem}-{n}.md"));
            }
            other => return other.map(|()| candidate),
        }
    }
    crate::statefile::write_new(&candidate, markdown.as_bytes()).map(|()| candidate)
}

/// When a command failed and its output names a credential variable
/// gatewatch withheld from it, say so: it may have failed for that reason.
fn withheld_hint(output: &str, pass_env: &[String]) -> String {
    let named: Vec<String> =
        crate::command::withheld_vars(pass_env).into_iter().filter(|v| output.contains(v.as_str())).collect();
    if named.is_empty() {
        String::new()
    } else {
        format!(
            "\n(gatewatch does not pass its credential variables to commands: {} withheld; list them in pass_env: if the command needs them)",
            named.join(", ")
        )
    }
}

/// Tell the operator, before anything else, what the state directory
/// cannot do this session: a banner, and the reasons on the timeline.
fn state_banner(app: &mut App, audit_problem: Option<String>) {
    let now = app.now;
    let mut banner = Vec::new();
    if let Some(crate::logging::LogStatus::Off(why)) = crate::logging::status() {
        banner.push("NO LOG FILE");
        app.model.fleet.timeline.push(
            now,
            None,
            crate::timeline::TimelineKind::Operator,
            format!("running without a log file: {why}"),
        );
    }
    if let Some(why) = audit_problem {
        banner.push("NO AUDIT LOG: actions ask twice");
        app.model.fleet.timeline.push(
            now,
            None,
            crate::timeline::TimelineKind::Operator,
            format!("the audit log cannot be written: {why} — every action needs a second confirmation (Y) to run without a record"),
        );
        app.actions.audit_problem = Some(why);
    }
    if !banner.is_empty() {
        app.session.banner = Some(format!("{} (state dir: see timeline)", banner.join(" · ")));
    }
}
