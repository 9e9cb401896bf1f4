//! `nasc lsp`: the language server, over stdio (JSON-RPC through `lsp-server`, no async runtime).
//!
//! The server keeps the open documents' latest texts. Every change marks the document (and the open
//! documents whose programs read it) stale. When no message is waiting, the most urgent stale document is
//! checked on a background thread and its diagnostics are published when the check ends — so a burst of
//! edits costs one check, and a slow check (a huge `repeat` runs the evaluator to its fuel limit) never
//! keeps requests waiting. Requests are always answered from a document's latest text: hover and document
//! symbols (which show inferred shapes) wait a little for the check of that text; definition and completion
//! use the loaded program (parsing and imports only) when the check is not done yet.
//!
//! Code map: this file is the event loop and the dispatch; [`analysis`] answers queries in the compiler's
//! terms (byte offsets, spans); [`convert`] is the one place that converts between those and protocol
//! values (positions: 0-based line, UTF-16 column); [`transport`] reads and writes the framed messages on
//! stdio with bounds (an oversized or malformed message is rejected and the server reads on).
//!
//! **Architecture invariants:** this is the only module that knows LSP types. Nothing a client sends can
//! crash or stall the server: checks run on threads with a large stack under `catch_unwind`, every message
//! is handled under `catch_unwind` (a failing request gets an error response), positions and ranges outside
//! the document are clamped, and no request waits longer than [`WAIT_FOR_CHECK`] for a check.

mod analysis;
mod convert;
mod transport;

use crate::check::{self, CheckResult, FileReader};
use analysis::Analysis;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::Notification as _;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a hover or document-symbols request waits for the check of the latest text before it is
/// answered without inferred shapes.
pub const WAIT_FOR_CHECK: Duration = Duration::from_secs(2);

/// When the running check is of an outdated text and has run this long, a second one (of the latest text)
/// may start beside it.
const OVERTAKE_AFTER: Duration = Duration::from_millis(250);

/// Stack of a checker thread (the checker recurses over nested blocks and expressions).
const CHECK_STACK: usize = 256 << 20;

/// Runs the server on stdin/stdout until the client says `exit` (or closes the stream). Exit status 0
/// after a `shutdown` request, 1 otherwise (as the protocol asks).
pub fn run() -> ExitCode {
    let (conn, writer) = match transport::stdio() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("nasc lsp: {e}");
            return ExitCode::from(1);
        }
    };
    let code = match serve(&conn) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nasc lsp: {e}");
            ExitCode::from(1)
        }
    };
    // every message sent is written before the process ends
    drop(conn);
    if writer.join().is_err() {
        eprintln!("nasc lsp: the writer thread failed");
    }
    code
}

fn serve(conn: &Connection) -> Result<ExitCode, String> {
    let (id, _params) = conn.initialize_start().map_err(|e| e.to_string())?;
    let result = serde_json::json!({
        "capabilities": convert::capabilities(),
        "serverInfo": { "name": "nasc", "version": env!("CARGO_PKG_VERSION") },
    });
    conn.sender
        .send(Response::new_ok(id, result).into())
        .map_err(|e| e.to_string())?;
    // one queue of events: the client's messages (forwarded) and finished checks
    let (tx, rx) = mpsc::channel();
    let incoming = conn.receiver.clone();
    let forward = tx.clone();
    std::thread::Builder::new()
        .name("nasc-lsp-forward".into())
        .spawn(move || {
            for msg in incoming {
                if forward.send(Event::Message(msg)).is_err() {
                    return;
                }
            }
            let _ = forward.send(Event::Closed);
        })
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        conn,
        events: rx,
        checked: tx,
        docs: BTreeMap::new(),
        queue: VecDeque::new(),
        running: Vec::new(),
        waiting: Vec::new(),
        shutting_down: false,
    };
    Ok(server.main_loop())
}

enum Event {
    Message(Message),
    /// The client's stream ended.
    Closed,
    /// A check ended (`None`: the checker crashed).
    Checked {
        uri: lsp::Uri,
        generation: u64,
        version: i32,
        text: String,
        result: Option<Box<CheckResult>>,
    },
}

/// What the server knows of one open document's check.
enum State {
    /// Changed since the last check.
    Stale,
    Checked(Rc<Analysis>),
    /// The checker crashed on this text (reported once).
    Crashed,
}

