//! New API adapter (QuantumNous/new-api; see gateways/newapi/README.md).
//!
//! Auth: `Authorization: Bearer <system access token>` plus
//! `New-Api-User: <admin user id>`, and `Accept-Language: en`; `success` is
//! checked in every answer ([`answer`]). Poll: `GET /api/status` (public:
//! version, start time), `GET /api/status/test` (admin: the credential works,
//! the database answers) and every page of `GET /api/channel/` ([`list`]).
//! All requests go through one [`pacer`] per adapter that keeps gatewatch
//! under the server's 180-requests-per-180-s per-IP limit; when the server
//! answers 429 anyway (other clients share that limit), the poll fails with
//! `RateLimited` so the app keeps the last good data, and the pacer cools
//! down. Every ten minutes `/` is requested too: New API serves its whole
//! web console there ([`console`]). Actions: channel tests, balance updates,
//! enable/disable, and one-channel reads that verify them ([`admin`]).
//!
//! New API has no fallback chains and no response cache, so those panes say
//! so. Channel keys are never returned with an access token.

pub mod admin;
pub mod answer;
pub mod api;
pub mod channel;
pub mod client;
pub mod console;
pub mod crawl;
pub mod list;
pub mod logs;
pub mod pacer;
pub mod select;

use std::collections::BTreeSet;

use async_trait::async_trait;
use reqwest::StatusCode;

use super::http::{HttpClient, RawResponse};
use super::{
    AdminOp, AdminResult, AuthState, CarryWriter, Deployment, DeploymentStatus, Gateway, GatewayError, Liveness,
    ModelSubset, RateBudget, Readiness, ReplicaSnapshot, ReplicaTarget, Section,
};
use crate::config::GatewaySpec;
use crate::secret::Secret;

use client::{Calls, Client, Req};
use list::ListFailure;
use pacer::{Class, PacerConfig};

const NO_ROUTER: &str = "New API has no fallback chains: a request goes to one channel of the highest priority tier \
                         (weighted pick); lower tiers are tried only on retries (RetryTimes, default 0)";
const NO_CACHE: &str = "New API has no response cache; with the memory cache on (MEMORY_CACHE_ENABLED or Redis) \
                        each node keeps the channel table for SYNC_FREQUENCY s, with no flush endpoint; \
                        without it (the default) every request reads the database";

pub struct NewApi {
    spec: GatewaySpec,
    client: Client,
    console: console::Probes,
    crawl: tokio::sync::Mutex<CrawlSlot>,
    /// This process, among the runs that share a carry.
    run: String,
    /// Other runs' requests in the rate window (unix ms), as last read:
    /// counted once, and handed on with this run's own.
    others: std::sync::Mutex<std::collections::BTreeMap<String, Vec<i64>>>,
}

/// A list past the cap, assembled across polls ([`crawl`]), and what the
/// next run carries on from.
#[derive(Debug, Default)]
struct CrawlSlot {
    pass: crawl::Pass,
    assembled: Option<crawl::Assembled>,
    /// Bumped whenever `pass` or `assembled` changes: the lists are written
    /// only then.
    generation: u64,
}

impl CrawlSlot {
    /// Replace (or drop) the assembled list; the channels the pass holds as
    /// ids of it are copied back first (a pass that cannot be starts over).
    fn set_assembled(&mut self, to: Option<crawl::Assembled>) {
        if let Some(old) = &self.assembled
            && !self.pass.unshare(&old.deployments)
        {
            self.pass = crawl::Pass::default();
        }
        self.assembled = to;
    }
}

/// What one run hands to the next: the server's, whichever gateway name a
/// config gives it. Two files: the requests (small, every minute) and the
/// lists (tens of megabytes at 50,000 channels, only when they changed).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Carry {
    server: String,
    /// Written by [`CarryLists`] (as [`crawl::Pass::saved_beside`] its list).
    #[serde(default, skip_serializing)]
    pass: crawl::Pass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assembled: Option<crawl::Assembled>,
    /// Unix milliseconds of each run's requests in the rate window (a TUI
    /// and a cron `check` can run at once).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    sent: std::collections::BTreeMap<String, Vec<i64>>,
}

