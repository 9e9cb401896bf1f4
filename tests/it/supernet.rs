//! Two-stage weight-sharing search end to end with the real binary and libtorch (issue 13): the MACs
//! table reproduces AttentiveNAS's A0 value; a supernet on the small Fashion-MNIST space trains, is killed
//! with SIGKILL after its first epoch and resumed to the same steps and the same weights as an
//! uninterrupted run; stage 2 searches it in a MACs range; an extracted subnet checks, costs what the
//! search recorded, and evaluated standalone matches its in-supernet accuracy.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const NASC: &str = env!("CARGO_BIN_EXE_nasc");
const SPACE: &str = "examples/fmnist_space.nasl";

fn nasc() -> Command {
    let mut c = Command::new(NASC);
    c.current_dir(super::root()).env("NO_COLOR", "1");
    c
}

fn run(args: &[&str]) -> Output {
    nasc().args(args).output().expect("runs nasc")
}

fn ok(o: &Output) -> serde_json::Value {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {err}"))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp paths")
}

#[test]
fn the_table_reproduces_attentivenas_a0_macs() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(super::root().join("examples/mobilenetv3_space.nasl")).unwrap();
    let mut mega = vec![];
    for r in [192, 224] {
        let f = dir.path().join(format!("space{r}.nasl"));
        std::fs::write(
            &f,
            text.replace("x: [B, 3, 224, 224]", &format!("x: [B, 3, {r}, {r}]")),
        )
        .unwrap();
        let v = ok(&run(&[
            "supernet",
            "table",
            s(&f),
            "--samples",
            "20",
            "--json",
        ]));
        let m = |k: &str| (v[k].as_i64().unwrap() as f64 / 1e4).round() / 100.0;
        mega.push((r, m("smallest_macs"), m("largest_macs")));
        assert_eq!(v["decisions"]["names"].as_array().map(Vec::len), Some(27));
    }
    // A0, the smallest subnet at resolution 192: 203.39 MFLOPs (MACs of conv and linear) in the paper
    assert_eq!(mega[0].1, 203.39, "{mega:?}");
    assert_eq!((mega[1].1, mega[1].2), (274.46, 1179.10), "{mega:?}");
}

/// The ImageNet-sized space (27 decisions, 224×224 inputs, 1000 classes) takes one sandwich step on
/// random images through the real CLI: the largest, two attentive samples and the smallest subnet run
/// forward and backward on shared weights, one optimizer step is taken and checkpointed, and the losses
/// are those of an untrained 1000-way classifier (about ln 1000).
#[test]
fn the_imagenet_space_takes_one_step_on_random_data() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("random224.csv");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut text = String::new();
    for _ in 0..6 {
        for _ in 0..3 * 224 * 224 {
            text.push_str(&rng.gen_range(0..256).to_string());
            text.push(',');
        }
        text.push_str(&format!("{}\n", rng.gen_range(0..1000)));
    }
    std::fs::write(&csv, text).unwrap();
    let db = dir.path().join("mb.db");
    let data = format!("csv:{}:3,224,224", s(&csv));
    let v = ok(&run(&[
        "supernet",
        "train",
        "examples/mobilenetv3_space.nasl",
        "--store",
        s(&db),
        "--data",
        &data,
        "--epochs",
        "1",
        "--max-steps",
        "1",
        "--batch",
        "2",
        "--val",
        "2",
        "--bn-calib",
        "1",
        "--table-samples",
        "20",
        "--seed",
        "3",
        "--json",
    ]));
    assert_eq!(v["epochs"], 1);
    assert_eq!(v["optimizer_steps"], 1);
    let c = &v["curves"][0];
    for k in ["loss_largest", "loss_sampled", "loss_smallest"] {
        let l = c[k].as_f64().unwrap();
        assert!((l - 1000f64.ln()).abs() < 1.0, "{k} = {l}: {v}");
    }
    assert!(dir
        .path()
        .join("mb.db.supernet/supernet-1.safetensors")
        .is_file());
}

