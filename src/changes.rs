//! What changed on a gateway between two looks: deployments and channels
//! added, removed or re-keyed (a LiteLLM deployment id is a hash over its
//! params and key: a new id under the same alias is a changed deployment),
//! status transitions with the gateway's reason, key fingerprints in the
//! config (never a key), and replicas coming and going.
//!
//! The poller keeps the last inventory of each gateway and writes it under
//! the state dir, so a `gatewatch check` in cron and the TUI compare with
//! whatever looked last; every change goes to `changes.jsonl` (24 h kept)
//! and to the timeline, and the TUI shows the day's changes at start, with
//! their times. A list that was not read (an error, too many channels) gives
//! no inventory and no change: "could not see" is never "deleted".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use compact_str::CompactString;

use serde::{Deserialize, Serialize};

use crate::fleet::LocalView;
use crate::gateway::{Deployment, GatewayError, ReplicaSnapshot};

mod items;
pub use items::{Item, ItemList};

/// Most change lines one comparison keeps (the rest are counted).
pub const MAX_CHANGES: usize = 200;
/// How long `changes.jsonl` keeps lines once it passes its size.
const KEEP_SECS: i64 = 24 * 3600;
const STORE_MAX_BYTES: u64 = 8 << 20;
const STORE_READ_BYTES: u64 = 4 << 20;

/// The items of one look: shared between the looks that saw the very same
/// list (50,000 channels are megabytes).
pub type Items = Arc<ItemList>;

/// One gateway's state at one look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Unix seconds.
    pub at: i64,
    pub replicas: BTreeSet<String>,
    /// By deployment id / channel id. Empty when the list was not read
    /// (then the items are not compared).
    pub items: Items,
    pub items_read: bool,
    /// The replica whose list `items` is: looks compare one replica's list
    /// with the same replica's, or replicas holding different configs (the
    /// drift gatewatch exists to show) would read as changes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The operator's files were read (else `keys` are the last ones known).
    #[serde(default)]
    pub keys_read: bool,
    /// Key fingerprints the operator's files give (`sha256:…`), by where
    /// they come from (an env var name, a channel's intended key).
    pub keys: BTreeMap<String, String>,
}

/// One change, as written to `changes.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub gateway: String,
    /// Unix seconds of the look that saw it.
    pub at: i64,
    /// When the gateway was seen before it (the change happened between).
    pub since: i64,
    pub text: String,
}

/// The inventory of one poll: the list of `prefer` (the replica the last
/// look read) when it is still polled — not read when it did not answer —
/// else of the first replica that listed its deployments.
pub fn of(
    at: i64,
    urls: &[String],
    results: &[(String, Result<ReplicaSnapshot, GatewayError>)],
    local: &LocalView,
    prefer: Option<&str>,
) -> Inventory {
    of_known(at, urls, results, local, prefer, None).0
}

/// [`of`], and the list its items were taken from. `known`: a list
/// inventoried before and its items, taken as they are when the poll
/// handed over that very list (an unchanged New API list is the same one).
fn of_known(
    at: i64,
    urls: &[String],
    results: &[(String, Result<ReplicaSnapshot, GatewayError>)],
    local: &LocalView,
    prefer: Option<&str>,
    known: Option<(&Weak<Vec<Deployment>>, &Items)>,
) -> (Inventory, Option<Weak<Vec<Deployment>>>) {
    let mut inv = Inventory { at, replicas: urls.iter().cloned().collect(), ..Inventory::default() };
    type Listed<'a> = (&'a String, &'a Arc<Vec<Deployment>>);
    fn listed((u, r): &(String, Result<ReplicaSnapshot, GatewayError>)) -> Option<Listed<'_>> {
        r.as_ref().ok().and_then(|s| s.deployments.ok()).map(|d| (u, d))
    }
    let source = match prefer.filter(|p| results.iter().any(|(u, _)| u == p)) {
        Some(p) => results.iter().filter(|(u, _)| u == p).find_map(listed),
        None => results.iter().find_map(listed),
    };
    let listed_from = source.map(|(_, deps)| Arc::downgrade(deps));
    if let Some((url, deps)) = source {
        inv.items = match known {
            Some((list, items)) if list.upgrade().is_some_and(|l| Arc::ptr_eq(&l, deps)) => Arc::clone(items),
            _ => Arc::new(ItemList::of(deps)),
        };
        inv.items_read = true;
        inv.source.clone_from(url);
    }
    if let Some(Ok(cfg)) = local.proxy_config() {
        inv.keys_read = true;
        for r in &cfg.env_refs {
            if let Some(fp) = &r.fingerprint {
                inv.keys.insert(format!("os.environ/{}", r.name), fp.to_string());
            }
        }
    }
    if let Some(n) = local.newapi().filter(|n| n.intended_keys_error.is_none()) {
        inv.keys_read = true;
        for (id, k) in &n.intended_keys {
            if let Some(fp) = &k.fingerprint {
                inv.keys.insert(format!("channel #{id} ({})", k.label), fp.to_string());
            }
        }
    }
    (inv, listed_from)
}

