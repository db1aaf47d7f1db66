//! Keeps gatewatch under New API's per-IP rate limit, and remembers what the
//! server said when it was not.
//!
//! Every `/api` route of New API sits behind `GlobalAPIRateLimit`: by default
//! **180 requests per 180 s per client IP**, answered past the limit with an
//! empty HTTP 429 (no `Retry-After`, no counter). The server counts a sliding
//! log of the requests it *accepted* (measured on a real server: it recovered
//! 180 s after a burst), and that log is shared by every client from the same
//! address — the operator's browser, scripts, another gatewatch. The pacer
//! keeps the same log of gatewatch's own accepted requests, shared by every
//! poll and action of one adapter (and so by all its replicas: with Redis the
//! server's counter is shared between nodes too, so one budget is the safe
//! assumption), and:
//!
//! * never lets gatewatch use more than `budget` (150 of 180 by default) in
//!   any window, leaving room for the operator's browser on the same IP;
//! * stops polls `action_reserve` requests earlier, so an action the operator
//!   asks for during a big refresh still goes out at once;
//! * spreads poll requests evenly once half of the poll share is used, rather
//!   than bursting into the limit;
//! * after a 429 pauses everyone briefly and retries the request a couple of
//!   times (another client's burst may be ageing out); when the server keeps
//!   refusing, it **cools down**: every request fails at once with
//!   `RateLimited` (the app keeps the last good data) until the cool-down
//!   ends, each cool-down twice the last, up to the server's window;
//! * counts the 429s and when they came, so the gauge shows what the server
//!   said and not only gatewatch's own count.
//!
//! The decisions are a pure function of the log and a clock reading, so the
//! tests drive them with made-up instants.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::gateway::{GatewayError, RateBudget};

/// Who is asking: polls yield to actions, the crawl to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Poll,
    Action,
    /// A page of a list too large to read in one poll: only what is left
    /// once a poll's worth ([`PacerConfig::crawl_headroom`]) is kept for the
    /// next incident-first reads, and it never waits — with no room it fails
    /// at once and the crawl goes on at a later poll.
    Crawl,
}

/// Limits and back-off settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacerConfig {
    /// The server's limit (`GLOBAL_API_RATE_LIMIT`, default 180).
    pub limit: u32,
    /// The server's window (`GLOBAL_API_RATE_LIMIT_DURATION`, default 180 s).
    pub window: Duration,
    /// Most requests gatewatch sends in any window (all classes).
    pub budget: u32,
    /// Requests of the budget that polls leave to actions.
    pub action_reserve: u32,
    /// Requests of the poll share that the crawl leaves to the next polls.
    pub crawl_headroom: u32,
    /// First pause after a 429, before the request is retried.
    pub backoff_base: Duration,
    /// Longest pause between two retries of one request.
    pub backoff_cap: Duration,
    /// Retries of one request after 429s before giving up (and cooling down).
    pub max_retries: u32,
    /// Longest one request may wait for the budget (or a `Retry-After`)
    /// before it fails with `RateLimited` instead.
    pub max_wait: Duration,
    /// The first cool-down after giving up; it doubles with every further
    /// give-up without a success between, up to `window`.
    pub cooldown_base: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            limit: 180,
            window: Duration::from_secs(180),
            budget: 150,
            action_reserve: 20,
            crawl_headroom: 20,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(8),
            max_retries: 2,
            max_wait: Duration::from_secs(180),
            cooldown_base: Duration::from_secs(15),
        }
    }
}

impl PacerConfig {
    /// The limits of one configured gateway: the server's (`rate_limit`
    /// per `rate_limit_window`) less what is left to other clients
    /// (`rate_reserve`); actions keep a share of what gatewatch uses.
    pub fn of(spec: &crate::config::GatewaySpec) -> Self {
        let budget = spec.rate_limit.saturating_sub(spec.rate_reserve).max(1);
        Self {
            limit: spec.rate_limit,
            window: spec.rate_limit_window,
            budget,
            action_reserve: (budget * 2 / 15).clamp(1, 20),
            crawl_headroom: (budget * 2 / 15).clamp(1, 20),
            max_wait: spec.rate_limit_window,
            ..Self::default()
        }
    }