/// The lists of a [`Carry`], sharing the slot's (no copy of a 50,000-channel
/// pass is made to write it: a page read during the write copies the pass).
struct CarryLists {
    server: String,
    pass: crawl::Pass,
    assembled: Option<crawl::Assembled>,
}

impl serde::Serialize for CarryLists {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Carry", 3)?;
        st.serialize_field("server", &self.server)?;
        if !self.pass.is_empty() {
            match &self.assembled {
                Some(a) => st.serialize_field("pass", &self.pass.saved_beside(&a.deployments))?,
                None => st.serialize_field("pass", &self.pass.saved(None))?,
            }
        }
        if let Some(a) = &self.assembled {
            st.serialize_field("assembled", a)?;
        }
        st.end()
    }
}

fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl NewApi {
    /// Other runs' requests still inside the rate window.
    fn others_in_window(&self) -> std::collections::BTreeMap<String, Vec<i64>> {
        let window = i64::try_from(self.client.pacer().config().window.as_millis()).unwrap_or(i64::MAX);
        let since = unix_ms(std::time::SystemTime::now()).saturating_sub(window);
        let mut others = self.others.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        others.retain(|_, v| {
            v.retain(|t| *t > since);
            !v.is_empty()
        });
        others.clone()
    }
}

/// Add to why the list is not read (the too-many error every list check
/// and `check`'s "unread" quote): how far assembling it has got.
fn why_unread(snap: &mut ReplicaSnapshot, progress: &str) {
    if let Section::Failed(GatewayError::Rejected { message }) = &mut snap.deployments {
        message.push_str("; ");
        message.push_str(progress);
    }
}

fn unix_now() -> i64 {
    crate::poller::unix_now(std::time::SystemTime::now())
}

/// Pages one poll's crawl reads at most (the pacer's room bounds it first).
const CRAWL_STEP_PAGES: usize = 200;

impl NewApi {
    /// Token from `$credential_env`; user id from `user_id`, else `$user_id_env`.
    pub fn new(spec: GatewaySpec) -> Self {
        let token = std::env::var(&spec.credential_env).ok().filter(|k| !k.trim().is_empty()).map(Secret::new);
        let user = spec.user_id.map(|id| id.to_string()).or_else(|| {
            let env = spec.user_id_env.as_deref()?;
            std::env::var(env).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
        });
        Self::with_credentials(spec, token, user)
    }

    /// Explicit credentials (tests, demo). `user` is sent verbatim as `New-Api-User`.
    pub fn with_credentials(spec: GatewaySpec, token: Option<Secret>, user: Option<String>) -> Self {
        let pacing = PacerConfig::of(&spec);
        Self::with_pacing(spec, token, user, pacing)
    }

    /// Explicit credentials and rate-limit settings.
    pub fn with_pacing(spec: GatewaySpec, token: Option<Secret>, user: Option<String>, pacing: PacerConfig) -> Self {
        let user_source = if spec.user_id.is_some() {
            "user_id in gatewatch's config".to_owned()
        } else if let Some(env) = &spec.user_id_env {
            format!("${env}")
        } else {
            "user_id".to_owned()
        };
        let http = HttpClient::new(spec.timeout, spec.max_body_bytes);
        let slow = HttpClient::new(spec.action_timeout, spec.max_body_bytes);
        let client = Client::new(http, slow, pacing, token, user, spec.credential_env.clone(), user_source);
        static ADAPTERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ADAPTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let run = format!("{}-{}-{n}", std::process::id(), unix_ms(std::time::SystemTime::now()));
        Self {
            spec,
            client,
            console: console::Probes::default(),
            crawl: tokio::sync::Mutex::default(),
            run,
            others: std::sync::Mutex::default(),
        }
    }

