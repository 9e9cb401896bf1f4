//! `nasc lsp`, driven like an editor drives it: the real binary is spawned and spoken to over its stdin and
//! stdout by a client written here with `lsp-server`'s message framing. Covered: the protocol round trip
//! (snapshots of the answers), thousands of random edits (the server never crashes, every request is
//! answered), a slow check that must not hold requests up, neovim as a real client, and the time from a
//! change to its diagnostics on a 2,000-line file.

use lsp_server::{Message, Notification, Request, RequestId, Response};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// How long any single answer may take before the test fails (a check of a small file takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(60);

// ----- a minimal client -------------------------------------------------------------------------------

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Message>,
    next_id: i32,
    /// Notifications received while waiting for something else.
    notifications: Vec<Notification>,
    /// Responses received while waiting for another (hover waits for a check, so answers may come out of
    /// order).
    responses: Vec<Response>,
    /// The answer to `initialize`.
    init: Option<Value>,
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nasc"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning `nasc lsp`");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Ok(Some(m)) = Message::read(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 0,
            notifications: Vec::new(),
            responses: Vec::new(),
            init: None,
        };
        let init = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": {}, "clientInfo": { "name": "nasc-it" } }),
        );
        let init = init.response_result.expect("initialize failed");
        c.notify("initialized", json!({}));
        c.init = Some(init);
        c
    }

    fn send(&mut self, m: Message) {
        m.write(&mut self.stdin).expect("writing to the server");
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(Notification::new(method.to_string(), params).into());
    }

    /// Sends a request and returns its id (without waiting).
    fn send_request(&mut self, method: &str, params: Value) -> RequestId {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.send(Request::new(id.clone(), method.to_string(), params).into());
        id
    }

    fn recv(&mut self) -> Message {
        match self.rx.recv_timeout(PATIENCE) {
            Ok(m) => m,
            Err(e) => panic!("no message from the server within {PATIENCE:?}: {e}"),
        }
    }

    fn response(&mut self, id: &RequestId) -> Response {
        if let Some(i) = self.responses.iter().position(|r| r.id == *id) {
            return self.responses.remove(i);
        }
        loop {
            match self.recv() {
                Message::Response(r) if r.id == *id => return r,
                Message::Response(r) => self.responses.push(r),
                Message::Notification(n) => self.notifications.push(n),
                Message::Request(r) => panic!("unexpected request from the server {r:?}"),
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Response {
        let id = self.send_request(method, params);
        self.response(&id)
    }

    /// The result of a request that must succeed.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        match r.response_result {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e:?}"),
        }
    }

    /// Waits for the diagnostics of `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i32) -> Value {
        loop {
            let found = self.notifications.iter().position(|n| {
                n.method == "textDocument/publishDiagnostics"
                    && n.params["uri"] == uri
                    && n.params["version"].as_i64() == Some(version.into())
            });
            if let Some(i) = found {
                let n = self.notifications.remove(i);
                self.notifications.retain(|m| {
                    !(m.method == "textDocument/publishDiagnostics" && m.params["uri"] == uri)
                });
                return n.params["diagnostics"].clone();
            }
            match self.recv() {
                Message::Notification(n) => self.notifications.push(n),
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "nasl", "version": 1, "text": text } }),
        );
    }

    /// Sends one range edit (0-based line and UTF-16 columns).
    fn edit(&mut self, uri: &str, version: i32, from: (u32, u32), to: (u32, u32), text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "range": range(from, to), "text": text }],
            }),
        );
    }

    fn shutdown(mut self) -> ExitStatus {
        let r = self.call("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn range(from: (u32, u32), to: (u32, u32)) -> Value {
    json!({ "start": { "line": from.0, "character": from.1 }, "end": { "line": to.0, "character": to.1 } })
}

fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nasc-lsp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn file_uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// Replaces machine-specific paths in an answer, so that snapshots are stable.
/// Locations in the standard library become the text they cover (no line numbers), so that snapshots do
/// not change when stdlib/ is edited elsewhere.
fn redact(v: &Value, dir: &Path) -> Value {
    let mut v = v.clone();
    stdlib_excerpts(&mut v);
    let s = serde_json::to_string(&v).unwrap();
    let s = s
        .replace(&dir.display().to_string(), "[DIR]")
        .replace(REPO, "[REPO]");
    serde_json::from_str(&s).unwrap()
}

fn stdlib_excerpts(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let stdlib = format!("file://{REPO}/stdlib/");
            let path = o
                .get("uri")
                .and_then(Value::as_str)
                .and_then(|u| u.strip_prefix("file://"));
            if let (Some(path), Some(range)) = (
                path.filter(|_| o["uri"].as_str().unwrap().starts_with(&stdlib)),
                o.get("range"),
            ) {
                let text = std::fs::read_to_string(path).unwrap();
                let offset = |p: &Value| {
                    let line_start: usize = text
                        .split_inclusive('\n')
                        .take(p["line"].as_u64().unwrap() as usize)
                        .map(str::len)
                        .sum();
                    let mut units = p["character"].as_u64().unwrap() as usize;
                    let mut off = line_start;
                    for ch in text[line_start..].chars() {
                        if units == 0 || ch == '\n' {
                            break;
                        }
                        units -= ch.len_utf16();
                        off += ch.len_utf8();
                    }
                    off
                };
                let (a, b) = (offset(&range["start"]), offset(&range["end"]));
                o.remove("range");
                o.insert("text".into(), json!(&text[a..b]));
            }
            o.values_mut().for_each(stdlib_excerpts);
        }
        Value::Array(a) => a.iter_mut().for_each(stdlib_excerpts),
        _ => {}
    }
}

