//! Loading and validating the tree: the built-in `assets/triage.yaml`, or an
//! override file. Validation: unique ids, known checks and actions, a remedy
//! (or a child) on every node that is a leaf.

use std::path::Path;

use super::checks;
use super::model::{Tree, TreeFile};
use crate::config::GatewayKind;

/// The tree compiled into the binary.
pub const BUILTIN: &str = include_str!("../../assets/triage.yaml");

/// Action keys the tree may reference.
pub const ACTIONS: [&str; 11] = [
    "purge",
    "reload",
    "restart",
    "probe",
    "test",
    "test_all",
    "balance",
    "balances_all",
    "toggle",
    "route_probe",
    "stream_probe",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("{source_name}:{line}: {message}")]
    Parse { source_name: String, line: usize, message: String },
    #[error("{source_name}: invalid tree: {}", problems.join("; "))]
    Invalid { source_name: String, problems: Vec<String> },
}

/// Parse and validate tree text.
pub fn parse(text: &str, source_name: &str) -> Result<Tree, TreeError> {
    let file: TreeFile = serde_yaml::from_str(text).map_err(|e| TreeError::Parse {
        source_name: source_name.to_owned(),
        line: e.location().map_or(1, |l| l.line()),
        message: e.to_string().rsplit_once(" at line ").map_or_else(|| e.to_string(), |(m, _)| m.to_owned()),
    })?;
    let tree = Tree::from_file(file);
    let problems = validate(&tree);
    if problems.is_empty() {
        Ok(tree)
    } else {
        Err(TreeError::Invalid { source_name: source_name.to_owned(), problems })
    }
}

/// Load the override file, or the built-in tree.
pub fn load(path: Option<&Path>) -> Result<Tree, TreeError> {
    match path {
        None => parse(BUILTIN, "assets/triage.yaml"),
        Some(p) => {
            let text = crate::readlimit::read_text(p, crate::readlimit::TREE, "a triage tree").map_err(|e| {
                TreeError::Parse { source_name: p.display().to_string(), line: 0, message: e.to_string() }
            })?;
            parse(&text, &p.display().to_string())
        }
    }
}

/// Everything wrong with a tree.
pub fn validate(tree: &Tree) -> Vec<String> {
    let mut problems = Vec::new();
    if tree.roots.is_empty() {
        problems.push("no nodes".to_owned());
    }
    let mut seen = std::collections::HashSet::new();
    for n in &tree.nodes {
        if !seen.insert(n.id.as_str()) {
            problems.push(format!("duplicate id {:?}", n.id));
        }
        if n.id.trim().is_empty() || n.id.contains(char::is_whitespace) {
            problems.push(format!("bad id {:?}", n.id));
        }
        if n.title.trim().is_empty() {
            problems.push(format!("{}: empty title", n.id));
        }
        for c in &n.checks {
            if !checks::known_reference(c) {
                problems.push(format!("{}: unknown check {c:?}", n.id));
            }
        }
        for a in &n.actions {
            if !ACTIONS.contains(&a.as_str()) {
                problems.push(format!("{}: unknown action {a:?}", n.id));
            }
        }
        for kind in [GatewayKind::LiteLlm, GatewayKind::NewApi] {
            if n.is_leaf() && n.applies(kind) && n.remedy(kind).is_empty() {
                problems.push(format!("{}: leaf without a remedy for {}", n.id, kind.as_str()));
            }
        }
        if n.checks.is_empty() && n.no_data.is_none() && n.is_leaf() {
            problems.push(format!("{}: leaf with neither checks nor a no_data reason", n.id));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tree_is_valid() {
        let tree = parse(BUILTIN, "assets/triage.yaml").unwrap();
        assert!(tree.nodes.len() > 30);
        // The five pitfalls, the cost traps and the security checklist are all there.
        for id in ["p1-model-mismatch", "p2-cost", "p3-stale-key", "p4-streaming", "p5-newapi-starved", "security"] {
            assert!(tree.get(id).is_some(), "{id}");
        }
        for id in ["p2-fallback", "p2-retries", "p2-timers"] {
            assert!(tree.get(id).is_some(), "cost trap {id}");
        }
    }

    #[test]
    fn every_check_is_referenced_by_the_tree() {
        let tree = parse(BUILTIN, "x").unwrap();
        let id = |r: &str| r.split_once('#').map_or(r, |(c, _)| c).to_owned();
        for c in checks::ALL {
            assert!(tree.nodes.iter().any(|n| n.checks.iter().any(|x| id(x) == c.id)), "check {} is unused", c.id);
        }
        // Every question a check answers on its own is asked by some node.
        for (c, qs) in checks::ASPECTS {
            for q in *qs {
                let r = format!("{c}#{q}");
                assert!(tree.nodes.iter().any(|n| n.checks.contains(&r)), "{r} is asked by no node");
            }
        }
    }

    #[test]
    fn an_unknown_question_is_refused() {
        let bad =
            "version: 1\nnodes:\n  - id: a\n    title: A\n    checks: [gateway-reachable#nope]\n    remedy: [x]\n";
        let TreeError::Invalid { problems, .. } = parse(bad, "t.yaml").unwrap_err() else { panic!() };
        assert!(problems.join("\n").contains("unknown check \"gateway-reachable#nope\""), "{problems:?}");
    }

    #[test]
    fn validation_catches_each_problem() {
        let bad = "version: 1\nnodes:\n  - id: a\n    title: A\n    checks: [no-such-check]\n    actions: [explode]\n  - id: a\n    title: A2\n    checks: [key-drift]\n";
        let TreeError::Invalid { problems, .. } = parse(bad, "t.yaml").unwrap_err() else { panic!() };
        let all = problems.join("\n");
        assert!(all.contains("duplicate id \"a\""), "{all}");
        assert!(all.contains("unknown check \"no-such-check\""), "{all}");
        assert!(all.contains("unknown action \"explode\""), "{all}");
        assert!(all.contains("leaf without a remedy for litellm"), "{all}");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = parse("version: 1\nnodes:\n  - id: a\n    titel: x\n", "t.yaml").unwrap_err().to_string();
        assert!(err.starts_with("t.yaml:4:"), "{err}");
    }
}

#[cfg(test)]
mod impact_tests {
    use super::*;
    use crate::triage::model::Impact;

    #[test]
    fn every_branch_of_the_builtin_tree_says_what_a_failure_costs_and_children_inherit_it() {
        let tree = parse(BUILTIN, "builtin").unwrap();
        let by_id = |id: &str| tree.get(id).unwrap().impact;
        assert_eq!(by_id("p3-stale-key"), Impact::Outage);
        assert_eq!(by_id("p3-drift"), Impact::Outage, "inherited");
        assert_eq!(by_id("p2-cost"), Impact::Cost);
        assert_eq!(by_id("security"), Impact::Hygiene);
        assert!(Impact::Outage < Impact::Degraded && Impact::Cost < Impact::Hygiene);
        let err =
            parse("version: 1\nnodes:\n  - id: a\n    title: A\n    impact: dire\n    no_data: x\n", "t").unwrap_err();
        assert!(err.to_string().contains("impact") || err.to_string().contains("dire"), "{err}");
    }
}
