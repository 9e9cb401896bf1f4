//! "Nothing lost, nothing silently wrong" (issue 17): the real `nasc` binary under faults and bad input.
//! Files are written atomically (a writer killed mid-save leaves the old file); output paths are checked
//! before any work; a diverging loss, zero-size runs and short samples are said, not hidden; data files
//! are validated with the file and line; numeric flags are bounded (a fuzz of every command's numeric
//! flags never panics or dies of a signal); the language server survives any framing; libtorch's
//! out-of-memory errors are diagnostics without a C++ backtrace.

use rand::{Rng, SeedableRng};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const NASC: &str = env!("CARGO_BIN_EXE_nasc");
const CNN: &str = "examples/fmnist_cnn.nasl";
/// The tiny training run of every test that trains.
const TINY: &[&str] = &["--limit", "256", "--val", "128", "--max-steps", "2"];

fn nasc() -> Command {
    let mut c = Command::new(NASC);
    c.current_dir(super::root()).env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    nasc().args(args).output().expect("runs nasc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code 2 and a message that names `flag`.
fn assert_usage(o: &Output, flag: &str, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(
        err.contains(flag),
        "{what}: the message names {flag}: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

// ----- 1. atomic writes --------------------------------------------------------------------------------

/// The atomic write's temporary file for `target` (`.NAME.tmp-PID[.EXT]` in the same folder), once it is
/// complete: it exists and its size stays the same for a while (the fault hook then holds the rename).
fn wait_for_complete_temp(target: &Path, patience: Duration) -> Option<PathBuf> {
    let dir = target.parent().unwrap();
    let stem = target.file_stem().unwrap().to_string_lossy().into_owned();
    let prefix = format!(".{stem}.tmp-");
    let t0 = Instant::now();
    let mut last: Option<(PathBuf, u64, Instant)> = None;
    while t0.elapsed() < patience {
        let found = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix));
        if let Some(e) = found {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            match &last {
                Some((p, l, since)) if *p == e.path() && *l == len && len > 0 => {
                    if since.elapsed() > Duration::from_millis(500) {
                        return Some(e.path());
                    }
                }
                _ => last = Some((e.path(), len, Instant::now())),
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Runs a command that writes `target` (which holds `old`) with the rename held back, kills it with
/// SIGKILL while its new file is complete but not renamed, and checks that `target` is the old file.
fn killed_mid_save(args: &[&str], target: &Path, old: &[u8]) {
    std::fs::write(target, old).unwrap();
    let mut child = nasc()
        .args(args)
        .env("NASC_FAULT_RENAME_DELAY_MS", "60000")
        .env("NASC_FAULT_RENAME_ONLY", target.file_name().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temp = wait_for_complete_temp(target, Duration::from_secs(120));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let temp = temp.unwrap_or_else(|| {
        panic!(
            "`nasc {}` wrote no temporary file next to `{}` (written in place?), status {status}",
            args.join(" "),
            target.display()
        )
    });
    assert_eq!(
        std::fs::read(target).unwrap(),
        old,
        "`{}` changed before the rename (args {args:?})",
        target.display()
    );
    assert!(
        temp.exists(),
        "the killed writer's temporary file is left beside the target"
    );
}

#[test]
fn a_writer_killed_mid_save_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    // a checkpoint: the first run's file survives a second run killed during its save
    let ckpt = dir.path().join("w.safetensors");
    let mut args = vec!["train", CNN, "--save", path_str(&ckpt)];
    args.extend_from_slice(TINY);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = std::fs::read(&ckpt).unwrap();
    killed_mid_save(&args, &ckpt, &first);
    // the surviving checkpoint is whole: it loads
    let o = run(&[
        "eval",
        CNN,
        "--weights",
        path_str(&ckpt),
        "--part",
        "val",
        "--val",
        "128",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // exports: TorchScript and PyTorch source
    let pt = dir.path().join("m.pt");
    killed_mid_save(
        &["export", CNN, "--torchscript", path_str(&pt)],
        &pt,
        b"old torchscript",
    );
    let py = dir.path().join("m.py");
    killed_mid_save(&["export", CNN, "--pytorch", path_str(&py)], &py, b"# old");
    // nasc fmt, in place
    let nasl = dir.path().join("f.nasl");
    let messy = b"network   n(x: [B, 4]) -> [B, 4] {   relu(x) }\n";
    killed_mid_save(&["fmt", path_str(&nasl)], &nasl, messy);
    // without the fault the write happens, keeping the file's permissions
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&nasl, std::fs::Permissions::from_mode(0o640)).unwrap();
        let o = run(&["fmt", path_str(&nasl)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_ne!(std::fs::read(&nasl).unwrap(), messy);
        let mode = std::fs::metadata(&nasl).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }
}

// ----- 3. output paths are checked before any work -------------------------------------------------------

#[test]
fn output_paths_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/w.safetensors");
    let t0 = Instant::now();
    let mut args = vec!["train", CNN, "--save", path_str(&missing)];
    args.extend_from_slice(TINY);
    let o = run(&args);
    assert_usage(&o, "--save", "train --save into a missing folder");
    let err = stderr(&o);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("training"), "it trained first: {err}");
    assert!(t0.elapsed() < Duration::from_secs(30));
    // a file where the folder should be, a folder where the file should be
    let file = dir.path().join("plain");
    std::fs::write(&file, "").unwrap();
    let under_file = file.join("m.pt");
    let o = run(&["export", CNN, "--torchscript", path_str(&under_file)]);
    assert_usage(&o, "--torchscript", "export under a file");
    let o = run(&["export", CNN, "--pytorch", path_str(dir.path())]);
    assert_usage(&o, "--pytorch", "export onto a folder");
    // nothing was written anywhere
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

// ----- 4. silently wrong results -------------------------------------------------------------------------

#[test]
fn a_diverging_loss_stops_training_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("w.safetensors");
    let mut args = vec!["train", CNN, "--lr", "1e30", "--save", path_str(&ckpt)];
    args.extend_from_slice(TINY);
    let o = run(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("diverged"), "{err}");
    assert!(err.contains("epoch 1") && err.contains("step "), "{err}");
    assert!(err.contains("--lr 1e30"), "{err}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("validation accuracy"));
    assert!(!ckpt.exists(), "diverged weights were saved");
}

#[test]
fn zero_sizes_are_rejected_up_front() {
    let space = "examples/nb201_space.nasl";
    for (args, flag) in [
        (vec!["train", CNN, "--val", "0"], "--val"),
        (vec!["train", CNN, "--batch", "0"], "--batch"),
        (vec!["train", CNN, "--max-steps", "0"], "--max-steps"),
        (vec!["train", CNN, "--epochs", "0"], "--epochs"),
        (vec!["train", CNN, "--limit", "0"], "--limit"),
        (vec!["eval", CNN, "--weights", "w", "--val", "0"], "--val"),
        (vec!["ir", CNN, "--batch", "0"], "--batch"),
        (
            vec!["export", CNN, "--pytorch", "x.py", "--batch", "0"],
            "--batch",
        ),
        (vec!["bench", CNN, "--steps", "0"], "--steps"),
        (vec!["score", space, "--sample", "0"], "--sample"),
        (vec!["score", space, "--batch", "0"], "--batch"),
        (vec!["search", "random", space, "--n", "0"], "--n"),
        (
            vec!["synth", "--props", "t.json", "--count", "0"],
            "--count",
        ),
    ] {
        let t0 = Instant::now();
        let o = run(&args);
        assert_usage(&o, flag, &args.join(" "));
        let err = stderr(&o);
        assert!(!err.contains("internal"), "{err}");
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{args:?} did work first"
        );
    }
}

#[test]
fn fewer_architectures_than_asked_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let space = dir.path().join("two.nasl");
    std::fs::write(
        &space,
        "network two(x: [B, 1, 28, 28], classes: Int = 10) -> [B, classes] {\n    \
         let w = choice(8, 16);\n    linear(relu(linear(flatten(x), w)), classes)\n}\n",
    )
    .unwrap();
    let o = run(&[
        "score",
        path_str(&space),
        "--sample",
        "10",
        "--batch",
        "16",
        "--json",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("--sample 10") && err.contains("only 2"),
        "stderr says that 2 of the 10 were scored: {err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["architectures"].as_array().map(Vec::len), Some(2));
}

// ----- 5. data validation ----------------------------------------------------------------------------

#[test]
fn csv_data_is_validated_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("tiny.nasl");
    std::fs::write(
        &net,
        "network tiny(x: [B, 1, 2, 2], classes: Int = 3) -> [B, classes] {\n    \
         linear(flatten(x), classes)\n}\n",
    )
    .unwrap();
    let good: Vec<String> = (0..40)
        .map(|i| format!("{},{},3,4,{}", i * 6, 255 - i, i % 3))
        .collect();
    let write = |name: &str, line: usize, row: &str| -> PathBuf {
        let mut rows = vec!["p0,p1,p2,p3,label".to_string()];
        rows.extend(good.iter().cloned());
        if line > 0 {
            rows[line - 1] = row.to_string();
        }
        let p = dir.path().join(name);
        std::fs::write(&p, rows.join("\n") + "\n").unwrap();
        p
    };
    let train = |csv: &Path| -> Output {
        let data = format!("csv:{}:1,2,2", csv.display());
        run(&[
            "train",
            path_str(&net),
            "--data",
            &data,
            "--val",
            "4",
            "--max-steps",
            "1",
        ])
    };
    let ok = write("ok.csv", 0, "");
    let o = train(&ok);
    assert!(o.status.success(), "{}", stderr(&o));
    for (name, line, row, says) in [
        ("neg.csv", 6, "1,2,3,4,-1", "label `-1`"),
        ("frac.csv", 7, "1,2,3,4,2.5", "label `2.5`"),
        ("big.csv", 8, "1,2,999,4,1", "`999`"),
        ("nan.csv", 9, "nan,2,3,4,1", "NaN"),
        ("neg_px.csv", 10, "1,-2,3,4,1", "`-2`"),
        ("frac_px.csv", 11, "1,0.5,3,4,1", "`0.5`"),
        ("range.csv", 12, "1,2,3,4,7", "label 7 is out of range"),
    ] {
        let o = train(&write(name, line, row));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name), "{name}: names the file: {err}");
        assert!(err.contains(&format!("line {line}")), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
    }
    // pixels are used as they are (0–255), not scaled by the file's maximum: one bright row does not dim
    // the others
    let d = nasc::data::load_csv(&ok, &[1, 2, 2], nasc::data::LabelColumn::Last).unwrap();
    assert_eq!(d.images.int64_value(&[1, 0, 0, 0]), 6);
    assert_eq!(d.images.int64_value(&[1, 0, 1, 0]), 3);
    assert_eq!(d.labels.int64_value(&[2]), 2);
}

// ----- 6. panics and aborts --------------------------------------------------------------------------

#[test]
fn synth_timeout_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.json");
    let o = run(&[
        "props",
        "examples/cifarnet.nasl",
        "--block",
        "h_1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(&t, &o.stdout).unwrap();
    for v in ["1e20", "inf", "NaN", "0", "-1", "1e400"] {
        let o = run(&["synth", "--props", path_str(&t), "--timeout", v]);
        assert_usage(&o, "--timeout", v);
    }
}

/// One framed message.
fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// A language server spoken to in raw bytes.
struct RawLsp {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    rx: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl RawLsp {
    fn start() -> RawLsp {
        let mut child = nasc()
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("the server frames its messages")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: serde_json::Value =
                    serde_json::from_slice(&body).expect("the server writes JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut s = RawLsp { child, stdin, rx };
        s.send(&frame(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}"#,
        ));
        s.answer(0);
        s.send(&frame(
            r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
        ));
        s
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("the server reads on");
        self.stdin.flush().unwrap();
    }

    /// Waits for the response to request `id` (other messages are skipped).
    fn answer(&mut self, id: i64) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no answer to request {id}: {e}"));
            if v["id"] == id {
                return v;
            }
        }
    }

    /// A request the server answers (an unknown method: an error response), to see that it is up.
    fn ping(&mut self, id: i64) {
        self.send(&frame(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"nasc/ping","params":null}}"#
        )));
        let v = self.answer(id);
        assert!(v.get("error").is_some() || v.get("result").is_some(), "{v}");
    }

    fn shutdown(mut self) -> std::process::ExitStatus {
        self.send(&frame(
            r#"{"jsonrpc":"2.0","id":999999,"method":"shutdown","params":null}"#,
        ));
        self.answer(999_999);
        self.send(&frame(r#"{"jsonrpc":"2.0","method":"exit","params":null}"#));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RawLsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lsp_rejects_an_oversized_header_and_stays_up() {
    let mut s = RawLsp::start();
    s.send(b"Content-Length: 99999999999\r\n\r\n{\"jsonrpc\":\"2.0\"}");
    s.ping(1);
    let status = s.shutdown();
    assert!(status.success(), "{status}");
}

#[test]
fn lsp_framing_fuzz_never_stops_the_server() {
    let mut s = RawLsp::start();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let mut id = 1;
    for round in 0..300 {
        let junk: Vec<u8> = match round % 10 {
            // declared lengths no message may have
            0 => format!(
                "Content-Length: {}\r\n\r\n{{}}",
                [
                    "99999999999",
                    "18446744073709551616",
                    "-1",
                    "1e9",
                    "",
                    "0x10"
                ][rng.gen_range(0..6)]
            )
            .into_bytes(),
            // random bytes as the header
            1 => {
                let n = rng.gen_range(1..200);
                let mut v: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                v.extend(b"\r\n\r\n");
                v
            }
            // a header line far over the limit
            2 => {
                let mut v = vec![b'a'; rng.gen_range(9_000..40_000)];
                v.extend(b"\r\n\r\n");
                v
            }
            // a body of random bytes, correctly framed
            3 => {
                let n = rng.gen_range(0..500);
                let body: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
                let mut v = format!("Content-Length: {n}\r\n\r\n").into_bytes();
                v.extend(body);
                v
            }
            // JSON that is not a message, correctly framed
            4 => frame(
                [
                    "[]",
                    "null",
                    "{\"id\":{},\"method\":5}",
                    "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
                ][rng.gen_range(0..4)],
            ),
            // headers without a Content-Length, many headers
            5 => b"Content-Type: x\r\n\r\n{}".to_vec(),
            6 => {
                let mut v = b"X: 1\r\n".repeat(rng.gen_range(60..200));
                v.extend(b"\r\n");
                v
            }
            // garbage glued to the next header (no newline)
            7 => b"\x00\xff garbage".to_vec(),
            // real requests with random params
            8 => frame(&format!(
                r#"{{"jsonrpc":"2.0","id":"s{round}","method":"textDocument/hover","params":{}}}"#,
                ["null", "[]", "{\"textDocument\":5}", "{}"][rng.gen_range(0..4)]
            )),
            // lowercase header, bare LF line ends
            _ => b"content-length: 2\n\n{}".to_vec(),
        };
        s.send(&junk);
        if round % 3 == 0 {
            s.ping(id);
            id += 1;
        }
    }
    s.ping(id);
    let status = s.shutdown();
    assert!(status.success(), "{status}");
}

/// Every numeric flag of every command, with extreme values: no invocation panics (exit 101) or dies of a
/// signal. Each command line fails early (a missing input, dataset or store), so only argument validation
/// runs.
#[test]
fn numeric_flags_with_extreme_values_never_crash() {
    let space = "examples/nb201_space.nasl";
    let no_data = "csv:/nonexistent/x.csv:1,28,28";
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["ir", CNN], vec!["--batch"]),
        (vec!["cost", CNN], vec!["--batch", "--depth"]),
        (vec!["props", CNN], vec!["--batch"]),
        (
            vec!["train", CNN, "--data", no_data],
            vec![
                "--batch",
                "--seed",
                "--val",
                "--threads",
                "--epochs",
                "--lr",
                "--weight-decay",
                "--limit",
                "--max-steps",
            ],
        ),
        (
            vec![
                "eval",
                CNN,
                "--data",
                no_data,
                "--weights",
                "/nonexistent.w",
            ],
            vec!["--batch", "--seed", "--val", "--threads"],
        ),
        (
            vec!["export", CNN, "--pytorch", "/nonexistent/x.py"],
            vec!["--batch", "--seed"],
        ),
        (
            vec!["bench", CNN, "--device", "nodevice"],
            vec!["--batch", "--steps", "--warmup", "--threads"],
        ),
        (
            vec!["synth", "--props", "/nonexistent.json"],
            vec!["--count", "--seed", "--timeout", "--mutate"],
        ),
        (
            vec!["score", space, "--data", no_data],
            vec!["--sample", "--batch", "--seed", "--threads", "--chunk"],
        ),
        (
            vec!["search", "random", space, "--data", no_data],
            vec!["--n", "--batch", "--seed", "--threads", "--chunk"],
        ),
        (
            vec![
                "search",
                "evolve",
                CNN,
                "--store",
                "/nonexistent/x.db",
                "--data",
                no_data,
            ],
            vec![
                "--trials",
                "--workers",
                "--seed",
                "--min-accuracy",
                "--population",
                "--sample",
                "--p-duplicate",
                "--p-delete",
                "--p-property",
                "--p-adopt",
                "--synth-timeout",
                "--max-attempts",
                "--train-subset",
                "--val",
                "--epochs",
                "--batch",
                "--lr",
                "--max-steps",
                "--threads",
            ],
        ),
        (
            vec!["search", "resume", "/nonexistent/x.db"],
            vec!["--trials", "--workers"],
        ),
        (vec!["search", "export", "/nonexistent/x.db"], vec!["--id"]),
    ];
    let values = [
        "0",
        "-1",
        "1e30",
        "1e20",
        "NaN",
        "inf",
        "-inf",
        "18446744073709551616",
        "9223372036854775807",
        "-9223372036854775809",
    ];
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (base, flags) in &cases {
        for flag in flags {
            for v in values {
                let mut l: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                l.push(flag.to_string());
                l.push(v.to_string());
                lines.push(l);
            }
        }
    }
    // decisions and input shapes are numbers too (huge shapes build, and are counted, without overflow)
    for v in values {
        lines.push(vec![
            "ir".into(),
            space.into(),
            "--choose".into(),
            format!("e01={v}"),
        ]);
        for shape in [format!("x={v},1,28,28"), format!("x=1,1,{v},{v}")] {
            for base in [
                &["ir", CNN][..],
                &["cost", CNN],
                &["train", CNN, "--data", no_data],
                &["bench", CNN, "--device", "nodevice"],
            ] {
                let mut l: Vec<String> = base.iter().map(|s| s.to_string()).collect();
                l.push("--input".into());
                l.push(shape.clone());
                lines.push(l);
            }
        }
    }
    let t0 = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(l) = lines.get(i) else { return };
                let o = nasc().args(l).output().unwrap();
                let bad = match o.status.code() {
                    Some(101) | None => true,
                    Some(c) => c > 3 || stderr(&o).contains("panicked"),
                };
                if bad {
                    failures.lock().unwrap().push(format!(
                        "nasc {}: {} {}",
                        l.join(" "),
                        o.status,
                        stderr(&o)
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} command lines in {:.1?}", lines.len(), t0.elapsed());
}

// ----- 8. unclear errors ---------------------------------------------------------------------------------

#[test]
fn bad_numbers_get_clear_messages() {
    let o = run(&["train", CNN, "--batch", "0"]);
    assert_usage(&o, "--batch", "train --batch 0");
    assert!(!stderr(&o).contains("malformed"), "{}", stderr(&o));
    for args in [
        vec!["train", CNN, "--seed", "-1"],
        vec!["export", CNN, "--pytorch", "x.py", "--seed", "-1"],
        vec!["score", CNN, "--seed", "-1"],
        vec!["synth", "--props", "t.json", "--seed", "-1"],
        vec!["search", "evolve", CNN, "--store", "x.db", "--seed", "-1"],
    ] {
        let o = run(&args);
        assert_usage(&o, "--seed", &args.join(" "));
        let err = stderr(&o);
        assert!(err.contains("non-negative integers"), "{err}");
        assert!(!err.contains("-- -1"), "clap's hint does not apply: {err}");
    }
}

#[test]
fn out_of_memory_is_a_diagnostic_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("wide.nasl");
    // a weight of 8 × 10^14 floats: no machine allocates it
    std::fs::write(
        &net,
        "network wide(x: [B, 1, 28, 28], classes: Int = 10) -> [B, classes] {\n    \
         let h = relu(linear(flatten(x), 8));\n    \
         let h = relu(linear(h, 100000000000000));\n    linear(h, classes)\n}\n",
    )
    .unwrap();
    let mut args = vec!["train", path_str(&net)];
    args.extend_from_slice(TINY);
    let o = run(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("out of memory"), "{err}");
    assert!(err.contains("wide.nasl:3:"), "at the node's span: {err}");
    for noise in ["frame #", "Exception raised from", "c10::", ".so)"] {
        assert!(!err.contains(noise), "a C++ backtrace: {err}");
    }
    assert!(err.lines().count() < 15, "{err}");
}

// ----- 2. killed training resumes ------------------------------------------------------------------------

/// `nasc train` killed (SIGKILL) after its first epoch and continued with `--resume` ends with the same
/// weights, byte for byte, as an uninterrupted run (CPU, same seed and threads), for SGD and AdamW; a
/// resume with another flag is refused naming it.
#[test]
fn a_killed_training_run_resumes_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    for optimizer in ["sgd", "adamw"] {
        let args = |save: &Path| -> Vec<String> {
            let mut a: Vec<String> = ["train", CNN, "--epochs", "3", "--threads", "1"]
                .iter()
                .chain(TINY)
                .map(|s| s.to_string())
                .collect();
            a.extend(["--optimizer".into(), optimizer.into()]);
            a.extend(["--save".into(), path_str(save).into()]);
            a
        };
        let full = dir.path().join(format!("full-{optimizer}.safetensors"));
        let o = nasc().args(args(&full)).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let part = dir.path().join(format!("part-{optimizer}.safetensors"));
        let state = dir
            .path()
            .join(format!("part-{optimizer}.safetensors.ckpt"));
        // slow saves down so that the kill surely lands before the run ends
        let mut child = nasc()
            .args(args(&part))
            .env("NASC_FAULT_RENAME_DELAY_MS", "300")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while !state.join("state.json").exists() && t0.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the run was killed, not finished");
        assert!(!part.exists(), "no --save before the end");
        let text = std::fs::read_to_string(state.join("state.json")).unwrap();
        let done = serde_json::from_str::<serde_json::Value>(&text).unwrap()["epochs_done"]
            .as_u64()
            .unwrap();
        assert!((1..3).contains(&done), "{done} epochs done when killed");
        // another learning rate is not the same run
        let mut other = args(&part);
        other.extend(["--lr".into(), "0.5".into(), "--resume".into()]);
        other.push(path_str(&state).into());
        let o = nasc().args(&other).output().unwrap();
        assert_usage(&o, "--lr", "resume with another --lr");
        let mut same = args(&part);
        same.extend(["--resume".into(), path_str(&state).into()]);
        let o = nasc().args(&same).output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{done} of 3 epoch(s) done")),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read(&full).unwrap(),
            std::fs::read(&part).unwrap(),
            "{optimizer}: the resumed run's weights differ from the uninterrupted run's"
        );
        assert!(
            !state.exists(),
            "the implicit state folder is removed at the end"
        );
    }
}

// ----- scoring results written as they are made, and resumed -----------------------------------------

/// The JSON report's architectures without their timings (which differ between runs).
fn ranked_without_times(stdout: &[u8], key: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("seconds");
            r
        })
        .collect()
}