/// The position just after the first occurrence of `needle` (0-based line, UTF-16 column) in `text`,
/// shifted by `delta` characters (negative: back).
fn pos_of(text: &str, needle: &str, delta: i32) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"));
    let mut off = at + needle.len();
    for _ in 0..delta.unsigned_abs() {
        if delta < 0 {
            off = text[..off].char_indices().last().unwrap().0;
        } else {
            off += text[off..].chars().next().unwrap().len_utf8();
        }
    }
    utf16_position(text, off)
}

fn utf16_position(text: &str, off: usize) -> (u32, u32) {
    let before = &text[..off];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line as u32, before[start..].encode_utf16().count() as u32)
}

// ----- the protocol round trip ------------------------------------------------------------------------

const BLOCKS: &str = "\
/// Two 3×3 convolutions at the same width, with a residual connection.
block double(x: [B, C, H, W]) -> [B, C, H, W] {
    let y = relu(conv(x, C, kernel: 3, padding: 1));
    x + conv(y, C, kernel: 3, padding: 1)
}
";

const MAIN: &str = "\
import std.layers.{conv_bn_relu};
import blocks;

/// A tiny network — naïve 𝕏 text in a doc comment.
network tiny(x: [B, 3, 32, 32], classes: Int = 10) -> [B, classes] {
    let h = conv_bn_relu(x, 16); // 𝕏 16 channels
    let h = blocks.double(h);
    let h = max_pool(h, 2);
    linear(flatten(h), out: classes)
}
";

