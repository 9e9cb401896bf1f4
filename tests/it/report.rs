//! The HTML report of an evolution run, end to end: a real SQLite run store with a dozen individuals of
//! every mutation kind (some failed, one pending), the page and plots written by `search::report::write`,
//! then opened in headless Chromium: a screenshot (a real PNG of the page's size), the DOM after scripts ran
//! (the four plots, the Pareto rows, the sort script applied from the address), and no script error from
//! the page — checked against a broken control page, so the log filter is known to catch one.
//!
//! Chromium is `$NASC_CHROMIUM` or `chromium` on PATH (`bash scripts/setup.sh` installs Debian's); without
//! one the test fails, it does not skip. `NASC_REPORT_KEEP=DIR` copies the report and the screenshot to DIR
//! to look at.

use nasc::search::report;
use nasc::store::{Evaluation, NewIndividual, NewRun, Outcome, SqliteStore, Store};
use serde_json::json;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one browser run may take before it is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// One individual to insert: parent, mutation, synthesis outcome, and how its evaluation ends
/// (params, MACs, accuracy) or fails (error); None: left pending.
struct Spec {
    parent: Option<i64>,
    mutation: Option<&'static str>,
    synth: Option<serde_json::Value>,
    result: Option<Result<(i64, i64, f64), String>>,
}

fn spec(
    parent: Option<i64>,
    mutation: Option<&'static str>,
    result: Option<Result<(i64, i64, f64), String>>,
) -> Spec {
    Spec {
        parent,
        mutation,
        synth: mutation
            .filter(|m| *m == "property")
            .map(|_| json!({"result": "sat", "solutions": [], "stats": {"solver_calls": 3}})),
        result,
    }
}

/// Ids 1..=12. Params front: 9, 4, 7, 2, 8; MACs front: 7, 2, 8.
fn population() -> Vec<Spec> {
    let ok = |p: i64, m: i64, a: f64| Some(Ok((p, m, a)));
    let long_error = (1..=12)
        .map(|k| format!("traceback line {k}: <module> & \"quotes\""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut v = vec![
        spec(None, None, ok(272_474, 40_000_000, 0.850)),
        spec(Some(1), Some("duplicate"), ok(350_000, 52_000_000, 0.870)),
        spec(Some(1), Some("delete"), ok(180_000, 30_000_000, 0.820)),
        spec(Some(1), Some("property"), ok(150_000, 45_000_000, 0.860)),
        spec(
            Some(2),
            Some("duplicate"),
            Some(Err("libtorch: out of memory\nwhile allocating 2 GiB".into())),
        ),
        spec(Some(3), Some("property"), Some(Err(long_error))),
        spec(Some(2), Some("delete"), ok(300_000, 20_000_000, 0.865)),
        spec(Some(4), Some("duplicate"), ok(600_000, 90_000_000, 0.880)),
        spec(Some(4), Some("property"), ok(120_000, 25_000_000, 0.840)),
        spec(
            Some(7),
            Some("delete"),
            Some(Err("loss diverged (NaN) at epoch 1".into())),
        ),
        spec(
            Some(9),
            Some("duplicate"),
            ok(1_200_000, 150_000_000, 0.875),
        ),
        spec(Some(9), Some("property"), None),
    ];
    v[5].synth = Some(json!({"result": "unknown", "reason": "timeout"}));
    v
}

/// A store at `path` holding the run and the population; returns its run and individuals as loaded back.
fn make_store(path: &Path) -> (nasc::store::Run, Vec<nasc::store::Individual>) {
    let mut store = SqliteStore::open(path).expect("a new store");
    store
        .create_run(&NewRun {
            driver: "evolve".into(),
            settings: json!({"trials": 12, "epochs": 1, "population": 4, "note": "<b>not bold</b>"}),
            seed: 42,
            seed_program: "network n(x: [B, 1, 28, 28]) -> [B, 10] { x }\n".into(),
        })
        .expect("the run starts");
    for (k, s) in population().into_iter().enumerate() {
        let id = store
            .insert_pending(
                &NewIndividual {
                    parent_id: s.parent,
                    mutation: s.mutation.map(str::to_string),
                    // one program tries to inject a script: it must arrive as text
                    nasl: format!(
                        "// individual {} <script>document.title = 'injected'</script>\nnetwork n(x: [B, 4]) -> [B, 4] {{ x }}\n",
                        k + 1
                    ),
                    fingerprint: format!("fp-{k}"),
                    target_props: s.synth.as_ref().map(|_| json!({"depth": 3})),
                    synth_outcome: s.synth,
                },
                None,
            )
            .expect("inserted");
        assert_eq!(id, k as i64 + 1);
        let Some(result) = s.result else { continue };
        store.mark_running(id).expect("running");
        let evaluation = match result {
            Ok((params, macs, acc)) => Evaluation {
                outcome: Outcome::Done,
                params: Some(params),
                macs: Some(macs),
                val_accuracy: Some(acc),
                val_loss: Some(0.4),
                train_seconds: 30.0 + id as f64,
                error: None,
            },
            Err(e) => Evaluation {
                outcome: Outcome::Failed,
                params: None,
                macs: None,
                val_accuracy: None,
                val_loss: None,
                train_seconds: 1.0,
                error: Some(e),
            },
        };
        store.record(id, &evaluation, None).expect("recorded");
    }
    drop(store);
    let store = SqliteStore::open_existing(path).expect("reopens");
    let run = store.load_run().expect("the run");
    let individuals = store.individuals(None).expect("the individuals");
    (run, individuals)
}

/// The Chromium to use, or a failure that says how to get one.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("NASC_CHROMIUM").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "NASC_CHROMIUM={} is not a file; unset it or run `bash scripts/setup.sh` to install Chromium",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the report test needs a headless Chromium and found none (no $NASC_CHROMIUM, no `chromium` \
                 on PATH): run `bash scripts/setup.sh`, which installs Debian's chromium package"
            )
        })
}