/// Lines in a file (0 when it does not exist yet).
fn lines_in(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count())
}

#[test]
fn a_killed_scoring_run_resumes_to_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    for (cmd, key) in [("score", "architectures"), ("random", "ranked")] {
        let base = |n: &str| -> Vec<String> {
            let mut a: Vec<String> = match cmd {
                "score" => vec![
                    "score".into(),
                    "examples/nb201_space.nasl".into(),
                    "--sample".into(),
                ],
                _ => vec![
                    "search".into(),
                    "random".into(),
                    "examples/nb201_space.nasl".into(),
                    "--n".into(),
                ],
            };
            a.push(n.into());
            a.extend(["--batch", "16", "--threads", "1", "--json"].map(String::from));
            if cmd == "random" {
                a.extend(["--score", "combined"].map(String::from));
            }
            a
        };
        let full = nasc().args(base("12")).output().unwrap();
        assert!(full.status.success(), "{}", stderr(&full));
        let want = ranked_without_times(&full.stdout, key);
        assert_eq!(want.len(), 12);
        // killed once some records are on disk
        let out = dir.path().join(format!("{cmd}.jsonl"));
        let mut args = base("12");
        args.extend(["--out".into(), path_str(&out).into()]);
        let mut child = nasc()
            .args(&args)
            .env("NASC_FAULT_RECORD_DELAY_MS", "150")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while lines_in(&out) < 4 && t0.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        assert!(
            !child.wait().unwrap().success(),
            "{cmd}: killed, not finished"
        );
        let kept = lines_in(&out) - 1;
        assert!((3..12).contains(&kept), "{cmd}: {kept} records when killed");
        // tear the last line, as a kill in the middle of a write would
        let text = std::fs::read_to_string(&out).unwrap();
        std::fs::write(&out, &text[..text.len() - 40]).unwrap();
        // --out does not overwrite it
        let o = nasc().args(&args).output().unwrap();
        assert_usage(&o, "--resume", "--out on a file with results");
        // other settings are refused, naming the flag
        let mut other = base("12");
        other.extend([
            "--seed".into(),
            "3".into(),
            "--resume".into(),
            path_str(&out).into(),
        ]);
        let o = nasc().args(&other).output().unwrap();
        assert_usage(
            &o,
            "--seed: 0 in the file, 3 now",
            "resume with another --seed",
        );
        let mut same = base("12");
        same.extend(["--resume".into(), path_str(&out).into()]);
        let o = nasc().args(&same).output().unwrap();
        let err = stderr(&o);
        assert!(o.status.success(), "{cmd}: {err}");
        assert!(
            err.contains("cut off"),
            "{cmd}: the torn line is said: {err}"
        );
        assert!(
            err.contains(&format!(
                "{} of 12 architecture(s) already scored",
                kept - 1
            )),
            "{cmd}: {err}"
        );
        assert_eq!(
            ranked_without_times(&o.stdout, key),
            want,
            "{cmd}: the resumed run's results differ from the uninterrupted run's"
        );
        assert_eq!(lines_in(&out), 13, "{cmd}: header and 12 records");
    }
}

