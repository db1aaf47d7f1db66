//! Per-token prices: what the gateway reports, else the table shipped in
//! `assets/prices.yaml`.

use std::collections::HashMap;
use std::sync::LazyLock;

const TABLE: &str = include_str!("../../assets/prices.yaml");

/// USD per token, input and output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// From the gateway itself rather than the shipped table.
    pub reported: bool,
}

impl Price {
    /// One number to compare models by: input plus output price per token.
    pub fn blended(&self) -> f64 {
        self.input + self.output
    }
}

static SHIPPED: LazyLock<HashMap<String, (f64, f64)>> = LazyLock::new(|| {
    let raw: HashMap<String, (f64, f64)> = serde_yaml::from_str(TABLE).unwrap_or_default();
    raw.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
});

/// Look a model up in the shipped table: exact, then without a provider
/// prefix, then the longest table key that prefixes the name
/// (`claude-3-5-sonnet-20241022` → `claude-3-5-sonnet`).
pub fn shipped(model: &str) -> Option<Price> {
    let lower = model.to_ascii_lowercase();
    let bare = lower.rsplit('/').next().unwrap_or(&lower).to_owned();
    let hit = SHIPPED.get(&lower).or_else(|| SHIPPED.get(&bare)).or_else(|| {
        SHIPPED.iter().filter(|(k, _)| bare.starts_with(k.as_str())).max_by_key(|(k, _)| k.len()).map(|(_, v)| v)
    })?;
    Some(Price { input: hit.0 / 1e6, output: hit.1 / 1e6, reported: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_matches_variants() {
        assert!(SHIPPED.len() > 20);
        let p = shipped("openai/gpt-4o").unwrap();
        assert!((p.input - 2.5e-6).abs() < 1e-12);
        assert!(shipped("claude-3-5-sonnet-20241022").is_some());
        assert!(shipped("GPT-4O-MINI").is_some());
        assert!(shipped("totally-unknown").is_none());
        // gpt-4o-mini must not fall back to gpt-4o's price.
        assert!((shipped("gpt-4o-mini").unwrap().input - 0.15e-6).abs() < 1e-12);
    }
}
