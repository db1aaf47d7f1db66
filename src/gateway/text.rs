//! The strings a deployment list repeats — providers, model names, groups,
//! base URLs, reasons — held once and shared: 50,000 New API channels name
//! a few dozen models and groups, and one copy each (an [`Arc<str>`], a
//! [`Names`] list shared by every channel with the same list) keeps a
//! channel's heap to its own name and id (issue 20).

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

/// A shared string.
pub type Text = Arc<str>;

/// How many distinct strings (and lists) one [`Interner`] keeps: past it a
/// hostile list of all-different names is still read, unshared.
const MAX_KEPT: usize = 10_000;

/// Hands out one shared copy of each string and list it has seen. One per
/// parse (a poll's pages, a `/model/info` answer): bounded, and dropped with it.
#[derive(Debug, Default)]
pub struct Interner {
    texts: HashSet<Text>,
    lists: HashSet<Names>,
}

impl Interner {
    pub fn text(&mut self, s: &str) -> Text {
        if let Some(t) = self.texts.get(s) {
            return Arc::clone(t);
        }
        let t: Text = Arc::from(s);
        if self.texts.len() < MAX_KEPT {
            self.texts.insert(Arc::clone(&t));
        }
        t
    }

    /// The list, its strings and the list itself shared.
    pub fn names<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> Names {
        let list: Vec<Text> = items.into_iter().map(|s| self.text(s)).collect();
        if list.is_empty() {
            return Names::default();
        }
        if let Some(n) = self.lists.get(list.as_slice()) {
            return n.clone();
        }
        let names = Names(list.into());
        if self.lists.len() < MAX_KEPT {
            self.lists.insert(names.clone());
        }
        names
    }
}

/// A list of names (a channel's models or groups), shared between the
/// deployments that carry the same list. Changed by replacing it whole.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Names(Arc<[Text]>);

/// Which shared name lists were met already, for gathering what tens of
/// thousands of channels holding a few dozen lists name (each list once).
#[derive(Default)]
pub struct SeenLists {
    last: Option<usize>,
    seen: HashSet<usize, std::hash::BuildHasherDefault<AddrHasher>>,
}

impl SeenLists {
    /// `true` the first time this shared copy is met.
    pub fn first_time(&mut self, names: &Names) -> bool {
        let a = names.addr();
        if self.last == Some(a) {
            return false;
        }
        self.last = Some(a);
        self.seen.insert(a)
    }
}

/// Addresses are already spread: a multiply mixes their bits into the ones
/// a hash table reads (the standard hasher costs more than the rest of the loop).
#[derive(Default)]
struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_usize(&mut self, x: usize) {
        self.0 = (x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

impl Names {
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + Clone {
        self.0.iter().map(|s| &**s)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|s| &**s == name)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<&str> {
        self.0.first().map(|s| &**s)
    }

    pub fn join(&self, sep: &str) -> String {
        self.iter().collect::<Vec<_>>().join(sep)
    }

    /// The same shared copy (not only equal names).
    pub fn same_copy(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Where the shared copy is: one key for every holder of this copy
    /// while they are borrowed (an empty list may have no copy of its own).
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0).cast::<Text>() as usize
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// The same list with one more name (no change when it is already there).
    #[must_use]
    pub fn with(&self, name: &str) -> Self {
        if self.contains(name) {
            return self.clone();
        }
        self.0.iter().cloned().chain(std::iter::once(Arc::from(name))).collect()
    }

    /// The names `keep` says yes to.
    #[must_use]
    pub fn filtered(&self, mut keep: impl FnMut(&str) -> bool) -> Self {
        self.0.iter().filter(|s| keep(s)).cloned().collect()
    }
}

/// Looked up by its names (the interner finds a list before making one).
impl std::borrow::Borrow<[Text]> for Names {
    fn borrow(&self) -> &[Text] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Names {
    type Item = &'a str;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Text>, fn(&'a Text) -> &'a str>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|s| &**s)
    }
}

impl FromIterator<Text> for Names {
    fn from_iter<I: IntoIterator<Item = Text>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl FromIterator<String> for Names {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().map(Text::from).collect())
    }
}