fn short(id: &str) -> &str {
    crate::secret::short_id(id)
}

/// The changes from `before` to `now`, worded for the timeline.
pub fn diff(gateway: &str, before: &Inventory, now: &Inventory) -> Vec<Change> {
    let mut out: Vec<String> = Vec::new();
    for r in now.replicas.difference(&before.replicas) {
        out.push(format!("replica {r} joined"));
    }
    for r in before.replicas.difference(&now.replicas) {
        out.push(format!("replica {r} left"));
    }
    if before.items_read
        && now.items_read
        && (before.source.is_empty() || before.source == now.source)
        && !Arc::ptr_eq(&before.items, &now.items)
    {
        type Entry<'a> = (&'a CompactString, &'a Item);
        let added: Vec<Entry<'_>> = now.items.iter().filter(|(k, _)| !before.items.contains_key(k)).collect();
        let removed: Vec<Entry<'_>> = before.items.iter().filter(|(k, _)| !now.items.contains_key(k)).collect();
        // Same name, one id gone and one new: the deployment changed (params or key).
        let mut paired: BTreeSet<&CompactString> = BTreeSet::new();
        for (old_id, old) in &removed {
            let twins: Vec<&Entry<'_>> = added.iter().filter(|(_, n)| n.name == old.name).collect();
            let olds = removed.iter().filter(|(_, o)| o.name == old.name).count();
            if let [(new_id, _)] = twins.as_slice()
                && olds == 1
            {
                paired.insert(old_id);
                paired.insert(new_id);
                out.push(format!(
                    "{}: now deployment {} (was {}): its params or key changed",
                    old.name,
                    short(new_id),
                    short(old_id)
                ));
            }
        }
        for (id, it) in added.iter().filter(|(id, _)| !paired.contains(id)) {
            out.push(format!("{} ({}) added, {}", it.name, short(id), it.status.label()));
        }
        for (id, it) in removed.iter().filter(|(id, _)| !paired.contains(id)) {
            out.push(format!("{} ({}) removed", it.name, short(id)));
        }
        for (id, it) in now.items.iter() {
            if let Some(old) = before.items.get(id)
                && old.status != it.status
            {
                let why = it.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                out.push(format!("{} ({}): {} → {}{why}", it.name, short(id), old.status.label(), it.status.label()));
            }
        }
    }
    if before.keys_read && now.keys_read {
        for (k, fp) in &now.keys {
            match before.keys.get(k) {
                Some(old) if old != fp => out.push(format!("key of {k} changed in the file: {old} → {fp}")),
                None => out.push(format!("key of {k} now known: {fp} (not known at the last look)")),
                _ => {}
            }
        }
        for k in before.keys.keys().filter(|k| !now.keys.contains_key(*k)) {
            out.push(format!("key of {k} no longer known (removed from the file, or its value no longer resolves)"));
        }
    }
    let gap = now.at - before.at;
    if gap > 60 {
        // Between two looks far apart (the last run of check, a restart of gatewatch).
        let when = format!(
            " (in the {} before this look)",
            crate::config::duration::human(std::time::Duration::from_secs(gap.unsigned_abs()))
        );
        for line in &mut out {
            line.push_str(&when);
        }
    }
    let n = out.len();
    if n > MAX_CHANGES {
        out.truncate(MAX_CHANGES - 1);
        out.push(format!("and {} more change(s)", n - (MAX_CHANGES - 1)));
    }
    out.into_iter()
        .map(|text| Change { gateway: gateway.to_owned(), at: now.at, since: before.at, text: bound(&text) })
        .collect()
}

