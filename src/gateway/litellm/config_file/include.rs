//! `include:` as LiteLLM 1.106.12 resolves it (`proxy/common_utils/config_includes.py`).
//!
//! Each entry names a YAML file relative to the file that declares it (when
//! that file does not exist but one relative to the root config does, the
//! proxy reads that one instead). Includes are read breadth-first, each file
//! at most once; an included mapping is merged key by key into what came
//! before: lists are appended (so an included `model_list` adds deployments),
//! every other value *replaces* the earlier one (an included
//! `litellm_settings` replaces the root's whole section). A missing file, an
//! `include` that is not a list of strings, or an included file that is not a
//! mapping stops the proxy at startup.

use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::ProxyConfigError;
use crate::gateway::litellm::pyyaml::{self, Node, PyValue};

/// Reads a config file: its text and modification time.
pub type Reader<'a> = &'a dyn Fn(&Path) -> Result<(String, Option<SystemTime>), String>;

/// Read the proxy's config or one of its includes: a regular file of at most
/// [`crate::readlimit::LITELLM_CONFIG`] bytes.
pub fn read_file(path: &Path) -> Result<(String, Option<SystemTime>), String> {
    let text = crate::readlimit::read_text(path, crate::readlimit::LITELLM_CONFIG, "a LiteLLM config")
        .map_err(|e| e.to_string())?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok((text, modified))
}

/// One top-level value after merging, with the file it came from (an index
/// into [`Merged::files`]) and, for a list, the file of each item.
#[derive(Debug, Clone)]
pub struct MergedValue {
    pub node: Node,
    pub file: usize,
    pub items: Vec<usize>,
}

/// The config after every include is merged in.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Every file read: the root first, then includes in the order read.
    pub files: Vec<PathBuf>,
    pub top: Vec<(PyValue, MergedValue)>,
    /// SHA-256 over every file's path and bytes.
    pub content_hash: String,
    /// The newest modification time of any file.
    pub modified: Option<SystemTime>,
}

impl Merged {
    pub fn get(&self, key: &str) -> Option<&MergedValue> {
        self.top.iter().find(|(k, _)| matches!(k, PyValue::Str(s) if s == key)).map(|(_, v)| v)
    }

    pub fn node(&self, key: &str) -> Option<&Node> {
        self.get(key).map(|v| &v.node)
    }

    pub fn file(&self, index: usize) -> &Path {
        self.files.get(index).map_or_else(|| Path::new("?"), PathBuf::as_path)
    }
}

/// `os.path.abspath`: absolute and lexically normalised (`..` removed without
/// following symlinks), as the proxy compares include locations.
fn abspath(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_owned()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_owned(), |d| d.join(p))
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `resolve_include_file_path`: next to the declaring file, else next to the root.
fn resolve(entry: &str, declared_in: &Path, root: &Path) -> PathBuf {
    let dir = |p: &Path| p.parent().map(Path::to_owned).unwrap_or_default();
    let declared = abspath(&dir(declared_in).join(entry));
    let rooted = abspath(&dir(root).join(entry));
    if declared == rooted || !rooted.exists() || declared.exists() { declared } else { rooted }
}

fn field_err(path: &Path, line: usize, field: &str, message: String) -> ProxyConfigError {
    ProxyConfigError::Field { path: path.display().to_string(), line, field: field.to_owned(), message }
}

/// The `include` entries of one file, or the error the proxy stops with.
fn entries(root: &Node, path: &Path) -> Result<Vec<(String, usize)>, ProxyConfigError> {
    let Some(node) = root.get("include") else { return Ok(Vec::new()) };
    let msg = "'include' must be a list of file paths (the proxy does not start)".to_owned();
    let list = node.as_list().ok_or_else(|| field_err(path, node.line, "include", msg.clone()))?;
    list.iter()
        .enumerate()
        .map(|(i, n)| {
            n.as_str()
                .map(|s| (s.to_owned(), n.line))
                .ok_or_else(|| field_err(path, n.line, &format!("include[{i}]"), msg.clone()))
        })
        .collect()
}

fn merge(into: &mut Vec<(PyValue, MergedValue)>, node: &Node, file: usize) {
    let Some(items) = node.as_dict() else { return };
    for (k, v) in items {
        if matches!(k, PyValue::Str(s) if s == "include") {
            continue;
        }
        let new_items = |n: &Node| n.as_list().map_or_else(Vec::new, |l| vec![file; l.len()]);
        match into.iter_mut().find(|(ek, _)| pyyaml::py_key_eq(ek, k)) {
            Some((_, existing)) => match (&mut existing.node.value, &v.value) {
                (PyValue::List(old), PyValue::List(add)) => {
                    old.extend(add.iter().cloned());
                    existing.items.extend(std::iter::repeat_n(file, add.len()));
                }
                _ => *existing = MergedValue { node: v.clone(), file, items: new_items(v) },
            },
            None => into.push((k.clone(), MergedValue { node: v.clone(), file, items: new_items(v) })),
        }
    }
}