/// What one browser run printed.
struct BrowserRun {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `url` with `extra` arguments and a private profile under `work`; kills it
/// (and every process it started) after [`BROWSER_TIMEOUT`].
fn browser(bin: &Path, work: &Path, name: &str, url: &str, extra: &[String]) -> BrowserRun {
    let profile = work.join(format!("profile-{name}"));
    let out_path = work.join(format!("{name}.stdout"));
    let err_path = work.join(format!("{name}.stderr"));
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        // its own process group, so that a timeout kills the renderer and GPU helpers too
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let pgid = child.id() as i32;
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("waits for the browser") {
            Some(s) => break Some(s),
            None if start.elapsed() > BROWSER_TIMEOUT => break None,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // SAFETY: kill(2) on the process group this test started (its leader is our child); no memory involved.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let Some(status) = status else {
        let _ = child.wait();
        panic!(
            "{} ({name}) did not finish within {BROWSER_TIMEOUT:?} and was killed; stderr:\n{stderr}",
            bin.display()
        );
    };
    assert!(
        status.success(),
        "{} ({name}) failed: {status}; stderr:\n{stderr}",
        bin.display()
    );
    BrowserRun {
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr,
    }
}

/// The lines of a browser's log that report a script error or any console message of `page` (the
/// report logs nothing, so any console line from it is a problem).
fn page_errors(stderr: &str, page: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || l.contains("SyntaxError")
                || (l.contains(":CONSOLE") && (l.contains(page) || l.contains("ERROR")))
        })
        .map(str::to_string)
        .collect()
}

/// The part of `dom` from the table with this id to its end.
fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table #{id} in the DOM"));
    let rest = &dom[start..];
    &rest[..rest.find("</table>").unwrap_or(rest.len())]
}

/// The order in which the export commands of `ids` appear in `text`.
fn order_of(text: &str, ids: &[i64]) -> Vec<i64> {
    let mut pos: Vec<(usize, i64)> = ids
        .iter()
        .map(|id| {
            let needle = format!("--out individual-{id}<");
            (
                text.find(&needle)
                    .unwrap_or_else(|| panic!("no export command for {id}")),
                *id,
            )
        })
        .collect();
    pos.sort();
    pos.into_iter().map(|p| p.1).collect()
}

