//! Write a full day (1,440 minutes, every deployment with traffic and one in
//! fifty failing) for `gatewatch sim-litellm`'s generated deployments, so
//! `scripts/measure.sh` can measure the process holding a whole day.
//!
//! `cargo run --release --example fill_day -- STATE_DIR GATEWAY N`
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;

use gatewatch::gateway::litellm::metrics::DeploymentTraffic;
use gatewatch::traffic::Sample;
use gatewatch::traffic::day::{self, Day};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, gateway, n] = args.as_slice() else {
        eprintln!("usage: fill_day STATE_DIR GATEWAY N");
        std::process::exit(2);
    };
    let n: usize = n.parse().unwrap();
    let ids: Vec<String> = (0..n).map(|i| format!("{:064x}", i + 1)).collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let now = i64::try_from(now).unwrap() - 60;
    let mut d = Day::default();
    let mut prev: Option<Sample> = None;
    for m in (0..=1440_i64).rev() {
        let k = f64::from(u32::try_from(1440 - m).unwrap());
        let deployments: BTreeMap<std::sync::Arc<str>, DeploymentTraffic> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let fails = if i % 50 == 0 { k * 3.0 } else { 0.0 };
                (
                    id.as_str().into(),
                    DeploymentTraffic { requests: k * 30.0, failures: fails, ..DeploymentTraffic::default() },
                )
            })
            .collect();
        let s = Sample { gateway: gateway.clone(), replica: "filled".into(), at: now - m * 60, deployments };
        d.fold(prev.as_ref(), &s);
        prev = Some(s);
    }
    let path = day::path(std::path::Path::new(dir), gateway);
    day::save(&path, gateway, &d).unwrap();
    eprintln!("{}: {} deployments, {} bytes", path.display(), d.len(), std::fs::metadata(&path).unwrap().len());
}