#[test]
fn scoring_output_says_what_it_assumed() {
    // a decision left out of --choose: said, with the alternative it takes
    let o = run(&[
        "score",
        "examples/nb201_space.nasl",
        "--choose",
        "e01=3",
        "--batch",
        "16",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("5 decision(s) not given with --choose") && err.contains("e23=0"),
        "{err}"
    );
    // a dead network: no signal in the params and MACs columns, not 0
    let mut args = vec![
        "score",
        "examples/nb201_space.nasl",
        "--batch",
        "16",
        "--scores",
        "epe,params,macs",
    ];
    let picks: Vec<String> = ["e01", "e02", "e03", "e12", "e13", "e23"]
        .iter()
        .map(|e| format!("{e}=0"))
        .collect();
    for p in &picks {
        args.extend(["--choose", p.as_str()]);
    }
    let o = run(&args);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", stderr(&o));
    let row = out.lines().nth(1).unwrap_or_default();
    assert_eq!(row.matches("no signal").count(), 3, "{out}");
    assert!(
        !stderr(&o).contains("not given with --choose"),
        "{}",
        stderr(&o)
    );
    // a results file with other column names: --against-column, and the output names it
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("acc.csv");
    std::fs::write(
        &csv,
        "cell,val_acc,test_acc\n\
         e01=3 e02=1 e03=2 e12=0 e13=2 e23=0,80.1,1\n\
         e01=2 e02=2 e03=2 e12=1 e13=4 e23=1,70.2,2\n\
         e01=4 e02=4 e03=2 e12=3 e13=2 e23=3,85,3\n\
         e01=1,60,4\n",
    )
    .unwrap();
    let against = [
        "score",
        "examples/nb201_space.nasl",
        "--against",
        path_str(&csv),
        "--batch",
        "16",
    ];
    let o = run(&against);
    assert_usage(
        &o,
        "--against-arch-column",
        "a file without an `arch` column",
    );
    assert!(
        stderr(&o).contains("cell, val_acc, test_acc"),
        "{}",
        stderr(&o)
    );
    let mut args = against.to_vec();
    args.extend(["--against-arch-column", "cell"]);
    let o = run(&args);
    assert_usage(
        &o,
        "--against-column",
        "a file without an `accuracy` column",
    );
    let mut args = against.to_vec();
    args.extend([
        "--against-column",
        "val_acc",
        "--against-arch-column",
        "cell",
        "--json",
    ]);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 row(s)"),
        "the row that leaves decisions out: {}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["against"]["columns"]["accuracy"], "val_acc");
    assert_eq!(v["correlations"][0]["n"], 3);
    // search random on a space smaller than --n: said
    let o = run(&[
        "search",
        "random",
        "examples/nb201_space.nasl",
        "--n",
        "100",
        "--batch",
        "16",
        "--choose",
        "e01=1",
        "--choose",
        "e02=1",
        "--choose",
        "e03=1",
        "--choose",
        "e12=1",
        "--choose",
        "e13=1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--n 100") && stderr(&o).contains("only 5"),
        "{}",
        stderr(&o)
    );
}
