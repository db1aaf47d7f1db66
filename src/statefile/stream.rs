//! Large JSON state files written as they are serialised, scrubbed on the
//! way: the list snapshot and the lists a New API crawl carries are 27 MB
//! of JSON each at 50,000 channels, and holding that text (and the scrubbed copy of it) whole
//! doubled the process's memory for the time of each write.
//!
//! The JSON is written with a line break before every object ([`ObjectLines`]:
//! whitespace, so the file reads as before), and [`ScrubLines`] masks it a
//! run of whole lines at a time. A raw line break never occurs inside a JSON
//! string (it is escaped), so every secret and every echoed credential the
//! redactor could find in the whole text lies within one run of lines: the
//! file is masked exactly as if the text had been scrubbed whole.

use std::io::{self, Write};

/// Scrubbed text is handed on in runs of at least this many bytes.
const RUN: usize = 256 << 10;

/// A `serde_json` formatter: compact, with a line break before each object.
#[derive(Debug, Default, Clone, Copy)]
pub struct ObjectLines;

impl serde_json::ser::Formatter for ObjectLines {
    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n{")
    }
}

/// Serialise `value` as [`ObjectLines`] JSON into `out`.
pub fn to_writer<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, ObjectLines);
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// A writer that masks what passes through it (`crate::secret::scrub`) a
/// run of whole lines at a time; [`ScrubLines::finish`] masks and writes the
/// rest.
pub struct ScrubLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
    run: usize,
}

impl<W: Write> ScrubLines<W> {
    pub fn new(inner: W) -> Self {
        Self::with_run(inner, RUN)
    }

    fn with_run(inner: W, run: usize) -> Self {
        Self { inner, pending: Vec::with_capacity(run + (run >> 2)), run }
    }

    /// Scrub and write `pending[..end]`.
    fn pass_on(&mut self, end: usize) -> io::Result<()> {
        let text = std::str::from_utf8(&self.pending[..end])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))?;
        self.inner.write_all(crate::secret::scrub(text).as_bytes())?;
        self.pending.drain(..end);
        Ok(())
    }

    /// Everything written, masked; the inner writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.pass_on(self.pending.len())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ScrubLines<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= self.run
            && let Some(cut) = self.pending.iter().rposition(|b| *b == b'\n')
            && cut > 0
        {
            self.pass_on(cut)?;
        }
        Ok(buf.len())
    }

    /// Writes nothing: a line cut short could split a secret. `finish` ends.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Item {
        name: String,
        note: String,
        tags: Vec<String>,
    }

    fn items(secret: &str) -> Vec<Item> {
        (0..400)
            .map(|i| Item {
                name: format!("channel-{i}"),
                note: match i % 4 {
                    0 => format!("uses {secret} upstream"),
                    1 => "Authorization: Bearer abcdefgh12345678ZZ".to_owned(),
                    2 => format!("sk-{i:0>24}"),
                    _ => "plain".to_owned(),
                },
                tags: vec!["a".into(), format!("t{i}")],
            })
            .collect()
    }

    #[test]
    fn object_lines_json_reads_back_as_compact_json_does() {
        let v = items("nothing-secret-here");
        let mut out = Vec::new();
        to_writer(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), v.len());
        let back: Vec<Item> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn masked_in_runs_exactly_as_when_scrubbed_whole() {
        let secret = "stream-secret-0123456789abcdef";
        crate::secret::known().add(Secret::new(secret));
        let v = items(secret);
        let mut plain = Vec::new();
        to_writer(&mut plain, &v).unwrap();
        let whole = crate::secret::scrub(std::str::from_utf8(&plain).unwrap());
        assert!(!whole.contains(secret) && !whole.contains("abcdefgh12345678ZZ"));
        // Runs so short that every line is a run, and runs that cut anywhere.
        for run in [1, 7, 100, 4096, RUN] {
            let mut w = ScrubLines::with_run(Vec::new(), run);
            // Serialised in small writes, as serde_json writes.
            to_writer(&mut w, &v).unwrap();
            let got = String::from_utf8(w.finish().unwrap()).unwrap();
            assert_eq!(got, whole, "run {run}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_not_written_raw() {
        let mut w = ScrubLines::with_run(Vec::new(), 1);
        w.write_all(b"ok\n\xff\xfe\n").unwrap_or(());
        assert!(w.finish().is_err());
    }
}