    /// Past the cap: read the next pages of the list with the room the
    /// incident-first reads left, and when a whole list has been assembled
    /// (in this or earlier polls, and not older than
    /// [`crawl::MAX_USE_SECS`]), show it — with this poll's fresh reads laid
    /// over it and its age — as the list.
    async fn crawl(
        &self,
        calls: &Calls,
        base: &str,
        snap: &mut ReplicaSnapshot,
        first: Option<(usize, Vec<Deployment>)>,
    ) {
        let total = first.as_ref().map_or(0, |(t, _)| *t);
        if total > crawl::MAX_CHANNELS {
            why_unread(
                snap,
                &format!("too many to assemble either (gatewatch assembles at most {})", crawl::MAX_CHANNELS),
            );
            return;
        }
        // One replica at a time (New API nodes share one database, so one list).
        let Ok(mut slot) = self.crawl.try_lock() else { return };
        let CrawlSlot { pass, assembled, .. } = &mut *slot;
        match crawl::step(&self.client, calls, base, pass, assembled.as_ref(), CRAWL_STEP_PAGES, unix_now).await {
            Ok(step) => {
                if step.pages > 0 || step.restarted.is_some() {
                    slot.generation += 1;
                }
                snap.notes.extend(step.restarted);
                if let Some(done) = step.done {
                    slot.set_assembled(Some(done));
                }
            }
            Err(e @ GatewayError::RateLimited { .. }) => {
                snap.notes.push(format!("assembling the channel list: {e}; it goes on at a later poll"));
            }
            Err(e) => {
                slot.generation += 1;
                snap.notes.push(format!("assembling the channel list: {e}; it goes on at the next poll"));
            }
        }
        let now = unix_now();
        let ago = |t: i64| crate::config::duration::human_since(t, now);
        if slot.pass.next > 0 {
            why_unread(
                snap,
                &format!(
                    "assembling it page by page with the requests the rate limit leaves: {} of {} read, the first page {} ago",
                    slot.pass.len(),
                    slot.pass.total.max(total),
                    ago(slot.pass.first_at)
                ),
            );
        } else if slot.assembled.is_none() {
            why_unread(
                snap,
                &format!(
                    "assembling it page by page with the requests the rate limit leaves: not started (no room yet; {} of {} requests used)",
                    self.client.pacer().budget().used,
                    self.client.pacer().config().budget
                ),
            );
        }
        let slot = &mut *slot;
        let Some(a) = slot.assembled.as_mut() else { return };
        if now - a.first_at > crawl::MAX_USE_SECS {
            snap.notes.push(format!(
                "the list assembled from pages read {} ago is too old to judge from; a newer pass is under way",
                ago(a.first_at)
            ));
            return;
        }
        // Statuses as old as the pages are what an incident turns on: judged
        // only with every disabled channel read now.
        if snap.disabled_channels.ok().is_none() {
            snap.notes.push(format!(
                "the list assembled from pages read {} ago is not judged from: the disabled channels were not read now",
                ago(a.first_at)
            ));
            return;
        }
        let first_page = first.map(|(_, page)| page).unwrap_or_default();
        let models: Vec<(&str, &[Deployment])> = snap
            .model_channels
            .ok()
            .map(|v| {
                v.iter().filter_map(|m| m.channels.as_ref().ok().map(|c| (m.model.as_str(), c.as_slice()))).collect()
            })
            .unwrap_or_default();
        let fresh = crawl::Fresh {
            total,
            first_page: &first_page,
            disabled: snap.disabled_channels.ok().map(Vec::as_slice),
            models,
        };
        let mut laid = vec![
            format!("page 1 ({} newest channels)", first_page.len()),
            format!("every disabled channel ({})", fresh.disabled.map_or(0, <[Deployment]>::len)),
        ];
        laid.extend(fresh.models.iter().map(|(m, c)| format!("every channel of {m} ({})", c.len())));
        match a.patch(&fresh) {
            Ok(changed) => {
                if changed {
                    slot.generation += 1;
                }
                snap.assembled = Some(super::ListAssembly {
                    first_at: a.first_at,
                    last_at: a.last_at,
                    pages: a.pages,
                    steps: a.steps,
                    fresh: laid.join(", "),
                });
                snap.served_models = Section::Ok(served(&a.deployments));
                snap.deployments = Section::Ok(std::sync::Arc::clone(&a.deployments));
            }
            Err(why) => {
                snap.notes.push(why);
                slot.set_assembled(None);
                slot.generation += 1;
            }
        }
    }

    pub fn pacer(&self) -> &pacer::Pacer {
        self.client.pacer()
    }

