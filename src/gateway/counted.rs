//! A deployment list written with its length ahead of it
//! (`{"count": n, "items": [...]}`), so that reading it back allocates the
//! list once, at its size. Read into a growing `Vec`, a 50,000-channel list
//! (20 MB) is copied at every doubling and passes through 27 MB of capacity
//! beside the 13 MB it is copied from: that was most of the TUI's start-up
//! peak, when it reads the lists the last run carried. A bare array (the
//! files written before) is still read, growing.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serializer};

use super::Deployment;

/// The most elements a count read from a file reserves room for (a larger
/// count, from a hand-edited or hostile file, is not trusted: the list
/// grows past it as it is read).
pub const MAX_RESERVED: usize = 200_000;

pub fn serialize<S: Serializer>(list: &Arc<Vec<Deployment>>, s: S) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct("Counted", 2)?;
    st.serialize_field("count", &list.len())?;
    st.serialize_field("items", list.as_slice())?;
    st.end()
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Vec<Deployment>>, D::Error> {
    d.deserialize_any(Counted::<Deployment>(PhantomData)).map(Arc::new)
}

struct Counted<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Counted<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list, or {\"count\": n, \"items\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
        Items(0, PhantomData).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let mut count = 0;
        let mut items = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "count" => count = map.next_value::<usize>()?,
                "items" => items = Some(map.next_value_seed(Items(count, PhantomData))?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        items.ok_or_else(|| serde::de::Error::missing_field("items"))
    }
}

/// The items, room made for `.0` of them first.
struct Items<T>(usize, PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Items<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut v = Vec::with_capacity(self.0.min(MAX_RESERVED));
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        list: Arc<Vec<Deployment>>,
    }

    fn list(n: usize) -> Arc<Vec<Deployment>> {
        Arc::new((0..n).map(|i| Deployment::new(i.to_string(), format!("ch-{i}"))).collect())
    }

    /// Written with its count, read back at exactly its size; the bare
    /// arrays of files written before still read; a count that lies only
    /// costs the growth it would have saved.
    #[test]
    fn a_counted_list_is_read_back_at_its_size() {
        let h = Holder { list: list(1000) };
        let text = serde_json::to_string(&h).unwrap();
        assert!(text.starts_with(r#"{"list":{"count":1000,"items":[{"#), "{}", &text[..60]);
        let back: Holder = serde_json::from_reader(text.as_bytes()).unwrap();
        assert_eq!(back.list, h.list);
        assert_eq!(back.list.capacity(), 1000, "allocated once, at its size");

        let bare = format!(r#"{{"list":{}}}"#, serde_json::to_string(h.list.as_slice()).unwrap());
        let back: Holder = serde_json::from_str(&bare).unwrap();
        assert_eq!(back.list, h.list);

        let items = serde_json::to_string(list(3).as_slice()).unwrap();
        for (count, why) in [("1", "fewer"), ("99999999999", "more than is reserved"), ("0", "none")] {
            let lying = format!(r#"{{"list":{{"extra":[1,{{"a":2}}],"count":{count},"items":{items}}}}}"#);
            let back: Holder = serde_json::from_str(&lying).unwrap_or_else(|e| panic!("{why}: {e}"));
            assert_eq!(back.list, list(3), "{why}");
            assert!(back.list.capacity() <= MAX_RESERVED, "{why}");
        }
        let e = serde_json::from_str::<Holder>(r#"{"list":{"count":3}}"#).err().unwrap();
        assert!(e.to_string().contains("missing field `items`"), "{e}");
    }
}
