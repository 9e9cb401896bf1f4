//! The run store on real SQLite files: every operation's round trip, the rules (unique fingerprints,
//! finished rows never change, resets for a resume), refused files, and a writer killed with SIGKILL.

use nasc::exec::JobResult;
use nasc::store::{
    self, DriverState, Evaluation, Individual, NewIndividual, NewRun, Outcome, SqliteStore, Status,
    Store, StoreError, SCHEMA_VERSION,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

fn new_run() -> NewRun {
    NewRun {
        driver: "evolve".into(),
        settings: json!({"trials": 40, "epochs": 1, "workers": 2}),
        seed: u64::MAX - 7,
        seed_program: "network n(x: [B, 1, 28, 28]) -> [B, 10] { x }\n".into(),
    }
}

fn individual(fp: &str, parent: Option<i64>) -> NewIndividual {
    NewIndividual {
        parent_id: parent,
        mutation: parent.map(|_| "property".to_string()),
        nasl: format!("// {fp}\nnetwork n(x: [B, 4]) -> [B, 4] {{ x }}\n"),
        fingerprint: fp.into(),
        target_props: parent.map(|_| json!({"depth": 3, "mixing": ["o", "m"]})),
        synth_outcome: parent.map(|_| json!({"outcome": "sat", "ops": 4, "seconds": 0.12})),
    }
}

fn done(id: i64) -> Evaluation {
    Evaluation {
        outcome: Outcome::Done,
        params: Some(id * 10),
        macs: Some(id * 100),
        val_accuracy: Some(id as f64 / 1000.0),
        val_loss: Some(1.0 / (id as f64 + 1.0)),
        train_seconds: 2.5,
        error: None,
    }
}

fn state(n: u64) -> DriverState {
    DriverState {
        rng: n.to_le_bytes().repeat(4),
        state: json!({"population": [1, 2, 3], "n": n}),
    }
}

fn store_at(dir: &Path) -> (PathBuf, SqliteStore) {
    let path = dir.join("run.db");
    let s = SqliteStore::open(&path).expect("a new store");
    (path, s)
}

/// A new store in a temporary folder, with a run started.
fn with_run() -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = temp();
    let (path, mut s) = store_at(dir.path());
    s.create_run(&new_run()).unwrap();
    (dir, path, s)
}

#[test]
fn run_round_trip() {
    let dir = temp();
    let (path, mut s) = store_at(dir.path());
    assert!(matches!(s.load_run(), Err(StoreError::NoRun { .. })));
    let run = s.create_run(&new_run()).unwrap();
    assert_eq!(run.driver, "evolve");
    assert_eq!(run.seed, u64::MAX - 7);
    assert_eq!(run.nasc_version, env!("CARGO_PKG_VERSION"));
    assert!(run.created_at > 1.6e9);
    assert_eq!(s.load_run().unwrap(), run);
    let again = s.create_run(&new_run()).unwrap_err();
    assert!(matches!(again, StoreError::RunExists { .. }), "{again}");
    assert!(again.to_string().contains("run.db"), "{again}");
    drop(s);
    // reopened, by path, by `sqlite:PATH` and through `store::open`
    let s = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(s.load_run().unwrap(), run);
    let s = SqliteStore::open(format!("sqlite:{}", path.display())).unwrap();
    assert_eq!(s.load_run().unwrap(), run);
    assert_eq!(s.path(), path);
    let b = store::open(&format!("sqlite:{}", path.display())).unwrap();
    assert_eq!(b.load_run().unwrap(), run);
    let Err(e) = store::open("postgres://db.example/nas") else {
        panic!("a postgres:// store opened");
    };
    assert!(matches!(e, StoreError::Unsupported { .. }), "{e}");
}