    async fn status(&self, calls: &Calls, base: &str) -> Result<(RawResponse, api::StatusData), GatewayError> {
        let resp = self.client.call(calls, base, &Req::get("/api/status", Class::Poll).public()).await?;
        let data = resp.json::<api::Envelope<api::StatusData>>()?.data;
        Ok((resp, data))
    }

    /// `GET /api/status/test`: the credential is accepted and the database
    /// answers a ping (503 `数据库连接失败` when it does not).
    async fn status_test(&self, calls: &Calls, base: &str) -> Result<(Readiness, Option<i64>), GatewayError> {
        let resp = self.client.send_raw(calls, base, &Req::get("/api/status/test", Class::Poll)).await?;
        if resp.status == StatusCode::SERVICE_UNAVAILABLE
            && !resp.is_html()
            && String::from_utf8_lossy(&resp.body).contains("数据库连接失败")
        {
            let ready = Readiness {
                status: "database unreachable".into(),
                db: Some("ping failed (数据库连接失败)".into()),
                cache: None,
            };
            return Ok((ready, None));
        }
        let resp = answer::check(resp, self.client.sent())?;
        let t: api::StatusTest = resp.json()?;
        let ready = Readiness { status: "running".into(), db: Some("ok".into()), cache: None };
        Ok((ready, t.http_stats.and_then(|s| s.active_connections)))
    }
}

/// A CDN seen in the answer's headers.
/// The error log (failures, by model and one by one, with the server's
/// clock), then the consume log (successes) when the error log answered.
async fn read_logs(client: &Client, calls: &Calls, base: &str, snap: &mut ReplicaSnapshot) {
    match logs::recent(client, calls, base).await {
        Ok((models, entries, server_now)) => {
            snap.recent_errors = Section::Ok(models);
            snap.error_log = Section::Ok(entries);
            snap.server_time = server_now;
            snap.consume_log = Section::from_result(logs::consumed(client, calls, base).await);
        }
        Err(e) => {
            snap.recent_errors = Section::from_result(Err(e.clone()));
            snap.error_log = Section::from_result(Err(e));
        }
    }
}

fn front_proxy(resp: &RawResponse) -> Option<String> {
    if resp.header("cf-ray").is_some() || resp.header("server").is_some_and(|s| s.eq_ignore_ascii_case("cloudflare")) {
        Some("cloudflare".into())
    } else {
        None
    }
}

/// The model names clients can use: every model of an enabled channel.
pub fn served(deployments: &[Deployment]) -> Vec<String> {
    let set: BTreeSet<&str> =
        deployments.iter().filter(|d| d.status == DeploymentStatus::Serving).flat_map(|d| d.models.iter()).collect();
    set.into_iter().map(str::to_owned).collect()
}

fn auth_state(e: &GatewayError) -> Option<AuthState> {
    match e {
        GatewayError::Auth { message, hint, .. } => {
            Some(AuthState::Rejected { message: message.clone(), hint: hint.clone() })
        }
        GatewayError::MissingCredential { env } => Some(AuthState::Missing { env: env.clone() }),
        _ => None,
    }
}

#[async_trait]
impl Gateway for NewApi {
    fn spec(&self) -> &GatewaySpec {
        &self.spec
    }

    async fn liveness(&self, target: &ReplicaTarget) -> Result<Liveness, GatewayError> {
        let calls = Calls::default();
        let (resp, data) = self.status(&calls, &target.url).await?;
        Ok(Liveness { latency: resp.elapsed, version: data.version, started_at: data.start_time })
    }

