//! The gateway process on this host, and when it started.
//!
//! The process is the one that listens on the gateway's port (`/proc/net/tcp`
//! and `tcp6`: the listening socket's inode, then the process holding it),
//! else the one in `pid_file`, else it is "not visible from here". Of the
//! processes holding the socket, the serving ones count (a gunicorn or
//! uvicorn master whose workers hold it too is skipped: the workers load the
//! config), and the oldest of them is taken: it holds the oldest config.
//! The start time is `/proc/PID/stat`'s start (clock ticks since boot)
//! against `/proc/uptime`, both in centiseconds; `/proc/stat`'s `btime` is
//! truncated to whole seconds, which made a config written just before a
//! start look newer than the process.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::GatewaySpec;
use crate::fleet::ProcessInfo;

/// Linux reports process times in USER_HZ, 100 on every mainstream architecture.
const TICKS_PER_SECOND: u64 = 100;

/// Start time of a process: `/proc/PID/stat` field 22 (ticks after boot)
/// against `/proc/uptime` (seconds since boot, two decimals).
pub fn process_start(pid: u32) -> Option<SystemTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = stat.rsplit_once(')')?.1;
    let ticks: u64 = after_comm.split_whitespace().nth(19)?.parse().ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    let now = SystemTime::now();
    let (secs, frac) = uptime.split_whitespace().next()?.split_once('.').unwrap_or(("0", "0"));
    let centis: u64 = secs.parse::<u64>().ok()? * 100 + frac.get(..2).unwrap_or("0").parse::<u64>().unwrap_or(0);
    let since_start = Duration::from_millis(centis.checked_mul(10)?.checked_sub(ticks * 1000 / TICKS_PER_SECOND)?);
    now.checked_sub(since_start)
}

/// A listening TCP socket: its address and the socket inode.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listener {
    ip: IpAddr,
    port: u16,
    inode: u64,
}

fn hex_ip(h: &str) -> Option<IpAddr> {
    // Each 32-bit word is printed as the host's u32 of network-order bytes.
    let word = |w: &str| u32::from_str_radix(w, 16).ok().map(u32::to_ne_bytes);
    match h.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(h)?))),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(&h[i * 8..i * 8 + 8])?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// `/proc/net/tcp{,6}` lines in state LISTEN (`0A`).
fn parse_listeners(text: &str) -> Vec<Listener> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.get(3) != Some(&"0A") {
                return None;
            }
            let (ip, port) = f.get(1)?.split_once(':')?;
            Some(Listener {
                ip: hex_ip(ip)?,
                port: u16::from_str_radix(port, 16).ok()?,
                inode: f.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// Is `ip` an address of this host? Binding to it succeeds only if it is.
fn is_local(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// The URL's host as an address gatewatch can match against listeners.
fn url_target(url: &str) -> Result<(Option<IpAddr>, u16), String> {
    let u = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let port = u.port_or_known_default().ok_or("no port")?;
    let host = u.host_str().ok_or("no host")?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok((None, port));
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| (Some(ip), port))
        .map_err(|_| format!("{host} is a host name"))
}

fn matches(l: &Listener, host: Option<IpAddr>, port: u16) -> bool {
    if l.port != port {
        return false;
    }
    let mapped = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    let lip = mapped(l.ip);
    match host.map(mapped) {
        // `localhost`: any loopback or wildcard listener.
        None => lip.is_loopback() || lip.is_unspecified(),
        Some(h) => lip == h || (lip.is_unspecified() && is_local(h)),
    }
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim().to_owned())
        .unwrap_or_default()
}

/// The process or one of its close ancestors runs LiteLLM (uvicorn workers
/// started by multiprocessing carry no `litellm` in their own command line).
fn is_litellm(pid: u32) -> bool {
    if cmdline(pid).contains("litellm") {
        return true;
    }
    // A worker (python, gunicorn, uvicorn) started by the litellm launcher:
    // look at its parents. Any other program never counts, whatever its
    // parents' command lines say (a test runner, a script named after it).
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let comm = comm.trim();
    if !(comm.starts_with("python") || comm.starts_with("gunicorn") || comm.starts_with("uvicorn")) {
        return false;
    }
    let mut p = ppid(pid);
    for _ in 0..3 {
        let Some(cur) = p.filter(|&x| x > 1) else { return false };
        if cmdline(cur).contains("litellm") {
            return true;
        }
        p = ppid(cur);
    }
    false
}

/// Processes holding a socket inode (`/proc/PID/fd/*` → `socket:[inode]`),
/// and how many processes could not be looked into (another user's).
fn holders(inodes: &HashSet<u64>) -> (HashMap<u64, Vec<u32>>, usize) {
    let mut out: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut hidden = 0;
    let Ok(procs) = std::fs::read_dir("/proc") else { return (out, 0) };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            hidden += 1;
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let t = target.to_string_lossy();
            if let Some(inode) =
                t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')).and_then(|n| n.parse().ok())
                && inodes.contains(&inode)
            {
                out.entry(inode).or_default().push(pid);
            }
        }
    }
    (out, hidden)
}