struct Document {
    uri: lsp::Uri,
    /// The path the URI names (the module's path for the loader).
    path: PathBuf,
    /// The canonical path (what imports resolve to), or `path` for a file not on disk.
    key: PathBuf,
    version: i32,
    text: String,
    /// Counts the changes of the document and of what it reads.
    generation: u64,
    state: State,
    /// The program loaded (not checked) from the latest text, for requests that come before the check.
    loaded: Option<(u64, Rc<Analysis>)>,
}

/// A request that waits for a check.
struct Waiting {
    req: Request,
    uri: lsp::Uri,
    deadline: Instant,
}

struct Server<'c> {
    conn: &'c Connection,
    events: mpsc::Receiver<Event>,
    /// Given to checker threads.
    checked: mpsc::Sender<Event>,
    /// Open documents by URI.
    docs: BTreeMap<lsp::Uri, Document>,
    /// Stale documents to check, most urgent first.
    queue: VecDeque<lsp::Uri>,
    /// Checks running: document, generation, start.
    running: Vec<(lsp::Uri, u64, Instant)>,
    waiting: Vec<Waiting>,
    shutting_down: bool,
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Reads open documents from memory and other files from disk.
struct Overlay(HashMap<PathBuf, String>);

impl FileReader for Overlay {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        match self.0.get(&canonical(path)) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(path),
        }
    }
}

type Reply = Result<Json, (ErrorCode, String)>;