#[test]
fn protocol_round_trip() {
    let dir = scratch("protocol");
    std::fs::write(dir.join("blocks.nasl"), BLOCKS).unwrap();
    let main = dir.join("main.nasl");
    std::fs::write(&main, MAIN).unwrap();
    let uri = file_uri(&main);
    assert_eq!(
        canonical(MAIN),
        MAIN,
        "the test program is in canonical form"
    );
    let mut c = Client::start(&dir);
    insta::assert_json_snapshot!("initialize", c.init.take());

    c.open(&uri, MAIN);
    assert_eq!(c.diagnostics(&uri, 1), json!([]), "the program is clean");

    // broken: the `,` of `max_pool(h, 2)` deleted, and a shape error (a width that does not match)
    let comma = pos_of(MAIN, "max_pool(h,", 0);
    c.edit(&uri, 2, (comma.0, comma.1 - 1), comma, "");
    let sixteen = pos_of(MAIN, "conv_bn_relu(x, 16", 0);
    c.edit(&uri, 3, (sixteen.0, sixteen.1 - 2), sixteen, "2 * x");
    // (the errors: whether warnings follow a syntax error is the checker's policy, not the server's)
    let broken = c.diagnostics(&uri, 3);
    let errors: Vec<Value> = broken
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == 1)
        .cloned()
        .collect();
    insta::assert_json_snapshot!("diagnostics_broken", redact(&Value::Array(errors), &dir));
    // formatting refuses a document with syntax errors
    let fmt = c.request("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
    let err = fmt
        .response_result
        .expect_err("formatting broken text is refused");
    insta::assert_snapshot!(
        "formatting_refused",
        format!("{}: {}", err.code, err.message)
    );

    // fixed again (the edits are undone in reverse, in UTF-16 positions on the changed text)
    let now = MAIN
        .replace("conv_bn_relu(x, 16)", "conv_bn_relu(x, 2 * x)")
        .replace("max_pool(h, 2)", "max_pool(h 2)");
    let bad = pos_of(&now, "conv_bn_relu(x, 2 * x", 0);
    c.edit(&uri, 4, (bad.0, bad.1 - 5), bad, "16");
    let h = pos_of(MAIN, "max_pool(h", 0);
    c.edit(&uri, 5, h, h, ",");
    assert_eq!(c.diagnostics(&uri, 5), json!([]), "fixed");

    // an edit after a character outside the BMP (two UTF-16 units) on the same line
    let sixteen_comment = pos_of(MAIN, "// 𝕏 16", 0);
    c.edit(
        &uri,
        6,
        (sixteen_comment.0, sixteen_comment.1 - 2),
        sixteen_comment,
        "sixteen",
    );
    let mut text = MAIN.replace("// 𝕏 16 channels", "// 𝕏 sixteen channels");
    assert_eq!(c.diagnostics(&uri, 6), json!([]));

    // hover: a `let` (its inferred shape), a block call (signature and doc), an op, a module's block
    let hovers: BTreeMap<&str, Value> = [
        ("let h (max_pool's input)", pos_of(&text, "max_pool(h", 0)),
        ("conv_bn_relu", pos_of(&text, "= conv_bn_relu", 0)),
        ("blocks.double", pos_of(&text, "blocks.double", 0)),
        ("max_pool", pos_of(&text, "max_pool", 0)),
        ("parameter classes", pos_of(&text, "out: classes", 0)),
        ("keyword argument out", pos_of(&text, "out", 0)),
        ("dimension B", pos_of(&text, "x: [B", 0)),
    ]
    .into_iter()
    .map(|(k, (l, ch))| {
        (
            k,
            redact(&c.call("textDocument/hover", at(&uri, l, ch)), &dir),
        )
    })
    .collect();
    insta::assert_json_snapshot!("hover", hovers);

    // definition: a stdlib block, a block of an imported module, a local binding, an op (none)
    let defs: BTreeMap<&str, Value> = [
        ("conv_bn_relu", pos_of(&text, "= conv_bn_relu", 0)),
        ("blocks.double", pos_of(&text, "blocks.double", 0)),
        ("blocks (the module)", pos_of(&text, "= blocks", 0)),
        ("h in max_pool(h, 2)", pos_of(&text, "max_pool(h", 0)),
        (
            "import std.layers.{conv_bn_relu}",
            pos_of(&text, "{conv_bn", 0),
        ),
        ("max_pool (an op)", pos_of(&text, "max_pool", 0)),
    ]
    .into_iter()
    .map(|(k, (l, ch))| {
        (
            k,
            redact(&c.call("textDocument/definition", at(&uri, l, ch)), &dir),
        )
    })
    .collect();
    insta::assert_json_snapshot!("definition", defs);

    insta::assert_json_snapshot!(
        "document_symbols",
        c.call(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": uri } })
        )
    );

    // completion: after `blocks.`, inside `max_pool(h, ` (keyword arguments first), in a body
    let dot = pos_of(&text, "blocks.", 0);
    let labels = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                format!(
                    "{} ({}) {}",
                    i["label"].as_str().unwrap(),
                    i["kind"],
                    i["detail"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    let member = labels(c.call("textDocument/completion", at(&uri, dot.0, dot.1)));
    insta::assert_json_snapshot!("completion_member", member);
    let args = pos_of(&text, "max_pool(h, ", 0);
    let mut in_call = labels(c.call("textDocument/completion", at(&uri, args.0, args.1)));
    in_call.truncate(8);
    insta::assert_json_snapshot!("completion_in_call", in_call);
    // typing a new statement: locals, blocks, modules, ops, keywords
    let line = pos_of(&text, "max_pool(h, 2);", 0);
    c.edit(&uri, 7, line, line, "\n    let z = ");
    text = text.replace("max_pool(h, 2);", "max_pool(h, 2);\n    let z = ");
    let z = pos_of(&text, "let z = ", 0);
    let everything = labels(c.call("textDocument/completion", at(&uri, z.0, z.1)));
    insta::assert_json_snapshot!("completion_statement", everything);
    c.edit(&uri, 8, line, z, "");
    text = text.replace("max_pool(h, 2);\n    let z = ", "max_pool(h, 2);");
    assert_eq!(c.diagnostics(&uri, 8), json!([]));

    // formatting: a document out of canonical form gets one edit; a canonical one none
    let ugly = pos_of(&text, "let h = max_pool(h,", 0);
    c.edit(&uri, 9, ugly, ugly, "   ");
    let edits = c.call("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
    insta::assert_json_snapshot!("formatting", edits);
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        canonical(&text),
        "the server's text is the client's"
    );
    c.edit(&uri, 10, ugly, (ugly.0, ugly.1 + 3), "");
    let none = c.call("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
    assert_eq!(none, json!([]));
    assert_eq!(c.diagnostics(&uri, 10), json!([]));

    // an unknown request is refused, not fatal
    let r = c.request("textDocument/rename", json!({}));
    assert_eq!(
        r.response_result.err().map(|e| e.code),
        Some(lsp_server::ErrorCode::MethodNotFound as i32)
    );

    // opening the imported module: editing it re-checks the importer
    let blocks_uri = file_uri(&dir.join("blocks.nasl"));
    c.open(&blocks_uri, BLOCKS);
    assert_eq!(c.diagnostics(&blocks_uri, 1), json!([]));
    assert_eq!(
        c.diagnostics(&uri, 10),
        json!([]),
        "the importer is checked again"
    );
    let name = pos_of(BLOCKS, "block double", 0);
    c.edit(&blocks_uri, 2, (name.0, name.1 - 6), name, "twice");
    let importer = c.diagnostics(&uri, 10);
    insta::assert_json_snapshot!("diagnostics_importer", redact(&importer, &dir));

    let status = c.shutdown();
    assert!(status.success(), "exit status after shutdown: {status:?}");
}

// ----- robustness ---------------------------------------------------------------------------------------

/// Pieces of NASL, of broken NASL and of plain noise.
const FRAGMENTS: &[&str] = &[
    "let h = ",
    "conv(h, 64, kernel: 3)",
    "relu(",
    ")",
    "(",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    ".",
    ":",
    "\n",
    "\r\n",
    "    ",
    "h + h",
    "h * 0.5",
    "x",
    "_",
    "choice(1..=4 step 2)",
    "choice(nb201.none, nb201.skip)",
    "repeat 3 with t = h, i { relu(t) }",
    "repeat 40 with t = h { relu(t) }",
    "if C == out { h } else { x }",
    "block b(x: [B, C, H, W], k: Int = 3) -> [B, C, H, W] { x }\n",
    "network n(x: [B, 3, 8, 8]) -> [B, 10] { linear(flatten(x), 10) }\n",
    "import std.layers;\n",
    "import std.nb201;\n",
    "import missing.module;\n",
    "import std.layers.{conv_bn_relu, nope};\n",
    "layers.conv_bn_relu(h, 32)",
    "reshape(h, [-1, 4])",
    "einsum(\"bij,bjk->bik\", h, h)",
    "\"",
    "// comment 𝕏\n",
    "/// doc\n",
    "1_000_000_000_000_000_000_000",
    "9223372036854775807 * 2",
    "1 / 0",
    "é",
    "𝕏",
    "\u{0}",
    "\u{feff}",
    "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((",
    "-> [B, 10]",
    "let",
    "=",
];

/// A random edit of `text`: (start, end) byte offsets on character boundaries and the inserted text.
fn random_edit(rng: &mut impl Rng, text: &str) -> (usize, usize, String) {
    let boundary = |rng: &mut dyn rand::RngCore, text: &str| {
        let mut i = rng.gen_range(0..=text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let a = boundary(rng, text);
    let kind = rng.gen_range(0..10);
    let b = match kind {
        0..=3 => a, // pure insertion
        4..=6 => {
            // a short deletion (or replacement)
            let mut b = (a + rng.gen_range(0..12)).min(text.len());
            while !text.is_char_boundary(b) {
                b -= 1;
            }
            b
        }
        _ => boundary(rng, text).max(a),
    };
    let insert = match rng.gen_range(0..10) {
        0..=5 => FRAGMENTS[rng.gen_range(0..FRAGMENTS.len())].to_string(),
        6..=7 => (0..rng.gen_range(1..6))
            .map(|_| rng.gen_range(0x20u8..0x7f) as char)
            .collect(),
        8 => (0..rng.gen_range(1..4))
            .map(|_| char::from_u32(rng.gen_range(0..0x11_0000)).unwrap_or('\u{fffd}'))
            .collect(),
        _ => String::new(),
    };
    (a.min(b), a.max(b), insert)
}

/// A text in the canonical form of `nasc fmt`.
fn canonical(text: &str) -> String {
    nasc::syntax::print_module(&nasc::syntax::parse(nasc::base::FileId(0), text).module)
}

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join("examples").join(name)).unwrap()
}

#[test]
fn random_edits_never_crash_and_every_request_is_answered() {
    let dir = scratch("stress");
    let path = dir.join("stress.nasl");
    let seed_text = example("mobilenetv3_space.nasl");
    std::fs::write(&path, &seed_text).unwrap();
    let uri = file_uri(&path);
    let start = Instant::now();
    let mut c = Client::start(Path::new(REPO));
    c.open(&uri, &seed_text);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut text = seed_text.clone();
    let mut version = 1;
    let mut pending: Vec<RequestId> = Vec::new();
    let methods = [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
        "textDocument/documentSymbol",
        "textDocument/formatting",
    ];
    let edits = 3000;
    let mut answers: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..edits {
        version += 1;
        if text.len() > 20_000 || i % 500 == 499 {
            // a checkpoint: replace everything, through a range edit computed on the client's text; the
            // formatting answer shows whether the server's text is the client's
            let end = utf16_position(&text, text.len());
            let fresh = canonical(&example("fmnist_cnn.nasl"));
            c.edit(&uri, version, (0, 0), end, &fresh);
            text = fresh;
            let formatted = c.call("textDocument/formatting", json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }));
            assert_eq!(
                formatted,
                json!([]),
                "the server's text differs from the client's (edit {i})"
            );
            continue;
        }
        let (a, b, insert) = random_edit(&mut rng, &text);
        let (from, to) = (utf16_position(&text, a), utf16_position(&text, b));
        if rng.gen_range(0..50) == 0 {
            // a whole-document replacement
            c.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": insert }] }),
            );
            text = insert;
        } else {
            c.edit(&uri, version, from, to, &insert);
            text.replace_range(a..b, &insert);
        }
        if i % 10 == 0 {
            let method = methods[rng.gen_range(0..methods.len())];
            // some positions inside the text, some far outside it
            let (line, col) = if rng.gen_bool(0.8) {
                let mut o = rng.gen_range(0..=text.len());
                while !text.is_char_boundary(o) {
                    o -= 1;
                }
                utf16_position(&text, o)
            } else {
                (rng.gen_range(0..1_000_000), rng.gen_range(0..1_000_000))
            };
            let mut params = at(&uri, line, col);
            params["options"] = json!({ "tabSize": 4, "insertSpaces": true });
            pending.push(c.send_request(method, params));
        }
        if pending.len() >= 8 {
            for id in std::mem::take(&mut pending) {
                tally(&mut answers, c.response(&id));
            }
        }
    }
    for id in std::mem::take(&mut pending) {
        tally(&mut answers, c.response(&id));
    }
    // the latest text gets its diagnostics
    version += 1;
    let end = utf16_position(&text, text.len());
    c.edit(&uri, version, (0, 0), end, &seed_text);
    c.diagnostics(&uri, version);
    let status = c.shutdown();
    assert!(status.success());
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(240),
        "{edits} edits took {elapsed:?}"
    );
    eprintln!("{edits} random edits in {elapsed:?}; answers: {answers:?}");
    assert!(answers.values().sum::<usize>() >= edits / 10 - 10);
}

