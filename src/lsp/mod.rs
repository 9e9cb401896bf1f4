//! `nasc lsp`: the language server, over stdio (JSON-RPC through `lsp-server`, no async runtime).
//!
//! The server keeps the open documents' latest texts. Every change marks the document (and the open
//! documents that import it) stale; when no message is waiting, stale documents are checked, most recently
//! changed first, and their diagnostics published — so a burst of edits costs one check. A request about a
//! document is answered from its latest text, checked on demand if need be.
//!
//! Code map: this file is the loop and the dispatch; [`analysis`] answers queries in the compiler's terms
//! (byte offsets, spans); [`convert`] is the one place that converts between those and protocol values.
//!
//! **Architecture invariants:** this is the only module that knows LSP types. Nothing a client sends can
//! crash or stall the server: the checker runs on a thread with a large stack under `catch_unwind`, every
//! message is handled under `catch_unwind` (a failing request gets an error response), and positions and
//! ranges out of the document are clamped.

mod analysis;
mod convert;

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

/// Runs the server on stdin/stdout until the client says `exit` (or closes the stream). Exit status 0
/// after a `shutdown` request, 1 otherwise (as the protocol asks).
pub fn run() -> ExitCode {
    let (conn, io) = Connection::stdio();
    let code = match serve(&conn) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nasc lsp: {e}");
            ExitCode::from(1)
        }
    };
    drop(conn);
    if let Err(e) = io.join() {
        eprintln!("nasc lsp: {e}");
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
    let mut server = Server {
        conn,
        docs: BTreeMap::new(),
        queue: VecDeque::new(),
        shutting_down: false,
    };
    Ok(server.main_loop())
}

/// What the server knows of one open document's check.
enum State {
    /// Changed since the last check.
    Stale,
    Checked(Rc<Analysis>),
    /// The checker crashed on this text (reported once; requests get empty answers until the next edit).
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
    state: State,
}

struct Server<'c> {
    conn: &'c Connection,
    /// Open documents by URI.
    docs: BTreeMap<lsp::Uri, Document>,
    /// Stale documents to check when idle, most urgent first.
    queue: VecDeque<lsp::Uri>,
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

/// Checks a document (a thread with a large stack; a panic is caught and reported as `None`).
fn check_document(path: PathBuf, open: HashMap<PathBuf, String>) -> Option<CheckResult> {
    catch_unwind(move || {
        check::with_big_stack(move || check::check_program(check::load(&[path], &Overlay(open))))
    })
    .ok()
}

type Reply = Result<Json, (ErrorCode, String)>;