#[test]
fn individuals_round_trip() {
    let (_dir, _, mut s) = with_run();
    let seed = s.insert_pending(&individual("seed", None), None).unwrap();
    let child = s
        .insert_pending(&individual("c1", Some(seed)), None)
        .unwrap();
    let failing = s
        .insert_pending(&individual("c2", Some(seed)), None)
        .unwrap();
    assert_eq!((seed, child, failing), (1, 2, 3));

    let c = s.individual(child).unwrap();
    let want = individual("c1", Some(seed));
    assert_eq!(c.status, Status::Pending);
    assert_eq!(
        (&c.nasl, &c.fingerprint, c.parent_id, &c.mutation),
        (&want.nasl, &want.fingerprint, Some(seed), &want.mutation)
    );
    assert_eq!(c.target_props, want.target_props);
    assert_eq!(c.synth_outcome, want.synth_outcome);
    assert_eq!(c.attempts, 0);
    assert!(c.created_at > 1.6e9 && c.started_at.is_none() && c.finished_at.is_none());
    assert_eq!(s.individual(seed).unwrap().mutation, None);

    s.mark_running(seed).unwrap();
    s.mark_running(child).unwrap();
    s.mark_running(failing).unwrap();
    let r = s.individual(child).unwrap();
    assert_eq!((r.status, r.attempts), (Status::Running, 1));
    assert!(r.started_at.is_some());

    // results as exec reports them
    let ok = JobResult {
        id: child as u64,
        evaluation: Evaluation {
            outcome: Outcome::Done,
            params: Some(1234),
            macs: Some(56789),
            val_accuracy: Some(0.875),
            val_loss: Some(0.31),
            train_seconds: 12.5,
            error: None,
        },
    };
    s.record(child, &ok.evaluation, None).unwrap();
    let bad = JobResult {
        id: failing as u64,
        evaluation: Evaluation {
            outcome: Outcome::Failed,
            params: Some(10),
            macs: Some(20),
            val_accuracy: None,
            val_loss: None,
            train_seconds: 0.5,
            error: Some("the loss diverged (train loss NaN, validation loss NaN)".into()),
        },
    };
    s.record(failing, &bad.evaluation, None).unwrap();

    let d = s.individual(child).unwrap();
    assert_eq!(d.status, Status::Done);
    assert_eq!((d.params, d.macs), (Some(1234), Some(56789)));
    assert_eq!((d.val_accuracy, d.val_loss), (Some(0.875), Some(0.31)));
    assert_eq!((d.train_seconds, d.error.as_deref()), (Some(12.5), None));
    assert!(d.finished_at.unwrap() >= d.started_at.unwrap());
    let f = s.individual(failing).unwrap();
    assert_eq!(f.status, Status::Failed);
    assert_eq!(f.error, bad.evaluation.error);
    assert_eq!((f.params, f.val_accuracy), (Some(10), None));

    let ids = |v: Vec<Individual>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(s.individuals(None).unwrap()), [1, 2, 3]);
    assert_eq!(ids(s.individuals(Some(Status::Running)).unwrap()), [1]);
    assert_eq!(ids(s.individuals(Some(Status::Done)).unwrap()), [2]);
    assert_eq!(ids(s.individuals(Some(Status::Failed)).unwrap()), [3]);
    assert!(s.individuals(Some(Status::Pending)).unwrap().is_empty());
    let c = s.counts().unwrap();
    assert_eq!((c.pending, c.running, c.done, c.failed), (0, 1, 1, 1));
    assert_eq!((c.total(), c.finished()), (3, 2));

    let e = s.individual(99).unwrap_err();
    assert!(matches!(e, StoreError::NoIndividual { id: 99, .. }), "{e}");
    let e = s
        .insert_pending(&individual("orphan", Some(42)), None)
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
}

#[test]
fn duplicate_fingerprints_are_refused_and_change_nothing() {
    let (_dir, _, mut s) = with_run();
    let a = s
        .insert_pending(&individual("same", None), Some(&state(1)))
        .unwrap();
    let e = s
        .insert_pending(&individual("same", Some(a)), Some(&state(2)))
        .unwrap_err();
    match &e {
        StoreError::DuplicateFingerprint {
            fingerprint,
            existing,
            ..
        } => assert_eq!((fingerprint.as_str(), *existing), ("same", a)),
        other => panic!("not a duplicate: {other}"),
    }
    assert!(e.to_string().contains("run.db"), "{e}");
    // the failed insert saved neither the row nor its driver state
    assert_eq!(s.counts().unwrap().total(), 1);
    assert_eq!(s.load_state().unwrap(), Some(state(1)));
    // a re-draw goes in
    let b = s
        .insert_pending(&individual("other", Some(a)), Some(&state(3)))
        .unwrap();
    assert_eq!(b, a + 1);
    assert_eq!(s.load_state().unwrap(), Some(state(3)));
}

