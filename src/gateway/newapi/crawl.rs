//! A channel list too large to read in one poll (past
//! [`super::list::MAX_CHANNELS`]), read a page at a time across polls — and
//! across runs: a cron `check` carries it on where the last one stopped —
//! with only the requests the incident-first reads leave
//! ([`super::pacer::Class::Crawl`]).
//!
//! Pages are New API's `id_sort=true` pages (`id desc`). The list moves
//! while it is read: a channel added shifts the later pages down (a channel
//! read twice, kept once); a channel deleted shifts them up, and the first
//! channel of the next page would be skipped unseen. So a page whose
//! `total` is below the last page's starts the pass again: a list with a
//! hole would show the missing channel as absent, which reads as "deleted".
//!
//! A finished pass is an [`Assembled`] list: its channels as each page
//! said, and when the first and the last page were read — never passed off
//! as read now. [`Assembled::patched`] lays what this poll read fresh over
//! it, and refuses when the count says channels were deleted since.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::gateway::{Deployment, DeploymentStatus, GatewayError};

use super::api::{Envelope, ListData};
use super::channel::{Flavor, to_deployment};
use super::client::{Calls, Client, Req};
use super::list::PAGE_SIZE;
use super::pacer::Class;
use crate::gateway::text::Interner;
use compact_str::CompactString;

/// The most pages one pass reads: a server that never ends its list stops
/// here.
pub const MAX_PAGES: usize = 5_000;
/// The most channels assembled (a larger total is refused outright).
pub const MAX_CHANNELS: usize = MAX_PAGES * PAGE_SIZE;
/// An assembled list whose first page is older than this is not used for
/// verdicts. Its statuses are laid fresh every poll; what can age is the
/// rest (models, groups, priorities of the channels outside the models
/// read now). Three hours: a cron `check` every 5 minutes assembles 50,000
/// channels in ~25 runs when the disabled channels take ~50 requests a run.
pub const MAX_USE_SECS: i64 = 3 * 3600;

/// A pass under way (saved between runs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pass {
    /// The next page to read (1-based; 0 before the first).
    pub next: usize,
    /// The total the last page read reported.
    pub total: usize,
    /// Unix seconds of the pass's first and latest page.
    pub first_at: i64,
    pub last_at: i64,
    /// Polls (or runs) that read a page of it.
    pub steps: usize,
    /// Shared with a carry being written (a page read meanwhile copies it).
    pub(super) channels: Arc<Vec<Read>>,
}

/// One channel a pass has read. A 50,000-channel pass beside the list
/// assembled before it would hold the list twice; a channel a page shows as
/// the assembled list has it is kept as its id alone, and taken from that
/// list when the pass is whole.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Read {
    /// As the assembled list has it.
    Same(CompactString),
    /// As the page said, where that differs (or there is no list yet).
    Page(Box<Deployment>),
}

impl Read {
    fn id(&self) -> &str {
        match self {
            Read::Same(id) => id,
            Read::Page(d) => &d.id,
        }
    }
}

/// A list's positions by channel id.
fn positions(list: &[Deployment]) -> HashMap<&str, usize> {
    list.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect()
}