fn params<P: serde::de::DeserializeOwned>(req: &Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| (ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

fn json<T: serde::Serialize>(v: T) -> Reply {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server<'_> {
    fn main_loop(&mut self) -> ExitCode {
        loop {
            let msg = if self.queue.is_empty() {
                match self.conn.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return ExitCode::from(1),
                }
            } else {
                match self.conn.receiver.try_recv() {
                    Ok(m) => m,
                    Err(e) if e.is_empty() => {
                        self.check_next();
                        continue;
                    }
                    Err(_) => return ExitCode::from(1),
                }
            };
            match msg {
                Message::Request(req) => self.on_request(req),
                Message::Notification(n) if n.method == lsp::notification::Exit::METHOD => {
                    return if self.shutting_down {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    };
                }
                Message::Notification(n) => {
                    let method = n.method.clone();
                    if catch_unwind(AssertUnwindSafe(|| self.on_notification(n))).is_err() {
                        eprintln!("nasc lsp: internal error while handling `{method}`");
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: impl Into<Message>) {
        // the client went away: the loop ends when the reader sees the stream close
        let _ = self.conn.sender.send(msg.into());
    }

    // ----- requests ------------------------------------------------------------------------------------

    fn on_request(&mut self, req: Request) {
        let id = req.id.clone();
        let reply = if self.shutting_down {
            Err((
                ErrorCode::InvalidRequest,
                "the server is shutting down".to_string(),
            ))
        } else {
            match catch_unwind(AssertUnwindSafe(|| self.handle_request(&req))) {
                Ok(r) => r,
                Err(_) => Err((
                    ErrorCode::InternalError,
                    format!("internal error while handling `{}`", req.method),
                )),
            }
        };
        let resp = match reply {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        };
        self.send(resp);
    }

    fn handle_request(&mut self, req: &Request) -> Reply {
        use lsp::request::*;
        match req.method.as_str() {
            Shutdown::METHOD => {
                self.shutting_down = true;
                Ok(Json::Null)
            }
            HoverRequest::METHOD => {
                let p: lsp::HoverParams = params(req)?;
                let at = p.text_document_position_params;
                let Some((an, off)) = self.locate(&at.text_document.uri, at.position) else {
                    return Ok(Json::Null);
                };
                let file = an.program().sources.file(an.file().expect("located"));
                json(analysis::hover(&an, off).map(|(span, md)| convert::hover(file, span, md)))
            }
            GotoDefinition::METHOD => {
                let p: lsp::GotoDefinitionParams = params(req)?;
                let at = p.text_document_position_params;
                let uri = at.text_document.uri.clone();
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

    /// The latest analysis of a document and the byte offset of a position in it.
    fn locate(&mut self, uri: &lsp::Uri, pos: lsp::Position) -> Option<(Rc<Analysis>, usize)> {
        let an = self.analysis(uri)?;
        let off = convert::offset(an.program().sources.file(an.file()?), pos);
        Some((an, off))
    }

    /// The analysis of a document's latest text (checked now if it is stale; its diagnostics published).
    fn analysis(&mut self, uri: &lsp::Uri) -> Option<Rc<Analysis>> {
        match &self.docs.get(uri)?.state {
            State::Checked(an) => return Some(an.clone()),
            State::Crashed => return None,
            State::Stale => {}
        }
        self.check(uri)
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

    /// Checks the most urgent stale document.
    fn check_next(&mut self) {
        while let Some(uri) = self.queue.pop_front() {
            if matches!(self.docs.get(&uri).map(|d| &d.state), Some(State::Stale)) {
                self.check(&uri);
                return;
            }
        }
    }

    /// Checks a document now and publishes its diagnostics.
    fn check(&mut self, uri: &lsp::Uri) -> Option<Rc<Analysis>> {
        let open: HashMap<PathBuf, String> = self
            .docs
            .values()
            .map(|d| (d.key.clone(), d.text.clone()))
            .collect();
        let doc = self.docs.get(uri)?;
        let (path, version, text) = (doc.path.clone(), doc.version, doc.text.clone());
        self.queue.retain(|u| u != uri);
        let Some(result) = check_document(path, open) else {
            eprintln!(
                "nasc lsp: internal error: the checker crashed on {} (version {version})",
                uri.as_str()
            );
            self.docs.get_mut(uri)?.state = State::Crashed;
            let d = lsp::Diagnostic {
                range: lsp::Range::default(),
                severity: Some(lsp::DiagnosticSeverity::ERROR),
                source: Some("nasc".into()),
                message: "internal error: the checker crashed on this text (please report it)"
                    .into(),
                ..Default::default()
            };
            self.publish(uri, vec![d], Some(version));
            return None;
        };
        let an = Rc::new(Analysis { text, result });
        let diagnostics = match an.file() {
            Some(fid) => an
                .result
                .diagnostics
                .iter()
                .filter(|d| d.span().is_some_and(|s| s.file == fid))
                .filter_map(|d| {
                    convert::diagnostic(d, &an.program().sources, &|f| self.uri_of(&an, uri, f))
                })
                .collect(),
            None => Vec::new(),
        };
        self.publish(uri, diagnostics, Some(version));
        self.docs.get_mut(uri)?.state = State::Checked(an.clone());
        Some(an)
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
        let key = doc.key.clone();
        self.queue.retain(|u| u != uri);
        self.queue.push_front(uri.clone());
        self.touch_importers(uri, &key);
    }

    fn touch_importers(&mut self, uri: &lsp::Uri, key: &Path) {
        for (u, d) in &mut self.docs {
            if u == uri {
                continue;
            }
            let reads_it = match &d.state {
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
                let d = Document {
                    uri: doc.uri.clone(),
                    path,
                    key,
                    version: doc.version,
                    text: doc.text,
                    state: State::Stale,
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
                    self.publish(&uri, Vec::new(), None);
                    self.touch_importers(&uri, &doc.key);
                }
            }
            _ => {}
        }
    }
}
