//! Reading the whole channel list, page by page.
//!
//! New API: `GET /api/channel/?p=N&page_size=100&id_sort=true`, `p` 1-based,
//! `data = {items, page, page_size, total, type_counts}`. `id_sort=true`
//! orders by `id desc`: the default order (`priority desc`) has no tie-break,
//! so on most databases equal-priority channels can move between pages and
//! a paged read would miss some and repeat others.
//!
//! One API (songquanpeng/one-api) answers with a bare array instead: `p` is
//! 0-based, pages hold a fixed 10 channels, there is no total. It is detected
//! on the first answer and read until a short or empty page.
//!
//! Guards: channels repeated across pages (a channel added while reading
//! shifts the pages) are kept once; a page with nothing new means the server
//! ignores `p`, and stops the read with an error; at most [`MAX_CHANNELS`].
//!
//! **If any page fails, the whole list fails** with that page's error (and a
//! note saying how far the read got): a partial list would show the missing
//! channels as absent, which during an incident reads as "deleted".

use std::collections::HashSet;

use futures::StreamExt;

use crate::gateway::{Deployment, GatewayError};

use super::api::{Channel, Envelope, ListData};
use super::channel::{Flavor, to_deployment};
use super::client::{Calls, Client, Req};
use super::pacer::Class;
use crate::gateway::text::Interner;

/// Channels per request (New API's cap).
pub const PAGE_SIZE: usize = 100;
/// The most channels gatewatch reads (200 pages: over three minutes of the
/// default rate limit).
pub const MAX_CHANNELS: usize = 20_000;
/// Pages in flight at once after the first.
const CONCURRENCY: usize = 3;

/// A complete channel list.
#[derive(Debug, Default)]
pub struct Listing {
    pub deployments: Vec<Deployment>,
    pub flavor: Option<Flavor>,
    pub notes: Vec<String>,
}

/// A failed read: the error, and notes on how far it got.
#[derive(Debug)]
pub struct ListFailure {
    pub error: GatewayError,
    pub notes: Vec<String>,
    /// Too many to read: the total and page 1 (the newest channels).
    pub first_page: Option<(usize, Vec<Deployment>)>,
}

impl From<GatewayError> for ListFailure {
    fn from(error: GatewayError) -> Self {
        Self { error, notes: Vec::new(), first_page: None }
    }
}

fn new_api_path(page: usize) -> String {
    format!("/api/channel/?p={page}&page_size={PAGE_SIZE}&id_sort=true")
}

fn one_api_path(page: usize) -> String {
    format!("/api/channel/?p={page}")
}

async fn fetch(client: &Client, calls: &Calls, base: &str, path: &str) -> Result<ListData, GatewayError> {
    let resp = client.call(calls, base, &Req::get(path, Class::Poll)).await?;
    Ok(resp.json::<Envelope<ListData>>()?.data)
}

/// Collects channels, keeping the first of each id (public for the benchmarks).
pub struct Collector {
    seen: HashSet<i64>,
    out: Vec<Deployment>,
    repeats: usize,
    flavor: Flavor,
    names: Interner,
}

impl Collector {
    /// An empty collector for `capacity` channels.
    pub fn new(flavor: Flavor, capacity: usize) -> Self {
        Self {
            seen: HashSet::with_capacity(capacity),
            out: Vec::with_capacity(capacity),
            repeats: 0,
            flavor,
            names: Interner::default(),
        }
    }

    /// Add a page; the number of channels not seen before.
    pub fn add(&mut self, items: Vec<Channel>) -> usize {
        let mut fresh = 0;
        for c in items {
            if self.seen.insert(c.id) {
                fresh += 1;
                self.out.push(to_deployment(c, self.flavor, &mut self.names));
            } else {
                self.repeats += 1;
            }
        }
        fresh
    }

    /// The listing, with a note when channels repeated across pages.
    pub fn finish(self, mut notes: Vec<String>) -> Listing {
        if self.repeats > 0 {
            notes.push(format!(
                "{} channel(s) appeared on two pages (list changed while reading); kept once",
                self.repeats
            ));
        }
        Listing { deployments: self.out, flavor: Some(self.flavor), notes }
    }
}

fn repeated_page(path: &str, page: usize) -> GatewayError {
    GatewayError::WrongShape {
        path: path.to_owned(),
        detail: format!("page {page} holds only channels already read: the server ignores the page parameter"),
    }
}