#[test]
fn finished_rows_never_change() {
    let (_dir, path, mut s) = with_run();
    let id = s.insert_pending(&individual("x", None), None).unwrap();
    // pending → done is not a transition
    let e = s.record(id, &done(id), None).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Transition {
                from: Status::Pending,
                to: Status::Done,
                ..
            }
        ),
        "{e}"
    );
    s.mark_running(id).unwrap();
    let e = s.mark_running(id).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Transition {
                from: Status::Running,
                ..
            }
        ),
        "{e}"
    );
    s.record(id, &done(id), None).unwrap();
    let before = s.individual(id).unwrap();

    let failed = Evaluation {
        outcome: Outcome::Failed,
        error: Some("late".into()),
        ..done(id)
    };
    for e in [
        s.record(id, &done(id + 1), Some(&state(9))).unwrap_err(),
        s.record(id, &failed, None).unwrap_err(),
        s.mark_running(id).unwrap_err(),
    ] {
        assert!(
            matches!(
                e,
                StoreError::Transition {
                    from: Status::Done,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("is done"), "{e}");
    }
    assert_eq!(s.reset_running().unwrap(), Vec::<i64>::new());
    assert_eq!(s.individual(id).unwrap(), before);
    assert_eq!(
        s.load_state().unwrap(),
        None,
        "a refused record saves no state"
    );

    // other SQL clients cannot change or delete it either
    let raw = rusqlite::Connection::open(&path).unwrap();
    for sql in [
        "UPDATE individuals SET val_accuracy = 0.99 WHERE id = 1",
        "UPDATE individuals SET status = 'pending' WHERE id = 1",
        "DELETE FROM individuals WHERE id = 1",
    ] {
        let e = raw.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("finished individual"), "{sql}: {e}");
    }
    assert_eq!(s.individual(id).unwrap(), before);
}

#[test]
fn a_done_evaluation_must_be_complete() {
    let (_dir, _, mut s) = with_run();
    let id = s.insert_pending(&individual("x", None), None).unwrap();
    s.mark_running(id).unwrap();
    for ev in [
        Evaluation {
            val_accuracy: None,
            ..done(id)
        },
        Evaluation {
            val_loss: Some(f64::NAN),
            ..done(id)
        },
        Evaluation {
            params: None,
            ..done(id)
        },
    ] {
        let e = s.record(id, &ev, None).unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    }
    assert_eq!(s.individual(id).unwrap().status, Status::Running);
    // a failure without a reason still gets one
    let ev = Evaluation {
        outcome: Outcome::Failed,
        params: None,
        macs: None,
        val_accuracy: None,
        val_loss: Some(f64::INFINITY),
        train_seconds: f64::NAN,
        error: None,
    };
    s.record(id, &ev, None).unwrap();
    let f = s.individual(id).unwrap();
    assert_eq!(f.status, Status::Failed);
    assert!(f.error.is_some() && f.val_loss.is_none());
}

#[test]
fn reset_running_returns_running_rows_to_pending() {
    let (_dir, _, mut s) = with_run();
    let ids: Vec<i64> = (0..5)
        .map(|i| {
            s.insert_pending(&individual(&format!("f{i}"), None), None)
                .unwrap()
        })
        .collect();
    for &i in &ids[..4] {
        s.mark_running(i).unwrap();
    }
    s.record(ids[0], &done(ids[0]), None).unwrap();
    assert_eq!(s.reset_running().unwrap(), vec![ids[1], ids[2], ids[3]]);
    let c = s.counts().unwrap();
    assert_eq!((c.pending, c.running, c.done), (4, 0, 1));
    let r = s.individual(ids[1]).unwrap();
    assert_eq!(
        (r.status, r.started_at, r.attempts),
        (Status::Pending, None, 1)
    );
    // run again: a second attempt
    s.mark_running(ids[1]).unwrap();
    s.record(ids[1], &done(ids[1]), None).unwrap();
    assert_eq!(s.individual(ids[1]).unwrap().attempts, 2);
    assert_eq!(s.reset_running().unwrap(), Vec::<i64>::new());
}

