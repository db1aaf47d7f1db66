//! The one binding table: context, keys, command, help text, footer hint.
//! Dispatch, the `?` help, the footer and the palette all read it, and the
//! config's `keys:` section rebinds any command in it.

use std::collections::HashMap;

use super::command::{ActionKind, Command};
use super::spec::{Key, KeySpec};

/// Where a binding applies. A key is looked up along a chain of contexts
/// ([`Context::chain`]): the first binding found wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Everywhere outside overlays.
    Global,
    /// Moving in any of the four panes.
    Panes,
    Tree,
    Table,
    /// The action keys (also inside a details view).
    Actions,
    Confirm,
    Help,
    /// A details view (a node, a row, a timeline line).
    Detail,
    /// Typing: the filter, a model name.
    Text,
    Palette,
}

impl Context {
    /// Where a key pressed in this context is looked up, in order.
    pub fn chain(self) -> &'static [Context] {
        use Context::{Actions, Confirm, Detail, Global, Help, Palette, Panes, Table, Text, Tree};
        match self {
            Global | Panes => &[Panes, Actions, Global],
            Tree => &[Tree, Panes, Actions, Global],
            Table => &[Table, Panes, Actions, Global],
            Actions => &[Actions],
            Confirm => &[Confirm],
            Help => &[Help],
            Detail => &[Detail, Actions],
            Text => &[Text],
            Palette => &[Palette],
        }
    }

    fn all() -> [Context; 10] {
        use Context::{Actions, Confirm, Detail, Global, Help, Palette, Panes, Table, Text, Tree};
        [Global, Panes, Tree, Table, Actions, Confirm, Help, Detail, Text, Palette]
    }

    /// Where a context's keys are listed in `?`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Global => "Everywhere",
            Self::Panes => "Moving",
            Self::Tree => "In the triage tree",
            Self::Table => "In the deployments / channels table",
            Self::Actions => "Actions on this gateway (each asks first)",
            Self::Confirm => "In a confirmation",
            Self::Help => "In this help",
            Self::Detail => "In a details view",
            Self::Text => "Typing",
            Self::Palette => "In the command palette",
        }
    }
}

/// One binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<KeySpec>,
    pub command: Command,
    pub help: &'static str,
    /// A short word for the footer, for the bindings worth one there.
    pub hint: Option<&'static str>,
}

const fn ch(c: char) -> KeySpec {
    KeySpec::ch(c)
}

const fn k(key: Key) -> KeySpec {
    KeySpec::plain(key)
}

fn b(context: Context, keys: &[KeySpec], command: Command, help: &'static str, hint: Option<&'static str>) -> Binding {
    Binding { context, keys: keys.to_vec(), command, help, hint }
}