fn too_many(total: usize) -> GatewayError {
    GatewayError::Rejected {
        message: format!("the gateway reports {total} channels; gatewatch reads at most {MAX_CHANNELS}"),
    }
}

fn progress_note(read: usize, total: Option<usize>, page: usize, pages: Option<usize>) -> String {
    let of = |n: Option<usize>| n.map(|n| format!(" of {n}")).unwrap_or_default();
    format!(
        "channel list incomplete: page {page}{} failed after {read}{} channels; no partial list shown",
        of(pages),
        of(total)
    )
}

/// Read every channel.
pub async fn read_all(client: &Client, calls: &Calls, base: &str) -> Result<Listing, ListFailure> {
    let first_path = new_api_path(1);
    let page = match fetch(client, calls, base, &first_path).await? {
        ListData::Bare(_) => return read_one_api(client, calls, base).await,
        ListData::Page(p) => p,
    };
    let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
    let items = page.items.unwrap_or_default();
    if total > MAX_CHANNELS {
        let mut col = Collector::new(Flavor::NewApi, items.len());
        col.add(items);
        return Err(ListFailure { first_page: Some((total, col.out)), ..too_many(total).into() });
    }
    let per_page = items.len();
    let mut col = Collector::new(Flavor::NewApi, total.max(per_page));
    col.add(items);
    if col.out.len() >= total {
        return Ok(col.finish(Vec::new()));
    }
    if per_page == 0 {
        return Err(GatewayError::WrongShape {
            path: first_path,
            detail: format!("total is {total} but page 1 is empty"),
        }
        .into());
    }
    // The server may cap page_size below what was asked: page by what it sent.
    let pages = total.div_ceil(per_page);
    let mut stream = futures::stream::iter(2..=pages)
        .map(|p| async move {
            let path = new_api_path(p);
            let result = fetch(client, calls, base, &path).await;
            (p, path, result)
        })
        .buffered(CONCURRENCY);
    while let Some((p, path, result)) = stream.next().await {
        let items = match result {
            Ok(ListData::Page(page)) => page.items.unwrap_or_default(),
            Ok(ListData::Bare(_)) => {
                let e = GatewayError::WrongShape { path, detail: "page format changed mid-read".into() };
                return Err(ListFailure {
                    notes: vec![progress_note(col.out.len(), Some(total), p, Some(pages))],
                    ..e.into()
                });
            }
            Err(error) => {
                return Err(ListFailure {
                    notes: vec![progress_note(col.out.len(), Some(total), p, Some(pages))],
                    ..error.into()
                });
            }
        };
        if items.is_empty() {
            // Channels were deleted while reading: the rest is empty too.
            break;
        }
        if col.add(items) == 0 {
            return Err(repeated_page(&path, p).into());
        }
    }
    drop(stream);
    let mut notes = Vec::new();
    if col.out.len() < total {
        notes.push(format!(
            "the gateway reported {total} channels but listed {} (deleted while reading?)",
            col.out.len()
        ));
    }
    Ok(col.finish(notes))
}

/// One API: 0-based pages of a fixed size, no total.
async fn read_one_api(client: &Client, calls: &Calls, base: &str) -> Result<Listing, ListFailure> {
    let mut col = Collector::new(Flavor::OneApi, 64);
    let mut first_len = None;
    for p in 0..MAX_CHANNELS {
        let path = one_api_path(p);
        let items = match fetch(client, calls, base, &path).await {
            Ok(ListData::Bare(items)) => items,
            Ok(ListData::Page(_)) => {
                let e = GatewayError::WrongShape { path, detail: "page format changed mid-read".into() };
                return Err(ListFailure { notes: vec![progress_note(col.out.len(), None, p, None)], ..e.into() });
            }
            Err(error) => {
                return Err(ListFailure { notes: vec![progress_note(col.out.len(), None, p, None)], ..error.into() });
            }
        };
        let len = items.len();
        if len == 0 {
            break;
        }
        if col.add(items) == 0 {
            return Err(repeated_page(&path, p).into());
        }
        if col.out.len() > MAX_CHANNELS {
            return Err(too_many(col.out.len()).into());
        }
        let full = *first_len.get_or_insert(len);
        if len < full {
            break;
        }
    }
    let notes = vec!["One API detected (0-based pages of 10, no total): weight is ignored there, the pick within a priority tier is uniform".to_owned()];
    Ok(col.finish(notes))
}