#[test]
fn driver_state_is_saved_with_the_change_that_caused_it() {
    let dir = temp();
    let (path, mut s) = store_at(dir.path());
    let e = s.save_state(&state(0)).unwrap_err();
    assert!(matches!(e, StoreError::NoRun { .. }), "{e}");
    // without a run, an insert that carries state is refused whole
    let e = s
        .insert_pending(&individual("a", None), Some(&state(0)))
        .unwrap_err();
    assert!(matches!(e, StoreError::NoRun { .. }), "{e}");
    assert_eq!(s.counts().unwrap().total(), 0);

    s.create_run(&new_run()).unwrap();
    assert_eq!(s.load_state().unwrap(), None);
    s.save_state(&state(1)).unwrap();
    assert_eq!(s.load_state().unwrap(), Some(state(1)));
    let id = s
        .insert_pending(&individual("a", None), Some(&state(2)))
        .unwrap();
    assert_eq!(s.load_state().unwrap(), Some(state(2)));
    s.mark_running(id).unwrap();
    s.record(id, &done(id), Some(&state(3))).unwrap();
    drop(s);
    let s = SqliteStore::open_existing(&path).unwrap();
    assert_eq!(s.load_state().unwrap(), Some(state(3)));
    assert_eq!(s.individual(id).unwrap().status, Status::Done);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = temp();
    let (path, s) = store_at(dir.path());
    drop(s);
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [(SCHEMA_VERSION + 1).to_string()],
    )
    .unwrap();
    drop(raw);
    for e in [
        SqliteStore::open(&path).unwrap_err(),
        SqliteStore::open_existing(&path).unwrap_err(),
    ] {
        assert!(
            matches!(e, StoreError::NewerSchema { found, supported, .. }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("run.db") && msg.contains("newer nasc"),
            "{msg}"
        );
    }
}

#[test]
fn files_that_are_not_stores_are_refused_unchanged() {
    let dir = temp();
    // not SQLite
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "these are not the droids\n".repeat(200)).unwrap();
    let before = std::fs::read(&text).unwrap();
    let e = SqliteStore::open(&text).unwrap_err();
    assert!(matches!(e, StoreError::NotAStore { .. }), "{e}");
    assert!(e.to_string().contains("notes.db"), "{e}");
    assert_eq!(std::fs::read(&text).unwrap(), before);

    // another application's SQLite database
    let other = dir.path().join("other.sqlite");
    let raw = rusqlite::Connection::open(&other).unwrap();
    raw.execute_batch("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada');")
        .unwrap();
    drop(raw);
    let before = std::fs::read(&other).unwrap();
    let e = SqliteStore::open(&other).unwrap_err();
    assert!(matches!(e, StoreError::NotAStore { .. }), "{e}");
    assert!(e.to_string().contains("people"), "{e}");
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "not switched to WAL"
    );
    assert!(!dir.path().join("other.sqlite-wal").exists());

    // a folder that does not exist, a folder as the file, a missing file for a resume
    let missing = dir.path().join("no/such/folder/run.db");
    let e = SqliteStore::open(&missing).unwrap_err();
    assert!(matches!(e, StoreError::Open { .. }), "{e}");
    assert!(
        e.to_string().contains("folder") && e.to_string().contains("no/such/folder"),
        "{e}"
    );
    let e = SqliteStore::open(dir.path()).unwrap_err();
    assert!(matches!(e, StoreError::Open { .. }), "{e}");
    let e = SqliteStore::open_existing(dir.path().join("gone.db")).unwrap_err();
    assert!(
        e.to_string().contains("gone.db") && e.to_string().contains("no such file"),
        "{e}"
    );
    assert!(!dir.path().join("gone.db").exists());

    // an empty file is an empty database: it becomes a store
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let mut s = SqliteStore::open(&empty).unwrap();
    s.create_run(&new_run()).unwrap();
    s.check_integrity().unwrap();
}

// ---- killed mid-write ----

const CHILD_ENV: &str = "NASC_STORE_CRASH_CHILD";

/// The state the crash child saves: how many rows it inserted and finished.
fn counters(s: &SqliteStore) -> (u64, u64) {
    let st = s.load_state().unwrap().map(|d| d.state);
    let get = |k: &str| st.as_ref().and_then(|v| v[k].as_u64()).unwrap_or(0);
    (get("inserted"), get("finished"))
}

fn child_state(inserted: u64, finished: u64) -> DriverState {
    DriverState {
        rng: (inserted * 31 + finished).to_le_bytes().repeat(8),
        state: json!({"inserted": inserted, "finished": finished, "population": (0..50).collect::<Vec<_>>()}),
    }
}

fn child_eval(id: i64) -> Evaluation {
    if id % 7 == 0 {
        Evaluation {
            outcome: Outcome::Failed,
            error: Some(format!("out of memory in {id}")),
            ..done(id)
        }
    } else {
        done(id)
    }
}

