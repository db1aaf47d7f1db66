//! One sample line of the text format: `name{label="value",…} value [timestamp]`.

use std::borrow::Cow;

pub struct Sample<'a> {
    pub name: &'a str,
    /// As written, escapes (`\\`, `\"`, `\n`) undone.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    pub value: &'a str,
}

fn name_len(s: &str, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> usize {
    let b = s.as_bytes();
    if b.first().is_none_or(|c| !first(*c)) {
        return 0;
    }
    1 + b[1..].iter().take_while(|c| rest(**c)).count()
}

fn metric_first(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn metric_rest(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

fn label_first(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn label_rest(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A quoted label value after its opening quote: the value and what follows the closing quote.
fn quoted(s: &str) -> Result<(Cow<'_, str>, &str), String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut owned: Option<String> = None;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let v = owned.map_or(Cow::Borrowed(&s[..i]), Cow::Owned);
                return Ok((v, &s[i + 1..]));
            }
            b'\\' => {
                let o = owned.get_or_insert_with(|| s[..i].to_owned());
                match b.get(i + 1) {
                    Some(b'\\') => o.push('\\'),
                    Some(b'"') => o.push('"'),
                    Some(b'n') => o.push('\n'),
                    _ => return Err("a label value has an unknown escape".into()),
                }
                i += 2;
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or_default();
                if let Some(o) = owned.as_mut() {
                    o.push(ch);
                }
                i += ch.len_utf8();
            }
        }
    }
    Err("a label value is not closed".into())
}

pub fn sample(line: &str) -> Result<Sample<'_>, String> {
    let n = name_len(line, metric_first, metric_rest);
    if n == 0 {
        return Err("not a metric line (no metric name)".into());
    }
    let (name, mut rest) = line.split_at(n);
    let mut labels = Vec::new();
    if let Some(body) = rest.trim_start().strip_prefix('{') {
        rest = body.trim_start();
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let k = name_len(rest, label_first, label_rest);
            if k == 0 {
                return Err(format!("{name}: a label has no name"));
            }
            let (key, after) = rest.split_at(k);
            let after = after.trim_start().strip_prefix('=').ok_or_else(|| format!("{name}: label {key} has no ="))?;
            let after =
                after.trim_start().strip_prefix('"').ok_or_else(|| format!("{name}: label {key} is not quoted"))?;
            let (value, after) = quoted(after).map_err(|e| format!("{name}: {e}"))?;
            labels.push((key, value));
            rest = after.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start();
            } else if !rest.starts_with('}') {
                return Err(format!("{name}: labels not separated by commas"));
            }
        }
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(format!("{name}: no value"));
    }
    let mut words = rest.split_whitespace();
    let value = words.next().ok_or_else(|| format!("{name}: no value"))?;
    if value.parse::<f64>().is_err() {
        return Err(format!("{name}: the value is not a number"));
    }
    if let Some(ts) = words.next()
        && ts.parse::<i64>().is_err()
    {
        return Err(format!("{name}: the timestamp is not a number"));
    }
    if words.next().is_some() {
        return Err(format!("{name}: more after the value and timestamp"));
    }
    Ok(Sample { name, labels, value })
}
