//! The `keys:` section: rebind any command, for example
//! `keys: {restart: X, purge: ctrl-p, reload: none, refresh: [u, f5]}`.
//! A key given as `none` (or an empty list) unbinds an action.

use crate::keys::{Bindings, KeySpec};

/// Parse the section into bindings; an error names the field (`keys.restart`) and the problem.
pub fn parse(section: Option<&serde_yaml::Value>) -> Result<Bindings, (String, String)> {
    let Some(section) = section else { return Ok(Bindings::default()) };
    let serde_yaml::Value::Mapping(map) = section else {
        return Err(("keys".into(), "expected a mapping of command names to keys, e.g. restart: X".into()));
    };
    let mut overrides = Vec::new();
    for (k, v) in map {
        let Some(name) = k.as_str() else {
            return Err(("keys".into(), "command names are words, e.g. restart".into()));
        };
        let field = format!("keys.{name}");
        let texts: Vec<String> = match v {
            serde_yaml::Value::Null => Vec::new(),
            serde_yaml::Value::String(s) if s.trim().eq_ignore_ascii_case("none") || s.trim().is_empty() => Vec::new(),
            serde_yaml::Value::String(s) => vec![s.clone()],
            // YAML reads a bare 1 or 5 as a number.
            serde_yaml::Value::Number(n) => vec![n.to_string()],
            serde_yaml::Value::Bool(_) => {
                return Err((field, "a key such as X, ctrl-p or f5, not true or false".into()));
            }
            serde_yaml::Value::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        serde_yaml::Value::String(s) => out.push(s.clone()),
                        serde_yaml::Value::Number(n) => out.push(n.to_string()),
                        _ => return Err((field, "each key is text such as X, ctrl-p or f5".into())),
                    }
                }
                out
            }
            _ => return Err((field, "a key such as X, ctrl-p or f5, a list of them, or none".into())),
        };
        let keys =
            texts.iter().map(|t| KeySpec::parse(t)).collect::<Result<Vec<_>, _>>().map_err(|e| (field.clone(), e))?;
        overrides.push((name.to_owned(), keys));
    }
    Bindings::with_overrides(&overrides).map_err(|e| (format!("keys.{}", e.command), e.message))
}