fn params<P: serde::de::DeserializeOwned>(req: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

fn json<T: serde::Serialize>(v: T) -> Reply {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

/// The document a request is about.
fn request_uri(req: &Request) -> Option<lsp::Uri> {
    serde_json::from_value(req.params.get("textDocument")?.get("uri")?.clone()).ok()
}

impl Server<'_> {
    fn main_loop(&mut self) -> ExitCode {
        loop {
            let event = match self.events.try_recv() {
                Ok(e) => e,
                Err(mpsc::TryRecvError::Disconnected) => return ExitCode::from(1),
                Err(mpsc::TryRecvError::Empty) => {
                    // nothing waiting: time to check
                    self.start_checks();
                    let next = self.waiting.iter().map(|w| w.deadline).min();
                    let got = match next {
                        Some(d) => self
                            .events
                            .recv_timeout(d.saturating_duration_since(Instant::now())),
                        None => self
                            .events
                            .recv()
                            .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
                    };
                    match got {
                        Ok(e) => e,
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.answer_waiting(|w| w.deadline <= Instant::now());
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return ExitCode::from(1),
                    }
                }
            };
            match event {
                Event::Message(Message::Request(req)) => self.on_request(req),
                Event::Message(Message::Notification(n))
                    if n.method == lsp::notification::Exit::METHOD =>
                {
                    return if self.shutting_down {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    };
                }
                Event::Message(Message::Notification(n)) => {
                    let method = n.method.clone();
                    if catch_unwind(AssertUnwindSafe(|| self.on_notification(n))).is_err() {
                        eprintln!("nasc lsp: internal error while handling `{method}`");
                    }
                }
                Event::Message(Message::Response(_)) => {}
                Event::Closed => return ExitCode::from(1),
                Event::Checked {
                    uri,
                    generation,
                    version,
                    text,
                    result,
                } => {
                    if catch_unwind(AssertUnwindSafe(|| {
                        self.on_checked(uri, generation, version, text, result)
                    }))
                    .is_err()
                    {
                        eprintln!("nasc lsp: internal error while publishing diagnostics");
                    }
                }
            }
        }
    }

    fn send(&self, msg: impl Into<Message>) {
        // the client went away: the loop ends when the reader sees the stream close
        let _ = self.conn.sender.send(msg.into());
    }

    // ----- requests ------------------------------------------------------------------------------------

    fn on_request(&mut self, req: Request) {
        use lsp::request::*;
        if self.shutting_down {
            let msg = "the server is shutting down".to_string();
            return self.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                msg,
            ));
        }
        match req.method.as_str() {
            Shutdown::METHOD => {
                self.answer_waiting(|_| true);
                self.shutting_down = true;
                self.send(Response::new_ok(req.id, Json::Null));
            }
            // these show inferred shapes: wait for the check of the latest text
            HoverRequest::METHOD | DocumentSymbolRequest::METHOD => {
                let uri = request_uri(&req);
                let doc = uri.as_ref().and_then(|u| self.docs.get(u));
                match doc.map(|d| &d.state) {
                    Some(State::Stale) => {
                        let uri = uri.expect("the document is open");
                        self.waiting.push(Waiting {
                            req,
                            uri,
                            deadline: Instant::now() + WAIT_FOR_CHECK,
                        });
                    }
                    _ => self.answer(&req),
                }
            }
            _ => self.answer(&req),
        }
    }

    /// Answers the waiting requests that `pick` selects.
    fn answer_waiting(&mut self, pick: impl Fn(&Waiting) -> bool) {
        let (now, later): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(pick);
        self.waiting = later;
        for w in now {
            self.answer(&w.req);
        }
    }

    /// Answers a request now, from the latest text.
    fn answer(&mut self, req: &Request) {
        let reply = match catch_unwind(AssertUnwindSafe(|| self.handle_request(req))) {
            Ok(r) => r,
            Err(_) => Err((
                ErrorCode::InternalError,
                format!("internal error while handling `{}`", req.method),
            )),
        };
        let resp = match reply {
            Ok(v) => Response::new_ok(req.id.clone(), v),
            Err((code, message)) => Response::new_err(req.id.clone(), code as i32, message),
        };
        self.send(resp);
    }

    fn handle_request(&mut self, req: &Request) -> Reply {
        use lsp::request::*;
        match req.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp::HoverParams = params(req)?;
                let at = p.text_document_position_params;
                let Some((an, off)) = self.locate(&at.text_document.uri, at.position) else {
                    return Ok(Json::Null);
                };
                let Some(file) = an.file().map(|f| an.program().sources.file(f)) else {
                    return Ok(Json::Null);
                };
                json(analysis::hover(&an, off).map(|(span, md)| convert::hover(file, span, md)))
            }
            GotoDefinition::METHOD => {
                let p: lsp::GotoDefinitionParams = params(req)?;
                let at = p.text_document_position_params;
                let uri = at.text_document.uri;
                let Some((an, off)) = self.locate(&uri, at.position) else {
                    return Ok(Json::Null);
                };
                let loc = analysis::definition(&an, off).and_then(|span| {
                    convert::location(&an.program().sources, span, &|f| self.uri_of(&an, &uri, f))
                });
                json(loc.map(lsp::GotoDefinitionResponse::Scalar))
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp::DocumentSymbolParams = params(req)?;
                let Some(an) = self.analysis(&p.text_document.uri) else {
                    return Ok(Json::Null);
                };
                let Some(fid) = an.file() else {
                    return Ok(Json::Null);
                };
                let symbols = convert::document_symbols(
                    an.program().sources.file(fid),
                    analysis::symbols(&an),
                );
                json(lsp::DocumentSymbolResponse::Nested(symbols))
            }
            Completion::METHOD => {
                let p: lsp::CompletionParams = params(req)?;
                let at = p.text_document_position;
                let Some((an, off)) = self.locate(&at.text_document.uri, at.position) else {
                    return Ok(Json::Null);
                };
                let items = analysis::completions(&an, &an.text, off);
                json(lsp::CompletionResponse::Array(convert::completion_items(
                    items,
                )))
            }
            Formatting::METHOD => {
                let p: lsp::DocumentFormattingParams = params(req)?;
                let Some(doc) = self.docs.get(&p.text_document.uri) else {
                    return Ok(Json::Null);
                };
                let file = crate::base::SourceFile::new(doc.path.clone(), doc.text.clone());
                match analysis::format(&file.text) {
                    Ok(formatted) => json(convert::formatting(&file, formatted)),
                    Err(why) => Err((ErrorCode::RequestFailed, why)),
                }
            }
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("unsupported request `{}`", req.method),
            )),
        }
    }

    /// An analysis of a document's latest text and the byte offset of a position in it.
    fn locate(&mut self, uri: &lsp::Uri, pos: lsp::Position) -> Option<(Rc<Analysis>, usize)> {
        let an = self.analysis(uri)?;
        let off = convert::offset(an.program().sources.file(an.file()?), pos);
        Some((an, off))
    }

    /// The analysis of a document's latest text: its check when done, else its loaded program with the
    /// names resolved.
    fn analysis(&mut self, uri: &lsp::Uri) -> Option<Rc<Analysis>> {
        let doc = self.docs.get(uri)?;
        if let State::Checked(an) = &doc.state {
            return Some(an.clone());
        }
        if let Some((g, an)) = &doc.loaded {
            if *g == doc.generation {
                return Some(an.clone());
            }
        }
        let (path, text, generation) = (doc.path.clone(), doc.text.clone(), doc.generation);
        let open = self.open_texts();
        let loaded = catch_unwind(move || {
            check::with_big_stack(move || check::check_names(check::load(&[path], &Overlay(open))))
        })
        .ok()?;
        let an = Rc::new(Analysis {
            text,
            result: loaded,
            evaluated: false,
        });
        self.docs.get_mut(uri)?.loaded = Some((generation, an.clone()));
        Some(an)
    }

    fn open_texts(&self) -> HashMap<PathBuf, String> {
        self.docs
            .values()
            .map(|d| (d.key.clone(), d.text.clone()))
            .collect()
    }

    /// The URI of a file of a document's program.
    fn uri_of(
        &self,
        an: &Analysis,
        doc_uri: &lsp::Uri,
        f: crate::base::FileId,
    ) -> Option<lsp::Uri> {
        if Some(f) == an.file() {
            return Some(doc_uri.clone());
        }
        let path = &an.program().sources.get(f)?.path;
        let key = canonical(path);
        if let Some(d) = self.docs.values().find(|d| d.key == key) {
            return Some(d.uri.clone());
        }
        convert::path_to_uri(&key)
    }

    // ----- checking and diagnostics ---------------------------------------------------------------------

    /// Starts checking the most urgent stale document, if no check is running (or only one of an outdated
    /// text, for a while already).
    fn start_checks(&mut self) {
        let outdated = |(u, g, _): &(lsp::Uri, u64, Instant)| {
            self.docs.get(u).is_none_or(|d| d.generation != *g)
        };
        let may_start = match self.running.as_slice() {
            [] => true,
            [r] => outdated(r) && r.2.elapsed() >= OVERTAKE_AFTER,
            _ => false,
        };
        if !may_start {
            return;
        }
        while let Some(uri) = self.queue.pop_front() {
            let Some(doc) = self.docs.get(&uri) else {
                continue;
            };
            if !matches!(doc.state, State::Stale)
                || self
                    .running
                    .iter()
                    .any(|r| r.0 == uri && r.1 == doc.generation)
            {
                continue;
            }
            let (path, generation, version, text) = (
                doc.path.clone(),
                doc.generation,
                doc.version,
                doc.text.clone(),
            );
            let open = self.open_texts();
            let tx = self.checked.clone();
            let job_uri = uri.clone();
            let spawned = std::thread::Builder::new()
                .name("nasc-lsp-check".into())
                .stack_size(CHECK_STACK)
                .spawn(move || {
                    let result = catch_unwind(move || {
                        Box::new(crate::driver::check(crate::driver::Source::Reader {
                            paths: &[path],
                            reader: &Overlay(open),
                        }))
                    })
                    .ok();
                    let _ = tx.send(Event::Checked {
                        uri: job_uri,
                        generation,
                        version,
                        text,
                        result,
                    });
                });
            match spawned {
                Ok(_) => self.running.push((uri, generation, Instant::now())),
                Err(e) => {
                    eprintln!("nasc lsp: cannot start a checker thread: {e}");
                    self.queue.push_front(uri);
                }
            }
            return;
        }
    }

    fn on_checked(
        &mut self,
        uri: lsp::Uri,
        generation: u64,
        version: i32,
        text: String,
        result: Option<Box<CheckResult>>,
    ) {
        self.running.retain(|r| !(r.0 == uri && r.1 == generation));
        let Some(doc) = self.docs.get_mut(&uri) else {
            return;
        };
        if doc.generation != generation {
            return; // outdated: the latest text is queued
        }
        match result {
            None => {
                eprintln!(
                    "nasc lsp: internal error: the checker crashed on {} (version {version})",
                    uri.as_str()
                );
                doc.state = State::Crashed;
                let d = lsp::Diagnostic {
                    range: lsp::Range::default(),
                    severity: Some(lsp::DiagnosticSeverity::ERROR),
                    source: Some("nasc".into()),
                    message: "internal error: the checker crashed on this text (please report it)"
                        .into(),
                    ..Default::default()
                };
                self.publish(&uri, vec![d], Some(version));
            }
            Some(result) => {
                let an = Rc::new(Analysis {
                    text,
                    result: *result,
                    evaluated: true,
                });
                doc.state = State::Checked(an.clone());
                let diagnostics = match an.file() {
                    Some(fid) => an
                        .result
                        .diagnostics
                        .iter()
                        .filter(|d| d.span().is_some_and(|s| s.file == fid))
                        .filter_map(|d| {
                            convert::diagnostic(d, &an.program().sources, &|f| {
                                self.uri_of(&an, &uri, f)
                            })
                        })
                        .collect(),
                    None => Vec::new(),
                };
                self.publish(&uri, diagnostics, Some(version));
            }
        }
        self.answer_waiting(|w| w.uri == uri);
    }

    fn publish(&self, uri: &lsp::Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) {
        let params = lsp::PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version,
        };
        self.send(Notification::new(
            lsp::notification::PublishDiagnostics::METHOD.to_string(),
            params,
        ));
    }

    /// Marks a document stale (first in line) and the open documents whose programs read it (after).
    fn touch(&mut self, uri: &lsp::Uri) {
        let Some(doc) = self.docs.get_mut(uri) else {
            return;
        };
        doc.state = State::Stale;
        doc.generation += 1;
        let key = doc.key.clone();
        self.queue.retain(|u| u != uri);
        self.queue.push_front(uri.clone());
        self.touch_importers(uri, &key);
    }

    fn touch_importers(&mut self, uri: &lsp::Uri, key: &Path) {
        for (u, d) in &mut self.docs {
            let reads_it = u != uri
                && match &d.state {
                    State::Checked(an) => an
                        .program()
                        .modules
                        .iter()
                        .skip(1)
                        .any(|m| canonical(&m.path) == key),
                    _ => false,
                };
            if reads_it {
                d.state = State::Stale;
                d.generation += 1;
                if !self.queue.contains(u) {
                    self.queue.push_back(u.clone());
                }
            }
        }
    }

    // ----- notifications ------------------------------------------------------------------------------

    fn on_notification(&mut self, n: Notification) {
        use lsp::notification::*;
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    n.extract::<lsp::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                else {
                    return;
                };
                let doc = p.text_document;
                let path = convert::uri_to_path(&doc.uri);
                let key = canonical(&path);
                let generation = self.docs.get(&doc.uri).map_or(0, |d| d.generation);
                let d = Document {
                    uri: doc.uri.clone(),
                    path,
                    key,
                    version: doc.version,
                    text: doc.text,
                    generation,
                    state: State::Stale,
                    loaded: None,
                };
                self.docs.insert(doc.uri.clone(), d);
                self.touch(&doc.uri);
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    n.extract::<lsp::DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                else {
                    return;
                };
                let uri = p.text_document.uri;
                let Some(doc) = self.docs.get_mut(&uri) else {
                    return;
                };
                for change in p.content_changes {
                    convert::apply_change(&mut doc.text, change);
                }
                doc.version = p.text_document.version;
                self.touch(&uri);
            }
            DidSaveTextDocument::METHOD => {
                let Ok(p) =
                    n.extract::<lsp::DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
                else {
                    return;
                };
                let uri = p.text_document.uri;
                let Some(doc) = self.docs.get_mut(&uri) else {
                    return;
                };
                if let Some(text) = p.text {
                    doc.text = text;
                }
                self.touch(&uri);
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    n.extract::<lsp::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                else {
                    return;
                };
                let uri = p.text_document.uri;
                if let Some(doc) = self.docs.remove(&uri) {
                    self.queue.retain(|u| *u != uri);
                    self.answer_waiting(|w| w.uri == uri);
                    self.publish(&uri, Vec::new(), None);
                    self.touch_importers(&uri, &doc.key);
                }
            }
            Cancel::METHOD => {
                // only a request still waiting for a check can be cancelled; the others are answered already
                let Ok(p) = n.extract::<lsp::CancelParams>(Cancel::METHOD) else {
                    return;
                };
                let id: lsp_server::RequestId = match p.id {
                    lsp::NumberOrString::Number(n) => n.into(),
                    lsp::NumberOrString::String(s) => s.into(),
                };
                if let Some(i) = self.waiting.iter().position(|w| w.req.id == id) {
                    let w = self.waiting.remove(i);
                    let msg = "cancelled".to_string();
                    self.send(Response::new_err(
                        w.req.id,
                        ErrorCode::RequestCanceled as i32,
                        msg,
                    ));
                }
            }
            _ => {}
        }
    }
}