/// The disabled channels only (status 2 and 3, `status=disabled`): what a
/// balance update can have changed, in a page or two instead of the whole
/// list. New API only (One API has no status filter and answers a bare array).
pub async fn read_disabled(client: &Client, calls: &Calls, base: &str) -> Result<Vec<Deployment>, GatewayError> {
    let mut col = Collector::new(Flavor::NewApi, PAGE_SIZE);
    for p in 1..=MAX_CHANNELS / PAGE_SIZE {
        let path = format!("/api/channel/?status=disabled&p={p}&page_size={PAGE_SIZE}&id_sort=true");
        let resp = client.call(calls, base, &Req::get(&path, Class::Action)).await?;
        let ListData::Page(page) = resp.json::<Envelope<ListData>>()?.data else {
            return Err(GatewayError::Unsupported("this server has no status filter (One API)".into()));
        };
        let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
        let items = page.items.unwrap_or_default();
        if items.is_empty() || col.add(items) == 0 {
            break;
        }
        if col.out.len() >= total {
            break;
        }
    }
    Ok(col.out)
}

/// The disabled channels as evidence (a poll past [`MAX_CHANNELS`]): the
/// same status-filtered read, held to what it claims — a server that ignores
/// the filter (an enabled channel in the answer) or the page (a page of
/// channels already read), or reports more disabled channels than gatewatch
/// reads, gives an error, never a subset that is not one.
pub async fn read_disabled_subset(client: &Client, calls: &Calls, base: &str) -> Result<Vec<Deployment>, GatewayError> {
    let mut col = Collector::new(Flavor::NewApi, PAGE_SIZE);
    for p in 1..=MAX_CHANNELS / PAGE_SIZE {
        let path = format!("/api/channel/?status=disabled&p={p}&page_size={PAGE_SIZE}&id_sort=true");
        let ListData::Page(page) = fetch(client, calls, base, &path).await? else {
            return Err(GatewayError::Unsupported("this server has no status filter (One API)".into()));
        };
        let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
        if total > MAX_CHANNELS {
            return Err(too_many(total));
        }
        let items = page.items.unwrap_or_default();
        if items.iter().any(|c| c.status == 1) {
            return Err(GatewayError::WrongShape {
                path,
                detail: "an enabled channel in the answer to status=disabled: the server ignores the filter".into(),
            });
        }
        if items.is_empty() {
            break;
        }
        if col.add(items) == 0 {
            return Err(repeated_page(&path, p));
        }
        if col.out.len() >= total {
            break;
        }
    }
    Ok(col.out)
}
/// Most models read by subset in one poll (one request each).
pub const MAX_SUBSET_MODELS: usize = 6;

/// Every channel that serves `model`, in one request: New API's search
/// (`/api/channel/search?model=…`) matches `models LIKE %model%` and pages
/// in memory with no cap, so one page as large as gatewatch reads holds them
/// all; the answer is cut to the channels whose model list holds `model`
/// exactly. Held to what it claims: an answer holding fewer channels than
/// its total, or more than gatewatch reads, is an error, never a subset.
pub async fn read_model_subset(
    client: &Client,
    calls: &Calls,
    base: &str,
    model: &str,
) -> Result<Vec<Deployment>, GatewayError> {
    let mut u =
        reqwest::Url::parse("http://x/api/channel/search").map_err(|e| GatewayError::Unsupported(e.to_string()))?;
    u.query_pairs_mut()
        .append_pair("keyword", "")
        .append_pair("model", model)
        .append_pair("id_sort", "true")
        .append_pair("p", "1")
        .append_pair("page_size", &MAX_CHANNELS.to_string());
    let path = format!("{}?{}", u.path(), u.query().unwrap_or_default());
    let items = match fetch(client, calls, base, &path).await? {
        ListData::Page(page) => {
            let items = page.items.unwrap_or_default();
            let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
            if total > MAX_CHANNELS {
                return Err(too_many(total));
            }
            if total > items.len() {
                return Err(GatewayError::WrongShape {
                    path: "/api/channel/search".into(),
                    detail: format!("{} of {total} channels in the answer: the server pages its search", items.len()),
                });
            }
            items
        }
        // Older New API answers the search with every match, unpaged.
        ListData::Bare(items) if items.len() <= MAX_CHANNELS => items,
        ListData::Bare(items) => return Err(too_many(items.len())),
    };
    let mut col = Collector::new(Flavor::NewApi, items.len());
    col.add(items);
    Ok(col.out.into_iter().filter(|d| d.models.iter().any(|m| m == model)).collect())
}
