//! Colours, with symbols carrying the meaning too: everything reads without
//! colour, and `NO_COLOR` turns colour off.

use ratatui::style::{Color, Modifier, Style};

use crate::gateway::DeploymentStatus;
use crate::triage::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (to anything non-empty).
    pub fn from_env() -> Self {
        Self { color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) }
    }

    pub fn plain() -> Self {
        Self { color: false }
    }

    fn fg(self, c: Color) -> Style {
        if self.color { Style::new().fg(c) } else { Style::new() }
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn fail(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color { Style::new().fg(Color::DarkGray) } else { Style::new() }
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn border(self, focused: bool) -> Style {
        if focused { self.fg(Color::Cyan).add_modifier(Modifier::BOLD) } else { self.dim() }
    }

    pub fn verdict(self, v: Verdict) -> Style {
        match v {
            Verdict::Ok => self.ok(),
            Verdict::Warn => self.warn(),
            Verdict::Fail => self.fail(),
            Verdict::Unknown | Verdict::NotApplicable => self.dim(),
        }
    }

    pub fn status(self, s: DeploymentStatus) -> Style {
        match s {
            DeploymentStatus::Serving => self.ok(),
            DeploymentStatus::Unhealthy | DeploymentStatus::AutoDisabled => self.fail(),
            DeploymentStatus::ManuallyDisabled => self.warn(),
            DeploymentStatus::Unknown => self.dim(),
        }
    }
}

/// Symbol + short label for a deployment status (reads without colour).
pub fn status_symbol(s: DeploymentStatus) -> &'static str {
    match s {
        DeploymentStatus::Serving => "✓",
        DeploymentStatus::Unhealthy => "✗",
        DeploymentStatus::ManuallyDisabled => "-",
        DeploymentStatus::AutoDisabled => "!",
        DeploymentStatus::Unknown => "?",
    }
}
