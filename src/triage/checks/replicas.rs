//! "Some replicas still hold the old key": the key-drift check's answer to
//! that one question, from the per-replica roll-up. With one replica the
//! question does not arise (the drift node answers it).

use crate::triage::evidence::{Ctx, Finding, Verdict};

/// `key-drift`, with its `replicas` question answered.
pub fn drift(c: &Ctx<'_>) -> Finding {
    let f = super::keys::drift(c);
    let Some(r) = c.gw.drift_rollup() else { return f };
    let behind: Vec<&str> =
        c.gw.replicas.iter().filter(|x| x.drift_clean() == Some(false)).map(|x| x.url.as_str()).collect();
    let (v, why) = if r.replicas < 2 {
        (Verdict::NotApplicable, "one replica: the drift itself answers it".to_owned())
    } else if !behind.is_empty() {
        (
            Verdict::Fail,
            format!("{} of {} replicas hold the file's keys; behind: {}", r.clean, r.replicas, behind.join(", ")),
        )
    } else if r.compared < r.replicas {
        (Verdict::Unknown, format!("{} of {} replicas not compared", r.replicas - r.compared, r.replicas))
    } else {
        (Verdict::Ok, format!("all {} replicas hold the same keys as the file", r.replicas))
    };
    f.aspect("replicas", v, why)
}