    fn cap(&self, class: Class) -> usize {
        let cap = match class {
            Class::Action => self.budget,
            Class::Poll => self.budget.saturating_sub(self.action_reserve),
            Class::Crawl => self.budget.saturating_sub(self.action_reserve).saturating_sub(self.crawl_headroom),
        };
        // Polls and actions always get one; the crawl only what is left.
        if class == Class::Crawl { cap as usize } else { cap.max(1) as usize }
    }

    /// The pause before retry number `attempt` (0-based) after a 429.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.backoff_base.saturating_mul(factor).min(self.backoff_cap)
    }

    /// The cool-down after give-up number `strike` (1-based) in a row.
    pub fn cooldown(&self, strike: u32) -> Duration {
        let factor = 1u32.checked_shl(strike.saturating_sub(1).min(16)).unwrap_or(u32::MAX);
        self.cooldown_base.saturating_mul(factor).min(self.window.max(self.cooldown_base))
    }
}

/// What the pacer tells a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send now (already counted).
    Go,
    /// Ask again after this long.
    Wait(Duration),
    /// The server refused recently and gatewatch is cooling down: fail now,
    /// the cool-down ends after this long.
    CoolingDown(Duration),
    /// A crawl page with no room left for it: fail now, try at a later poll.
    NoRoom,
}

/// The request log and its rules, without a clock of its own.
#[derive(Debug, Default)]
pub struct Ledger {
    sent: VecDeque<Instant>,
    /// This process's own of `sent` (the rest came from earlier runs).
    own: VecDeque<Instant>,
    refused: VecDeque<Instant>,
    /// A short pause after a 429 (everyone waits it out).
    paused_until: Option<Instant>,
    /// A cool-down after giving up (everyone fails at once).
    cooldown_until: Option<Instant>,
    /// Give-ups since the last accepted request.
    strikes: u32,
}

fn prune(log: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&t) = log.front() {
        if now.saturating_duration_since(t) >= window {
            log.pop_front();
        } else {
            break;
        }
    }
}

fn count(log: &VecDeque<Instant>) -> u32 {
    u32::try_from(log.len()).unwrap_or(u32::MAX)
}

impl Ledger {
    /// Requests counted in the window ending at `now`.
    pub fn used(&mut self, now: Instant, cfg: &PacerConfig) -> u32 {
        prune(&mut self.sent, now, cfg.window);
        prune(&mut self.own, now, cfg.window);
        count(&self.sent)
    }

    /// May a request of `class` go at `now`? Records it when it may.
    pub fn decide(&mut self, now: Instant, class: Class, cfg: &PacerConfig) -> Decision {
        prune(&mut self.sent, now, cfg.window);
        if let Some(until) = self.cooldown_until {
            if until > now {
                return Decision::CoolingDown(until - now);
            }
            self.cooldown_until = None;
        }
        if let Some(until) = self.paused_until {
            if until > now {
                return Decision::Wait(until - now);
            }
            self.paused_until = None;
        }
        let cap = cfg.cap(class);
        let len = self.sent.len();
        if class == Class::Crawl && len >= cap {
            // No room: the crawl waits for a later poll, not here.
            return Decision::NoRoom;
        }
        if len >= cap {
            // Enough of the oldest must age out that one more fits.
            let oldest_needed = self.sent[len - cap];
            return Decision::Wait((oldest_needed + cfg.window).saturating_duration_since(now).max(MIN_WAIT));
        }
        if class == Class::Poll && len >= cap / 2 {
            // Close to the limit: one request per window/cap, evenly.
            let spacing = cfg.window / u32::try_from(cap).unwrap_or(u32::MAX);
            if let Some(&last) = self.sent.back() {
                let next = last + spacing;
                if next > now {
                    return Decision::Wait(next - now);
                }
            }
        }
        self.sent.push_back(now);
        self.own.push_back(now);
        Decision::Go
    }

    /// The server accepted a request: the cool-downs start over.
    pub fn accepted(&mut self) {
        self.strikes = 0;
    }