/// Counts an answer by kind; an error is only allowed for formatting broken text.
fn tally(answers: &mut BTreeMap<&str, usize>, r: Response) {
    let kind = match &r.response_result {
        Ok(Value::Null) => "null",
        Ok(Value::Array(a)) if a.is_empty() => "empty",
        Ok(_) => "some",
        Err(e) => {
            assert_eq!(
                e.code,
                lsp_server::ErrorCode::RequestFailed as i32,
                "request failed: {e:?}"
            );
            "refused"
        }
    };
    *answers.entry(kind).or_default() += 1;
}

#[test]
fn a_slow_check_does_not_hold_requests_up() {
    // `repeat` a million times: the checker runs to its fuel limit (seconds to minutes, by build)
    let slow = "network n(x: [B, 3, 32, 32]) -> [B, 3, 32, 32] {\n    let h = repeat 1000000 with t = x { relu(conv(t, 3, kernel: 3, padding: 1)) };\n    h\n}\n";
    let dir = scratch("slow");
    let uri = file_uri(&dir.join("slow.nasl"));
    let mut c = Client::start(&dir);
    c.open(&uri, slow);
    // a hover waiting for the check can be cancelled
    let id = c.send_request("textDocument/hover", at(&uri, 1, 9));
    c.notify("$/cancelRequest", json!({ "id": 1_000_000 })); // unknown: ignored
    c.notify("$/cancelRequest", json!({ "id": id }));
    let cancelled = c.response(&id).response_result.expect_err("cancelled");
    assert_eq!(
        cancelled.code,
        lsp_server::ErrorCode::RequestCanceled as i32
    );
    let t = Instant::now();
    let hover = c.call("textDocument/hover", at(&uri, 1, 9));
    let waited = t.elapsed();
    assert!(waited < Duration::from_secs(10), "hover waited {waited:?}");
    // (what it says depends on the build's speed: "still being inferred" unless the check is done)
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("let h"),
        "{hover}"
    );
    // the fixed text is checked beside the slow check, and its diagnostics come quickly
    let count = pos_of(slow, "repeat 1000000", 0);
    c.edit(&uri, 2, (count.0, count.1 - 7), count, "3");
    let t = Instant::now();
    assert_eq!(c.diagnostics(&uri, 2), json!([]));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "diagnostics took {:?}",
        t.elapsed()
    );
    let hover = c.call("textDocument/hover", at(&uri, 1, 9));
    insta::assert_json_snapshot!("hover_after_check", hover);
    assert!(c.shutdown().success());
}

