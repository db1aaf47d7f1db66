//! A cheap look at how deeply `[` and `{` nest in gatewatch's own config
//! before the YAML parser sees it: the parser's time grows with the square
//! of the nesting (100,000 brackets took 16 s in a release build), and no
//! real config nests more than a few levels.

/// Deepest flow nesting accepted in gatewatch's config.
pub const MAX_FLOW_DEPTH: usize = 64;

/// The 1-based line where flow nesting first goes deeper than `max`.
/// Brackets inside quoted scalars and comments do not count; a quote opens
/// a scalar only where a YAML token starts.
pub fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut line = 1;
    let mut quote: Option<char> = None;
    let mut prev = '\n';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        match quote {
            Some('\'') if c == '\'' => {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some('"') if c == '"' => quote = None,
            Some(_) => {}
            None => {
                let token_start = prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':');
                match c {
                    '\'' | '"' if token_start => quote = Some(c),
                    '#' if prev.is_whitespace() => {
                        // A comment runs to the end of the line.
                        for n in chars.by_ref() {
                            if n == '\n' {
                                line += 1;
                                break;
                            }
                        }
                        prev = '\n';
                        continue;
                    }
                    '[' | '{' => {
                        depth += 1;
                        if depth > max {
                            return Some(line);
                        }
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        prev = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_fast() {
        let deep = format!("read_only: false\ngateways: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        assert_eq!(too_deep(&deep, MAX_FLOW_DEPTH), Some(2));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn ordinary_configs_and_quoted_brackets_pass() {
        assert_eq!(too_deep(crate::config::example::EXAMPLE, MAX_FLOW_DEPTH), None);
        let quoted = format!(
            "a: '{}'\nb: \"{}\"\nc: x # {}\nd: [[1, 2], {{e: [3]}}]\n",
            "[".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        assert_eq!(too_deep(&quoted, MAX_FLOW_DEPTH), None);
        assert_eq!(too_deep("it's: [a]\nx: \"esc \\\" [\"\n", 1), None);
    }
}
