//! What a key (or the command palette) can ask for. Every command has a name:
//! the config's `keys:` section and the palette use it.

/// The actions that change a gateway or send paid requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    Purge,
    Reload,
    Restart,
    ProbeHealth,
    RouteProbe,
    StreamProbe,
    TestChannel,
    TestAll,
    RefreshBalance,
    UpdateAllBalances,
    ToggleChannel,
}

impl ActionKind {
    pub const ALL: [Self; 11] = [
        Self::Restart,
        Self::Reload,
        Self::Purge,
        Self::ProbeHealth,
        Self::RouteProbe,
        Self::StreamProbe,
        Self::TestChannel,
        Self::TestAll,
        Self::ToggleChannel,
        Self::RefreshBalance,
        Self::UpdateAllBalances,
    ];

    /// The action key the tree, the plan and the audit log use.
    pub fn key(self) -> &'static str {
        match self {
            Self::Purge => "purge",
            Self::Reload => "reload",
            Self::Restart => "restart",
            Self::ProbeHealth => "probe",
            Self::RouteProbe => "route_probe",
            Self::StreamProbe => "stream_probe",
            Self::TestChannel => "test",
            Self::TestAll => "test_all",
            Self::RefreshBalance => "balance",
            Self::UpdateAllBalances => "balances_all",
            Self::ToggleChannel => "toggle",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }
}

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    Palette,
    NextPane,
    PrevPane,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    /// Close what is open, or clear the pane's filter.
    Back,
    Filter,
    Sort,
    SortReverse,
    NextFailure,
    PrevFailure,
    Gateway(usize),
    PrevGateway,
    NextGateway,
    Refresh,
    Export,
    TypeModel,
    /// `gatewatch demo` only: stage the next incident.
    DemoNext,
    Action(ActionKind),
    /// In a confirmation.
    Confirm,
    ConfirmAnyway,
    Cancel,
    /// In a text field (filter, model name, palette).
    Submit,
    Complete,
    DeleteChar,
}

impl Command {
    /// The name in `keys:` and in the palette.
    pub fn name(self) -> String {
        let fixed = match self {
            Self::Quit => "quit",
            Self::Help => "help",
            Self::Palette => "palette",
            Self::NextPane => "next_pane",
            Self::PrevPane => "prev_pane",
            Self::Up => "up",
            Self::Down => "down",
            Self::Left => "left",
            Self::Right => "right",
            Self::PageUp => "page_up",
            Self::PageDown => "page_down",
            Self::Top => "top",
            Self::Bottom => "bottom",
            Self::Enter => "open",
            Self::Back => "back",
            Self::Filter => "filter",
            Self::Sort => "sort",
            Self::SortReverse => "sort_reverse",
            Self::NextFailure => "next_failure",
            Self::PrevFailure => "prev_failure",
            Self::Gateway(i) => return format!("gateway_{}", i + 1),
            Self::PrevGateway => "prev_gateway",
            Self::NextGateway => "next_gateway",
            Self::Refresh => "refresh",
            Self::Export => "report",
            Self::TypeModel => "add_model",
            Self::DemoNext => "demo_next",
            Self::Action(a) => a.key(),
            Self::Confirm => "confirm",
            Self::ConfirmAnyway => "confirm_anyway",
            Self::Cancel => "cancel",
            Self::Submit => "submit",
            Self::Complete => "complete",
            Self::DeleteChar => "delete_char",
        };
        fixed.to_owned()
    }

    /// Every command a name can stand for.
    pub fn all() -> Vec<Self> {
        let mut v = vec![
            Self::Quit,
            Self::Help,
            Self::Palette,
            Self::NextPane,
            Self::PrevPane,
            Self::Up,
            Self::Down,
            Self::Left,
            Self::Right,
            Self::PageUp,
            Self::PageDown,
            Self::Top,
            Self::Bottom,
            Self::Enter,
            Self::Back,
            Self::Filter,
            Self::Sort,
            Self::SortReverse,
            Self::NextFailure,
            Self::PrevFailure,
            Self::PrevGateway,
            Self::NextGateway,
            Self::Refresh,
            Self::Export,
            Self::TypeModel,
            Self::DemoNext,
            Self::Confirm,
            Self::ConfirmAnyway,
            Self::Cancel,
            Self::Submit,
            Self::Complete,
            Self::DeleteChar,
        ];
        v.extend((0..9).map(Self::Gateway));
        v.extend(ActionKind::ALL.map(Self::Action));
        v
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::all().into_iter().find(|c| c.name() == name)
    }

    /// Changes a gateway or spends money: may be bound to nothing.
    pub fn is_action(self) -> bool {
        matches!(self, Self::Action(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_round_trips() {
        let all = Command::all();
        for c in &all {
            assert_eq!(Command::from_name(&c.name()), Some(*c), "{c:?}");
            assert_eq!(all.iter().filter(|o| o.name() == c.name()).count(), 1, "{c:?}");
        }
        for a in ActionKind::ALL {
            assert_eq!(ActionKind::from_key(a.key()), Some(a));
        }
    }
}