impl Pass {
    /// A pass holding `channels` as read (tests, and a carry read back).
    pub fn with_channels(channels: Vec<Deployment>) -> Self {
        Self { channels: Arc::new(channels.into_iter().map(|d| Read::Page(Box::new(d))).collect()), ..Self::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.next == 0 && self.channels.is_empty()
    }

    /// Channels read so far.
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    fn ids(&self) -> HashSet<String> {
        self.channels.iter().map(|r| r.id().to_owned()).collect()
    }

    /// Hold as ids the channels `list` has exactly as read (after a carry is
    /// read back beside its assembled list).
    pub fn share_with(&mut self, list: &[Deployment]) {
        let at = positions(list);
        let same = |r: &Read| matches!(r, Read::Page(d) if at.get(d.id.as_str()).is_some_and(|&i| list[i] == **d));
        if !self.channels.iter().any(same) {
            return;
        }
        for r in Arc::make_mut(&mut self.channels) {
            if same(r) {
                *r = Read::Same(r.id().into());
            }
        }
    }

    /// Copy back what it holds as ids from `list` (before `list` is dropped
    /// or replaced). `false` when `list` lacks one of them: the pass cannot
    /// be completed and must start over.
    #[must_use]
    pub fn unshare(&mut self, list: &[Deployment]) -> bool {
        if !self.holds_ids() {
            return true;
        }
        let at = positions(list);
        for r in Arc::make_mut(&mut self.channels) {
            if let Read::Same(id) = r {
                let Some(&i) = at.get(id.as_str()) else { return false };
                *r = Read::Page(Box::new(list[i].clone()));
            }
        }
        true
    }

    /// The channels in page order, those held as ids taken from `list`;
    /// `None` when `list` lacks one.
    fn resolve(&self, list: Option<&[Deployment]>) -> Option<Vec<Deployment>> {
        let at = list.map(positions).unwrap_or_default();
        // Sized exactly: grown by doubling, 50,000 channels took 27 MB for 20.
        let mut out = Vec::with_capacity(self.channels.len());
        for r in self.channels.iter() {
            out.push(match r {
                Read::Page(d) => (**d).clone(),
                Read::Same(id) => list?[*at.get(id.as_str())?].clone(),
            });
        }
        Some(out)
    }

    /// The pass as it is saved alone: every channel spelled out, as the page
    /// said or as `list` has it.
    pub fn saved<'a>(&'a self, list: Option<&'a [Deployment]>) -> SavedPass<'a> {
        SavedPass { pass: self, list, by_id: false }
    }

    /// The pass as it is saved beside `list` (the carry writes both): a
    /// channel `list` has unchanged is written as its id, so the file and its
    /// reading back hold that channel once (half the carry at 50,000 channels).
    pub fn saved_beside<'a>(&'a self, list: &'a [Deployment]) -> SavedPass<'a> {
        SavedPass { pass: self, list: Some(list), by_id: true }
    }

    /// Whether it holds channels as ids (read back beside a list).
    pub fn holds_ids(&self) -> bool {
        self.channels.iter().any(|r| matches!(r, Read::Same(_)))
    }
}

/// [`Pass::saved`].
pub struct SavedPass<'a> {
    pass: &'a Pass,
    list: Option<&'a [Deployment]>,
    /// Channels `list` has unchanged written as ids.
    by_id: bool,
}

impl Serialize for SavedPass<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq as _, SerializeStruct as _};
        struct Channels<'a>(&'a SavedPass<'a>);
        impl Serialize for Channels<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let SavedPass { pass, list, by_id } = self.0;
                let at = if *by_id { HashMap::new() } else { list.map(positions).unwrap_or_default() };
                let mut seq = s.serialize_seq(Some(pass.channels.len()))?;
                for r in pass.channels.iter() {
                    match r {
                        Read::Page(d) => seq.serialize_element(&**d)?,
                        // The list is written beside the pass: its id says it.
                        Read::Same(id) if *by_id => seq.serialize_element(id.as_str())?,
                        Read::Same(id) => {
                            let d = list.zip(at.get(id.as_str())).map(|(l, &i)| &l[i]);
                            seq.serialize_element(d.ok_or_else(|| S::Error::custom("a channel of the pass is gone"))?)?;
                        }
                    }
                }
                seq.end()
            }
        }
        let p = self.pass;
        let mut st = s.serialize_struct("Pass", 6)?;
        st.serialize_field("next", &p.next)?;
        st.serialize_field("total", &p.total)?;
        st.serialize_field("first_at", &p.first_at)?;
        st.serialize_field("last_at", &p.last_at)?;
        st.serialize_field("steps", &p.steps)?;
        st.serialize_field("channels", &Channels(self))?;
        st.end()
    }
}