impl<'a> FromIterator<&'a str> for Names {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Self(iter.into_iter().map(Text::from).collect())
    }
}

impl From<Vec<String>> for Names {
    fn from(v: Vec<String>) -> Self {
        v.into_iter().collect()
    }
}

impl From<Vec<&str>> for Names {
    fn from(v: Vec<&str>) -> Self {
        v.into_iter().collect()
    }
}

impl<T: AsRef<str>> PartialEq<Vec<T>> for Names {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<T: AsRef<str>, const N: usize> PartialEq<[T; N]> for Names {
    fn eq(&self, other: &[T; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl serde::Serialize for Names {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        Ok(SHARING.with_borrow_mut(|s| match s {
            Some(names) => names.names(list.iter().map(String::as_str)),
            None => Self::from(list),
        }))
    }
}

thread_local! {
    /// The interner of the read under way on this thread (see [`sharing`]).
    static SHARING: std::cell::RefCell<Option<Interner>> = const { std::cell::RefCell::new(None) };
}

/// Run `read` (a deserialisation on this thread) with every shared string
/// and list it makes shared as it is made: a list read back from a file is
/// born as lean as one parsed from the gateway, instead of holding a copy of
/// each per channel until it is compacted (at 50,000 channels, 40 MB against
/// 21 while a start-up reads the saved lists).
pub fn sharing<R>(read: impl FnOnce() -> R) -> R {
    /// Puts back the interner of an enclosing read, also on a panic.
    struct Restore(Option<Interner>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            SHARING.with_borrow_mut(|s| *s = outer);
        }
    }
    let _restore = Restore(SHARING.with_borrow_mut(|s| s.replace(Interner::default())));
    read()
}

/// A [`Text`] field read back: shared within a [`sharing`] read.
pub fn de_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
    let s = <String as serde::Deserialize>::deserialize(d)?;
    Ok(shared(&s))
}

/// An optional [`Text`] field read back: shared within a [`sharing`] read.
pub fn de_text_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Text>, D::Error> {
    let s = <Option<String> as serde::Deserialize>::deserialize(d)?;
    Ok(s.as_deref().map(shared))
}

fn shared(s: &str) -> Text {
    SHARING.with_borrow_mut(|i| i.as_mut().map_or_else(|| Text::from(s), |i| i.text(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list read back as the state files are (within [`sharing`]) holds
    /// one copy of each string and list, reads the same, and compacted holds
    /// no spare capacity; a list something else holds is left as it is.
    #[test]
    fn a_list_read_back_shares_its_strings_and_is_compacted() {
        use crate::gateway::{Deployment, KeyVisibility, compact_list};
        let mut d = Deployment::new("1", "a");
        d.models = Names::from(vec!["gpt-4o", "gpt-4o-mini"]);
        d.groups = Names::from(vec!["default"]);
        d.provider = Text::from("openai");
        d.api_base = Some(Text::from("https://api.example.test"));
        d.key = KeyVisibility::NotReadable(Text::from("not readable with an access token"));
        let list: Vec<Deployment> = (0..3).map(|i| Deployment { id: i.to_string().into(), ..d.clone() }).collect();
        let json = serde_json::to_string(&list).unwrap();
        let read = || Arc::new(sharing(|| serde_json::from_str::<Vec<Deployment>>(&json).unwrap()));
        let mut back = read();
        assert!(back.capacity() > back.len(), "grown as read: spare capacity to drop");
        compact_list(&mut back);
        assert_eq!(*back, list, "the same list");
        assert!(back[0].models.same_copy(&back[2].models) && back[1].groups.same_copy(&back[2].groups));
        assert!(Arc::ptr_eq(&back[0].provider, &back[2].provider));
        assert!(Arc::ptr_eq(back[0].api_base.as_ref().unwrap(), back[1].api_base.as_ref().unwrap()));
        let reason = |d: &Deployment| match &d.key {
            KeyVisibility::NotReadable(t) => Arc::clone(t),
            KeyVisibility::IdHash => Text::from(""),
        };
        assert!(Arc::ptr_eq(&reason(&back[0]), &reason(&back[1])));
        assert_eq!(back.capacity(), back.len());
        let held = read();
        let mut again = Arc::clone(&held);
        compact_list(&mut again);
        assert!(again.capacity() > again.len(), "a list something else holds was changed");
    }

    /// Read within [`sharing`], a list is born sharing its strings and lists
    /// (and reads the same); outside, and after it, nothing is shared.
    #[test]
    fn a_list_read_while_sharing_is_born_lean() {
        use crate::gateway::{Deployment, KeyVisibility};
        let mut d = Deployment::new("1", "a");
        d.models = Names::from(vec!["gpt-4o", "gpt-4o-mini"]);
        d.groups = Names::from(vec!["default"]);
        d.provider = Text::from("openai");
        d.tag = Some(Text::from("blue"));
        d.key = KeyVisibility::NotReadable(Text::from("not readable with an access token"));
        let list: Vec<Deployment> = (0..3).map(|i| Deployment { id: i.to_string().into(), ..d.clone() }).collect();
        let json = serde_json::to_string(&list).unwrap();
        let read = || serde_json::from_reader::<_, Vec<Deployment>>(json.as_bytes()).unwrap();
        let back = sharing(read);
        assert_eq!(back, list, "the same list");
        assert!(back[0].models.same_copy(&back[2].models) && back[0].groups.same_copy(&back[1].groups));
        assert!(Arc::ptr_eq(&back[0].provider, &back[2].provider));
        assert!(Arc::ptr_eq(back[0].tag.as_ref().unwrap(), back[1].tag.as_ref().unwrap()));
        let KeyVisibility::NotReadable(r0) = &back[0].key else { panic!("key") };
        let KeyVisibility::NotReadable(r1) = &back[1].key else { panic!("key") };
        assert!(Arc::ptr_eq(r0, r1));
        // A read inside another keeps to its own interner, and the outer one
        // is back afterwards; none is left behind.
        let (outer, inner) = sharing(|| {
            let inner = sharing(read);
            (read(), inner)
        });
        assert!(outer[0].models.same_copy(&outer[1].models) && !outer[0].models.same_copy(&inner[0].models));
        let plain = read();
        assert!(!plain[0].models.same_copy(&plain[1].models) && !Arc::ptr_eq(&plain[0].provider, &plain[1].provider));
        // The optional strings may be missing (none), as before they were shared.
        let old: Deployment = serde_json::from_value(serde_json::json!({
            "id": "9", "name": "n", "models": ["m"], "provider": "p", "status": "serving", "groups": [],
            "model_mapping": [], "db_model": false, "key": "IdHash"
        }))
        .unwrap();
        assert_eq!((old.tag, old.api_base), (None, None));
    }

    #[test]
    fn equal_strings_and_lists_are_one_copy() {
        let mut i = Interner::default();
        let a = i.names("gpt-4o,gpt-4o-mini".split(','));
        let b = i.names(["gpt-4o", "gpt-4o-mini"]);
        assert!(Arc::ptr_eq(&a.0, &b.0));
        let p = i.text("OpenAI");
        assert!(Arc::ptr_eq(&p, &i.text("OpenAI")));
        assert!(Arc::ptr_eq(&a.0[0], &i.text("gpt-4o")));
        assert_eq!(a, ["gpt-4o", "gpt-4o-mini"]);
        assert!(i.names(std::iter::empty()).is_empty());
    }

    #[test]
    fn past_the_bound_strings_are_read_unshared() {
        let mut i = Interner::default();
        for n in 0..MAX_KEPT + 50 {
            let _ = i.text(&n.to_string());
        }
        assert_eq!(i.texts.len(), MAX_KEPT);
        let late = (MAX_KEPT + 10).to_string();
        assert_eq!(&*i.text(&late), late);
    }

    #[test]
    fn lists_change_whole_and_round_trip() {
        let n = Names::from(vec!["a", "b"]);
        assert_eq!(n.with("c"), ["a", "b", "c"]);
        assert_eq!(n.with("a"), n);
        assert_eq!(n.filtered(|s| s != "a"), ["b"]);
        assert_eq!(n.join(","), "a,b");
        assert_eq!(format!("{n:?}"), r#"["a", "b"]"#);
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, r#"["a","b"]"#);
        assert_eq!(serde_json::from_str::<Names>(&json).unwrap(), n);
    }
}
