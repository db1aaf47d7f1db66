//! The Markdown incident report: summary, timeline, evidence, actions taken.
//! Built from state only (fingerprints and messages; never a secret; the
//! whole report passes the redactor again before it is written).
//!
//! Names, URLs, versions, messages and every other text that came from a
//! gateway, a registry or a file pass [`sanitize::markdown`]: `cat
//! report.md` replays no escape sequence, and a rendered report shows no
//! link, image, HTML or table cell a gateway made up. The triage tree's own
//! texts (ours, or the operator's `tree_file`) keep their Markdown.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::actions::audit::rfc3339;
use crate::fleet::Fleet;
use crate::sanitize;
use crate::timeline::TimelineKind;
use crate::triage::Tree;
use crate::triage::checks;
use crate::triage::evidence::{Evidence, Verdict};

fn md_escape(s: &str) -> String {
    sanitize::markdown(s)
}

/// Text of the triage tree: one line, `|` escaped for tables, Markdown kept.
fn tree_text(s: &str) -> String {
    sanitize::line(s).replace('|', "\\|")
}

pub fn markdown(fleet: &Fleet, evidence: &[Evidence], tree: &Tree, started: SystemTime, now: SystemTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident report\n");
    let _ = writeln!(out, "- Generated: {} by gatewatch {}", rfc3339(now), env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "- Session started: {}", rfc3339(started));
    let _ = writeln!(out, "- Keys appear as fingerprints only (`sha256:` + 8 hex of SHA-256).\n");

    let _ = writeln!(out, "## Summary\n");
    for (i, g) in fleet.gateways.iter().enumerate() {
        let ev = evidence.get(i);
        let up = g.up_count();
        let _ = writeln!(
            out,
            "- **{}** ({}, {}): {} of {} replica(s) reachable{}",
            md_escape(&g.spec.name),
            g.spec.kind.display_name(),
            md_escape(&g.spec.url),
            up,
            g.replicas.len(),
            g.version().map(|v| format!(", version {}", md_escape(v))).unwrap_or_default()
        );
        if let Some(r) = g.drift_rollup() {
            let _ = writeln!(out, "  - key drift: {}", md_escape(&r.describe()));
        }
        if let Some(ev) = ev {
            for f in ev.findings.iter().filter(|f| matches!(f.verdict, Verdict::Fail | Verdict::Warn)) {
                let _ = writeln!(out, "  - {} `{}`: {}", f.verdict.label(), f.check, md_escape(&f.summary));
            }
        }
    }

    let _ = writeln!(out, "\n## Where the evidence points\n");
    for (i, g) in fleet.gateways.iter().enumerate() {
        let Some(ev) = evidence.get(i) else { continue };
        let mut any = false;
        for (n, node) in tree.nodes.iter().enumerate() {
            if !node.is_leaf() || !node.applies(g.spec.kind) {
                continue;
            }
            let v = ev.node_verdict(tree, n, g.spec.kind);
            if v.points_here() {
                if !any {
                    let _ = writeln!(out, "### {}\n", md_escape(&g.spec.name));
                    any = true;
                }
                let path: Vec<String> =
                    tree.path_to(&node.id).iter().filter_map(|id| tree.get(id).map(|x| x.title.clone())).collect();
                let _ = writeln!(out, "- **{}** ({})", tree_text(&path.join(" → ")), v.label());
                for step in node.remedy(g.spec.kind) {
                    let _ = writeln!(out, "  - {}", tree_text(&step));
                }
            }
        }
    }

    let _ = writeln!(out, "\n## Timeline\n");
    let _ = writeln!(out, "| time (UTC) | gateway | kind | what |");
    let _ = writeln!(out, "|---|---|---|---|");
    for e in fleet.timeline.entries() {
        let gw = e.gateway.and_then(|i| fleet.gateways.get(i)).map_or("-", |g| g.spec.name.as_str());
        let _ =
            writeln!(out, "| {} | {} | {} | {} |", rfc3339(e.at), md_escape(gw), e.kind.label(), md_escape(&e.text));
    }

    let _ = writeln!(out, "\n## Actions taken\n");
    let actions: Vec<_> =
        fleet.timeline.entries().filter(|e| matches!(e.kind, TimelineKind::Action | TimelineKind::Verify)).collect();
    if actions.is_empty() {
        let _ = writeln!(out, "None.");
    }
    for e in actions {
        let _ = writeln!(out, "- {} {}", rfc3339(e.at), md_escape(&e.text));
    }

    let _ = writeln!(out, "\n## Evidence\n");
    for (i, g) in fleet.gateways.iter().enumerate() {
        let Some(ev) = evidence.get(i) else { continue };
        let _ = writeln!(out, "### {}\n", md_escape(&g.spec.name));
        let _ = writeln!(out, "| check | verdict | summary |");
        let _ = writeln!(out, "|---|---|---|");
        for f in &ev.findings {
            if f.verdict == Verdict::NotApplicable {
                continue;
            }
            let title = checks::find(f.check).map_or("", |c| c.title);
            let _ = writeln!(
                out,
                "| {} — {} | {} | {} |",
                f.check,
                tree_text(title),
                f.verdict.label(),
                md_escape(&f.summary)
            );
        }
        for f in ev.findings.iter().filter(|f| !f.facts.is_empty() && f.verdict != Verdict::NotApplicable) {
            let _ = writeln!(out, "\n**{}** ({}):\n", f.check, f.verdict.label());
            for fact in &f.facts {
                let _ = writeln!(out, "- {}", md_escape(fact));
            }
        }
        let _ = writeln!(out);
    }
    out
}