/// The table as shipped.
fn defaults() -> Vec<Binding> {
    use Command as C;
    use Context::{Actions, Confirm, Detail, Global, Help, Palette, Panes, Table, Text, Tree};
    let scroll = |ctx| {
        vec![
            b(ctx, &[k(Key::Up), ch('k')], C::Up, "scroll up", None),
            b(ctx, &[k(Key::Down), ch('j')], C::Down, "scroll down", None),
            b(ctx, &[k(Key::PageUp), KeySpec::ctrl('u')], C::PageUp, "page up", None),
            b(ctx, &[k(Key::PageDown), KeySpec::ctrl('d')], C::PageDown, "page down", None),
            b(ctx, &[k(Key::Home), ch('g')], C::Top, "top", None),
            b(ctx, &[k(Key::End), ch('G')], C::Bottom, "bottom", None),
        ]
    };
    let mut v = vec![
        b(Global, &[ch('q'), KeySpec::ctrl('c')], C::Quit, "quit (the terminal is restored)", Some("quit")),
        b(Global, &[ch('?'), k(Key::F(1))], C::Help, "help for where you are, and the symbols", Some("help")),
        b(
            Global,
            &[ch(':')],
            C::Palette,
            "command palette: gateways, actions, filter, sort, report, quit",
            Some("cmd"),
        ),
        b(Global, &[k(Key::Tab)], C::NextPane, "next pane", Some("pane")),
        b(Global, &[k(Key::BackTab)], C::PrevPane, "previous pane", None),
        b(Global, &[ch('[')], C::PrevGateway, "previous gateway", None),
        b(Global, &[ch(']')], C::NextGateway, "next gateway", None),
        b(Global, &[ch('u'), KeySpec::ctrl('r'), k(Key::F(5))], C::Refresh, "refresh now", None),
        b(Global, &[ch('e')], C::Export, "export the incident report (Markdown)", Some("report")),
        b(Global, &[ch('m')], C::TypeModel, "add a model name clients send (for the name check)", None),
        b(Global, &[ch('n')], C::DemoNext, "demo: stage the next incident", Some("next incident")),
        b(Panes, &[k(Key::Up), ch('k')], C::Up, "move up", None),
        b(Panes, &[k(Key::Down), ch('j')], C::Down, "move down", None),
        b(Panes, &[k(Key::Left), ch('h')], C::Left, "collapse (tree)", None),
        b(Panes, &[k(Key::Right), ch('l')], C::Right, "expand (tree)", None),
        b(Panes, &[k(Key::PageUp), KeySpec::ctrl('u')], C::PageUp, "page up", None),
        b(Panes, &[k(Key::PageDown), KeySpec::ctrl('d')], C::PageDown, "page down", None),
        b(Panes, &[k(Key::Home), ch('g')], C::Top, "top", None),
        b(Panes, &[k(Key::End), ch('G')], C::Bottom, "bottom", None),
        b(Panes, &[k(Key::Enter), ch(' ')], C::Enter, "open: expand, or the details", Some("open")),
        b(Panes, &[k(Key::Esc)], C::Back, "clear the pane's filter", None),
        b(Tree, &[ch('J')], C::NextFailure, "next failing node", Some("next failure")),
        b(Tree, &[ch('K')], C::PrevFailure, "previous failing node", None),
        b(
            Global,
            &[ch('/')],
            C::Filter,
            "filter the table: words, field:value (status:auto, group:vip, live:fail), ! inverts; in the timeline: what changed",
            Some("filter"),
        ),
        b(Table, &[ch('o')], C::Sort, "sort by the next column", Some("sort")),
        b(Table, &[ch('O')], C::SortReverse, "reverse the sort", None),
        b(
            Actions,
            &[ch('R')],
            C::Action(ActionKind::Restart),
            "restart (configured command), then verify every replica",
            Some("restart"),
        ),
        b(Actions, &[ch('r')], C::Action(ActionKind::Reload), "reload (configured command)", None),
        b(
            Actions,
            &[ch('p')],
            C::Action(ActionKind::Purge),
            "purge the Redis response cache (/cache/flushall)",
            Some("purge"),
        ),
        b(
            Actions,
            &[ch('H')],
            C::Action(ActionKind::ProbeHealth),
            "probe all deployments (/health: one paid request each)",
            None,
        ),
        b(
            Actions,
            &[ch('f')],
            C::Action(ActionKind::RouteProbe),
            "route probe: which deployment serves each alias (paid)",
            None,
        ),
        b(Actions, &[ch('s')], C::Action(ActionKind::StreamProbe), "stream probe through the gateway (paid)", None),
        b(Actions, &[ch('t')], C::Action(ActionKind::TestChannel), "test the selected channel (paid)", Some("test")),
        b(Actions, &[ch('T')], C::Action(ActionKind::TestAll), "test all channels (paid, in the background)", None),
        b(
            Actions,
            &[ch('x')],
            C::Action(ActionKind::ToggleChannel),
            "enable / disable the selected channel",
            Some("enable/disable"),
        ),
        b(Actions, &[ch('b')], C::Action(ActionKind::RefreshBalance), "refresh the selected channel's balance", None),
        b(
            Actions,
            &[ch('B')],
            C::Action(ActionKind::UpdateAllBalances),
            "update ALL balances (disables channels at ≤ 0; asks twice)",
            None,
        ),
        b(Confirm, &[ch('y')], C::Confirm, "run it", Some("run")),
        b(Confirm, &[ch('Y')], C::ConfirmAnyway, "run anyway (the second confirmation)", None),
        b(Confirm, &[ch('n'), k(Key::Esc), ch('q')], C::Cancel, "cancel", Some("cancel")),
        b(Help, &[k(Key::Esc), ch('q'), ch('?')], C::Back, "close this help", Some("close")),
        b(Detail, &[k(Key::Esc), ch('q')], C::Back, "close", Some("close")),
        b(Text, &[k(Key::Enter)], C::Submit, "done", Some("done")),
        b(Text, &[k(Key::Esc)], C::Cancel, "cancel (clears a filter)", Some("cancel")),
        b(Text, &[k(Key::Backspace)], C::DeleteChar, "delete a character", None),
        b(Palette, &[k(Key::Enter)], C::Submit, "run the command", Some("run")),
        b(Palette, &[k(Key::Tab)], C::Complete, "complete", Some("complete")),
        b(Palette, &[k(Key::Esc)], C::Cancel, "close", Some("close")),
        b(Palette, &[k(Key::Backspace)], C::DeleteChar, "delete a character", None),
    ];
    for ctx in [Confirm, Help, Detail] {
        v.extend(scroll(ctx).into_iter().filter(|x| ctx != Confirm || !matches!(x.command, C::Top | C::Bottom)));
    }
    for i in 0..9u8 {
        let key = char::from(b'1' + i);
        v.push(b(Global, &[ch(key)], C::Gateway(usize::from(i)), "switch to gateway 1-9", None));
    }
    v
}

