//! The one place that decides what a missing real component means: a
//! visible `SKIPPED` line on the real stderr (libtest captures only the print
//! macros, so a skip through `eprintln!` would pass silently), or a failure
//! when `GATEWATCH_REQUIRE_REAL` asks for every real component (CI).

#![allow(dead_code)]

use std::io::Write as _;

/// Turn every skip into a failure (CI sets this so a broken setup cannot pass).
pub const REQUIRE_ENV: &str = "GATEWATCH_REQUIRE_REAL";

/// `GATEWATCH_REQUIRE_REAL` is on: set to anything but empty, `0`, `false`, `no` or `off`.
pub fn require_real() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no" | "off")
    })
}

/// A line on the real stderr, visible even when libtest captures output.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Skip `test` because `why`: fails instead when real components are required.
pub fn skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}");
    assert!(!require_real(), "{line} ({REQUIRE_ENV} is set)");
    say(&line);
}
