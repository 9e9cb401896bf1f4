//! The stdio transport of `nasc lsp`: the base protocol's framing (`Content-Length: N` header lines, a
//! blank line, N bytes of JSON) read with bounds, so that nothing a client sends can make the server
//! allocate without limit, abort or stop. `lsp-server`'s own stdio reader allocates whatever
//! `Content-Length` says (`99999999999` aborts the process) and ends the session on the first malformed
//! message; this one rejects the message, says so (stderr and a `window/logMessage` error), finds the next
//! `Content-Length` header in the stream and goes on.
//!
//! Bounds: a header line of at most [`MAX_HEADER_LINE`] bytes, at most [`MAX_HEADERS`] headers, a body of
//! at most [`MAX_BODY`] bytes. The messages themselves are `lsp-server`'s (`Message`), so the event loop
//! is unchanged: it talks to the two ends of [`lsp_server::Connection::memory`].

use lsp_server::{Connection, Message, Notification};
use std::io::{self, BufRead, Write};

/// The longest header line.
pub const MAX_HEADER_LINE: usize = 8 << 10;
/// The most header lines of one message.
pub const MAX_HEADERS: usize = 64;
/// The largest message body (a document of tens of megabytes still fits).
pub const MAX_BODY: usize = 64 << 20;

const HEADER: &[u8] = b"content-length:";

/// What the reader found next.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// A message that was rejected, and why; reading goes on after it.
    Bad(String),
}

/// Reads framed messages from a byte stream.
pub struct Reader<R> {
    inner: R,
    /// After a framing error: skip to the next `Content-Length` header.
    resync: bool,
    /// The start of the first header line, already consumed while resynchronising.
    pending: Option<&'static [u8]>,
}

/// A header line: its bytes, or why there is none.
enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
}

fn shorten(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

impl<R: BufRead> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            resync: false,
            pending: None,
        }
    }

    /// The next message or rejected message; `None` at the end of the stream.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.resync {
            if !self.skip_to_header()? {
                return Ok(None);
            }
            self.resync = false;
            self.pending = Some(b"Content-Length:");
        }
        let mut length: Option<usize> = None;
        let mut headers = 0;
        loop {
            let mut line = match self.read_line()? {
                Line::Eof => return Ok(None),
                Line::TooLong => {
                    return Ok(Some(self.bad(format!(
                        "a header line longer than {MAX_HEADER_LINE} bytes"
                    ))))
                }
                Line::Text(l) => l,
            };
            if let Some(p) = self.pending.take() {
                let mut l = p.to_vec();
                l.extend_from_slice(&line);
                line = l;
            }
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            if line.is_empty() {
                if headers == 0 {
                    continue; // blank lines between messages
                }
                break;
            }
            headers += 1;
            if headers > MAX_HEADERS {
                return Ok(Some(
                    self.bad(format!("more than {MAX_HEADERS} header lines")),
                ));
            }
            // a header glued to the end of earlier garbage still starts a message
            let lower = line.to_ascii_lowercase();
            let start = lower
                .windows(HEADER.len())
                .position(|w| w == HEADER)
                .unwrap_or(0);
            let text = String::from_utf8_lossy(&line[start..]).into_owned();
            let Some((name, value)) = text.split_once(':') else {
                return Ok(Some(
                    self.bad(format!("malformed header line `{}`", shorten(&text))),
                ));
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                let v = value.trim();
                let n = if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
                    v.parse::<u128>().ok()
                } else {
                    None
                };
                match n {
                    Some(n) if n <= MAX_BODY as u128 => length = Some(n as usize),
                    Some(n) => {
                        return Ok(Some(self.bad(format!(
                        "Content-Length {n} is more than the {MAX_BODY} bytes a message may have"
                    ))))
                    }
                    None => {
                        return Ok(Some(self.bad(format!(
                            "Content-Length `{}` is not a number of bytes",
                            shorten(v)
                        ))))
                    }
                }
            }
        }
        let Some(n) = length else {
            return Ok(Some(
                self.bad("a message without a Content-Length header".into()),
            ));
        };
        let mut body = vec![0u8; n];
        match self.inner.read_exact(&mut body) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        // the framing was right: the next message follows, whatever the body holds
        Ok(Some(match serde_json::from_slice::<Message>(&body) {
            Ok(m) => Frame::Message(m),
            Err(e) => Frame::Bad(format!("the body is not a JSON-RPC message: {e}")),
        }))
    }

    /// A framing error: the rest of this message is skipped.
    fn bad(&mut self, why: String) -> Frame {
        self.resync = true;
        self.pending = None;
        Frame::Bad(why)
    }

    /// A line up to and including `\n`, at most [`MAX_HEADER_LINE`] bytes.
    fn read_line(&mut self) -> io::Result<Line> {
        let mut line = Vec::new();
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(if line.is_empty() {
                    Line::Eof
                } else {
                    Line::Text(line)
                });
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let take = take.min(MAX_HEADER_LINE + 1 - line.len());
            line.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
            if line.len() > MAX_HEADER_LINE {
                return Ok(Line::TooLong);
            }
            if done && line.last() == Some(&b'\n') {
                return Ok(Line::Text(line));
            }
        }
    }

    /// Consumes bytes up to and including the next `Content-Length:` (any case); false at the end.
    fn skip_to_header(&mut self) -> io::Result<bool> {
        let mut matched = 0;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(false);
            }
            let mut used = 0;
            let mut found = false;
            for &b in buf {
                used += 1;
                let b = b.to_ascii_lowercase();
                // no proper prefix of the pattern is also its suffix: restarting is exact
                matched = if b == HEADER[matched] {
                    matched + 1
                } else if b == HEADER[0] {
                    1
                } else {
                    0
                };
                if matched == HEADER.len() {
                    found = true;
                    break;
                }
            }
            self.inner.consume(used);
            if found {
                return Ok(true);
            }
        }
    }
}