/// A problem with the config's `keys:` section: the command it concerns
/// (the field name) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysError {
    pub command: String,
    pub message: String,
}

/// The bindings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bindings {
    list: Vec<Binding>,
}

impl Default for Bindings {
    fn default() -> Self {
        Self { list: defaults() }
    }
}

impl Bindings {
    /// The shipped table with the config's `keys:` applied: each named
    /// command gets exactly the keys given, everywhere it is bound; an empty
    /// list unbinds it (actions only).
    pub fn with_overrides(overrides: &[(String, Vec<KeySpec>)]) -> Result<Self, KeysError> {
        let mut list = defaults();
        for (name, keys) in overrides {
            let err = |message: String| KeysError { command: name.clone(), message };
            let Some(command) = Command::from_name(name) else {
                let mut known: Vec<String> = Command::all().iter().map(|c| c.name()).collect();
                known.sort();
                return Err(err(format!("no command {name:?}; commands: {}", known.join(", "))));
            };
            if keys.is_empty() && !command.is_action() {
                return Err(err("only actions may be bound to nothing".into()));
            }
            for bnd in list.iter_mut().filter(|x| x.command == command) {
                bnd.keys.clone_from(keys);
            }
        }
        let this = Self { list };
        this.conflicts().map_or(Ok(this), Err)
    }

    /// The first key that means two things in one place.
    fn conflicts(&self) -> Option<KeysError> {
        for ctx in Context::all() {
            let mut seen: HashMap<KeySpec, Command> = HashMap::new();
            for c in ctx.chain() {
                for bnd in self.list.iter().filter(|x| x.context == *c) {
                    for key in &bnd.keys {
                        match seen.get(key) {
                            Some(other) if *other != bnd.command => {
                                return Some(KeysError {
                                    command: bnd.command.name(),
                                    message: format!(
                                        "{key} is already bound to {} ({})",
                                        other.name(),
                                        ctx.title().to_lowercase()
                                    ),
                                });
                            }
                            _ => {
                                seen.insert(*key, bnd.command);
                            }
                        }
                    }
                }
            }
        }
        None
    }

    /// What `key` asks for in `context`.
    pub fn lookup(&self, context: Context, key: KeySpec) -> Option<Command> {
        context
            .chain()
            .iter()
            .find_map(|c| self.list.iter().find(|x| x.context == *c && x.keys.contains(&key)).map(|x| x.command))
    }

    /// The keys that ask for `command` in `context`'s chain, as shown.
    pub fn keys_for(&self, context: Context, command: Command) -> Vec<KeySpec> {
        context
            .chain()
            .iter()
            .flat_map(|c| self.list.iter().filter(move |x| x.context == *c && x.command == command))
            .flat_map(|x| x.keys.iter().copied())
            .collect()
    }

