//! New API specifics of the fleet state: the server's rate limit as a state
//! of its own (not "down"), and channels re-read after an action replacing
//! their rows at once, without waiting for the next full list.

use std::sync::Arc;
use std::time::SystemTime;

use super::{GatewayObs, ReplicaObs};
use crate::config::duration::human;
use crate::gateway::{Deployment, GatewayError, RateBudget, ReplicaSnapshot, Section};

impl ReplicaObs {
    /// The last poll was refused with HTTP 429: the gateway answers, but
    /// gave no data; the last good snapshot is still the one to show.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.last, Some(Err(GatewayError::RateLimited { .. })))
    }
}

impl GatewayObs {
    /// Replicas whose last poll the server refused with HTTP 429.
    pub fn rate_limited_count(&self) -> usize {
        self.replicas.iter().filter(|r| r.is_rate_limited()).count()
    }

    /// Replicas that answered the last poll at all (with data, or with a 429).
    pub fn answered_count(&self) -> usize {
        self.up_count() + self.rate_limited_count()
    }

    /// No fresh data, because the server refused: not the same as down.
    pub fn is_rate_limited(&self) -> bool {
        self.up_count() == 0 && self.rate_limited_count() > 0
    }

    /// When the data on screen was read: the newest good poll of any replica.
    pub fn data_at(&self) -> Option<SystemTime> {
        self.replicas.iter().filter_map(|r| r.last_ok_at).max()
    }
}

/// The timeline line for a replica whose state changed between polls: a
/// 429 is "rate limited", never "down", and leaving it is not "reachable
/// again" (it was reachable all along).
pub fn transition<T>(
    name: &str,
    url: &str,
    was_up: Option<bool>,
    was_limited: bool,
    result: &Result<T, GatewayError>,
) -> Option<String> {
    let now_limited = matches!(result, Err(GatewayError::RateLimited { .. }));
    match result {
        Err(e) if now_limited && !was_limited => Some(went_limited(name, url, e)),
        Err(e) if !now_limited && (was_up != Some(false) || was_limited) => Some(format!("{name} {url}: down: {e}")),
        Ok(_) if was_limited => Some(format!("{name} {url}: the server accepts requests again")),
        Ok(_) if was_up == Some(false) => Some(format!("{name} {url}: reachable again")),
        _ => None,
    }
}

/// The timeline line when a replica's poll is refused with HTTP 429.
fn went_limited(name: &str, url: &str, e: &GatewayError) -> String {
    let retry = match e {
        GatewayError::RateLimited { retry_after: Some(d) } => format!("; gatewatch tries again in {}", human(*d)),
        _ => String::new(),
    };
    format!(
        "{name} {url}: rate limited by the server (HTTP 429): no new data, the last good data stays on screen{retry}"
    )
}

/// A timeline line when the server answered 429 since the last cycle although
/// the poll got through (retried): the limit is shared, and gatewatch's own
/// count alone would hide it.
pub fn absorbed(name: &str, before: Option<&RateBudget>, after: Option<&RateBudget>) -> Option<String> {
    let after = after?;
    let last = after.last_refused?;
    if before.and_then(|b| b.last_refused).is_some_and(|b| b >= last) {
        return None;
    }
    Some(format!(
        "{name}: the server answered HTTP 429 ({} in the last {}) while gatewatch had used {} of {}: \
         the limit is per client address, shared by every client there",
        after.refused,
        human(after.window),
        after.used,
        after.limit
    ))
}

