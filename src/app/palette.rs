//! The command palette (`:`, as in k9s): a gateway by name, any command by
//! its name (the same names as the config's `keys:`), `filter TEXT`,
//! `sort COLUMN`, `report`, `quit`. Tab completes; actions still ask first.

use crate::keys::Command;
use crate::table::SortKey;

/// What a palette line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    Gateway(usize),
    Run(Command),
    Filter(String),
    Sort(SortKey),
    /// Nothing known by that name: the message says what is.
    Unknown(String),
}

/// Commands that make no sense typed (they belong to other contexts).
fn typable(c: Command) -> bool {
    !matches!(
        c,
        Command::Palette
            | Command::Confirm
            | Command::ConfirmAnyway
            | Command::Cancel
            | Command::Submit
            | Command::Complete
            | Command::DeleteChar
            | Command::Gateway(_)
            | Command::Up
            | Command::Down
            | Command::Left
            | Command::Right
            | Command::PageUp
            | Command::PageDown
            | Command::Top
            | Command::Bottom
    )
}

/// Every word the palette knows, for completion: gateways first.
pub fn candidates(gateways: &[String], sort_keys: &[SortKey]) -> Vec<String> {
    let mut out: Vec<String> = gateways.to_vec();
    out.extend(Command::all().into_iter().filter(|c| typable(*c)).map(Command::name));
    out.push("filter ".into());
    out.extend(sort_keys.iter().map(|k| format!("sort {}", k.label())));
    out.push("q".into());
    out
}

/// The completions of what is typed so far.
pub fn completions(text: &str, all: &[String]) -> Vec<String> {
    let t = text.trim_start();
    all.iter().filter(|c| c.starts_with(t)).cloned().collect()
}

/// What a typed line means.
pub fn parse(text: &str, gateways: &[String], sort_keys: &[SortKey]) -> Asked {
    let t = text.trim();
    if let Some(i) = gateways.iter().position(|g| g == t) {
        return Asked::Gateway(i);
    }
    if let Some(rest) = t.strip_prefix("filter") {
        return Asked::Filter(rest.trim().to_owned());
    }
    if let Some(rest) = t.strip_prefix("sort") {
        let want = rest.trim();
        return sort_keys.iter().find(|k| k.label() == want).map_or_else(
            || {
                let names: Vec<&str> = sort_keys.iter().map(|k| k.label()).collect();
                Asked::Unknown(format!("sort by one of: {}", names.join(", ")))
            },
            |k| Asked::Sort(*k),
        );
    }
    if t == "q" {
        return Asked::Run(Command::Quit);
    }
    match Command::from_name(t).filter(|c| typable(*c)) {
        Some(c) => Asked::Run(c),
        None => {
            Asked::Unknown(format!("no command {t:?}: Tab completes (gateways, actions, filter, sort, report, quit)"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ActionKind;

    #[test]
    fn names_gateways_commands_filters_and_sorts() {
        let gws = vec!["litellm-prod".to_owned(), "newapi-prod".to_owned()];
        let keys = SortKey::all(crate::config::GatewayKind::NewApi);
        assert_eq!(parse("newapi-prod", &gws, keys), Asked::Gateway(1));
        assert_eq!(parse(" restart ", &gws, keys), Asked::Run(Command::Action(ActionKind::Restart)));
        assert_eq!(parse("report", &gws, keys), Asked::Run(Command::Export));
        assert_eq!(parse("q", &gws, keys), Asked::Run(Command::Quit));
        assert_eq!(parse("filter status:auto", &gws, keys), Asked::Filter("status:auto".into()));
        assert_eq!(parse("sort weight", &gws, keys), Asked::Sort(SortKey::Weight));
        assert!(matches!(parse("sort colour", &gws, keys), Asked::Unknown(m) if m.contains("weight")));
        assert!(matches!(parse("restrat", &gws, keys), Asked::Unknown(_)));
        assert!(matches!(parse("confirm", &gws, keys), Asked::Unknown(_)), "a confirmation is never typed");
        let all = candidates(&gws, keys);
        assert_eq!(completions("new", &all), vec!["newapi-prod".to_owned()]);
        assert!(completions("re", &all).contains(&"restart".to_owned()));
    }
}