    /// The first key for `command` there, shown ("R"), or `None` when unbound.
    pub fn key_label(&self, context: Context, command: Command) -> Option<String> {
        self.keys_for(context, command).first().map(ToString::to_string)
    }

    /// The bindings of one context (not its chain), in table order.
    pub fn of(&self, context: Context) -> impl Iterator<Item = &Binding> {
        self.list.iter().filter(move |x| x.context == context && !x.keys.is_empty())
    }

    /// Help lines for one context: keys joined, the help text; bindings with
    /// the same text (the gateway keys 1-9) on one line.
    pub fn help(&self, context: Context) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for bnd in self.of(context) {
            let keys: Vec<String> = bnd.keys.iter().map(ToString::to_string).collect();
            match out.iter_mut().find(|(_, h)| *h == bnd.help) {
                Some((k, _)) => {
                    k.push(' ');
                    k.push_str(&keys.join(" "));
                }
                None => out.push((keys.join(" "), bnd.help)),
            }
        }
        out
    }

    /// Footer hints along `context`'s chain: (first key, word, command).
    pub fn hints(&self, context: Context) -> Vec<(KeySpec, &'static str, Command)> {
        context
            .chain()
            .iter()
            .flat_map(|c| self.of(*c))
            .filter_map(|x| Some((*x.keys.first()?, x.hint?, x.command)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_has_no_conflict() {
        assert_eq!(Bindings::default().conflicts(), None);
    }

    #[test]
    fn lookup_follows_the_chain() {
        let b = Bindings::default();
        assert_eq!(b.lookup(Context::Tree, KeySpec::ch('j')), Some(Command::Down));
        assert_eq!(b.lookup(Context::Tree, KeySpec::ch('R')), Some(Command::Action(ActionKind::Restart)));
        assert_eq!(b.lookup(Context::Detail, KeySpec::ch('R')), Some(Command::Action(ActionKind::Restart)));
        // A confirmation takes only its own keys: q cancels there, it does not quit.
        assert_eq!(b.lookup(Context::Confirm, KeySpec::ch('q')), Some(Command::Cancel));
        assert_eq!(b.lookup(Context::Confirm, KeySpec::ch('R')), None);
        assert_eq!(b.lookup(Context::Table, KeySpec::ch('o')), Some(Command::Sort));
        assert_eq!(b.lookup(Context::Tree, KeySpec::ch('o')), None, "sorting is the table's");
    }

    #[test]
    fn rebinding_moves_a_command_and_conflicts_are_named() {
        let over = |name: &str, keys: &[&str]| {
            vec![(name.to_owned(), keys.iter().map(|k| KeySpec::parse(k).unwrap()).collect::<Vec<_>>())]
        };
        let b = Bindings::with_overrides(&over("restart", &["X"])).unwrap();
        assert_eq!(b.lookup(Context::Tree, KeySpec::ch('X')), Some(Command::Action(ActionKind::Restart)));
        assert_eq!(b.lookup(Context::Tree, KeySpec::ch('R')), None, "the old key is free");
        let b = Bindings::with_overrides(&over("restart", &[])).unwrap();
        assert_eq!(b.keys_for(Context::Tree, Command::Action(ActionKind::Restart)), vec![]);
        let e = Bindings::with_overrides(&over("restart", &["j"])).unwrap_err();
        assert_eq!(e.command, "restart");
        assert!(e.message.contains("already bound to down"), "{e:?}");
        let e = Bindings::with_overrides(&over("restrat", &["X"])).unwrap_err();
        assert!(e.message.contains("no command \"restrat\""), "{e:?}");
        let e = Bindings::with_overrides(&over("quit", &[])).unwrap_err();
        assert!(e.message.contains("only actions"), "{e:?}");
    }

    #[test]
    fn help_and_hints_come_from_the_table() {
        let b = Bindings::default();
        let help = b.help(Context::Global);
        assert!(help.iter().any(|(k, h)| k == "1 2 3 4 5 6 7 8 9" && h.contains("gateway")), "{help:?}");
        let hints = b.hints(Context::Table);
        assert!(hints.iter().any(|(k, w, _)| *k == KeySpec::ch('o') && *w == "sort"), "{hints:?}");
    }
}
