//! New API's part of the security checklist, per version: since 2025-04
//! (new-api f33ebc8e, "system setup") a fresh database has **no** user, and
//! `POST /api/setup` — no authentication — creates the root account for
//! whoever calls it first; `/api/status` says `setup: false` until then.
//! Older versions (and One API) report no `setup` and create `root` /
//! `123456` instead. The whole web console is served at `/`.

use std::net::IpAddr;

use crate::gateway::{Console, Section};
use crate::triage::checks::is_loopback_url;
use crate::triage::evidence::{Ctx, Finding};

/// What kind of address a URL names, as far as the URL itself tells.
pub fn address_kind(url: &str) -> &'static str {
    let host = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    if is_loopback_url(url) {
        return "a loopback address";
    }
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_private() || ip.is_link_local() || ip.octets()[..2] == [100, 64] => {
            "a private address"
        }
        Ok(IpAddr::V6(ip)) if (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80 => {
            "a private address"
        }
        Ok(_) => "a public address",
        Err(_) => "a DNS name (public or private depends on where it resolves)",
    }
}

/// The `master-key` check for New API: the root account, per version.
pub fn setup(c: &Ctx<'_>) -> Finding {
    let Some(snap) = c.gw.primary() else {
        return Finding::unknown("no answer from /api/status yet");
    };
    let url = c.gw.spec.url.trim_end_matches('/');
    let version = snap.version.as_deref().unwrap_or("this version");
    match snap.setup {
        Some(false) => Finding::fail(
            "New API is not set up: no root account exists, and POST /api/setup (no authentication) \
             lets whoever reaches it first create one",
        )
        .fact(format!("{url}/api/status says setup: false ({version}, on {})", address_kind(url)))
        .fact(format!(
            "complete the setup now: open {url}/ in a browser (or POST /api/setup) and choose the root user and password yourself"
        ))
        .fact(
            "until then keep /api/setup unreachable for anyone else: bind New API to 127.0.0.1, \
             or block the address at the firewall or the proxy in front",
        ),
        Some(true) => Finding::unknown(
            "setup complete: root's password was chosen at setup (this version creates no default account); \
             it and SESSION_SECRET are not readable through the API",
        )
        .fact(format!("{version} reports setup: true"))
        .fact(
            "set SESSION_SECRET to a random value (without it every restart ends all sessions, \
             and sessions do not carry across nodes); turn on 2FA for root; one access token per admin",
        ),
        None => Finding::unknown(
            "this version does not report setup: it creates root / 123456 on a fresh database, \
             and the password is not readable through the API",
        )
        .fact(format!("{version}: /api/status has no setup field (One API, or New API before 2025-04)"))
        .fact("log in as root and change the password if it is still 123456; set SESSION_SECRET; one access token per admin"),
    }
}

/// The `admin-ui-exposed` check for New API: does `/` serve the console,
/// and on what kind of address.
pub fn console(c: &Ctx<'_>) -> Finding {
    let mut facts = Vec::new();
    let mut served: Vec<&str> = Vec::new();
    let mut probed = 0;
    for r in &c.gw.replicas {
        let Some(snap) = r.last_ok.as_deref() else { continue };
        let url = r.url.trim_end_matches('/');
        let fact = match &snap.console {
            Section::Ok(Console::Served { status, title }) => {
                served.push(r.url.as_str());
                format!(
                    "{url}/ serves the web console without credentials (HTTP {status}, {title:?}), on {}",
                    address_kind(url)
                )
            }
            Section::Ok(Console::Redirect { status, to }) => {
                format!("{url}/ redirects (HTTP {status}) to {to:?}: the console is served there (FRONTEND_BASE_URL)")
            }
            Section::Ok(Console::NotServed { status }) => format!("{url}/ answers HTTP {status}, not the console"),
            Section::Failed(e) => format!("{url}/: {e}"),
            Section::Unavailable(_) | Section::NotLoaded => continue,
        };
        probed += 1;
        facts.push(fact);
    }
    if probed == 0 {
        return Finding::unknown("/ not requested yet");
    }
    let exposed: Vec<&str> = served.iter().copied().filter(|u| !is_loopback_url(u)).collect();
    if served.is_empty() {
        Finding::ok("the web console does not answer at / from here").facts(facts)
    } else if exposed.iter().any(|u| u.starts_with("http://")) {
        Finding::fail(
            "the admin console is served over plain http on a non-loopback address: logins cross the network in clear",
        )
        .facts(facts)
    } else if let Some(u) = exposed.first() {
        Finding::warn(format!(
            "the admin console answers on {}: its login is open to whoever reaches it; keep root's password strong and 2FA on, \
             or keep it on a private network or behind SSO",
            address_kind(u)
        ))
        .facts(facts)
    } else {
        Finding::ok("the web console answers on loopback only").facts(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_kinds() {
        assert_eq!(address_kind("http://127.0.0.1:3000"), "a loopback address");
        assert_eq!(address_kind("http://localhost:3000"), "a loopback address");
        assert_eq!(address_kind("http://[::1]:3000"), "a loopback address");
        assert_eq!(address_kind("http://10.0.0.11:3000"), "a private address");
        assert_eq!(address_kind("http://192.168.1.5"), "a private address");
        assert_eq!(address_kind("http://100.64.3.2"), "a private address");
        assert_eq!(address_kind("http://[fd00::5]:3000"), "a private address");
        assert_eq!(address_kind("https://203.0.113.7"), "a public address");
        assert!(address_kind("https://gw.example.com").starts_with("a DNS name"));
    }
}
