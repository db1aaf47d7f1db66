//! Where a field sits in a YAML file: maps dotted paths such as
//! `gateways[1].kind` to their 1-based line, so that errors found after
//! deserialising can still name the line.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Locator {
    stack: Vec<Frame>,
    found: Vec<(String, usize)>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") }
}

impl Locator {
    /// The path a value at the current position gets, recording sequence items.
    fn value_path(&mut self, line: usize) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, key }) => key.take().map(|k| join(path, &k)),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                self.found.push((p.clone(), line));
                Some(p)
            }
        }
    }
}

impl MarkedEventReceiver for Locator {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line();
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key }) = self.stack.last_mut()
                    && key.is_none()
                {
                    let p = join(path, &value);
                    self.found.push((p, line));
                    *key = Some(value);
                    return;
                }
                self.value_path(line);
            }
            Event::Alias(_) => {
                self.value_path(line);
            }
            Event::MappingStart(..) => {
                let path = self.value_path(line).unwrap_or_default();
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(line).unwrap_or_default();
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// Every path in the first document with the line it starts on.
pub fn locate_all(source: &str) -> Vec<(String, usize)> {
    let mut loc = Locator::default();
    let mut parser = Parser::new_from_str(source);
    // A syntax error leaves what was found before it; callers report it separately.
    let _ = parser.load(&mut loc, false);
    loc.found
}

/// The line of `path` (for example `gateways[0].kind`), or of its nearest
/// ancestor that exists in the file.
pub fn line_of(source: &str, path: &str) -> Option<usize> {
    let all = locate_all(source);
    let mut want = path.to_owned();
    loop {
        if let Some((_, line)) = all.iter().find(|(p, _)| *p == want) {
            return Some(*line);
        }
        let cut = want.rfind(['.', '['])?;
        want.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str =
        "gateways:\n  - name: a\n    kind: litellm\n  - name: b\n    kind: nope\n    tags: [x, y]\nread_only: true\n";

    #[test]
    fn finds_nested_fields() {
        assert_eq!(line_of(SRC, "gateways[1].kind"), Some(5));
        assert_eq!(line_of(SRC, "gateways[0].name"), Some(2));
        assert_eq!(line_of(SRC, "read_only"), Some(7));
    }

    #[test]
    fn falls_back_to_ancestor() {
        assert_eq!(line_of(SRC, "gateways[1].missing"), Some(4));
        assert_eq!(line_of(SRC, "nothing"), None);
    }
}