/// The LiteLLM process serving `url`, when it listens on this host.
/// `Ok(None)`: nothing listens here for it; `Err`: something does, but it is
/// not a visible LiteLLM process (why).
fn by_socket(url: &str, listeners: &[Listener]) -> Result<Option<ProcessInfo>, String> {
    let (host, port) = url_target(url)?;
    if let Some(h) = host
        && !is_local(h)
    {
        return Ok(None);
    }
    let inodes: HashSet<u64> = listeners.iter().filter(|l| matches(l, host, port)).map(|l| l.inode).collect();
    if inodes.is_empty() {
        return Ok(None);
    }
    let (held, hidden) = holders(&inodes);
    let pids: HashSet<u32> = held.values().flatten().copied().collect();
    if pids.is_empty() {
        return Err(format!(
            "its port listens here, but the process is not visible to gatewatch's user ({hidden} processes unreadable): run gatewatch as that user, or set pid_file"
        ));
    }
    // Serving processes: no child of theirs holds the socket too.
    let serving: Vec<u32> =
        pids.iter().copied().filter(|p| !pids.iter().any(|c| c != p && ppid(*c) == Some(*p))).collect();
    let litellm: Vec<u32> = serving.iter().copied().filter(|p| is_litellm(*p)).collect();
    if litellm.is_empty() {
        let who = serving.first().map_or_else(String::new, |p| {
            let comm = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            format!("{} (pid {p})", comm.trim())
        });
        return Err(format!(
            "its port is held by {who}, not by LiteLLM (a container's published port, a port-forward or a proxy): set pid_file"
        ));
    }
    let oldest = litellm.iter().filter_map(|p| process_start(*p).map(|s| (s, *p))).min();
    let Some((started, pid)) = oldest else { return Err("its start time is not readable".into()) };
    let workers = if litellm.len() > 1 { format!(", oldest of {} workers", litellm.len()) } else { String::new() };
    Ok(Some(ProcessInfo { pid, started, how: format!("listening on port {port}{workers}") }))
}

fn by_pid_file(path: &Path) -> Result<ProcessInfo, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("pid_file {}: {e}", path.display()))?;
    let pid: u32 = text.trim().parse().map_err(|_| format!("pid_file {} holds no pid", path.display()))?;
    let started =
        process_start(pid).ok_or_else(|| format!("pid_file {}: process {pid} is not running", path.display()))?;
    Ok(ProcessInfo { pid, started, how: format!("pid file {}", path.display()) })
}

/// The gateway's process on this host (the oldest serving one over every
/// replica address), or why it is not visible from here.
pub fn find(spec: &GatewaySpec) -> Result<ProcessInfo, String> {
    let mut listeners = Vec::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(t) = std::fs::read_to_string(f) {
            listeners.extend(parse_listeners(&t));
        }
    }
    let mut urls = spec.replica_urls();
    if !urls.contains(&spec.url) {
        urls.push(spec.url.clone());
    }
    let mut found: Vec<ProcessInfo> = Vec::new();
    let mut why = Vec::new();
    for u in &urls {
        match by_socket(u, &listeners) {
            Ok(Some(p)) => found.push(p),
            Ok(None) => {}
            Err(e) => why.push(format!("{u}: {e}")),
        }
    }
    if let Some(p) = found.into_iter().min_by_key(|p| p.started) {
        return Ok(p);
    }
    if let Some(pf) = &spec.pid_file {
        return by_pid_file(pf);
    }
    if why.is_empty() {
        return Err("the LiteLLM process is not visible from here (no replica address listens on this host): run gatewatch on the gateway's host, or set pid_file".into());
    }
    Err(format!("the LiteLLM process is not visible from here: {}", why.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_start_is_centisecond_exact() {
        let t = process_start(std::process::id()).unwrap();
        let now = SystemTime::now();
        assert!(t <= now + Duration::from_millis(20), "{t:?} after {now:?}");
        assert!(now.duration_since(t).unwrap_or_default() < Duration::from_secs(3600));
    }

    #[test]
    fn proc_net_tcp_lines() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0 100 0 0 10 0\n   1: 0100007F:0FA0 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 999 1\n";
        let l = parse_listeners(text);
        assert_eq!(l, [Listener { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 4000, inode: 12345 }]);
        let v6 = "h\n   0: 00000000000000000000000000000000:0FA0 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 777 1\n";
        let l = parse_listeners(v6);
        assert_eq!(l[0].ip, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert!(matches(&l[0], Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), 4000));
        assert!(!matches(&l[0], Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), 4001));
    }

    #[test]
    fn finds_the_process_listening_on_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        // /proc/net/tcp is read in chunks that can miss a socket while others
        // open and close (the other tests), and the scan of /proc/*/fd races
        // with processes coming and going: read until ours shows.
        let mut listeners = Vec::new();
        for _ in 0..50 {
            listeners.clear();
            for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
                listeners.extend(parse_listeners(&std::fs::read_to_string(f).unwrap_or_default()));
            }
            let found = by_socket(&format!("http://127.0.0.1:{port}"), &listeners);
            if found.as_ref().is_err_and(|e| e.contains(&format!("(pid {})", std::process::id()))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The test binary is not LiteLLM: a clear reason, never a wrong process.
        let e = by_socket(&format!("http://127.0.0.1:{port}"), &listeners).unwrap_err();
        assert!(e.contains("not by LiteLLM") && e.contains(&format!("(pid {})", std::process::id())), "{e}");
        assert_eq!(by_socket("http://127.0.0.1:1", &listeners), Ok(None));
        assert!(by_socket("http://gateway.internal:4000", &listeners).is_err());
        drop(l);
    }
}