/// One channel of a saved pass: an object as the page said it, or a string,
/// the id of a channel the list saved beside the pass has unchanged.
impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Read;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a channel, or the id of one in the list saved beside the pass")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<Read, E> {
                Ok(Read::Same(id.into()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Read, A::Error> {
                Deployment::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|d| Read::Page(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A saved pass read back: its channels as read, or as the ids of the list
/// saved beside it (held as ids while that list is the one kept, else
/// spelled out from it with [`Pass::unshare`]).
impl<'de> Deserialize<'de> for Pass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Saved {
            next: usize,
            total: usize,
            first_at: i64,
            last_at: i64,
            steps: usize,
            channels: Vec<Read>,
        }
        let s = Saved::deserialize(d)?;
        Ok(Self {
            next: s.next,
            total: s.total,
            first_at: s.first_at,
            last_at: s.last_at,
            steps: s.steps,
            channels: Arc::new(s.channels),
        })
    }
}

/// A whole list, assembled from pages read at different times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assembled {
    /// Written with its count first: read back at its size.
    #[serde(with = "crate::gateway::counted")]
    pub deployments: Arc<Vec<Deployment>>,
    /// Unix seconds of its first and last page.
    pub first_at: i64,
    pub last_at: i64,
    pub pages: usize,
    /// Polls (or runs) it took.
    pub steps: usize,
}

/// What a crawl step did.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// Pages read this step.
    pub pages: usize,
    /// The pass just finished.
    pub done: Option<Assembled>,
    /// It started over, and why.
    pub restarted: Option<String>,
}

fn page_path(page: usize) -> String {
    format!("/api/channel/?p={page}&page_size={PAGE_SIZE}&id_sort=true")
}

/// Read the next pages of `pass`, as many as the budget has room for now
/// while leaving the next poll as many requests as this one made before
/// (`calls`), at most `max_pages`. Errors other than "no room" end the step; the
/// pass keeps what it read.
pub async fn step(
    client: &Client,
    calls: &Calls,
    base: &str,
    pass: &mut Pass,
    assembled: Option<&Assembled>,
    max_pages: usize,
    now: impl Fn() -> i64,
) -> Result<Step, GatewayError> {
    let mut out = Step::default();
    // The next poll (or run) needs what this one's incident-first reads cost.
    let room = client.pacer().room_leaving(Class::Crawl, calls.count()).min(max_pages);
    if room == 0 {
        return Ok(out);
    }
    if pass.next == 0 {
        *pass = Pass { next: 1, ..Pass::default() };
    }
    let mut seen = pass.ids();
    let list = assembled.map(|a| a.deployments.as_slice());
    let listed = list.map(positions).unwrap_or_default();
    for _ in 0..room {
        let path = page_path(pass.next);
        let data = match client.call(calls, base, &Req::get(&path, Class::Crawl)).await {
            Ok(resp) => resp.json::<Envelope<ListData>>()?.data,
            // No room after all (an action went first): later.
            Err(GatewayError::RateLimited { retry_after: None }) => break,
            Err(e) => return Err(e),
        };
        let ListData::Page(page) = data else {
            return Err(GatewayError::WrongShape { path, detail: "page format changed mid-read".into() });
        };
        let at = now();
        let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
        let items = page.items.unwrap_or_default();
        if out.pages == 0 {
            pass.steps += 1;
        }
        out.pages += 1;
        if pass.first_at == 0 {
            pass.first_at = at;
        }
        if pass.next > 1 && total < pass.total {
            let why = format!(
                "the channel list shrank from {} to {total} while it was being assembled (channels deleted \
                 shift the later pages, so one could be skipped): reading it again from the first page",
                pass.total
            );
            *pass = Pass::default();
            out.restarted = Some(why);
            return Ok(out);
        }
        pass.total = total;
        pass.last_at = at;
        let empty = items.is_empty();
        let mut fresh = 0;
        let mut names = Interner::default();
        if !empty {
            let channels = Arc::make_mut(&mut pass.channels);
            for c in items {
                if seen.insert(c.id.to_string()) {
                    fresh += 1;
                    let d = to_deployment(c, Flavor::NewApi, &mut names);
                    let same = list.zip(listed.get(d.id.as_str())).is_some_and(|(l, &i)| l[i] == d);
                    channels.push(if same { Read::Same(d.id) } else { Read::Page(Box::new(d)) });
                }
            }
        }
        if fresh == 0 && !empty {
            // (Or more than a page of channels added since the last page: read again either way.)
            let page = pass.next;
            *pass = Pass::default();
            return Err(GatewayError::WrongShape {
                path,
                detail: format!("page {page} holds only channels already read: the server ignores the page parameter"),
            });
        }
        let finished = pass.channels.len() >= total || fresh == 0;
        if finished {
            let whole = std::mem::take(pass);
            if whole.channels.len() < whole.total {
                let why = format!(
                    "page {} held no channel not read before, with {} of {} read: reading it again from the first page",
                    whole.next,
                    whole.channels.len(),
                    whole.total
                );
                out.restarted = Some(why);
                return Ok(out);
            }
            let Some(channels) = whole.resolve(list) else {
                out.restarted = Some(
                    "the list this pass shared its unchanged channels with was replaced: reading it again from the \
                     first page"
                        .into(),
                );
                return Ok(out);
            };
            out.done = Some(Assembled {
                deployments: Arc::new(channels),
                first_at: whole.first_at,
                last_at: whole.last_at,
                pages: whole.next,
                steps: whole.steps,
            });
            return Ok(out);
        }
        pass.next += 1;
        if pass.next > MAX_PAGES {
            *pass = Pass::default();
            return Err(GatewayError::Rejected {
                message: format!("the channel list runs past {MAX_PAGES} pages; gatewatch stops there"),
            });
        }
    }
    Ok(out)
}