// ----- a real editor --------------------------------------------------------------------------------------

/// Drives neovim 0.7+ (`vim.lsp.start_client`, which later versions keep): opens the file, attaches the
/// server, waits for the first diagnostics, writes what neovim made of them (through its own
/// `vim.diagnostic` store) as JSON, and quits.
const NVIM_DRIVER: &str = r#"
local file, out, bin = os.getenv("NASC_FILE"), os.getenv("NASC_OUT"), os.getenv("NASC_BIN")
local received = false
local client = vim.lsp.start_client({
  name = "nasc",
  cmd = { bin, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
  handlers = {
    ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
      vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      received = true
    end,
  },
})
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)
local ok = vim.wait(30000, function() return received end, 20)
local f = io.open(out, "w")
if not ok then
  f:write("timeout")
else
  local got = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(got, { lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, code = d.code, source = d.source, message = d.message })
  end
  f:write(vim.fn.json_encode(got))
end
f:close()
vim.lsp.stop_client(client)
vim.cmd("qa!")
"#;

#[test]
fn neovim_shows_the_diagnostics() {
    let Ok(nvim) = which("nvim") else {
        eprintln!("SKIPPED neovim_shows_the_diagnostics: `nvim` is not on PATH");
        return;
    };
    let dir = scratch("nvim");
    let file = dir.join("broken.nasl");
    // a deliberate error: a residual `add` of 3 and 16 channels
    std::fs::write(
        &file,
        "network broken(x: [B, 3, 32, 32]) -> [B, 16, 32, 32] {\n    let h = conv(x, 16, kernel: 3, padding: 1);\n    h + x\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("drive.lua"), NVIM_DRIVER).unwrap();
    let out = dir.join("diagnostics.json");
    let mut child = Command::new(nvim)
        .args([
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
            "luafile drive.lua",
        ])
        .current_dir(&dir)
        .env("NASC_FILE", &file)
        .env("NASC_OUT", &out)
        .env("NASC_BIN", env!("CARGO_BIN_EXE_nasc"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting nvim");
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = std::fs::read_to_string(&out).expect("nvim wrote no diagnostics file");
    assert_ne!(written, "timeout", "nvim received no diagnostics");
    let got: Value = serde_json::from_str(&written).unwrap();
    insta::assert_json_snapshot!("neovim_diagnostics", got);
    // what `nasc check` reports, as neovim shows it: same codes, messages, places (0-based)
    let checked = nasc::check::check_paths(std::slice::from_ref(&file));
    let expected: Vec<Value> = checked
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.span().unwrap();
            let (lnum, col) = checked
                .program
                .sources
                .file(span.file)
                .position_utf16(span.start as usize);
            json!({ "code": d.code.id(), "message": d.message, "lnum": lnum, "col": col })
        })
        .collect();
    let shown: Vec<Value> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|d| json!({ "code": d["code"], "message": d["message"], "lnum": d["lnum"], "col": d["col"] }))
        .collect();
    assert_eq!(shown, expected);
}