    /// The server answered 429: that request does not count against its
    /// limit (it counts only what it accepted), and nobody sends for `pause`.
    pub fn refused(&mut self, now: Instant, pause: Duration, cfg: &PacerConfig) {
        self.sent.pop_back();
        self.own.pop_back();
        prune(&mut self.refused, now, cfg.window);
        self.refused.push_back(now);
        let until = now + pause;
        if self.paused_until.is_none_or(|p| p < until) {
            self.paused_until = Some(until);
        }
    }

    /// Retrying did not help: cool down for the next step (or what the
    /// server asked for, if longer). Returns the cool-down.
    pub fn give_up(&mut self, now: Instant, asked: Option<Duration>, cfg: &PacerConfig) -> Duration {
        self.strikes = self.strikes.saturating_add(1);
        let d = cfg.cooldown(self.strikes).max(asked.unwrap_or_default());
        let until = now + d;
        if self.cooldown_until.is_none_or(|c| c < until) {
            self.cooldown_until = Some(until);
        }
        d
    }

    /// 429s in the window ending at `now`, and the last one.
    pub fn refusals(&mut self, now: Instant, cfg: &PacerConfig) -> (u32, Option<Instant>) {
        prune(&mut self.refused, now, cfg.window);
        (count(&self.refused), self.refused.back().copied())
    }

    /// The end of the current cool-down, if one runs.
    pub fn cooling_until(&self, now: Instant) -> Option<Instant> {
        self.cooldown_until.filter(|u| *u > now)
    }
}

/// Never spin: the shortest wait the pacer hands out.
const MIN_WAIT: Duration = Duration::from_millis(5);

/// The wall-clock time of a monotonic instant (for the report).
fn wall(at: Instant, now: Instant, wall_now: SystemTime) -> SystemTime {
    if at <= now { wall_now - (now - at) } else { wall_now + (at - now) }
}

/// The shared pacer of one adapter.
#[derive(Debug)]
pub struct Pacer {
    cfg: PacerConfig,
    ledger: Mutex<Ledger>,
}

impl Pacer {
    pub fn new(cfg: PacerConfig) -> Self {
        Self { cfg, ledger: Mutex::new(Ledger::default()) }
    }

    pub fn config(&self) -> &PacerConfig {
        &self.cfg
    }

