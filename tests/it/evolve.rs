//! Evolution (issue 12): the flat form, the mutations, selection.

use nasc::search::flat::Flat;
use std::path::Path;

fn graph_of(path: &Path, text: &str) -> nasc::ir::Graph {
    nasc::synth::build_text(path, text, None, 1)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every example that is one chain of printable ops has a flat form that prints as NASL, builds to a
/// graph of the same ops, shapes, params and MACs, and reads back to the same flat form.
#[test]
fn flat_form_round_trips_on_the_examples() {
    let mut flat_ok = Vec::new();
    for f in crate::nasl_files("examples") {
        let text = std::fs::read_to_string(&f).unwrap();
        let (f2, t2) = (f.clone(), text.clone());
        let Ok(g) = crate::big_stack(move || nasc::synth::build_text(&f2, &t2, None, 1)) else {
            continue; // search spaces with open decisions need --choose
        };
        let flat = match Flat::from_graph(&g) {
            Ok(fl) => fl,
            Err(e) => {
                eprintln!("{}: no flat form: {e}", f.display());
                continue;
            }
        };
        let nasl = flat.to_nasl("round trip");
        let nasl2 = nasl.clone();
        let g2 = crate::big_stack(move || graph_of(Path::new("flat.nasl"), &nasl2));
        let ops = |g: &nasc::ir::Graph| -> Vec<(String, Vec<i64>)> {
            g.nodes
                .iter()
                .map(|n| (format!("{:?}", n.op), n.shape.clone()))
                .collect()
        };
        assert_eq!(ops(&g), ops(&g2), "{}:\n{nasl}", f.display());
        let (c1, c2) = (nasc::ir::cost::cost(&g, 1), nasc::ir::cost::cost(&g2, 1));
        assert_eq!(
            (c1.total.params, c1.total.macs),
            (c2.total.params, c2.total.macs)
        );
        let back = Flat::from_graph(&g2).unwrap();
        assert_eq!(
            back.canonical(),
            flat.canonical(),
            "{}:\n{nasl}",
            f.display()
        );
        assert_eq!(back.fingerprint(), flat.fingerprint());
        flat_ok.push((
            f.file_name().unwrap().to_string_lossy().to_string(),
            flat.calls.len(),
            flat.defs.len(),
        ));
    }
    eprintln!("{flat_ok:?}");
    let names: Vec<&str> = flat_ok.iter().map(|x| x.0.as_str()).collect();
    for want in [
        "resnet20.nasl",
        "fmnist_cnn.nasl",
        "cifarnet.nasl",
        "resnet18.nasl",
    ] {
        assert!(
            names.contains(&want),
            "{want} has no flat form: {flat_ok:?}"
        );
    }
    // ResNet-20: stem, 9 basic blocks, head; the 7 shape-keeping blocks of a width share definitions
    let r20 = flat_ok.iter().find(|x| x.0 == "resnet20.nasl").unwrap();
    assert_eq!(r20.1, 11, "{flat_ok:?}");
}

fn flat_of(file: &str) -> (Flat, nasc::ir::Graph) {
    let p = crate::root().join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    let g = crate::big_stack(move || graph_of(&p, &text));
    let flat = Flat::from_graph(&g).unwrap();
    let g = nasc::search::mutate::build(&flat).unwrap();
    (flat, g)
}

/// Each kind makes children that check and keep the output shape; property-guided children satisfy
/// their mutated target when re-inferred here; most draws succeed.
#[test]
fn every_mutation_kind_makes_children_that_check() {
    use nasc::search::mutate::{self, Kind, Rates};
    use rand::SeedableRng;
    let (flat, g) = flat_of("examples/resnet20.nasl");
    let rates = Rates {
        synth_timeout: 20.0,
        ..Rates::default()
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for kind in Kind::ALL {
        let mut made = 0;
        let mut failures = Vec::new();
        for _ in 0..6 {
            match crate::big_stack({
                let (flat, g, rates) = (flat.clone(), g.clone(), rates.clone());
                let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(rand::Rng::gen(&mut rng));
                move || mutate::mutate(&flat, &g, kind, &rates, &mut r)
            }) {
                Ok(c) => {
                    made += 1;
                    assert_ne!(c.fingerprint, flat.fingerprint(), "{kind:?}: {}", c.detail);
                    let nasl = c.nasl.clone();
                    let cg = crate::big_stack(move || graph_of(Path::new("child.nasl"), &nasl));
                    assert_eq!(
                        cg.nodes.last().unwrap().shape,
                        g.nodes.last().unwrap().shape
                    );
                    // lowers to libtorch
                    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
                    nasc::lower::Network::new(&vs.root(), &cg).expect("lowers");
                    match kind {
                        Kind::Duplicate => assert_eq!(c.flat.calls.len(), flat.calls.len() + 1),
                        Kind::Delete => assert_eq!(c.flat.calls.len(), flat.calls.len() - 1),
                        Kind::Property => {
                            let t = c.target.clone().expect("a target");
                            let (inst, pos) = c.rewritten.clone().unwrap();
                            let nodes = mutate::instance_nodes(&cg, inst);
                            let sel: Vec<usize> = pos.iter().map(|&p| nodes[p]).collect();
                            let sub = nasc::ir::subgraph::Subgraph::from_nodes(&cg, sel).unwrap();
                            let p = nasc::props::infer(&cg, &sub).unwrap().renamed_like(&t);
                            assert!(
                                nasc::props::Props::satisfies(&p, &t),
                                "{}\n{p}\nvs\n{t}",
                                c.nasl
                            );
                            assert_eq!(c.synth.as_ref().unwrap()["result"], "sat");
                        }
                    }
                }
                Err(f) => failures.push(f.to_string()),
            }
        }
        eprintln!("{kind:?}: {made}/6 made; failures: {failures:?}");
        assert!(made >= 3, "{kind:?}: only {made}/6: {failures:?}");
    }
}

/// `nasc search evolve` on the small CNN with tiny training (a few steps): enough to exercise the loop.
fn evolve_cmd(db: &Path, trials: u64, workers: usize) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_nasc"));
    c.current_dir(crate::root())
        .args(["search", "evolve", "examples/fmnist_cnn.nasl", "--store"]);
    c.arg(db).args([
        "--trials",
        &trials.to_string(),
        "--workers",
        &workers.to_string(),
        "--train-subset",
        "256",
        "--val",
        "256",
        "--batch",
        "64",
        "--max-steps",
        "3",
        "--seed",
        "5",
        "--synth-timeout",
        "60",
        "--json",
    ]);
    c
}

fn rows(db: &Path) -> Vec<nasc::store::Individual> {
    use nasc::store::Store;
    nasc::store::SqliteStore::open_existing(db)
        .unwrap()
        .individuals(None)
        .unwrap()
}

/// `nasc search resume DB ARGS…`, run to its end.
fn resume(db: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nasc"))
        .current_dir(crate::root())
        .args(["search", "resume"])
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

/// Fails with the command's stderr unless it exited 0.
fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until the run in `db` has `finished` finished individuals (and, with `running`, one in flight).
fn wait_for(db: &Path, finished: usize, running: bool) {
    let t0 = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        if db.exists() {
            let r = std::panic::catch_unwind(|| rows(db)).unwrap_or_default();
            let done = r.iter().filter(|i| i.status.is_finished()).count();
            if done >= finished
                && (!running || r.iter().any(|i| i.status == nasc::store::Status::Running))
            {
                return;
            }
        }
        assert!(t0.elapsed().as_secs() < 300, "the run never got going");
    }
}

fn pareto_of(stdout: &[u8]) -> Vec<(i64, i64, f64)> {
    let v: serde_json::Value = serde_json::from_slice(stdout).expect("--json prints the report");
    v["pareto"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["params"].as_i64().unwrap(),
                m["val_accuracy"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Kill -9 in the middle of a run, resume: no finished row lost or changed, no finished child evaluated
/// twice, exactly the trials asked, and the same individuals and Pareto set as an uninterrupted run.
#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let trials = 7;
    let out = evolve_cmd(&a, trials, 1).output().unwrap();
    assert_ok(&out);
    let want = pareto_of(&out.stdout);
    let all_a = rows(&a);
    assert_eq!(all_a.len() as u64, trials);

    let mut child = evolve_cmd(&b, trials, 1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&b, 3, true);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = rows(&b);
    let finished: Vec<_> = before
        .iter()
        .filter(|i| i.status.is_finished())
        .cloned()
        .collect();
    assert!(finished.len() >= 3 && (finished.len() as u64) < trials);

    let out = resume(&b, &["--json"]);
    assert_ok(&out);
    let after = rows(&b);
    assert_eq!(after.len() as u64, trials, "exactly the trials asked");
    assert!(after.iter().all(|i| i.status.is_finished()));
    for f in &finished {
        let now = after.iter().find(|i| i.id == f.id).unwrap();
        assert_eq!(now, f, "a finished row changed on resume");
        assert_eq!(now.attempts, 1, "a finished child was evaluated again");
    }
    let fps: std::collections::HashSet<_> = after.iter().map(|i| &i.fingerprint).collect();
    assert_eq!(fps.len(), after.len(), "no duplicate individuals");
    // the same run as the uninterrupted one
    type Key = (Option<i64>, Option<String>, String, Option<f64>);
    let key = |v: &[nasc::store::Individual]| -> Vec<Key> {
        v.iter()
            .map(|i| {
                (
                    i.parent_id,
                    i.mutation.clone(),
                    i.fingerprint.clone(),
                    i.val_accuracy,
                )
            })
            .collect()
    };
    assert_eq!(key(&after), key(&all_a));
    assert_eq!(pareto_of(&out.stdout), want);
}

/// Two workers evaluate two children at once and the run still ends with exactly the trials asked;
/// bad flags and a store that holds a run are refused before anything runs.
#[test]
fn two_workers_and_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w2.db");
    let out = evolve_cmd(&db, 5, 2).output().unwrap();
    assert_ok(&out);
    let r = rows(&db);
    assert_eq!(r.len(), 5);
    assert!(r.iter().all(|i| i.status.is_finished()));
    // the store already holds a run
    let out = evolve_cmd(&db, 5, 1).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nasc search resume"));
    // bad flags: exit 2 with the flag named, no store created
    for (flag, val, says) in [
        ("--p-property", "1.5", "--p-property"),
        ("--workers", "0", "--workers"),
        ("--time-budget", "soon", "duration"),
        ("--val", "0", "--val"),
    ] {
        let bad = dir.path().join("bad.db");
        let out = evolve_cmd(&bad, 3, 1).args([flag, val]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {val}: {err}");
        assert!(err.contains(says), "{flag} {val}: {err}");
        assert!(!bad.exists(), "{flag} {val} created a store");
    }
}

/// Ctrl-C (SIGINT) stops the run soon, with exit 130 and a store that resumes to the trials asked. The
/// signal lands right after a result, when the next child is being synthesized (z3 once swallowed it
/// there); the run is asked for far more trials than it can finish, so the signal always lands mid-run,
/// and the resume asks for one more than the store holds.
#[test]
fn ctrl_c_stops_cleanly_and_the_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("int.db");
    let child = evolve_cmd(&db, 200, 1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&db, 2, false);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t1 = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("nasc search resume"), "{err}");
    assert!(
        t1.elapsed().as_secs() < 60,
        "Ctrl-C took {:?}",
        t1.elapsed()
    );
    let n = rows(&db).len();
    assert!(n < 200, "the run ended before the signal");
    let out = resume(&db, &["--trials", &(n + 1).to_string()]);
    assert_ok(&out);
    let r = rows(&db);
    assert_eq!(r.len(), n + 1);
    assert!(r.iter().all(|i| i.status.is_finished()));
}

/// Measures nothing: an evaluation that is a function of the program (for testing the driver alone).
struct Fake(std::collections::VecDeque<nasc::exec::Job>);

impl nasc::exec::Executor for Fake {
    fn submit(&mut self, job: nasc::exec::Job) {
        self.0.push_back(job);
    }
    fn wait(&mut self) -> Option<nasc::exec::JobResult> {
        let j = self.0.pop_front()?;
        let n = j.nasl.len() as i64;
        Some(nasc::exec::JobResult {
            id: j.id,
            evaluation: nasc::store::Evaluation {
                outcome: nasc::store::Outcome::Done,
                params: Some(n),
                macs: Some(n),
                val_accuracy: Some((n % 97) as f64 / 97.0),
                val_loss: Some(1.0),
                train_seconds: 0.0,
                error: None,
            },
        })
    }
}

/// Deleting what a duplication added gives back an earlier individual: those children are rejected by
/// fingerprint and drawn again, so the run still has the trials asked, all distinct.
#[test]
fn duplicate_children_are_drawn_again() {
    use nasc::search::evolve::{self, Overrides, Settings};
    use nasc::search::mutate::Rates;
    let dir = tempfile::tempdir().unwrap();
    let mut store = nasc::store::SqliteStore::open(dir.path().join("d.db")).unwrap();
    let seed_file = crate::root().join("examples/fmnist_cnn.nasl");
    let settings = Settings {
        seed_file: seed_file.clone(),
        block: None,
        trials: Some(8),
        time_budget: None,
        workers: 1,
        policy: nasc::search::select::Policy::Aging {
            population: 8,
            sample: 2,
        },
        objective: nasc::search::select::Objective::Params,
        rates: Rates {
            duplicate: 0.5,
            delete: 0.5,
            property: 0.0,
            ..Rates::default()
        },
        run: Default::default(),
        train: Default::default(),
        max_attempts: 200,
        inherit: None,
        prefilter: None,
    };
    let text = std::fs::read_to_string(&seed_file).unwrap();
    evolve::start(&mut store, &settings, &text, 2).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let rep = evolve::run(
        &mut store,
        &Overrides::default(),
        &mut Fake(Default::default()),
        &stop,
        &mut |_| {},
    )
    .unwrap();
    use nasc::store::Store;
    let r = store.individuals(None).unwrap();
    assert_eq!(r.len(), 8);
    let fps: std::collections::HashSet<_> = r.iter().map(|i| &i.fingerprint).collect();
    assert_eq!(fps.len(), 8);
    assert!(rep.attempts.duplicates > 0, "{:?}", rep.attempts);
    for i in &r[1..] {
        assert!(i.parent_id.is_some() && i.mutation.is_some(), "{i:?}");
    }
}

/// `--inherit` keeps every individual's weights for its children; `--prefilter epe:3:1` scores three
/// children per evaluation and trains one, and says so in the report.
#[test]
fn inherit_and_prefilter() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ip.db");
    let out = evolve_cmd(&db, 4, 1)
        .args([
            "--inherit",
            "--prefilter",
            "epe:3:1",
            "--prefilter-batch",
            "16",
        ])
        .output()
        .unwrap();
    assert_ok(&out);
    let r = rows(&db);
    assert_eq!(r.len(), 4);
    assert!(
        r.iter().all(|i| i.status == nasc::store::Status::Done),
        "{r:?}"
    );
    let weights = dir.path().join("ip.db.weights");
    for i in &r {
        assert!(weights.join(format!("{}.safetensors", i.id)).is_file());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["attempts"]["prefiltered_out"], 6, "{v}");
    assert!(v["timing"]["prefilter"].as_f64().unwrap() > 0.0);
    // a bad prefilter is a usage error
    let out = evolve_cmd(&dir.path().join("bad.db"), 4, 1)
        .args(["--prefilter", "epe:1:3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--prefilter"));
}

/// `--time-budget` stops making children once the wall time is spent (here: after the seed), and a
/// resume with a larger `--trials` continues the same run.
#[test]
fn time_budget_and_raised_trials() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tb.db");
    let out = evolve_cmd(&db, 50, 1)
        .args(["--time-budget", "0.5s"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(rows(&db).len(), 1, "only the seed fits in half a second");
    let out = resume(&db, &["--time-budget", "1h", "--trials", "3"]);
    assert_ok(&out);
    assert_eq!(rows(&db).len(), 3);
}