fn bound(s: &str) -> String {
    s.chars().take(400).collect()
}

/// The last inventory of one gateway, and when it was last written.
#[derive(Debug, Default)]
pub struct Tracker {
    last: Option<Inventory>,
    saved_at: i64,
    /// The list the last inventory's items were taken from.
    listed: Weak<Vec<Deployment>>,
}

/// What one look found, and whether the inventory is worth writing.
#[derive(Debug, Default)]
pub struct Look {
    pub changes: Vec<Change>,
    pub save: Option<Inventory>,
}

impl Tracker {
    /// Start from the inventory the last look (of any gatewatch) wrote.
    pub fn new(last: Option<Inventory>) -> Self {
        let saved_at = last.as_ref().map_or(0, |i| i.at);
        Self { last, saved_at, listed: Weak::new() }
    }

    /// [`of`] this poll, from the replica the last look read where it can,
    /// the items of a list inventoried before taken as they are.
    pub fn inventory(
        &mut self,
        at: i64,
        urls: &[String],
        results: &[(String, Result<ReplicaSnapshot, GatewayError>)],
        local: &LocalView,
    ) -> Inventory {
        let known = self.last.as_ref().map(|l| (&self.listed, &l.items));
        let (inv, listed) = of_known(at, urls, results, local, self.source(), known);
        if let Some(l) = listed {
            self.listed = l;
        }
        inv
    }

    /// Compare a new look with the last one. What this look could not see
    /// (the list, the files, the replicas when discovery failed) is carried
    /// over from the last, never read as gone.
    /// The replica whose list the last look read.
    pub fn source(&self) -> Option<&str> {
        self.last.as_ref().map(|l| l.source.as_str()).filter(|s| !s.is_empty())
    }

    pub fn observe(&mut self, gateway: &str, mut now: Inventory, replicas_known: bool) -> Look {
        let Some(last) = self.last.take() else {
            self.saved_at = now.at;
            self.last = Some(now.clone());
            return Look { changes: Vec::new(), save: Some(now) };
        };
        if !now.items_read {
            now.items.clone_from(&last.items);
            now.items_read = last.items_read;
            now.source.clone_from(&last.source);
        }
        if !now.keys_read {
            now.keys.clone_from(&last.keys);
            now.keys_read = last.keys_read;
        }
        if !replicas_known {
            now.replicas.clone_from(&last.replicas);
        }
        let changes = diff(gateway, &last, &now);
        // Written when something changed, else at most once a minute.
        let save = (!changes.is_empty() || now.at - self.saved_at >= 60).then(|| now.clone());
        if save.is_some() {
            self.saved_at = now.at;
        }
        // The next look compares with this one, but says "since" the last written.
        self.last = Some(now);
        Look { changes, save }
    }
}

/// One gateway's tracker and where it writes.
#[derive(Debug)]
pub struct ChangeLog {
    pub tracker: Tracker,
    pub log_path: PathBuf,
    pub inventory_path: PathBuf,
}

impl ChangeLog {
    /// The tracker, from the inventory the last look wrote (blocking: a file read).
    pub fn open(state_dir: &Path, gateway: &str) -> Self {
        let inventory_path = inventory_path(state_dir, gateway);
        Self { tracker: Tracker::new(load_inventory(&inventory_path)), log_path: store_path(state_dir), inventory_path }
    }
}

/// `<state>/changes.jsonl`.
pub fn store_path(state_dir: &Path) -> PathBuf {
    state_dir.join("changes.jsonl")
}

