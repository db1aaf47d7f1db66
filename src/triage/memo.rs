//! What a gateway's channel list says, kept from one evaluation to the next
//! while the list is the very same one.
//!
//! A poll that changed nothing hands over the same list (`Arc`): at 50,000
//! New API channels an assembled list stays the same for minutes while every
//! poll refreshes its disabled channels and first page over it. The answers
//! that depend on nothing but that list (the checks on model mappings,
//! disabled models, groups, weight-0 channels and the top tier, each
//! channel's share, the name order) are then taken as they were instead of
//! being worked out again each poll. The traffic splits they are made from
//! are not kept (4 MB at 50,000 channels).
//!
//! The list is known by its allocation, held weakly: while the memo holds
//! it the allocation cannot be reused for another list, so a list that
//! merely lands at the same address is never taken for the old one. Any
//! other list, or none, drops everything remembered.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use compact_str::CompactString;

use crate::gateway::Deployment;
use crate::triage::evidence::Finding;

/// Each channel's best first-attempt share in one group.
pub type ShareMap = HashMap<CompactString, f64>;

/// How many findings one list keeps.
const FINDINGS: usize = 32;

#[derive(Default)]
pub struct ListMemo {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    list: Weak<Vec<Deployment>>,
    /// By (cache mode, group).
    share_maps: Vec<(bool, String, Arc<ShareMap>)>,
    /// A check's finding, by the check and what else it depends on.
    findings: Vec<(String, Finding)>,
    /// Each row's place in name order (the table's sorts).
    ranks: Option<Arc<Vec<u32>>>,
}

impl std::fmt::Debug for ListMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListMemo")
    }
}

/// A cache: a copy starts empty (it is filled again by the next evaluation).
impl Clone for ListMemo {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A cache: any two describe the same model.
impl PartialEq for ListMemo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ListMemo {
    /// What is remembered of `list`; whatever was remembered of another list is dropped first.
    fn of(&self, list: &Arc<Vec<Deployment>>) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if !std::ptr::eq(inner.list.as_ptr(), Arc::as_ptr(list)) {
            *inner = Inner { list: Arc::downgrade(list), ..Inner::default() };
        }
        inner
    }

    pub fn share_map(
        &self,
        list: &Arc<Vec<Deployment>>,
        mode: bool,
        group: &str,
        make: impl FnOnce() -> ShareMap,
    ) -> Arc<ShareMap> {
        if let Some((.., s)) = self.of(list).share_maps.iter().find(|(m, g, _)| *m == mode && g == group) {
            return Arc::clone(s);
        }
        let s = Arc::new(make());
        self.of(list).share_maps.push((mode, group.to_owned(), Arc::clone(&s)));
        s
    }

    pub fn name_ranks(&self, list: &Arc<Vec<Deployment>>, make: impl FnOnce() -> Vec<u32>) -> Arc<Vec<u32>> {
        if let Some(r) = &self.of(list).ranks {
            return Arc::clone(r);
        }
        let r = Arc::new(make());
        self.of(list).ranks = Some(Arc::clone(&r));
        r
    }

    pub fn finding(&self, list: &Arc<Vec<Deployment>>, key: &str, make: impl FnOnce() -> Finding) -> Finding {
        if let Some((_, f)) = self.of(list).findings.iter().find(|(k, _)| k == key) {
            return f.clone();
        }
        let f = make();
        let mut inner = self.of(list);
        // A key that changes within one list (a check that also reads the
        // session's channel tests) keeps only its recent entries.
        if inner.findings.len() >= FINDINGS {
            inner.findings.remove(0);
        }
        inner.findings.push((key.to_owned(), f.clone()));
        f
    }
}

/// What `list` says on its own, worked out away from the UI thread (the
/// poller's blocking pool) for the app to take over: every check and the
/// table's shares run on a gateway that holds nothing but the list, and what
/// they ask of the list alone is remembered.
pub fn warm(spec: &crate::config::GatewaySpec, list: &Arc<Vec<Deployment>>, at: std::time::SystemTime) -> ListMemo {
    let memo = ListMemo::default();
    let obs = crate::fleet::GatewayObs::holding(spec, list, at);
    let ctx = crate::triage::evidence::Ctx::with_memo(&obs, at, &memo);
    let _ = crate::triage::evidence::evaluate_with(&ctx);
    let _ = crate::table::derive(&ctx);
    memo
}

#[cfg(test)]
impl ListMemo {
    /// How many answers are remembered.
    pub fn remembered(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.share_maps.len() + inner.findings.len() + usize::from(inner.ranks.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Verdict;
    use std::cell::Cell;

    fn list(n: usize) -> Arc<Vec<Deployment>> {
        Arc::new((0..n).map(|i| Deployment::new(i.to_string(), "m")).collect())
    }

    #[test]
    fn the_same_list_is_answered_from_memory_another_list_is_worked_out_again() {
        let memo = ListMemo::default();
        let made = Cell::new(0);
        let make = |s: &str| {
            made.set(made.get() + 1);
            Finding::ok(s.to_owned())
        };
        let a = list(3);
        assert_eq!(memo.finding(&a, "k", || make("first")).summary, "first");
        assert_eq!(memo.finding(&a, "k", || make("second")).summary, "first");
        assert_eq!(made.get(), 1);
        // Another key is its own entry.
        assert_eq!(memo.finding(&a, "other", || make("o")).summary, "o");
        // Equal contents, another list: worked out again, and the old entries go.
        let b = list(3);
        assert_eq!(memo.finding(&b, "k", || make("third")).summary, "third");
        assert_eq!(memo.finding(&a, "k", || make("fourth")).summary, "fourth");
        assert_eq!(made.get(), 4);
        assert_eq!(memo.finding(&a, "k", || make("x")).verdict, Verdict::Ok);
    }

    #[test]
    fn a_dropped_list_is_never_taken_for_a_new_one_at_the_same_address() {
        let memo = ListMemo::default();
        let a = list(2);
        let _ = memo.finding(&a, "k", || Finding::ok("old"));
        drop(a);
        // The memo holds the old allocation (weakly), so no new list can
        // take its address; whatever the allocator does, the answer is new.
        for _ in 0..100 {
            let b = list(2);
            assert_eq!(memo.finding(&b, "k", || Finding::ok("new")).summary, "new");
            let _ = memo.finding(&b, "k", || Finding::ok("newer"));
            drop(b);
            let c = list(2);
            assert_eq!(memo.finding(&c, "k", || Finding::ok("fresh")).summary, "fresh");
        }
    }

    #[test]
    fn share_maps_are_kept_per_cache_mode_and_group() {
        let memo = ListMemo::default();
        let a = list(1);
        let m1 = memo.share_map(&a, false, "default", ShareMap::new);
        let m2 = memo.share_map(&a, false, "default", || unreachable!("remembered"));
        assert!(Arc::ptr_eq(&m1, &m2));
        let m3 = memo.share_map(&a, false, "vip", ShareMap::new);
        let m4 = memo.share_map(&a, true, "default", ShareMap::new);
        assert!(!Arc::ptr_eq(&m1, &m3) && !Arc::ptr_eq(&m1, &m4));
    }
}
