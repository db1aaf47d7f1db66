//! One parse per distinct answer: the replicas of one gateway answer the same
//! bytes, and at 5,000 LiteLLM deployments (a 37 MB `/model/info`) the parse is
//! what a refresh costs.
//!
//! An answer is known by the length of its bytes and a 128-bit hash keyed
//! by a per-process random seed (a replica cannot craft bytes that collide
//! with another's without knowing it). The replicas are read in parallel, so
//! two identical answers usually arrive together: the first to ask parses,
//! the others wait for its result instead of parsing the same bytes again.
//!
//! The memo holds only weak references: a parse lives as long as the
//! snapshots that use it, and the memo never keeps a list alive on its own.

use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

/// How many distinct recent answers are remembered (replicas that drifted
/// apart answer different bytes; each keeps its own entry).
const ENTRIES: usize = 4;

type Cell<T> = Arc<OnceLock<Option<Weak<T>>>>;

struct Entry<T> {
    digest: u128,
    len: usize,
    cell: Cell<T>,
}

pub struct ParseMemo<T> {
    seed: u64,
    /// Most recently asked first.
    entries: Mutex<Vec<Entry<T>>>,
}

impl<T> Default for ParseMemo<T> {
    fn default() -> Self {
        Self { seed: random_seed(), entries: Mutex::new(Vec::new()) }
    }
}

impl<T> ParseMemo<T> {
    /// The parse of `body`: shared with every other caller that asked with
    /// the same bytes while that parse is still in use, else `parse(body)`.
    /// A failed parse is never shared: each caller gets its own error.
    /// (The adapters hash as the bytes arrive: [`Self::get_or_parse_id`].)
    #[cfg(test)]
    pub fn get_or_parse<E>(&self, body: &[u8], parse: impl Fn(&[u8]) -> Result<T, E>) -> Result<Arc<T>, E> {
        let mut d = self.digester();
        d.update(body);
        self.get_or_parse_id(d.finish(), || parse(body))
    }

    /// A digester for bytes not yet all here (an answer hashed as it arrives):
    /// its [`BodyId`] then finds the parse of the same bytes.
    pub fn digester(&self) -> Digester {
        Digester { hasher: xxhash_rust::xxh3::Xxh3::with_seed(self.seed), len: 0 }
    }

    /// As [`Self::get_or_parse`], for bytes known by their [`BodyId`] (from this
    /// memo's [`Self::digester`]): `parse` runs only when no parse of them is in use.
    pub fn get_or_parse_id<E>(&self, id: BodyId, parse: impl Fn() -> Result<T, E>) -> Result<Arc<T>, E> {
        let cell = self.cell(id.digest, id.len);
        if let Some(hit) = cell.get().and_then(|w| w.as_ref()?.upgrade()) {
            return Ok(hit);
        }
        let mut mine = None;
        let mut failed = None;
        let shared = cell.get_or_init(|| match parse() {
            Ok(v) => {
                let v = Arc::new(v);
                let weak = Arc::downgrade(&v);
                mine = Some(v);
                Some(weak)
            }
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        if let Some(v) = mine {
            return Ok(v);
        }
        if let Some(e) = failed {
            return Err(e);
        }
        // Another caller parsed (or failed on) these bytes: its result if it
        // is still alive, else a parse of our own.
        match shared.as_ref().and_then(Weak::upgrade) {
            Some(v) => Ok(v),
            None => parse().map(Arc::new),
        }
    }

    /// The entry for these bytes, made (and the oldest dropped) if new, or if
    /// the parse it remembers has been dropped since.
    fn cell(&self, digest: u128, len: usize) -> Cell<T> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let found = entries.iter().position(|e| e.digest == digest && e.len == len);
        let entry = match found {
            Some(i) => {
                let e = entries.remove(i);
                let dead = matches!(e.cell.get(), Some(w) if w.as_ref().is_none_or(|w| w.strong_count() == 0));
                if dead { Entry { digest, len, cell: Cell::default() } } else { e }
            }
            None => Entry { digest, len, cell: Cell::default() },
        };
        let cell = Arc::clone(&entry.cell);
        entries.insert(0, entry);
        entries.truncate(ENTRIES);
        cell
    }
}

/// What identifies an answer's bytes: their length and seeded 128-bit digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyId {
    digest: u128,
    len: usize,
}