/// `<state>/inventory-<gateway>.json`.
pub fn inventory_path(state_dir: &Path, gateway: &str) -> PathBuf {
    state_dir.join("inventory").join(format!("{}.json", crate::statefile::file_safe(gateway)))
}

/// The last inventory written (parsed as it is read: megabytes at 50,000
/// channels are not held twice).
pub fn load_inventory(path: &Path) -> Option<Inventory> {
    let file = crate::readlimit::open_tail(path, 64 << 20).ok()?;
    serde_json::from_reader(std::io::BufReader::new(file)).ok()
}

/// Write the inventory (a temporary file renamed over the old one).
pub fn save_inventory(path: &Path, inv: &Inventory) -> std::io::Result<()> {
    crate::statefile::replace_scrubbed_with(path, |w| crate::statefile::stream::to_writer(w, inv))
}

/// Append changes; past the size, keep only the last day.
pub fn append(path: &Path, changes: &[Change]) -> std::io::Result<()> {
    let newest = changes.iter().map(|c| c.at).max().unwrap_or(0);
    crate::statefile::append_jsonl(path, changes, STORE_MAX_BYTES, |c: &Change| newest - c.at <= KEEP_SECS)
}

/// The stored changes (the tail of the file), oldest first.
pub fn load(path: &Path) -> Vec<Change> {
    crate::statefile::load_jsonl(path, STORE_READ_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(label: &str) -> crate::gateway::DeploymentStatus {
        crate::gateway::DeploymentStatus::from_label(label).unwrap()
    }

    fn inv(at: i64, items: &[(&str, &str, &str)], replicas: &[&str]) -> Inventory {
        Inventory {
            at,
            replicas: replicas.iter().map(|r| (*r).to_owned()).collect(),
            items: Arc::new(
                items
                    .iter()
                    .map(|(id, name, st)| {
                        ((*id).into(), Item { name: (*name).into(), status: status(st), reason: None })
                    })
                    .collect(),
            ),
            items_read: true,
            source: String::new(),
            keys_read: true,
            keys: BTreeMap::new(),
        }
    }

    #[test]
    fn every_kind_of_change_is_worded() {
        let a = inv(
            100,
            &[("aaaa1111x", "gpt-4o", "serving"), ("3", "claude", "serving"), ("9", "old", "serving")],
            &["http://r1", "http://r2"],
        );
        let mut b = inv(
            160,
            &[("bbbb2222y", "gpt-4o", "serving"), ("3", "claude", "auto-disabled"), ("12", "new", "serving")],
            &["http://r1", "http://r3"],
        );
        Arc::make_mut(&mut b.items).get_mut("3").unwrap().reason = Some("status code 401".into());
        let texts: Vec<String> = diff("gw", &a, &b).into_iter().map(|c| c.text).collect();
        assert_eq!(
            texts,
            [
                "replica http://r3 joined",
                "replica http://r2 left",
                "gpt-4o: now deployment bbbb2222 (was aaaa1111): its params or key changed",
                "new (12) added, serving",
                "old (9) removed",
                "claude (3): serving → auto-disabled: status code 401",
            ]
        );
        assert!(diff("gw", &b, &b).is_empty());
    }

    #[test]
    fn an_unread_list_is_no_change_and_keys_are_fingerprints() {
        let a = inv(100, &[("1", "x", "serving")], &["r"]);
        let mut b = inv(160, &[], &["r"]);
        b.items_read = false;
        assert!(diff("gw", &a, &b).is_empty(), "a list not read is not every channel deleted");
        let mut k1 = a.clone();
        k1.keys.insert("os.environ/OPENAI_KEY".into(), "sha256:aaaa0000".into());
        let mut k2 = k1.clone();
        k2.keys.insert("os.environ/OPENAI_KEY".into(), "sha256:bbbb1111".into());
        let t = diff("gw", &k1, &k2);
        assert_eq!(t[0].text, "key of os.environ/OPENAI_KEY changed in the file: sha256:aaaa0000 → sha256:bbbb1111");
        assert_eq!((t[0].since, t[0].at), (100, 100));
        // Files not read this time: their keys are not "gone".
        let mut k3 = k2.clone();
        k3.keys.clear();
        k3.keys_read = false;
        assert!(diff("gw", &k2, &k3).is_empty());
    }

    /// Replicas holding different configs (drift) are not "changes": a look
    /// reads the replica the last look read; when it did not answer, the
    /// list is carried over.
    #[test]
    fn a_list_is_compared_with_the_same_replica_s_only() {
        use crate::gateway::{Deployment, ReplicaSnapshot, Section};
        let snap = |ids: &[&str]| {
            let mut s = ReplicaSnapshot::new(std::time::Duration::ZERO);
            s.deployments = Section::Ok(ids.iter().map(|i| Deployment::new(*i, "gpt-4o")).collect::<Vec<_>>().into());
            Ok(s)
        };
        let urls = vec!["http://r1".to_owned(), "http://r2".to_owned()];
        let both = vec![("http://r1".to_owned(), snap(&["new"])), ("http://r2".to_owned(), snap(&["old"]))];
        let local = LocalView::default();
        let mut t = Tracker::default();
        let first = of(100, &urls, &both, &local, t.source());
        assert_eq!(first.source, "http://r1");
        t.observe("gw", first, true);
        // r1 down: r2's old list is not read as "gpt-4o: now deployment old".
        let r1_down = vec![
            ("http://r1".to_owned(), Err(crate::gateway::GatewayError::Refused { url: "http://r1".into() })),
            ("http://r2".to_owned(), snap(&["old"])),
        ];
        let look = t.observe("gw", of(105, &urls, &r1_down, &local, t.source()), true);
        assert!(look.changes.is_empty(), "{:?}", look.changes);
        // r1 back with a re-keyed deployment: that is a change.
        let back = vec![("http://r1".to_owned(), snap(&["newer"])), ("http://r2".to_owned(), snap(&["old"]))];
        let look = t.observe("gw", of(110, &urls, &back, &local, t.source()), true);
        assert_eq!(look.changes.len(), 1, "{:?}", look.changes);
        assert!(look.changes[0].text.starts_with("gpt-4o: now deployment newer (was new)"), "{:?}", look.changes);
        // r1 gone from the replicas: r2's list is another replica's, not compared.
        let gone = vec![("http://r2".to_owned(), snap(&["old"]))];
        let look = t.observe("gw", of(115, &["http://r2".to_owned()], &gone, &local, t.source()), true);
        assert!(look.changes.iter().all(|c| !c.text.contains("deployment")), "{:?}", look.changes);
        assert_eq!(look.changes[0].text, "replica http://r1 left");
    }

    /// A poll handing over the very list the last look inventoried (an
    /// unchanged New API list is the same one) shares its items, built
    /// once; a new list is inventoried again, and compared.
    #[test]
    fn the_items_of_the_same_list_are_shared_a_new_list_is_read_again() {
        use crate::gateway::{Deployment, DeploymentStatus, ReplicaSnapshot, Section};
        let list = |status: DeploymentStatus| {
            let mut d = Deployment::new("7", "openai-main");
            d.status = status;
            Arc::new(vec![d, Deployment::new("8", "claude")])
        };
        let polled = |l: &Arc<Vec<Deployment>>| {
            let mut s = ReplicaSnapshot::new(std::time::Duration::ZERO);
            s.deployments = Section::Ok(Arc::clone(l));
            vec![("http://r1".to_owned(), Ok(s))]
        };
        let (urls, local) = (vec!["http://r1".to_owned()], LocalView::default());
        let mut t = Tracker::default();
        let a = list(DeploymentStatus::Serving);
        let first = t.inventory(100, &urls, &polled(&a), &local);
        let items = Arc::clone(&first.items);
        assert!(t.observe("gw", first, true).changes.is_empty());
        let again = t.inventory(105, &urls, &polled(&a), &local);
        assert!(Arc::ptr_eq(&again.items, &items), "the same list: its items as they were");
        assert!(t.observe("gw", again, true).changes.is_empty());
        let b = list(DeploymentStatus::AutoDisabled);
        let changed = t.inventory(110, &urls, &polled(&b), &local);
        assert!(!Arc::ptr_eq(&changed.items, &items), "another list: read again");
        let look = t.observe("gw", changed, true);
        assert_eq!(
            look.changes.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["openai-main (7): serving → auto-disabled"]
        );
        drop((a, items));
        let after = t.inventory(115, &urls, &polled(&b), &local);
        assert!(t.observe("gw", after, true).changes.is_empty(), "the list it shares is the one it compares");
    }

    #[test]
    fn the_tracker_carries_what_a_look_could_not_see() {
        let mut t = Tracker::new(Some(inv(100, &[("1", "x", "serving")], &["r1", "r2"])));
        let mut blind = inv(400, &[], &["r1"]);
        blind.items_read = false;
        let look = t.observe("gw", blind, false);
        assert!(look.changes.is_empty(), "{:?}", look.changes);
        assert!(look.save.is_some(), "a minute passed: written");
        let look = t.observe("gw", inv(410, &[("1", "x", "auto-disabled")], &["r1", "r2"]), true);
        assert_eq!(look.changes.len(), 1);
        assert_eq!(look.changes[0].text, "x (1): serving → auto-disabled");
        let look = t.observe("gw", inv(420, &[("1", "x", "auto-disabled")], &["r1", "r2"]), true);
        assert!(look.changes.is_empty() && look.save.is_none());
        // From the last run of check, 10 minutes before: said so.
        let mut t = Tracker::new(Some(inv(1_000, &[("1", "x", "serving")], &["r"])));
        let look = t.observe("gw", inv(1_600, &[("1", "x", "disabled")], &["r"]), true);
        assert_eq!(look.changes[0].text, "x (1): serving → disabled (in the 10m before this look)");
    }

    #[test]
    fn a_flood_is_bounded() {
        let a = inv(0, &[], &[]);
        let ids: Vec<String> = (0..500).map(|i| i.to_string()).collect();
        let items: Vec<(&str, &str, &str)> = ids.iter().map(|i| (i.as_str(), "c", "serving")).collect();
        let b = inv(1, &items, &[]);
        let t = diff("gw", &a, &b);
        assert_eq!(t.len(), MAX_CHANGES);
        assert!(t.last().unwrap().text.starts_with("and 301 more"), "{:?}", t.last());
    }

    /// A status reason echoing a key (New API keeps the upstream's words) is
    /// masked in the change log and the inventory, as on screen.
    #[test]
    fn what_is_written_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let key = "sk-changes-SECRET-99887766554433";
        crate::secret::known().add(crate::secret::Secret::new(key));
        let mut b = inv(5, &[("1", "x", "auto-disabled")], &["r"]);
        Arc::make_mut(&mut b.items).get_mut("1").unwrap().reason =
            Some(format!("status_code=401, invalid key {key}").into());
        let changes = diff("gw", &inv(1, &[("1", "x", "serving")], &["r"]), &b);
        append(&store_path(dir.path()), &changes).unwrap();
        save_inventory(&inventory_path(dir.path(), "gw"), &b).unwrap();
        for f in [store_path(dir.path()), inventory_path(dir.path(), "gw")] {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(!text.contains(key), "{}: {text}", f.display());
            assert!(text.contains("status_code=401"), "{text}");
        }
        assert_eq!(load(&store_path(dir.path())).len(), 1, "still JSON lines");
        assert!(load_inventory(&inventory_path(dir.path(), "gw")).is_some(), "still JSON");
    }

    #[test]
    fn the_store_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = store_path(dir.path());
        let c = Change { gateway: "gw".into(), at: 5, since: 1, text: "replica r joined".into() };
        append(&p, std::slice::from_ref(&c)).unwrap();
        append(&p, std::slice::from_ref(&c)).unwrap();
        assert_eq!(load(&p), vec![c.clone(), c]);
        let ip = inventory_path(dir.path(), "gw/../x");
        let i = inv(3, &[("1", "x", "serving")], &["r"]);
        save_inventory(&ip, &i).unwrap();
        assert_eq!(load_inventory(&ip), Some(i));
        assert!(ip.starts_with(dir.path()));
    }
}