/// What this poll read fresh, to lay over an assembled list.
#[derive(Debug, Default)]
pub struct Fresh<'a> {
    /// The list's current total and its first page (the newest channels).
    pub total: usize,
    pub first_page: &'a [Deployment],
    /// Every disabled channel, if read whole.
    pub disabled: Option<&'a [Deployment]>,
    /// Every channel of each model read whole.
    pub models: Vec<(&'a str, &'a [Deployment])>,
}

fn is_off(d: &Deployment) -> bool {
    matches!(d.status, DeploymentStatus::AutoDisabled | DeploymentStatus::ManuallyDisabled)
}

impl Assembled {
    /// Lay what was read fresh over the list: the newest channels (page 1),
    /// every channel's enabled/disabled state when the disabled channels
    /// were read whole, and every channel of the models read whole. `true`
    /// when that changed it (the list is copied only then, and only when a
    /// snapshot still shares it). `Err(why)` when the counts say channels
    /// were deleted since (a deleted channel would still count as serving)
    /// or more were added than page 1 shows.
    pub fn patch(&mut self, fresh: &Fresh<'_>) -> Result<bool, String> {
        let newest_known = self.deployments.iter().filter_map(|d| d.id.parse::<i64>().ok()).max().unwrap_or(0);
        let at: HashMap<&str, usize> = self.deployments.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
        let added: Vec<&Deployment> = fresh
            .first_page
            .iter()
            .filter(|d| !at.contains_key(d.id.as_str()) && d.id.parse::<i64>().is_ok_and(|id| id > newest_known))
            .collect();
        let page_reaches_back = fresh.first_page.len() < PAGE_SIZE
            || fresh
                .first_page
                .iter()
                .filter_map(|d| d.id.parse::<i64>().ok())
                .min()
                .is_some_and(|m| m <= newest_known);
        if !page_reaches_back {
            return Err(format!(
                "more than {PAGE_SIZE} channels were added since the list was assembled: reading it again"
            ));
        }
        let expected = self.deployments.len() + added.len();
        if fresh.total < expected {
            return Err(format!(
                "{} channel(s) were deleted since the list was assembled (it counts {expected}, the gateway {}): \
                 reading it again",
                expected - fresh.total,
                fresh.total
            ));
        }
        if fresh.total > expected {
            return Err(format!(
                "the gateway counts {} channels, the assembled list and page 1 {expected}: reading it again",
                fresh.total
            ));
        }
        let list = self.deployments.as_slice();
        let same = |f: &Deployment| at.get(f.id.as_str()).is_some_and(|&i| list[i] == *f);
        let off: Option<HashSet<&str>> = fresh.disabled.map(|v| v.iter().map(|d| d.id.as_str()).collect());
        let changed = !added.is_empty()
            || !fresh.first_page.iter().all(same)
            || fresh.disabled.is_some_and(|v| !v.iter().all(same))
            || off.as_ref().is_some_and(|off| list.iter().any(|d| is_off(d) && !off.contains(d.id.as_str())))
            || fresh.models.iter().any(|(model, chans)| {
                let now: HashSet<&str> = chans.iter().map(|d| d.id.as_str()).collect();
                !chans.iter().all(same) || list.iter().any(|d| !now.contains(d.id.as_str()) && d.models.contains(model))
            });
        if !changed {
            return Ok(false);
        }
        let added: Vec<Deployment> = added.into_iter().cloned().collect();
        let off: Option<HashSet<CompactString>> = off.map(|o| o.into_iter().map(CompactString::from).collect());
        drop(at);
        let list = std::sync::Arc::make_mut(&mut self.deployments);
        list.extend(added);
        let mut at: HashMap<CompactString, usize> = list.iter().enumerate().map(|(i, d)| (d.id.clone(), i)).collect();
        let mut replace = |fresh: &Deployment, list: &mut Vec<Deployment>| {
            if let Some(&i) = at.get(fresh.id.as_str()) {
                list[i] = fresh.clone();
            } else {
                at.insert(fresh.id.clone(), list.len());
                list.push(fresh.clone());
            }
        };
        for d in fresh.first_page {
            replace(d, list);
        }
        if let (Some(disabled), Some(off)) = (fresh.disabled, &off) {
            for d in list.iter_mut() {
                if is_off(d) && !off.contains(d.id.as_str()) {
                    // Not among the disabled now, and not deleted (the count): enabled since.
                    d.status = DeploymentStatus::Serving;
                    d.status_reason = None;
                }
            }
            for d in disabled {
                replace(d, list);
            }
        }
        for (model, chans) in &fresh.models {
            let now_serving: BTreeSet<&str> = chans.iter().map(|d| d.id.as_str()).collect();
            for d in list.iter_mut() {
                if !now_serving.contains(d.id.as_str()) && d.models.contains(model) {
                    // Not among the model's channels now: it no longer lists it.
                    d.models = d.models.filtered(|m| m != *model);
                }
            }
            for d in *chans {
                replace(d, list);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(id: i64, model: &str, status: DeploymentStatus) -> Deployment {
        let mut d = Deployment::new(id.to_string(), format!("ch{id}"));
        d.models = crate::gateway::Names::from(vec![model]);
        d.status = status;
        d
    }

    fn assembled(list: Vec<Deployment>) -> Assembled {
        Assembled { deployments: Arc::new(list), first_at: 100, last_at: 200, pages: 1, steps: 1 }
    }

    use DeploymentStatus::{AutoDisabled, Serving};

    /// A pass beside the assembled list holds what the list has unchanged
    /// as ids: saved spelled out (the carry's format), read back and shared
    /// again, copied back before the list goes, and whole as read.
    #[test]
    fn a_pass_holds_what_the_assembled_list_has_unchanged_once() {
        let list = vec![ch(3, "m", Serving), ch(2, "m", AutoDisabled), ch(1, "x", Serving)];
        let a = assembled(list.clone());
        // Read since: #3 as the list has it, #2 re-enabled, #1 as the list has it.
        let read = vec![ch(3, "m", Serving), ch(2, "m", Serving), ch(1, "x", Serving)];
        let mut pass = Pass::with_channels(read.clone());
        pass.share_with(&a.deployments);
        let held: Vec<bool> = pass.channels.iter().map(|r| matches!(r, Read::Same(_))).collect();
        assert_eq!(held, [true, false, true]);
        assert_eq!(pass.resolve(Some(&a.deployments)), Some(read.clone()));
        assert_eq!(pass.resolve(None), None, "ids without their list cannot be spelled out");
        // Saved: every channel spelled out; read back: all as read, shared again on request.
        let saved = serde_json::to_value(pass.saved(Some(&a.deployments))).unwrap();
        assert_eq!(saved["channels"].as_array().map(Vec::len), Some(3));
        assert!(serde_json::to_value(pass.saved(None)).is_err(), "a pass is never saved with holes");
        let mut back: Pass = serde_json::from_value(saved).unwrap();
        assert_eq!(back.resolve(None), Some(read.clone()));
        back.share_with(&a.deployments);
        assert_eq!(back, pass);
        // The list replaced: copied back first, the pass is whole without it.
        assert!(pass.unshare(&a.deployments));
        assert!(pass.channels.iter().all(|r| matches!(r, Read::Page(_))));
        assert_eq!(pass.resolve(None), Some(read));
        // A list that lacks one of its ids cannot complete it.
        back.share_with(&a.deployments);
        assert!(!back.unshare(&a.deployments[..1]));
    }

    #[test]
    fn fresh_reads_are_laid_over_the_assembled_list() {
        let mut a = assembled(vec![ch(3, "m", AutoDisabled), ch(2, "m", Serving), ch(1, "x", AutoDisabled)]);
        let shared = Arc::clone(&a.deployments);
        // Now: #4 added (page 1), #3 re-enabled, #2 auto-disabled; model x read: #1 no longer lists it.
        let page1 = [ch(4, "n", Serving), ch(3, "m", Serving), ch(2, "m", AutoDisabled), ch(1, "y", AutoDisabled)];
        let disabled = [ch(2, "m", AutoDisabled), ch(1, "y", AutoDisabled)];
        let none: [Deployment; 0] = [];
        let fresh = Fresh { total: 4, first_page: &page1[..1], disabled: Some(&disabled), models: vec![("x", &none)] };
        assert_eq!(a.patch(&fresh), Ok(true));
        let list = a.deployments.as_slice();
        let get = |id: &str| list.iter().find(|d| d.id == id).unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(get("4").models, ["n"]);
        assert_eq!(get("3").status, Serving, "not among the disabled now, not deleted: enabled since");
        assert_eq!(get("2").status, AutoDisabled);
        assert!(get("1").models.iter().all(|m| m != "x"), "{:?}", get("1").models);
        // A snapshot that shared the list keeps what it was shown.
        assert_eq!(shared[0].status, AutoDisabled);
        // The same fresh reads again change nothing, and copy nothing.
        let before = Arc::clone(&a.deployments);
        assert_eq!(a.patch(&fresh), Ok(false));
        assert!(Arc::ptr_eq(&before, &a.deployments));
    }

    #[test]
    fn a_deletion_since_or_too_many_additions_refuse_the_list() {
        let mut a = assembled(vec![ch(3, "m", Serving), ch(2, "m", Serving), ch(1, "m", AutoDisabled)]);
        let page1 = [ch(3, "m", Serving), ch(1, "m", AutoDisabled)];
        let fresh = Fresh { total: 2, first_page: &page1, ..Fresh::default() };
        let why = a.patch(&fresh).unwrap_err();
        assert!(why.contains("1 channel(s) were deleted"), "{why}");
        // A full page 1 of channels all newer than the list: more may hide behind it.
        let newer: Vec<Deployment> = (1000..1100).rev().map(|i| ch(i, "m", Serving)).collect();
        let fresh = Fresh { total: 3 + PAGE_SIZE, first_page: &newer, ..Fresh::default() };
        assert!(a.patch(&fresh).unwrap_err().contains("more than 100 channels were added"));
        // An unchanged list patches to itself.
        let page1 = a.deployments.to_vec();
        let same = Fresh { total: 3, first_page: &page1, ..Fresh::default() };
        assert_eq!(a.patch(&same), Ok(false));
        assert_eq!(*a.deployments, page1);
    }
}