    async fn poll(&self, target: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError> {
        let calls = Calls::default();
        let base = target.url.as_str();
        let (resp, status) = self.status(&calls, base).await?;
        let mut snap = ReplicaSnapshot::new(resp.elapsed);
        snap.version = status.version;
        snap.started_at = status.start_time;
        snap.setup = status.setup;
        snap.front_proxy = front_proxy(&resp);
        snap.router = Section::Unavailable(NO_ROUTER.into());
        snap.cache = Section::Unavailable(NO_CACHE.into());
        snap.console = self.console.get(&self.client, &calls, base).await;

        // The admin probe tells whether the credential works even with zero channels.
        let probe = if self.client.has_token() {
            self.status_test(&calls, base).await
        } else {
            Err(GatewayError::MissingCredential { env: self.spec.credential_env.clone() })
        };
        // A 429 is not an answer about the gateway: fail the poll, so the app
        // keeps showing the last good data (with its age) instead of nothing.
        if let Err(e @ GatewayError::RateLimited { .. }) = &probe {
            return Err(e.clone());
        }
        let refused = probe.as_ref().err().and_then(auth_state);
        snap.readiness = match &probe {
            Ok((ready, conns)) => {
                if let Some(n) = conns {
                    snap.notes.push(format!("{n} active HTTP connection(s) on this node"));
                }
                Section::Ok(ready.clone())
            }
            Err(e) => Section::from_result(Err(e.clone())),
        };
        if let (Some(state), Err(e)) = (refused, &probe) {
            // Without a working credential no admin route answers: do not spend requests.
            snap.auth = state;
            snap.deployments = Section::Failed(e.clone());
            snap.served_models = Section::Failed(e.clone());
        } else {
            let listing = list::read_all(&self.client, &calls, base).await;
            snap.auth = match (&probe, &listing) {
                (Ok(_), _) | (_, Ok(_)) => AuthState::Ok,
                (_, Err(f)) => auth_state(&f.error).unwrap_or(AuthState::NotChecked),
            };
            match listing {
                Ok(l) => {
                    snap.notes.extend(l.notes);
                    snap.served_models = Section::Ok(served(&l.deployments));
                    snap.deployments = Section::Ok(std::sync::Arc::new(l.deployments));
                    if l.flavor == Some(channel::Flavor::OneApi) {
                        snap.recent_errors = Section::Unavailable("One API's log has no error type".into());
                        snap.error_log = Section::Unavailable("One API's log has no error type".into());
                        snap.consume_log = Section::Unavailable("One API's log has no error type".into());
                    } else {
                        read_logs(&self.client, &calls, base, &mut snap).await;
                    }
                }
                Err(ListFailure { error: e @ GatewayError::RateLimited { .. }, .. }) => return Err(e),
                Err(mut f) => {
                    snap.notes.extend(std::mem::take(&mut f.notes));
                    let first = f.first_page.take();
                    // Too many to read whole: the disabled ones, which carry
                    // the auto-disable evidence, are a small subset.
                    if matches!(&f.error, GatewayError::Rejected { message } if message.contains("reads at most")) {
                        snap.disabled_channels =
                            Section::from_result(list::read_disabled_subset(&self.client, &calls, base).await);
                        // Incident first: the models failing requests now (the
                        // error log), then the ones the operator named, read whole.
                        read_logs(&self.client, &calls, base, &mut snap).await;
                        let mut models: Vec<String> = snap
                            .recent_errors
                            .ok()
                            .map(|f| f.iter().map(|m| m.model.clone()).collect())
                            .unwrap_or_default();
                        models.extend(self.spec.client_models.iter().cloned());
                        let mut seen = std::collections::HashSet::new();
                        models.retain(|m| !m.is_empty() && seen.insert(m.clone()));
                        models.truncate(list::MAX_SUBSET_MODELS);
                        let mut subsets = Vec::with_capacity(models.len());
                        for model in models {
                            let channels = list::read_model_subset(&self.client, &calls, base, &model).await;
                            if let Err(e @ GatewayError::RateLimited { .. }) = &channels {
                                subsets.push(ModelSubset { model, channels: Err(e.clone()) });
                                break;
                            }
                            subsets.push(ModelSubset { model, channels });
                        }
                        snap.model_channels = Section::Ok(subsets);
                    }
                    let too_many = first.is_some();
                    snap.served_models = Section::Failed(f.error.clone());
                    snap.deployments = Section::from_result(Err(f.error));
                    if too_many {
                        self.crawl(&calls, base, &mut snap, first).await;
                    }
                }
            }
        }
        snap.requests = calls.count();
        Ok(snap)
    }

    fn rate_budget(&self) -> Option<RateBudget> {
        Some(self.client.pacer().budget())
    }

    fn carry(&self) -> Option<String> {
        let mut sent = self.others_in_window();
        sent.insert(self.run.clone(), self.client.pacer().recent().into_iter().map(unix_ms).collect());
        serde_json::to_string(&Carry { server: self.spec.url.clone(), sent, ..Carry::default() }).ok()
    }

    fn carry_lists(&self, since: u64) -> Option<(u64, CarryWriter)> {
        // Not while a poll holds it: the next cycle saves.
        let slot = self.crawl.try_lock().ok()?;
        if slot.generation == since {
            return None;
        }
        let carry =
            CarryLists { server: self.spec.url.clone(), pass: slot.pass.clone(), assembled: slot.assembled.clone() };
        Some((slot.generation, Box::new(move |w| crate::statefile::stream::to_writer(w, &carry))))
    }

    /// Merge another run's carry (at start, or written by a `check` while
    /// this one runs): its requests not counted yet go into the window; the
    /// pass further along and the newer assembled list are kept.
    fn resume(&self, json: &mut dyn std::io::Read) {
        // Strings shared as they are read: the lists are born lean (the
        // assembled list and a pass of 50,000 channels each).
        let read = || serde_json::from_reader::<_, Carry>(std::io::BufReader::new(json));
        let Ok(mut carry) = crate::gateway::text::sharing(read) else { return };
        if carry.server != self.spec.url {
            return;
        }
        let mut fresh = Vec::new();
        {
            let mut others = self.others.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (run, times) in carry.sent {
                if run == self.run {
                    continue;
                }
                let known = others.entry(run).or_default();
                let seen = known.iter().max().copied().unwrap_or(i64::MIN);
                let new: Vec<i64> = times.into_iter().filter(|t| *t > seen).collect();
                fresh.extend(new.iter().filter_map(|ms| u64::try_from(*ms).ok()));
                known.extend(new);
            }
        }
        let sent: Vec<std::time::SystemTime> =
            fresh.into_iter().map(|ms| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms)).collect();
        self.client.pacer().seed(&sent);
        if let Ok(mut slot) = self.crawl.try_lock() {
            let now = unix_now();
            // A pass or list from the future, or past a day, is not carried on.
            let usable = |t: i64| t <= now + 60 && now - t <= 24 * 3600;
            let take_list = carry
                .assembled
                .as_ref()
                .is_some_and(|a| usable(a.first_at) && slot.assembled.as_ref().is_none_or(|b| a.first_at > b.first_at));
            // The list first: the pass held before is spelled out from the list
            // it replaces, and the carried pass then names the carried list.
            if take_list && let Some(mut a) = carry.assembled.take() {
                crate::gateway::compact_list(&mut a.deployments);
                slot.set_assembled(Some(a));
                slot.generation += 1;
            }
            // The pass names the channels its list has unchanged by id: kept
            // so when that list was taken, else spelled out from it (a pass
            // naming a channel its list lacks, or with no list, is not
            // carried on). Only a pass further along is looked at.
            let take_pass = usable(carry.pass.first_at)
                && carry.pass.len() > slot.pass.len()
                && (take_list
                    || carry
                        .assembled
                        .as_ref()
                        .map_or(!carry.pass.holds_ids(), |a| carry.pass.unshare(&a.deployments)));
            if take_pass {
                slot.pass = carry.pass;
                slot.generation += 1;
            }
            // What the pass read as the list has it is held once.
            let CrawlSlot { pass, assembled, .. } = &mut *slot;
            if let Some(a) = assembled {
                pass.share_with(&a.deployments);
            }
        }
    }

