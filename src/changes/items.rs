//! The items of one look, sorted by id in one allocation: a `BTreeMap` of
//! 50,000 channels took 178 bytes a channel (its nodes half full, the
//! status a string); this takes 72, and a look holds two of them while it
//! compares (the last and the new).

use compact_str::CompactString;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::gateway::text::Text;
use crate::gateway::{Deployment, DeploymentStatus};

/// One deployment or channel as far as changes go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub name: CompactString,
    /// Written as its label (`serving`, `auto-disabled`, …), as before.
    #[serde(with = "label")]
    pub status: DeploymentStatus,
    /// Shared with the list's own (a reason is hundreds of bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

impl Item {
    pub fn of(d: &Deployment) -> Self {
        Self { name: d.name.clone(), status: d.status, reason: d.status_reason.clone() }
    }
}

/// Items by deployment / channel id, each id once, in id order (written
/// as a JSON object, as the map it replaces was).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemList(Vec<(CompactString, Item)>);

impl ItemList {
    /// The items of a list, in one allocation of its length.
    pub fn of(list: &[Deployment]) -> Self {
        list.iter().map(|d| (d.id.clone(), Item::of(d))).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In id order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactString, &Item)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    fn find(&self, id: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(id))
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.find(id).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Item> {
        self.find(id).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.find(id).is_ok()
    }
}

/// Sorted by id; of one id listed twice, the later is kept (as a map
/// filled in list order keeps it).
impl FromIterator<(CompactString, Item)> for ItemList {
    fn from_iter<I: IntoIterator<Item = (CompactString, Item)>>(iter: I) -> Self {
        let mut v: Vec<(CompactString, Item)> = iter.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        v.shrink_to_fit();
        Self(v)
    }
}

impl Serialize for ItemList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ItemList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ItemList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("items by id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemList, A::Error> {
                // A size the file claims is not trusted for a reservation.
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = map.next_entry::<CompactString, Item>()? {
                    v.push(entry);
                }
                Ok(v.into_iter().collect())
            }
        }
        d.deserialize_map(V)
    }
}

/// A status as its label; a label this version does not know reads as
/// `unknown`.
mod label {
    use super::{DeploymentStatus, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(status: &DeploymentStatus, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(status.label())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DeploymentStatus, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(DeploymentStatus::from_label(&text).unwrap_or(DeploymentStatus::Unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, status: DeploymentStatus) -> Item {
        Item { name: name.into(), status, reason: None }
    }

    #[test]
    fn items_are_found_by_id_in_id_order_the_later_of_a_twice_listed_id_kept() {
        let list = ItemList::from_iter([
            ("9".into(), item("nine", DeploymentStatus::Serving)),
            ("10".into(), item("ten", DeploymentStatus::Serving)),
            ("9".into(), item("nine again", DeploymentStatus::AutoDisabled)),
            ("1".into(), item("one", DeploymentStatus::ManuallyDisabled)),
        ]);
        assert_eq!(list.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["1", "10", "9"], "id (string) order");
        assert_eq!(list.get("9"), Some(&item("nine again", DeploymentStatus::AutoDisabled)));
        assert!(list.contains_key("10") && !list.contains_key("2") && list.get("").is_none());
        assert_eq!(list.len(), 3);
    }

    /// The file format is the map's: ids as keys, the status as its label;
    /// a file's map in any order, or with a label not known, still reads.
    #[test]
    fn the_items_are_written_as_the_map_was_and_read_back() {
        let list = ItemList::from_iter([
            ("7".into(), Item { reason: Some("status code 401".into()), ..item("a", DeploymentStatus::AutoDisabled) }),
            ("3".into(), item("b", DeploymentStatus::Serving)),
        ]);
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(
            json,
            r#"{"3":{"name":"b","status":"serving"},"7":{"name":"a","status":"auto-disabled","reason":"status code 401"}}"#
        );
        assert_eq!(serde_json::from_str::<ItemList>(&json).unwrap(), list);
        let odd: ItemList =
            serde_json::from_str(r#"{"9":{"name":"x","status":"rebooting"},"2":{"name":"y","status":"disabled"}}"#)
                .unwrap();
        assert_eq!(odd.get("9").unwrap().status, DeploymentStatus::Unknown);
        assert_eq!(odd.iter().next().unwrap().1, &item("y", DeploymentStatus::ManuallyDisabled));
    }
}