/// Hashes bytes as they arrive, in any number of pieces: the same bytes give
/// the same [`BodyId`] however they were cut.
#[derive(Clone)]
pub struct Digester {
    hasher: xxhash_rust::xxh3::Xxh3,
    len: usize,
}

impl Digester {
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(&self) -> BodyId {
        BodyId { digest: self.hasher.digest128(), len: self.len }
    }
}

/// A per-process seed from the standard library's randomly keyed hasher.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x9e37_79b9_7f4a_7c15);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(n: &AtomicUsize) -> impl Fn(&[u8]) -> Result<String, String> + '_ {
        move |b: &[u8]| {
            n.fetch_add(1, Ordering::SeqCst);
            String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
        }
    }

    #[test]
    fn same_bytes_parse_once_while_the_parse_is_in_use() {
        let memo = ParseMemo::default();
        let n = AtomicUsize::new(0);
        let a = memo.get_or_parse(b"same", counting(&n)).unwrap();
        let b = memo.get_or_parse(b"same", counting(&n)).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn different_bytes_parse_apart_and_both_stay_remembered() {
        let memo = ParseMemo::default();
        let n = AtomicUsize::new(0);
        let a = memo.get_or_parse(b"one", counting(&n)).unwrap();
        let b = memo.get_or_parse(b"two", counting(&n)).unwrap();
        let a2 = memo.get_or_parse(b"one", counting(&n)).unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("one", "two"));
        assert!(Arc::ptr_eq(&a, &a2));
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_dropped_parse_is_not_kept_alive_and_is_made_again() {
        let memo = ParseMemo::default();
        let n = AtomicUsize::new(0);
        let a = memo.get_or_parse(b"x", counting(&n)).unwrap();
        let weak = Arc::downgrade(&a);
        drop(a);
        assert!(weak.upgrade().is_none(), "the memo held the parse alive");
        let again = memo.get_or_parse(b"x", counting(&n)).unwrap();
        assert_eq!(again.as_str(), "x");
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_parse_is_never_shared_each_caller_gets_its_own_error() {
        let memo: ParseMemo<String> = ParseMemo::default();
        let n = AtomicUsize::new(0);
        let bad = [0xff_u8, 0xfe];
        assert!(memo.get_or_parse(&bad, counting(&n)).is_err());
        assert!(memo.get_or_parse(&bad, counting(&n)).is_err());
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn at_most_a_few_answers_are_remembered() {
        let memo = ParseMemo::default();
        let n = AtomicUsize::new(0);
        let kept: Vec<_> =
            (0..10).map(|i| memo.get_or_parse(format!("b{i}").as_bytes(), counting(&n)).unwrap()).collect();
        assert_eq!(memo.entries.lock().unwrap().len(), ENTRIES);
        // The oldest fell out: asked again, it is parsed again.
        let _ = memo.get_or_parse(b"b0", counting(&n)).unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 11);
        drop(kept);
    }

    #[test]
    fn parallel_callers_with_the_same_bytes_parse_once() {
        let memo = Arc::new(ParseMemo::default());
        let n = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(std::sync::Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let (memo, n, gate) = (Arc::clone(&memo), Arc::clone(&n), Arc::clone(&gate));
                std::thread::spawn(move || {
                    gate.wait();
                    memo.get_or_parse(b"replica answer", |b: &[u8]| {
                        n.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Ok::<_, String>(b.len())
                    })
                    .unwrap()
                })
            })
            .collect();
        let got: Vec<Arc<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(n.load(Ordering::SeqCst), 1, "the same bytes were parsed more than once");
        assert!(got.iter().all(|g| Arc::ptr_eq(g, &got[0])));
    }
}