    fn carried_list(&self) -> Option<(i64, std::sync::Arc<Vec<Deployment>>)> {
        let slot = self.crawl.try_lock().ok()?;
        slot.assembled.as_ref().map(|a| (a.first_at, std::sync::Arc::clone(&a.deployments)))
    }

    async fn admin(&self, target: &ReplicaTarget, op: &AdminOp) -> Result<AdminResult, GatewayError> {
        let calls = Calls::default();
        admin::run(&self.client, &calls, &target.url, op).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_models_are_the_enabled_union() {
        let mut a = Deployment::new("1", "a");
        a.models = crate::gateway::Names::from(vec!["m2", "m1"]);
        let mut b = Deployment::new("2", "b");
        b.models = crate::gateway::Names::from(vec!["m3", "m1"]);
        let mut c = Deployment::new("3", "c");
        c.models = crate::gateway::Names::from(vec!["m9"]);
        c.status = DeploymentStatus::AutoDisabled;
        assert_eq!(served(&[a, b, c]), ["m1", "m2", "m3"]);
    }

    /// A pass read beside an assembled list (against the simulator) holds
    /// the channels that list has unchanged as ids, and ends as the same
    /// list a pass read alone does: the channel changed since as it is now.
    #[tokio::test]
    async fn a_pass_beside_the_assembled_list_ends_as_a_pass_read_alone() {
        use crate::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState};
        let state = std::sync::Arc::new(std::sync::Mutex::new(NewApiState::with_channels(250)));
        let cancel = tokio_util::sync::CancellationToken::new();
        let addr = newapi_sim::serve(std::sync::Arc::clone(&state), cancel.clone()).await.unwrap();
        let url = format!("http://{addr}");
        let gw = NewApi::with_credentials(
            GatewaySpec::new("n", crate::config::GatewayKind::NewApi, &url),
            Some(Secret::new(DEMO_ACCESS_TOKEN)),
            Some("1".into()),
        );
        let read = |pass: &mut crawl::Pass, against: Option<&crawl::Assembled>, pages: usize| {
            let (client, url) = (&gw.client, url.clone());
            let mut pass_now = std::mem::take(pass);
            let against = against.cloned();
            async move {
                let step =
                    crawl::step(client, &Calls::default(), &url, &mut pass_now, against.as_ref(), pages, unix_now)
                        .await
                        .unwrap();
                (pass_now, step)
            }
        };
        let (_, first) = read(&mut crawl::Pass::default(), None, 10).await;
        let first = first.done.expect("three pages: whole");
        assert_eq!(first.deployments.len(), 250);
        state.lock().unwrap().channels.iter_mut().find(|c| c.id == 200).unwrap().name = "renamed since".into();
        // Two of its three pages: the unchanged channels held once.
        let (mut beside, step) = read(&mut crawl::Pass::default(), Some(&first), 2).await;
        assert!(step.done.is_none());
        let shared = beside.channels.iter().filter(|r| matches!(r, crawl::Read::Same(_))).count();
        assert_eq!((beside.len(), shared), (200, 199), "all but the renamed channel held as ids");
        // Carried on by the next run: written with the unchanged channels as
        // ids (the list is written beside), read back holding them so.
        let spelled = |p: &crawl::Pass, list: &[Deployment]| serde_json::to_value(p.saved(Some(list))).unwrap();
        let want = spelled(&beside, &first.deployments);
        let lists = CarryLists { server: url.clone(), pass: beside.clone(), assembled: Some(first.clone()) };
        let json = serde_json::to_string(&lists).unwrap();
        let written: serde_json::Value = serde_json::from_str(&json).unwrap();
        let as_ids = written["pass"]["channels"].as_array().unwrap().iter().filter(|c| c.is_string()).count();
        assert_eq!(as_ids, 199, "the unchanged channels written as ids");
        let run = || {
            NewApi::with_credentials(
                GatewaySpec::new("n", crate::config::GatewayKind::NewApi, &url),
                Some(Secret::new(DEMO_ACCESS_TOKEN)),
                Some("1".into()),
            )
        };
        let next = run();
        next.resume(&mut json.as_bytes());
        {
            let slot = next.crawl.try_lock().unwrap();
            let list = &slot.assembled.as_ref().expect("the list carried on").deployments;
            let held = slot.pass.channels.iter().filter(|r| matches!(r, crawl::Read::Same(_))).count();
            assert_eq!((slot.pass.len(), held), (200, 199), "read back as ids");
            assert_eq!(spelled(&slot.pass, list), want);
        }
        // A run holding a newer list of its own: the carried pass is spelled
        // out from the list written beside it, then held against its own.
        let newer = run();
        {
            let mut slot = newer.crawl.try_lock().unwrap();
            // Newer, and without a channel the pass names by id.
            let named = beside.channels.iter().find_map(|r| match r {
                crawl::Read::Same(id) => Some(id.clone()),
                crawl::Read::Page(_) => None,
            });
            let mut own = first.clone();
            own.first_at += 10;
            own.deployments = std::sync::Arc::new(
                first.deployments.iter().filter(|d| Some(&d.id) != named.as_ref()).cloned().collect(),
            );
            assert_eq!(own.deployments.len(), 249);
            slot.set_assembled(Some(own));
        }
        newer.resume(&mut json.as_bytes());
        {
            let slot = newer.crawl.try_lock().unwrap();
            let list = &slot.assembled.as_ref().unwrap().deployments;
            assert_eq!(slot.pass.len(), 200);
            assert_eq!(spelled(&slot.pass, list), want);
        }
        // A pass naming channels with no list beside it is not carried on.
        let orphan = serde_json::json!({ "server": url, "pass": written["pass"] }).to_string();
        let lone = run();
        lone.resume(&mut orphan.as_bytes());
        assert!(lone.crawl.try_lock().unwrap().pass.is_empty(), "a pass of ids with nothing to resolve them");
        let (_, step) = read(&mut beside, Some(&first), 10).await;
        let beside = step.done.expect("whole");
        let (_, alone) = read(&mut crawl::Pass::default(), None, 10).await;
        let alone = alone.done.expect("whole");
        assert_eq!(beside.deployments, alone.deployments);
        assert!(beside.deployments.iter().any(|d| d.name == "renamed since"));
        cancel.cancel();
    }

