//! An optional number in eight bytes. `Option<i64>` takes sixteen (the
//! flag, then padding): a channel has eleven of them, 88 bytes of 408, 4.4 MB
//! of a 50,000-channel list. Here one value no gateway sends (`i64::MIN`,
//! `u64::MAX`, a NaN: JSON has none) stands for "not given"; written and read
//! as the `Option` it replaces (`null` or the number), so the files stay as
//! they were.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number type with a value that stands for "not given".
pub trait Sentinel: Copy + PartialEq {
    const NONE: Self;
    /// The sentinel itself (for a float, any NaN: a NaN is never equal).
    fn is_none(self) -> bool;
}

impl Sentinel for i64 {
    const NONE: Self = i64::MIN;
    fn is_none(self) -> bool {
        self == Self::NONE
    }
}

impl Sentinel for u64 {
    const NONE: Self = u64::MAX;
    fn is_none(self) -> bool {
        self == Self::NONE
    }
}

impl Sentinel for f64 {
    const NONE: Self = f64::NAN;
    fn is_none(self) -> bool {
        self.is_nan()
    }
}

/// `Option<T>` in the size of `T`. A `T` equal to the sentinel given to
/// [`Opt::from`] reads as not given (`i64::MIN` as a priority, `u64::MAX` as
/// a weight: no gateway sends them, and JSON cannot carry a NaN).
#[derive(Clone, Copy)]
pub struct Opt<T: Sentinel>(T);

impl<T: Sentinel> Opt<T> {
    pub const NONE: Self = Self(T::NONE);

    pub fn get(self) -> Option<T> {
        (!self.0.is_none()).then_some(self.0)
    }

    pub fn is_some(self) -> bool {
        !self.0.is_none()
    }

    pub fn is_none(self) -> bool {
        self.0.is_none()
    }

    pub fn unwrap_or(self, default: T) -> T {
        self.get().unwrap_or(default)
    }
}

impl<T: Sentinel> Default for Opt<T> {
    fn default() -> Self {
        Self::NONE
    }
}

impl<T: Sentinel> From<Option<T>> for Opt<T> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::NONE, Self)
    }
}

impl<T: Sentinel> From<T> for Opt<T> {
    fn from(v: T) -> Self {
        Self(v)
    }
}

/// As the `Option`s: two "not given" are equal, a NaN never reaches here.
impl<T: Sentinel> PartialEq for Opt<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Sentinel + std::fmt::Debug> std::fmt::Debug for Opt<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: Sentinel + Serialize> Serialize for Opt<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(s)
    }
}

impl<'de, T: Sentinel + Deserialize<'de>> Deserialize<'de> for Opt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opt_is_the_option_it_replaces_in_half_the_room() {
        assert_eq!(std::mem::size_of::<Opt<i64>>(), 8);
        assert_eq!(std::mem::size_of::<Option<i64>>(), 16);
        for v in [Some(-3_i64), Some(0), Some(i64::MAX), None] {
            let o = Opt::from(v);
            assert_eq!(o.get(), v);
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(json, serde_json::to_string(&v).unwrap(), "written as the option was");
            assert_eq!(serde_json::from_str::<Opt<i64>>(&json).unwrap(), o);
        }
        assert_eq!(Opt::from(Some(0.25_f64)).get(), Some(0.25));
        assert_eq!(Opt::<f64>::NONE.get(), None);
        assert_eq!(Opt::<f64>::NONE, Opt::from(None), "not given equals not given, NaN or not");
        assert_eq!(Opt::<u64>::from(Some(7)).unwrap_or(0), 7);
        assert_eq!(Opt::<u64>::NONE.unwrap_or(10), 10);
        assert!(Opt::<u64>::default().is_none() && Opt::from(5_u64).is_some());
        assert_eq!(format!("{:?}", Opt::from(5_i64)), "Some(5)");
    }

    /// A channel's record is what a 50,000-channel list is made of: 408
    /// bytes while these numbers were `Option`s.
    #[test]
    fn a_deployment_record_stays_small() {
        let n = std::mem::size_of::<crate::gateway::Deployment>();
        assert!(n <= 304, "Deployment is {n} bytes");
    }
}