    fn with_ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> R {
        // A poisoned lock only means another task panicked mid-update; the
        // log is still a valid (if slightly off) count.
        let mut guard = self.ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// Wait for room in the budget, then count the request. Fails with
    /// `RateLimited` at once during a cool-down, and rather than wait longer
    /// than `max_wait`.
    pub async fn acquire(&self, class: Class) -> Result<(), GatewayError> {
        let started = Instant::now();
        loop {
            let now = Instant::now();
            let wait = match self.with_ledger(|l| l.decide(now, class, &self.cfg)) {
                Decision::Go => return Ok(()),
                Decision::Wait(d) => d,
                Decision::CoolingDown(d) => return Err(GatewayError::RateLimited { retry_after: Some(d) }),
                Decision::NoRoom => return Err(GatewayError::RateLimited { retry_after: None }),
            };
            if now.saturating_duration_since(started) + wait > self.cfg.max_wait {
                return Err(GatewayError::RateLimited { retry_after: Some(wait) });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Requests of `class` that may go now without waiting (the crawl's
    /// pages for this poll), leaving at least `next_poll` requests (what
    /// this poll's incident-first reads cost) to the next poll.
    pub fn room_leaving(&self, class: Class, next_poll: u32) -> usize {
        let now = Instant::now();
        let used = self
            .with_ledger(|l| if l.cooling_until(now).is_some() { usize::MAX } else { l.used(now, &self.cfg) as usize });
        let extra = next_poll.saturating_sub(self.cfg.crawl_headroom) as usize;
        self.cfg.cap(class).saturating_sub(extra).saturating_sub(used)
    }

    /// When this process's requests of the current window went out (wall
    /// clock), to hand the budget to the next run (`check` in cron, the TUI
    /// reopened) or another one at the same time: the server counts them.
    pub fn recent(&self) -> Vec<SystemTime> {
        let now = Instant::now();
        let wall_now = SystemTime::now();
        self.with_ledger(|l| {
            l.used(now, &self.cfg);
            l.own.iter().map(|&t| wall(t, now, wall_now)).collect()
        })
    }

    /// Count requests an earlier run sent (wall clock) against this window.
    pub fn seed(&self, sent: &[SystemTime]) {
        let now = Instant::now();
        let wall_now = SystemTime::now();
        self.with_ledger(|l| {
            let mut earlier: Vec<Instant> = sent
                .iter()
                .filter_map(|t| wall_now.duration_since(*t).ok())
                .filter(|ago| *ago < self.cfg.window)
                .filter_map(|ago| now.checked_sub(ago))
                .collect();
            earlier.extend(l.sent.iter().copied());
            earlier.sort();
            l.sent = earlier.into();
            l.used(now, &self.cfg);
        });
    }

    /// The server accepted a request.
    pub fn accepted(&self) {
        self.with_ledger(Ledger::accepted);
    }

    /// The server answered 429: pause everyone for `pause`.
    pub fn refused(&self, pause: Duration) {
        let now = Instant::now();
        self.with_ledger(|l| l.refused(now, pause, &self.cfg));
    }

    /// Stop retrying: start a cool-down; returns its length.
    pub fn give_up(&self, asked: Option<Duration>) -> Duration {
        let now = Instant::now();
        self.with_ledger(|l| l.give_up(now, asked, &self.cfg))
    }

    /// The budget as gatewatch counts it and as the server answered.
    pub fn budget(&self) -> RateBudget {
        let now = Instant::now();
        let wall_now = SystemTime::now();
        let (used, (refused, last), cooling) =
            self.with_ledger(|l| (l.used(now, &self.cfg), l.refusals(now, &self.cfg), l.cooling_until(now)));
        RateBudget {
            used,
            limit: self.cfg.limit,
            window: self.cfg.window,
            refused,
            last_refused: last.map(|t| wall(t, now, wall_now)),
            resume_at: cooling.map(|t| wall(t, now, wall_now)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_limit_less_the_reserve_is_gatewatch_s_budget() {
        let mut spec = crate::config::GatewaySpec::new("n", crate::config::GatewayKind::NewApi, "http://x");
        let d = PacerConfig::of(&spec);
        assert_eq!(d, PacerConfig::default(), "New API's defaults: 150 of 180, 20 kept for actions");
        spec.rate_limit = 600;
        spec.rate_limit_window = Duration::from_secs(60);
        spec.rate_reserve = 100;
        let c = PacerConfig::of(&spec);
        assert_eq!((c.limit, c.window.as_secs(), c.budget, c.action_reserve), (600, 60, 500, 20));
        assert_eq!(c.max_wait, Duration::from_secs(60));
        spec.rate_limit = 12;
        spec.rate_reserve = 2;
        let small = PacerConfig::of(&spec);
        assert_eq!((small.budget, small.action_reserve), (10, 1));
    }

    fn cfg() -> PacerConfig {
        PacerConfig {
            limit: 12,
            window: Duration::from_secs(60),
            budget: 10,
            action_reserve: 2,
            crawl_headroom: 3,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(8),
            max_retries: 3,
            max_wait: Duration::from_secs(60),
            cooldown_base: Duration::from_secs(10),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_crawl_takes_what_polls_leave_and_never_waits() {
        let c = cfg();
        let mut l = Ledger::default();
        let t0 = Instant::now();
        // 10 budget - 2 for actions - 3 for the next polls: 5 crawl pages, in a burst (no spacing).
        for i in 0..5 {
            assert_eq!(l.decide(t0, Class::Crawl, &c), Decision::Go, "page {i}");
        }
        assert_eq!(l.decide(t0, Class::Crawl, &c), Decision::NoRoom);
        // The headroom is there for the next poll, and actions keep theirs.
        for _ in 0..3 {
            assert!(matches!(l.decide(t0 + secs(30), Class::Poll, &c), Decision::Go | Decision::Wait(_)));
        }
        assert_eq!(l.decide(t0 + secs(60), Class::Crawl, &c), Decision::Go, "the burst aged out");
        // A budget the reserves use up leaves the crawl nothing.
        let none = PacerConfig { budget: 5, ..c };
        assert_eq!(Ledger::default().decide(t0, Class::Crawl, &none), Decision::NoRoom);
    }

    #[tokio::test]
    async fn an_earlier_run_s_requests_count_against_this_window() {
        let p = Pacer::new(cfg());
        assert_eq!(p.room_leaving(Class::Crawl, 0), 5);
        let now = SystemTime::now();
        // Three sent 10 s ago by the last run, one a window ago (aged out).
        p.seed(&[now - secs(10), now - secs(10), now - secs(10), now - secs(61)]);
        assert_eq!(p.budget().used, 3);
        assert_eq!(p.room_leaving(Class::Crawl, 0), 2);
        assert_eq!(p.room_leaving(Class::Poll, 0), 5);
        assert_eq!(p.room_leaving(Class::Crawl, 4), 1, "the last poll cost 4, one more than the headroom");
        assert!(p.recent().is_empty(), "only this process's own requests are handed on");
        p.acquire(Class::Crawl).await.unwrap();
        p.acquire(Class::Crawl).await.unwrap();
        assert!(matches!(p.acquire(Class::Crawl).await, Err(GatewayError::RateLimited { retry_after: None })));
        assert_eq!(p.recent().len(), 2);
    }

    #[test]
    fn polls_burst_to_half_then_spread_then_stop_at_their_share() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        // Poll share = 10 - 2 = 8; the first 4 go at once.
        for _ in 0..4 {
            assert_eq!(l.decide(t0, Class::Poll, &c), Decision::Go);
        }
        // Then one per window/8 = 7.5 s.
        assert_eq!(l.decide(t0, Class::Poll, &c), Decision::Wait(Duration::from_millis(7500)));
        let mut t = t0;
        for _ in 0..4 {
            t += Duration::from_millis(7500);
            assert_eq!(l.decide(t, Class::Poll, &c), Decision::Go);
        }
        assert_eq!(l.used(t, &c), 8);
        // Share used up: wait until the first request ages out of the window.
        let later = t + Duration::from_millis(7500);
        assert_eq!(l.decide(later, Class::Poll, &c), Decision::Wait((t0 + secs(60)) - later));
    }

    #[test]
    fn actions_use_the_reserve_but_never_exceed_the_budget() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        for _ in 0..8 {
            // Actions are never spread.
            assert_eq!(l.decide(t0, Class::Action, &c), Decision::Go);
        }
        assert!(matches!(l.decide(t0, Class::Poll, &c), Decision::Wait(_)));
        assert_eq!(l.decide(t0, Class::Action, &c), Decision::Go);
        assert_eq!(l.decide(t0, Class::Action, &c), Decision::Go);
        assert_eq!(l.decide(t0, Class::Action, &c), Decision::Wait(secs(60)));
        // The window slides: at t0+60 all ten age out together.
        assert_eq!(l.decide(t0 + secs(60), Class::Action, &c), Decision::Go);
        assert_eq!(l.used(t0 + secs(60), &c), 1);
    }

    #[test]
    fn window_counts_only_recent_requests() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        for i in 0..3 {
            assert_eq!(l.decide(t0 + secs(i * 20), Class::Action, &c), Decision::Go);
        }
        assert_eq!(l.used(t0 + secs(40), &c), 3);
        assert_eq!(l.used(t0 + secs(60), &c), 2);
        assert_eq!(l.used(t0 + secs(99), &c), 1);
        assert_eq!(l.used(t0 + secs(100), &c), 0);
    }

    #[test]
    fn a_429_pauses_every_class_and_is_not_counted_as_used() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        assert_eq!(l.decide(t0, Class::Poll, &c), Decision::Go);
        assert_eq!(l.decide(t0, Class::Poll, &c), Decision::Go);
        l.refused(t0, secs(4), &c);
        // The server counts only what it accepted.
        assert_eq!(l.used(t0, &c), 1);
        assert_eq!(l.refusals(t0, &c), (1, Some(t0)));
        assert_eq!(l.decide(t0 + secs(1), Class::Action, &c), Decision::Wait(secs(3)));
        assert_eq!(l.decide(t0 + secs(1), Class::Poll, &c), Decision::Wait(secs(3)));
        // A shorter pause does not shorten a longer one.
        l.refused(t0 + secs(1), secs(1), &c);
        assert_eq!(l.decide(t0 + secs(2), Class::Action, &c), Decision::Wait(secs(2)));
        assert_eq!(l.decide(t0 + secs(4), Class::Action, &c), Decision::Go);
        // 429s leave the count as the window slides.
        assert_eq!(l.refusals(t0 + secs(60), &c).0, 1);
        assert_eq!(l.refusals(t0 + secs(61), &c), (0, None));
    }

    #[test]
    fn giving_up_cools_down_with_doubling_steps_until_a_success() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        assert_eq!(l.give_up(t0, None, &c), secs(10));
        // During a cool-down nobody waits: everyone fails at once.
        assert_eq!(l.decide(t0 + secs(3), Class::Action, &c), Decision::CoolingDown(secs(7)));
        assert_eq!(l.cooling_until(t0 + secs(3)), Some(t0 + secs(10)));
        assert_eq!(l.decide(t0 + secs(10), Class::Poll, &c), Decision::Go);
        assert_eq!(l.give_up(t0 + secs(10), None, &c), secs(20));
        assert_eq!(l.give_up(t0 + secs(30), None, &c), secs(40));
        // Never longer than the server's window, unless the server asked for it.
        assert_eq!(l.give_up(t0 + secs(70), None, &c), secs(60));
        assert_eq!(l.give_up(t0 + secs(130), Some(secs(3600)), &c), secs(3600));
        l.accepted();
        assert_eq!(l.give_up(t0 + secs(4000), None, &c), secs(10));
        assert_eq!(l.cooling_until(t0 + secs(4010)), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = cfg();
        let got: Vec<u64> = (0..6).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 8, 8]);
        assert_eq!(c.backoff(u32::MAX), secs(8));
        assert_eq!(c.cooldown(u32::MAX), secs(60));
    }

    #[test]
    fn default_leaves_headroom_below_the_server_limit() {
        let c = PacerConfig::default();
        assert!(c.budget < c.limit);
        assert!(c.cap(Class::Poll) < c.cap(Class::Action));
        // One full refresh of 5,000 channels (50 pages + 3) fits the poll share.
        assert!(c.cap(Class::Poll) >= 53);
        // A refusing server costs a request at most a few seconds of retries.
        let retrying: Duration = (0..c.max_retries).map(|a| c.backoff(a)).sum();
        assert!(retrying <= Duration::from_secs(10), "{retrying:?}");
        assert_eq!(c.cooldown(99), c.window);
    }

    #[tokio::test]
    async fn acquire_fails_fast_rather_than_wait_past_max_wait() {
        let mut c = cfg();
        c.max_wait = Duration::from_millis(50);
        let p = Pacer::new(c);
        for _ in 0..10 {
            p.acquire(Class::Action).await.unwrap();
        }
        let started = std::time::Instant::now();
        let e = p.acquire(Class::Action).await.unwrap_err();
        assert!(matches!(e, GatewayError::RateLimited { retry_after: Some(_) }));
        assert!(started.elapsed() < Duration::from_millis(40));
        assert_eq!(p.budget().used, 10);
        assert_eq!(p.budget().limit, 12);
    }

    #[tokio::test]
    async fn the_budget_reports_what_the_server_said() {
        let p = Pacer::new(cfg());
        p.acquire(Class::Poll).await.unwrap();
        p.acquire(Class::Poll).await.unwrap();
        p.accepted();
        let b = p.budget();
        assert_eq!((b.used, b.refused, b.last_refused, b.resume_at), (2, 0, None, None));
        p.refused(Duration::ZERO);
        let cool = p.give_up(None);
        let b = p.budget();
        assert_eq!((b.used, b.refused), (1, 1));
        let now = SystemTime::now();
        assert!(b.last_refused.is_some_and(|t| t <= now));
        let resume = b.resume_at.unwrap();
        assert!(resume > now && resume <= now + cool, "{resume:?}");
        let e = p.acquire(Class::Action).await.unwrap_err();
        assert!(matches!(e, GatewayError::RateLimited { retry_after: Some(d) } if d <= cool));
    }
}