/// Put re-read channels in place of their rows (appending any not listed
/// yet) in every replica's latest good snapshot: the list is read from the
/// database all nodes share, so one node's answer holds for all.
pub fn patch_channels(obs: &mut GatewayObs, channels: &[Deployment]) {
    if channels.is_empty() {
        return;
    }
    for r in &mut obs.replicas {
        let shared = match (&r.last, &r.last_ok) {
            (Some(Ok(a)), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if let Some(Ok(s)) = &mut r.last {
            *s = Arc::new(patched(s, channels));
        }
        r.last_ok = match (&r.last, r.last_ok.take()) {
            (Some(Ok(s)), Some(_)) if shared => Some(Arc::clone(s)),
            (_, Some(old)) => Some(Arc::new(patched(&old, channels))),
            (_, None) => None,
        };
    }
}

fn patched(snap: &ReplicaSnapshot, channels: &[Deployment]) -> ReplicaSnapshot {
    let mut s = snap.clone();
    if let Section::Ok(deps) = &mut s.deployments {
        let deps = std::sync::Arc::make_mut(deps);
        for c in channels {
            match deps.iter_mut().find(|d| d.id == c.id) {
                Some(d) => *d = c.clone(),
                None => deps.push(c.clone()),
            }
        }
        s.served_models = Section::Ok(crate::gateway::newapi::served(deps));
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::{GatewayKind, GatewaySpec};
    use crate::fleet::{Fleet, LocalView, PollReport};
    use crate::gateway::litellm::drift::MatchMemory;
    use crate::gateway::{AdminResult, AuthState, DeploymentStatus};

    fn snap(ids: &[&str]) -> ReplicaSnapshot {
        let mut s = ReplicaSnapshot::new(Duration::from_millis(5));
        s.deployments =
            Section::Ok(ids.iter().map(|id| Deployment::new(*id, format!("ch{id}"))).collect::<Vec<_>>().into());
        s.auth = AuthState::Ok;
        s
    }

    fn report(at: SystemTime, r: Result<ReplicaSnapshot, GatewayError>, budget: Option<RateBudget>) -> PollReport {
        PollReport {
            gateway: 0,
            at,
            replicas: vec![("http://a".into(), r)],
            local: LocalView::default(),
            memory: MatchMemory::default(),
            discovery_error: None,
            budget,
            prometheus: None,
            changes: Vec::new(),
            warmed: None,
        }
    }

    fn budget(used: u32, refused: u32, last: Option<SystemTime>) -> RateBudget {
        RateBudget { used, limit: 180, window: Duration::from_secs(180), refused, last_refused: last, resume_at: None }
    }

    #[test]
    fn a_429_is_its_own_state_and_keeps_the_last_good_data() {
        let mut fleet = Fleet::new(&[GatewaySpec::new("gw", GatewayKind::NewApi, "http://a")]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        fleet.apply_poll(report(t0, Ok(snap(&["1", "2"])), Some(budget(14, 0, None))));
        let limited = GatewayError::RateLimited { retry_after: Some(Duration::from_secs(15)) };
        let t1 = t0 + Duration::from_secs(15);
        fleet.apply_poll(report(t1, Err(limited.clone()), Some(budget(58, 1, Some(t1)))));
        let g = &fleet.gateways[0];
        assert!(g.is_rate_limited() && !g.is_reachable());
        assert_eq!((g.up_count(), g.rate_limited_count(), g.answered_count()), (0, 1, 1));
        assert_eq!(g.deployments().len(), 2, "the last good data stays");
        assert_eq!(g.data_at(), Some(t0));
        assert_eq!(g.budget.map(|b| b.refused), Some(1));
        // Still refused: no second line; then it recovers.
        fleet.apply_poll(report(t1 + Duration::from_secs(15), Err(limited), None));
        fleet.apply_poll(report(t1 + Duration::from_secs(30), Ok(snap(&["1"])), None));
        let texts: Vec<String> = fleet.timeline.entries().map(|e| e.text.clone()).collect();
        assert_eq!(
            texts.iter().filter(|t| t.contains("rate limited by the server (HTTP 429)")).count(),
            1,
            "{texts:?}"
        );
        assert!(!texts.iter().any(|t| t.contains("down:")), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("accepts requests again")), "{texts:?}");
        assert!(!fleet.gateways[0].is_rate_limited());
    }

    #[test]
    fn a_429_absorbed_by_a_retry_still_reaches_the_timeline() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(50);
        assert_eq!(absorbed("gw", None, Some(&budget(3, 0, None))), None);
        let line = absorbed("gw", None, Some(&budget(58, 2, Some(t)))).unwrap();
        assert!(line.contains("HTTP 429 (2 in the last 3m)") && line.contains("58 of 180"), "{line}");
        assert_eq!(absorbed("gw", Some(&budget(58, 2, Some(t))), Some(&budget(60, 2, Some(t)))), None);
    }

    #[test]
    fn re_read_channels_replace_their_rows_in_every_snapshot() {
        let mut fleet = Fleet::new(&[GatewaySpec::new("gw", GatewayKind::NewApi, "http://a")]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        fleet.apply_poll(report(t0, Ok(snap(&["1", "2", "3"])), None));
        let mut c = Deployment::new("2", "ch2");
        c.status = DeploymentStatus::ManuallyDisabled;
        c.models = crate::gateway::Names::from(vec!["only-on-2"]);
        let g = &mut fleet.gateways[0];
        g.apply_admin(t0, "2", &AdminResult::Channels { channels: vec![c, Deployment::new("9", "new")] });
        let ids: Vec<&str> = g.deployments().iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "9"]);
        assert_eq!(g.deployments()[1].status, DeploymentStatus::ManuallyDisabled);
        let served = g.primary().unwrap().served_models.ok().unwrap();
        assert!(!served.contains(&"only-on-2".to_owned()), "a disabled channel serves nothing");
        let r = &g.replicas[0];
        let (Some(Ok(last)), Some(ok)) = (&r.last, &r.last_ok) else { panic!() };
        assert!(Arc::ptr_eq(last, ok), "still one shared copy");
        // A refused poll later keeps the patched data.
        fleet.apply_poll(report(
            t0 + Duration::from_secs(9),
            Err(GatewayError::RateLimited { retry_after: None }),
            None,
        ));
        assert_eq!(fleet.gateways[0].deployments()[1].status, DeploymentStatus::ManuallyDisabled);
    }
}