/// Not a test by itself: the writer that `killed_mid_write_leaves_a_consistent_store` runs in a child
/// process (this binary again, with `NASC_STORE_CRASH_CHILD` set) and kills. It resumes like a driver:
/// running rows back to pending, re-evaluate pending rows, then insert → run → record in a loop.
#[test]
fn crash_child_process() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut s = SqliteStore::open_existing(&path).unwrap();
    s.reset_running().unwrap();
    let (mut inserted, mut finished) = counters(&s);
    let t0 = Instant::now();
    let evaluate = |s: &mut SqliteStore, id: i64, inserted: u64, finished: &mut u64| {
        s.mark_running(id).unwrap();
        *finished += 1;
        s.record(id, &child_eval(id), Some(&child_state(inserted, *finished)))
            .unwrap();
    };
    for p in s.individuals(Some(Status::Pending)).unwrap() {
        evaluate(&mut s, p.id, inserted, &mut finished);
    }
    // bounded, in case the parent is gone
    while t0.elapsed() < Duration::from_secs(60) {
        inserted += 1;
        let ind = NewIndividual {
            nasl: format!("// child {inserted}\n{}", "let h = conv(x)\n".repeat(200)),
            ..individual(&format!("fp-{inserted}"), (inserted > 1).then_some(1))
        };
        let id = s
            .insert_pending(&ind, Some(&child_state(inserted, finished)))
            .unwrap();
        evaluate(&mut s, id, inserted, &mut finished);
    }
}

/// Checks what must hold whenever the writer died: a sound file, complete finished rows, the driver
/// state matching the rows, at most the one individual in flight unfinished. Returns the finished rows.
fn check_consistent(path: &Path) -> Vec<Individual> {
    let s = SqliteStore::open_existing(path).unwrap();
    s.check_integrity().unwrap();
    let all = s.individuals(None).unwrap();
    let (inserted, finished) = counters(&s);
    let c = s.counts().unwrap();
    assert_eq!(c.total(), inserted, "rows vs the saved driver state");
    assert_eq!(
        c.finished(),
        finished,
        "finished rows vs the saved driver state"
    );
    assert!(c.pending + c.running <= 1, "{c:?}");
    for (k, i) in all.iter().enumerate() {
        assert_eq!(i.id, k as i64 + 1, "ids have no gaps");
        assert_eq!(i.fingerprint, format!("fp-{}", i.id));
        assert!(i.nasl.starts_with(&format!("// child {}\n", i.id)));
        let want = child_eval(i.id);
        match i.status {
            Status::Done => {
                assert_eq!(
                    (i.params, i.macs, i.val_accuracy, i.val_loss),
                    (want.params, want.macs, want.val_accuracy, want.val_loss),
                    "row {}",
                    i.id
                );
                assert!(i.error.is_none() && i.finished_at.is_some() && i.attempts >= 1);
            }
            Status::Failed => {
                assert_eq!(i.error, want.error);
                assert!(i.finished_at.is_some());
            }
            Status::Running => assert!(i.started_at.is_some() && i.finished_at.is_none()),
            Status::Pending => assert!(i.params.is_none() && i.finished_at.is_none()),
        }
    }
    all.into_iter().filter(|i| i.status.is_finished()).collect()
}

#[test]
fn killed_mid_write_leaves_a_consistent_store() {
    let (_dir, path, s) = with_run();
    drop(s);
    let exe = std::env::current_exe().unwrap();
    let mut kept: Vec<Individual> = Vec::new();
    for round in 0..5u64 {
        let mut child = Command::new(&exe)
            .args([
                "crash_child_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        // wait for progress, then kill at a point that differs per round
        let target = kept.len() as u64 + 25;
        let t0 = Instant::now();
        loop {
            let reader = SqliteStore::open_existing(&path).unwrap();
            let finished = reader.counts().unwrap().finished();
            drop(reader);
            if finished >= target {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the writer exited early"
            );
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the writer made no progress"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_micros(round * 1700));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(!status.success());
        let now = check_consistent(&path);
        // no finished row lost or changed
        assert!(now.len() as u64 >= target);
        for k in &kept {
            let same = now.iter().find(|i| i.id == k.id);
            assert_eq!(same, Some(k), "finished row {} changed", k.id);
        }
        kept = now;
    }
    // a last resume finishes the row in flight
    let mut s = SqliteStore::open_existing(&path).unwrap();
    let reset = s.reset_running().unwrap();
    assert!(reset.len() <= 1);
    let c = s.counts().unwrap();
    assert_eq!(c.running, 0);
    assert!(c.pending <= 1);
}