    /// A TUI and a cron `check` at once: each counts the other's requests
    /// once, never its own twice, and keeps the pass further along.
    #[tokio::test]
    async fn two_runs_share_one_window_and_the_pass_further_along() {
        let spec = GatewaySpec::new("n", crate::config::GatewayKind::NewApi, "http://127.0.0.1:9");
        let tui = NewApi::with_credentials(spec.clone(), None, None);
        let cron = NewApi::with_credentials(spec.clone(), None, None);
        for _ in 0..3 {
            tui.pacer().acquire(Class::Poll).await.unwrap();
        }
        cron.resume(&mut tui.carry().unwrap().as_bytes());
        assert_eq!(cron.pacer().budget().used, 3, "the TUI's three");
        for _ in 0..2 {
            cron.pacer().acquire(Class::Poll).await.unwrap();
        }
        {
            let mut slot = cron.crawl.try_lock().unwrap();
            let mut pass = crawl::Pass::with_channels((0..200).map(|i| Deployment::new(i.to_string(), "c")).collect());
            (pass.next, pass.total, pass.first_at, pass.last_at, pass.steps) = (3, 500, unix_now() - 60, unix_now(), 1);
            slot.pass = pass;
            slot.generation += 1;
        }
        let theirs = cron.carry().unwrap();
        tui.resume(&mut theirs.as_bytes());
        let (generation, write) = cron.carry_lists(0).unwrap();
        assert!(cron.carry_lists(generation).is_none(), "written once until it changes");
        let mut lists = Vec::new();
        write(&mut lists).unwrap();
        let lists = String::from_utf8(lists).unwrap();
        assert!(!theirs.contains("channels"), "the requests file holds no list");
        tui.resume(&mut lists.as_bytes());
        assert_eq!(tui.pacer().budget().used, 5, "its own three and the cron's two: {theirs}");
        tui.resume(&mut theirs.as_bytes());
        assert_eq!(tui.pacer().budget().used, 5, "read again: nothing counted twice");
        assert_eq!(tui.crawl.try_lock().unwrap().pass.len(), 200, "the pass further along");
        // The TUI hands on both runs' requests; the cron's own are not re-counted by it.
        cron.resume(&mut tui.carry().unwrap().as_bytes());
        assert_eq!(cron.pacer().budget().used, 5);
        // Another server's carry is not this one's.
        let other = NewApi::with_credentials(
            GatewaySpec::new("n", crate::config::GatewayKind::NewApi, "http://127.0.0.1:10"),
            None,
            None,
        );
        other.resume(&mut theirs.as_bytes());
        assert_eq!(other.pacer().budget().used, 0);
    }
}