#[test]
fn report_renders_in_headless_chromium() {
    let bin = chromium();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let db = tmp.path().join("run.db");
    let (run, individuals) = make_store(&db);
    assert_eq!(individuals.len(), 12);

    // what the page shows, computed
    let s = report::summarize(&run, &individuals);
    assert_eq!(s.pareto_params, vec![9, 4, 7, 2, 8]);
    assert_eq!(s.pareto_macs, vec![7, 2, 8]);
    assert_eq!(
        (s.counts.done, s.counts.failed, s.counts.pending),
        (8, 3, 1)
    );
    let prop = s
        .kinds
        .iter()
        .find(|k| k.kind == "property")
        .expect("property row");
    assert_eq!((prop.children, prop.done, prop.failed), (4, 2, 1));
    assert_eq!(prop.synthesis.get("sat"), Some(&3));
    assert_eq!(prop.synthesis.get("unknown"), Some(&1));
    let kinds: Vec<&str> = s.kinds.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(kinds, ["seed", "duplicate", "delete", "property"]);

    // the files
    let out = tmp.path().join("report");
    let index = report::write("runs/run.db", &run, &individuals, &[], &out).expect("written");
    assert_eq!(index, out.join("index.html"));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("the report folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "accuracy-macs.svg",
            "accuracy-params.svg",
            "best-by-time.svg",
            "best-by-trial.svg",
            "index.html"
        ],
        "the page and its plots, no temporary file left"
    );
    for f in files.iter().filter(|f| f.ends_with(".svg")) {
        let svg = std::fs::read_to_string(out.join(f)).expect("svg");
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>"),
            "{f}"
        );
    }
    let html = std::fs::read_to_string(&index).expect("index.html");
    assert_eq!(html, report::render("runs/run.db", &run, &individuals, &[]));
    // written twice: replaced whole
    report::write("runs/run.db", &run, &individuals, &[], &out).expect("rewritten");
    assert_eq!(std::fs::read_dir(&out).expect("folder").count(), 5);

    let page = std::fs::canonicalize(&index).expect("absolute path");
    let url = format!("file://{}", page.display());
    let page_name = page.display().to_string();
    let clock = Instant::now();

    // 1. a screenshot: a real PNG of the window's size
    let png = tmp.path().join("report.png");
    let shot = browser(
        &bin,
        tmp.path(),
        "screenshot",
        &url,
        &[format!("--screenshot={}", png.display())],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {}: {e}; stderr:\n{}",
            png.display(),
            shot.stderr
        )
    });
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "not a PNG"
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert_eq!(
        (be(&bytes[16..20]), be(&bytes[20..24])),
        (1280, 2400),
        "the window's size"
    );
    assert!(
        bytes.len() > 30_000,
        "a screenshot of a page with four plots and tables is more than {} bytes",
        bytes.len()
    );
    let errors = page_errors(&shot.stderr, &page_name);
    assert!(errors.is_empty(), "script errors: {errors:#?}");

    // 2. the DOM after the script ran, sorted by params, largest first, from the address
    let dump = browser(
        &bin,
        tmp.path(),
        "dom",
        &format!("{url}#sort=front:4:desc"),
        &["--dump-dom".to_string()],
    );
    let errors = page_errors(&dump.stderr, &page_name);
    assert!(errors.is_empty(), "script errors: {errors:#?}");
    let dom = &dump.stdout;
    assert!(
        dom.contains("data-js=\"ready\""),
        "the script ran to its end"
    );
    assert_eq!(dom.matches("<svg").count(), 4, "four plots");
    assert_eq!(dom.matches("no finished evaluation yet").count(), 0);
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "the programs' `<script>` stayed text"
    );
    assert!(dom.contains("&lt;script&gt;document.title = 'injected'&lt;/script&gt;"));
    assert!(dom.contains("<title>nasc search report — runs/run.db</title>"));
    let front = table(dom, "front");
    assert!(front.contains("data-sortable=\"ready\""));
    assert_eq!(
        front.matches("<tr").count(),
        1 + 5,
        "a header and the five Pareto individuals"
    );
    assert!(front.contains("nasc search export runs/run.db --id 9 --out individual-9"));
    assert_eq!(
        order_of(front, &[2, 4, 7, 8, 9]),
        [8, 2, 7, 4, 9],
        "sorted by params, descending"
    );
    assert!(front.contains("aria-sort=\"descending\""));
    assert_eq!(table(dom, "kinds").matches("<tr").count(), 1 + 4);
    assert_eq!(table(dom, "failed").matches("<tr").count(), 1 + 3);
    // every done individual is a point with its tooltip in the params plot (and the front rings again)
    assert_eq!(
        dom.matches(" params</title>").count(),
        8 + 5,
        "8 points and 5 front rings"
    );
    assert!(dom.contains("<title>id 4 · property · 86.00 % · 150,000 params</title>"));
    // without the script the page shows the Pareto table in its own order (by params, ascending)
    assert_eq!(
        order_of(table(&html, "front"), &[2, 4, 7, 8, 9]),
        [9, 4, 7, 2, 8]
    );

    // 3. the log filter catches a script error (a control page beside the report)
    let broken = tmp.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html><body><p>x</p><script>notDefined();</script></body></html>",
    )
    .expect("control page");
    let control = browser(
        &bin,
        tmp.path(),
        "control",
        &format!("file://{}", broken.display()),
        &["--dump-dom".to_string()],
    );
    assert!(
        !page_errors(&control.stderr, &broken.display().to_string()).is_empty(),
        "the filter must see the control page's error; stderr:\n{}",
        control.stderr
    );
    if let Some(keep) = std::env::var_os("NASC_REPORT_KEEP") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("NASC_REPORT_KEEP folder");
        for f in files.iter().map(|f| out.join(f)).chain([png.clone()]) {
            let name = f.file_name().expect("a file name");
            std::fs::copy(&f, keep.join(name)).expect("copied");
        }
    }
    eprintln!(
        "report: three headless Chromium runs took {:.1} s",
        clock.elapsed().as_secs_f64()
    );
}