#[test]
fn a_supernet_trains_resumes_searches_and_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let train = |db: &Path| -> Vec<String> {
        [
            "supernet",
            "train",
            SPACE,
            "--store",
            s(db),
            "--epochs",
            "3",
            "--train-subset",
            "256",
            "--val",
            "256",
            "--batch",
            "64",
            "--table-samples",
            "100",
            "--threads",
            "1",
            "--json",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let full = dir.path().join("full.db");
    let v = ok(&nasc().args(train(&full)).output().unwrap());
    assert_eq!(v["epochs"], 3);
    let steps = v["optimizer_steps"].as_i64().unwrap();
    assert_eq!(steps, 12, "4 steps of 64 images per epoch");
    assert_eq!(v["curves"].as_array().map(Vec::len), Some(3));
    // killed after its first epoch's checkpoint, resumed
    let part = dir.path().join("part.db");
    let mut child = nasc()
        .args(train(&part))
        .env("NASC_FAULT_EPOCH_DELAY_MS", "3000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // the epoch line is printed after the store has committed the epoch (the checkpoint's file
    // appears earlier, before the commit: killing on the file alone races the commit)
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("epoch 1:") {
                let _ = tx.send(());
            }
        }
    });
    let committed = rx.recv_timeout(Duration::from_secs(300)).is_ok();
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success(), "killed, not finished");
    assert!(committed, "the first epoch was reported");
    let first = dir.path().join("part.db.supernet/supernet-1.safetensors");
    assert!(first.exists(), "the first epoch was checkpointed");
    let o = run(&["search", "resume", s(&part), "--json"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let w = ok(&o);
    assert!(err.contains("of 3 epoch(s) done"), "{err}");
    assert_eq!(w["optimizer_steps"].as_i64(), Some(steps));
    assert_eq!(
        std::fs::read(dir.path().join("full.db.supernet/supernet-3.safetensors")).unwrap(),
        std::fs::read(dir.path().join("part.db.supernet/supernet-3.safetensors")).unwrap(),
        "the resumed supernet's weights differ from the uninterrupted run's"
    );
    // a second train into the same store is refused
    let o = nasc().args(train(&full)).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // stage 2 in a MACs range
    let v = ok(&run(&[
        "supernet",
        "search",
        s(&full),
        "--macs",
        "2M..6M",
        "--trials",
        "6",
        "--population",
        "4",
        "--json",
    ]));
    let cands = v["candidates"].as_array().unwrap();
    assert_eq!(cands.len(), 6);
    for c in cands {
        let m = c["macs"].as_i64().unwrap();
        assert!((2_000_000..=6_000_000).contains(&m), "{c}");
    }
    let best = &cands[0];
    // the archive: the best per MACs bucket, best of all among them
    let arch = v["archive"].as_array().unwrap();
    let bucket = v["bucket"].as_i64().unwrap();
    assert!(!arch.is_empty() && arch.len() <= cands.len());
    assert!(arch.iter().any(|c| c["id"] == best["id"]), "{v}");
    let keys: Vec<i64> = arch
        .iter()
        .map(|c| c["macs"].as_i64().unwrap() / bucket)
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "one per bucket, by MACs: {keys:?}"
    );
    // the report draws the searched subnets and stage 1's curves
    let rep = dir.path().join("report");
    let o = run(&["search", "report", s(&full), "--out", s(&rep)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(html.contains("Supernet training (stage 1)"));
    assert!(rep.join("supernet-accuracy.svg").exists());
    // out of range: a clear usage error
    let o = run(&["supernet", "search", s(&full), "--macs", "100M..200M"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // extraction: checks, costs what the search recorded, matches its accuracy standalone
    let prefix = dir.path().join("best");
    let o = run(&[
        "supernet",
        "extract",
        s(&full),
        "--best",
        "--out",
        s(&prefix),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let nasl = dir.path().join("best.nasl");
    let weights = dir.path().join("best.safetensors");
    let o = run(&["check", s(&nasl)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cost = ok(&run(&["cost", s(&nasl), "--json"]));
    let params = cost["total"]["params"].as_i64().or(cost["params"].as_i64());
    assert_eq!(params, best["params"].as_i64(), "{cost}");
    let e = ok(&run(&[
        "eval",
        s(&nasl),
        "--weights",
        s(&weights),
        "--part",
        "val",
        "--val",
        "256",
        "--json",
    ]));
    let acc = e["accuracy"]
        .as_f64()
        .or(e["val"]["accuracy"].as_f64())
        .unwrap();
    let want = best["val_accuracy"].as_f64().unwrap();
    assert!(
        (acc - want).abs() <= 0.001,
        "standalone {acc} vs in the supernet {want}"
    );
}