/// The path of a program on PATH.
fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

// ----- response time ------------------------------------------------------------------------------------

/// A program of at least `lines` lines made of copies of every example: each copy's blocks and networks
/// are renamed (`name_3`), the imports are merged at the top.
pub fn big_program(lines: usize) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(REPO).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "nasl"))
        .collect();
    files.sort();
    let mut selective: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut plain = std::collections::BTreeSet::new();
    let mut bodies = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        let module = nasc::syntax::parse(nasc::base::FileId(0), &text).module;
        for imp in &module.imports {
            match &imp.names {
                Some(names) => {
                    let set = selective.entry(imp.module_path()).or_default();
                    for n in names {
                        set.insert(match &n.alias {
                            Some(a) => format!("{} as {}", n.name.name, a.name),
                            None => n.name.name.clone(),
                        });
                    }
                }
                None => {
                    let alias = imp
                        .alias
                        .as_ref()
                        .map(|a| format!(" as {}", a.name))
                        .unwrap_or_default();
                    plain.insert(format!("import {}{alias};", imp.module_path()));
                }
            }
        }
        let start = module.imports.last().map_or(0, |i| i.span.end as usize);
        let names: Vec<String> = module.items.iter().map(|i| i.name.name.clone()).collect();
        bodies.push((text[start..].to_string(), names));
    }
    let mut out: String = plain.into_iter().map(|l| l + "\n").collect();
    for (path, names) in selective {
        out.push_str(&format!(
            "import {path}.{{{}}};\n",
            names.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut copy = 0;
    while out.lines().count() < lines {
        // a suffix per file and copy: two examples may define the same name (`stage`)
        for (f, (body, names)) in bodies.iter().enumerate() {
            out.push_str(&rename(body, names, copy * bodies.len() + f));
        }
        copy += 1;
    }
    out
}

/// Renames the given names (not after a `.`) to `name_k`.
fn rename(text: &str, names: &[String], k: usize) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut word = String::new();
    let mut prev = ' ';
    let flush = |word: &mut String, out: &mut String, prev: char| {
        if !word.is_empty() {
            out.push_str(word);
            if prev != '.' && names.contains(word) {
                out.push_str(&format!("_{k}"));
            }
            word.clear();
        }
    };
    let mut before_word = ' ';
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            if word.is_empty() {
                before_word = prev;
            }
            word.push(ch);
        } else {
            flush(&mut word, &mut out, before_word);
            out.push(ch);
        }
        prev = ch;
    }
    flush(&mut word, &mut out, before_word);
    out
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Time from a `didChange` to the `publishDiagnostics` of that version, on a 2,000-line file.
/// `NASC_LSP_BENCH_ITERS` sets the number of edits (default 10; docs/editor.md used 200, in release).
#[test]
fn change_to_diagnostics_latency() {
    let iters: usize = std::env::var("NASC_LSP_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let text = big_program(2000);
    let lines = text.lines().count();
    assert!(lines >= 2000);
    let dir = scratch("latency");
    let path = dir.join("big.nasl");
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);
    let mut c = Client::start(&dir);
    c.open(&uri, &text);
    let first = c.diagnostics(&uri, 1);
    let errors = first
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == 1)
        .count();
    assert_eq!(errors, 0, "the generated program checks: {first:#}");
    // each edit inserts or deletes a character of a comment in the middle of the file (the whole file is
    // checked again either way)
    let (line, col) = {
        let mid = text[text.len() / 2..]
            .find("//")
            .map(|i| i + text.len() / 2)
            .unwrap();
        utf16_position(&text, mid + 2)
    };
    let mut times = Vec::with_capacity(iters);
    let cpu_before = cpu_time(c.child.id());
    for i in 0..iters {
        let version = i as i32 + 2;
        let t = Instant::now();
        if i % 2 == 0 {
            c.edit(&uri, version, (line, col), (line, col), "~");
        } else {
            c.edit(&uri, version, (line, col), (line, col + 1), "");
        }
        let d = c.diagnostics(&uri, version);
        times.push(t.elapsed());
        assert_eq!(d, first);
    }
    let cpu = cpu_time(c.child.id())
        .zip(cpu_before)
        .map(|(a, b)| (a - b) / iters as f64);
    times.sort();
    eprintln!(
        "didChange -> publishDiagnostics, {lines}-line file, {iters} edits: p50 {:.1} ms, p99 {:.1} ms (min {:.1}, max {:.1}); server CPU per edit {}",
        percentile(&times, 50.0).as_secs_f64() * 1e3,
        percentile(&times, 99.0).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        cpu.map_or("unknown".to_string(), |s| format!("{:.1} ms", s * 1e3)),
    );
    assert!(c.shutdown().success());
}

/// CPU time (user + system, seconds) a process has used so far, where /proc tells (Linux).
fn cpu_time(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the fields after the command name (which is in parentheses and may hold spaces)
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}