/// Writes one message to stdout, whole (the lock is held for the header and the body).
fn write_stdout(m: &Message) -> io::Result<()> {
    let mut out = io::stdout().lock();
    m.write(&mut out)?;
    out.flush()
}

/// The server's end of a stdio connection, and the thread that writes its messages (join it after dropping
/// the connection, so that every message is out). The reader thread ends with the input or after `exit`.
pub fn stdio() -> io::Result<(Connection, std::thread::JoinHandle<()>)> {
    let (server, client) = Connection::memory();
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    let writer = std::thread::Builder::new()
        .name("nasc-lsp-writer".into())
        .spawn(move || {
            for m in from_server {
                if write_stdout(&m).is_err() {
                    return; // the client went away
                }
            }
        })?;
    let _reader = std::thread::Builder::new()
        .name("nasc-lsp-reader".into())
        .spawn(move || {
            let mut r = Reader::new(io::stdin().lock());
            loop {
                match r.next_frame() {
                    Ok(Some(Frame::Message(m))) => {
                        let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                        if to_server.send(m).is_err() || exit {
                            return;
                        }
                    }
                    Ok(Some(Frame::Bad(why))) => {
                        eprintln!("nasc lsp: ignored a malformed message: {why}");
                        let log = Notification::new(
                            "window/logMessage".into(),
                            serde_json::json!({
                                "type": 1,
                                "message": format!("nasc lsp: ignored a malformed message: {why}"),
                            }),
                        );
                        let _ = write_stdout(&log.into());
                    }
                    Ok(None) => return,
                    Err(e) => {
                        eprintln!("nasc lsp: reading the input: {e}");
                        return;
                    }
                }
            }
        })?;
    Ok((server, writer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<String, String>> {
        let mut r = Reader::new(input);
        let mut out = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            out.push(match f {
                Frame::Message(Message::Request(q)) => Ok(q.method),
                Frame::Message(Message::Notification(n)) => Ok(n.method),
                Frame::Message(Message::Response(_)) => Ok("response".into()),
                Frame::Bad(why) => Err(why),
            });
        }
        out
    }

    fn msg(method: &str) -> Vec<u8> {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}"}}"#);
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    #[test]
    fn good_and_bad_frames() {
        let mut input = msg("a");
        input.extend(b"Content-Length: 99999999999\r\n\r\n{\"x\":1}");
        input.extend(msg("b"));
        input.extend(b"Content-Length: -5\r\n\r\n");
        input.extend(msg("c"));
        input.extend(b"garbage without a colon\r\n");
        input.extend(msg("d"));
        input.extend(b"Content-Length: 3\r\n\r\nabc");
        input.extend(b"trailing garbage");
        input.extend(msg("e"));
        input.extend(vec![b'x'; MAX_HEADER_LINE * 3]);
        input.extend(b"\r\n");
        input.extend(msg("f"));
        input.extend(b"X-Other: 1\r\n\r\n{}");
        input.extend(msg("g"));
        let got = frames(&input);
        let ok: Vec<&str> = got
            .iter()
            .filter_map(|f| f.as_ref().ok().map(String::as_str))
            .collect();
        assert_eq!(ok, ["a", "b", "c", "d", "e", "f", "g"], "{got:?}");
        let bad: Vec<&String> = got.iter().filter_map(|f| f.as_ref().err()).collect();
        assert!(bad[0].contains("99999999999"), "{bad:?}");
        assert!(bad.iter().any(|b| b.contains("not a JSON-RPC message")));
        assert!(bad.iter().any(|b| b.contains("longer than")));
        assert!(bad.iter().any(|b| b.contains("without a Content-Length")));
    }

    #[test]
    fn a_truncated_stream_ends_quietly() {
        assert!(frames(b"Content-Length: 100\r\n\r\n{").is_empty());
        assert!(frames(b"").is_empty());
        // a header cut short is rejected, and the stream ends
        assert!(frames(b"Content-Len").iter().all(|f| f.is_err()));
    }
}