/// Parse the root text and every file it includes, as the proxy merges them.
pub fn load_merged(text: &str, path: &Path, read: Reader<'_>) -> Result<(Node, Merged), ProxyConfigError> {
    let yaml_err = |p: &Path, e: pyyaml::YamlError| ProxyConfigError::Yaml {
        path: p.display().to_string(),
        line: e.line,
        message: e.message,
    };
    let root = pyyaml::load(text).map_err(|e| yaml_err(path, e))?;
    if !matches!(root.value, PyValue::Dict(_) | PyValue::None) {
        return Err(field_err(path, root.line, "(top level)", "the file must be a mapping".into()));
    }
    let root_abs = abspath(path);
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    let mut merged =
        Merged { files: vec![path.to_owned()], top: Vec::new(), content_hash: String::new(), modified: None };
    merge(&mut merged.top, &root, 0);
    let mut loaded = vec![root_abs.clone()];
    let mut pending: std::collections::VecDeque<(String, usize, PathBuf, PathBuf)> =
        entries(&root, path)?.into_iter().map(|(e, line)| (e, line, root_abs.clone(), path.to_owned())).collect();
    while let Some((entry, line, declared_abs, declared_shown)) = pending.pop_front() {
        let location = resolve(&entry, &declared_abs, &root_abs);
        if loaded.contains(&location) {
            continue;
        }
        let (inc_text, modified) = read(&location).map_err(|e| {
            field_err(
                &declared_shown,
                line,
                "include",
                format!(
                    "included file {} cannot be read ({e}); LiteLLM resolves it next to the file that includes it and does not start without it",
                    location.display()
                ),
            )
        })?;
        if modified > merged.modified {
            merged.modified = modified;
        }
        hasher.update(location.display().to_string().as_bytes());
        hasher.update([0]);
        hasher.update(inc_text.as_bytes());
        let node = pyyaml::load(&inc_text).map_err(|e| yaml_err(&location, e))?;
        if !matches!(node.value, PyValue::Dict(_) | PyValue::None) {
            return Err(field_err(
                &location,
                node.line,
                "(top level)",
                "an included file must be a mapping (the proxy does not start)".into(),
            ));
        }
        let index = merged.files.len();
        merged.files.push(location.clone());
        loaded.push(location.clone());
        merge(&mut merged.top, &node, index);
        pending.extend(entries(&node, &location)?.into_iter().map(|(e, l)| (e, l, location.clone(), location.clone())));
    }
    merged.content_hash = hex::encode(hasher.finalize());
    Ok((root, merged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn reader(
        files: &HashMap<PathBuf, &'static str>,
    ) -> impl Fn(&Path) -> Result<(String, Option<SystemTime>), String> {
        let files = files.clone();
        move |p: &Path| files.get(p).map(|t| ((*t).to_owned(), None)).ok_or_else(|| "No such file or directory".into())
    }

    #[test]
    fn nested_includes_append_lists_and_replace_other_values() {
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("/etc/litellm/sub/models.yaml"),
            "include: [deeper.yaml]\nmodel_list:\n  - model_name: b\nlitellm_settings: {num_retries: 2}\n",
        );
        files.insert(PathBuf::from("/etc/litellm/sub/deeper.yaml"), "model_list:\n  - model_name: c\n");
        let root = "include:\n  - sub/models.yaml\n  - sub/models.yaml\nmodel_list:\n  - model_name: a\nlitellm_settings: {num_retries: 0, cache: true}\n";
        let (_, m) = load_merged(root, Path::new("/etc/litellm/config.yaml"), &reader(&files)).unwrap();
        let ml = m.get("model_list").unwrap();
        let names: Vec<&str> =
            ml.node.as_list().unwrap().iter().map(|n| n.get("model_name").unwrap().as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(ml.items, [0, 1, 2]);
        assert_eq!(m.files.len(), 3, "a file is read once: {:?}", m.files);
        let ls = m.node("litellm_settings").unwrap();
        assert!(ls.get("cache").is_none(), "the included section replaces the root's");
        assert!(m.get("include").is_none());
    }

    #[test]
    fn a_missing_include_names_the_including_file_and_line() {
        let files = HashMap::new();
        let e = load_merged("model_list: []\ninclude:\n  - models.yaml\n", Path::new("/srv/c.yaml"), &reader(&files))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/srv/c.yaml:3: field `include`"), "{e}");
        assert!(e.contains("/srv/models.yaml"), "{e}");
        let e =
            load_merged("include: models.yaml\n", Path::new("/srv/c.yaml"), &reader(&files)).unwrap_err().to_string();
        assert!(e.contains("must be a list"), "{e}");
    }

    #[test]
    fn abspath_is_lexical() {
        assert_eq!(abspath(Path::new("/a/b/../c/./d.yaml")), PathBuf::from("/a/c/d.yaml"));
    }
}
