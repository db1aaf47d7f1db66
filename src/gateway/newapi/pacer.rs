//! Keeps gatewatch under New API's per-IP rate limit.
//!
//! Every `/api` route of New API sits behind `GlobalAPIRateLimit`: by default
//! **180 requests per 180 s per client IP**, answered past the limit with an
//! empty HTTP 429. The server counts a sliding log of request times (the
//! in-memory limiter allows a request when fewer than `limit` happened in the
//! last `window`). The pacer keeps the same log on our side, shared by every
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
//! * after a 429 blocks everyone for the back-off delay (exponential with a
//!   cap, or the server's `Retry-After`).
//!
//! The decisions are a pure function of the log and a clock reading, so the
//! tests drive them with made-up instants.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::gateway::{GatewayError, RateBudget};

/// Who is asking: polls yield to actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Poll,
    Action,
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
    /// First back-off after a 429.
    pub backoff_base: Duration,
    /// Longest back-off after repeated 429s.
    pub backoff_cap: Duration,
    /// Retries of one request after 429s before giving up.
    pub max_retries: u32,
    /// Longest one request may wait for the budget (or a `Retry-After`)
    /// before it fails with `RateLimited` instead.
    pub max_wait: Duration,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            limit: 180,
            window: Duration::from_secs(180),
            budget: 150,
            action_reserve: 20,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(30),
            max_retries: 4,
            max_wait: Duration::from_secs(180),
        }
    }
}

impl PacerConfig {
    fn cap(&self, class: Class) -> usize {
        let cap = match class {
            Class::Action => self.budget,
            Class::Poll => self.budget.saturating_sub(self.action_reserve),
        };
        cap.max(1) as usize
    }

    /// The delay before retry number `attempt` (0-based) after a 429.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.backoff_base.saturating_mul(factor).min(self.backoff_cap)
    }
}

/// What the pacer tells a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send now (already counted).
    Go,
    /// Ask again after this long.
    Wait(Duration),
}

/// The request log and its rules, without a clock of its own.
#[derive(Debug, Default)]
pub struct Ledger {
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Ledger {
    fn prune(&mut self, now: Instant, window: Duration) {
        while let Some(&t) = self.sent.front() {
            if now.saturating_duration_since(t) >= window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
    }

    /// Requests counted in the window ending at `now`.
    pub fn used(&mut self, now: Instant, cfg: &PacerConfig) -> u32 {
        self.prune(now, cfg.window);
        u32::try_from(self.sent.len()).unwrap_or(u32::MAX)
    }

    /// May a request of `class` go at `now`? Records it when it may.
    pub fn decide(&mut self, now: Instant, class: Class, cfg: &PacerConfig) -> Decision {
        self.prune(now, cfg.window);
        if let Some(until) = self.blocked_until {
            if until > now {
                return Decision::Wait(until - now);
            }
            self.blocked_until = None;
        }
        let cap = cfg.cap(class);
        let len = self.sent.len();
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
        Decision::Go
    }

    /// The server said 429: nobody sends before `now + delay`.
    pub fn block(&mut self, now: Instant, delay: Duration) {
        let until = now + delay;
        if self.blocked_until.is_none_or(|b| b < until) {
            self.blocked_until = Some(until);
        }
    }
}

/// Never spin: the shortest wait the pacer hands out.
const MIN_WAIT: Duration = Duration::from_millis(5);

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
    /// `RateLimited` rather than wait longer than `max_wait`.
    pub async fn acquire(&self, class: Class) -> Result<(), GatewayError> {
        let started = Instant::now();
        loop {
            let now = Instant::now();
            let wait = match self.with_ledger(|l| l.decide(now, class, &self.cfg)) {
                Decision::Go => return Ok(()),
                Decision::Wait(d) => d,
            };
            if now.saturating_duration_since(started) + wait > self.cfg.max_wait {
                return Err(GatewayError::RateLimited { retry_after: Some(wait) });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Record a 429: block every request for `delay`.
    pub fn block_for(&self, delay: Duration) {
        let now = Instant::now();
        self.with_ledger(|l| l.block(now, delay));
    }

    /// The budget as the snapshot reports it: our requests in the current
    /// window against the server's limit.
    pub fn budget(&self) -> RateBudget {
        let now = Instant::now();
        let used = self.with_ledger(|l| l.used(now, &self.cfg));
        RateBudget { used, limit: self.cfg.limit, window: self.cfg.window }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PacerConfig {
        PacerConfig {
            limit: 12,
            window: Duration::from_secs(60),
            budget: 10,
            action_reserve: 2,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(8),
            max_retries: 3,
            max_wait: Duration::from_secs(60),
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
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
    fn a_429_blocks_every_class_until_the_delay_passes() {
        let c = cfg();
        let t0 = Instant::now();
        let mut l = Ledger::default();
        l.block(t0, secs(4));
        assert_eq!(l.decide(t0 + secs(1), Class::Action, &c), Decision::Wait(secs(3)));
        assert_eq!(l.decide(t0 + secs(1), Class::Poll, &c), Decision::Wait(secs(3)));
        // A shorter block does not shorten a longer one.
        l.block(t0 + secs(1), secs(1));
        assert_eq!(l.decide(t0 + secs(2), Class::Action, &c), Decision::Wait(secs(2)));
        assert_eq!(l.decide(t0 + secs(4), Class::Action, &c), Decision::Go);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = cfg();
        let got: Vec<u64> = (0..6).map(|a| c.backoff(a).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 8, 8]);
        assert_eq!(c.backoff(u32::MAX), secs(8));
    }

    #[test]
    fn default_leaves_headroom_below_the_server_limit() {
        let c = PacerConfig::default();
        assert!(c.budget < c.limit);
        assert!(c.cap(Class::Poll) < c.cap(Class::Action));
        // One full refresh of 5,000 channels (50 pages + 2) fits the poll share.
        assert!(c.cap(Class::Poll) >= 52);
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
}
