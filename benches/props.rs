//! Property inference benchmark (`cargo bench --bench props`, or `scripts/bench_props.sh`): prints a
//! table of the time to infer (shape, depth, mixing) for whole ResNet-50 and ViT-Ti/16 graphs, the
//! CifarNet conv block, and 1,000 random subgraphs of ResNet-34 (alpha-NAS growth rule, p = 0.75, up to
//! 80% of the network), next to the reference implementation's figures from docs/properties.md.

use nasc::check;
use nasc::ir::subgraph::Subgraph;
use nasc::ir::{self, BuildOptions, Graph};
use nasc::props;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn graph(file: &str) -> Graph {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let file = file.to_string();
    check::with_big_stack(move || {
        let r = check::check_paths(&[path]);
        assert!(!r.has_errors(), "{file} has errors");
        ir::build(&r.program, &BuildOptions::default()).expect("builds")
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

struct Row {
    what: String,
    nodes: String,
    first: String,
    warm: String,
    reference: &'static str,
}

fn time_sub(g: &Graph, sub: &Subgraph, reps: usize) -> (Duration, Duration) {
    let t = Instant::now();
    props::infer(g, sub).expect("infers");
    let first = t.elapsed();
    let warm = (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(props::infer(g, sub).expect("infers"));
            t.elapsed()
        })
        .collect();
    (first, median(warm))
}

fn main() {
    let mut rows = Vec::new();
    let cifar = graph("examples/cifarnet.nasl");
    let block = Subgraph::select(&cifar, "h_1").expect("h_1");
    let (first, warm) = time_sub(&cifar, &block, 200);
    rows.push(Row {
        what: "CifarNet conv block (h_1)".into(),
        nodes: block.nodes.len().to_string(),
        first: ms(first),
        warm: ms(warm),
        reference: "8.6 s cold / 36 ms warm (mixing)",
    });
    for (file, name, reference) in [
        (
            "examples/resnet50.nasl",
            "ResNet-50, whole graph",
            "103 s cold / 0.52 s warm (mixing)",
        ),
        ("examples/vit_ti16.nasl", "ViT-Ti/16, whole graph", "—"),
    ] {
        let g = graph(file);
        let sub = Subgraph::whole(&g).expect("whole");
        let (first, warm) = time_sub(&g, &sub, 30);
        rows.push(Row {
            what: name.into(),
            nodes: g.nodes.len().to_string(),
            first: ms(first),
            warm: ms(warm),
            reference,
        });
    }
    let g = graph("examples/resnet34.nasl");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let subs: Vec<Subgraph> = (0..1000)
        .map(|_| Subgraph::grow(&g, &mut rng, 0.75, 0.8, None).expect("grows"))
        .collect();
    let mean_nodes = subs.iter().map(|s| s.nodes.len()).sum::<usize>() as f64 / subs.len() as f64;
    let mut per = Vec::with_capacity(subs.len());
    let t = Instant::now();
    for s in &subs {
        let t1 = Instant::now();
        std::hint::black_box(props::infer(&g, s).expect("infers"));
        per.push(t1.elapsed());
    }
    let total = t.elapsed();
    rows.push(Row {
        what: "1,000 random subgraphs of ResNet-34 (total)".into(),
        nodes: format!("{mean_nodes:.1} avg"),
        first: ms(total),
        warm: format!("{} median each", ms(median(per))),
        reference: "—",
    });
    println!("property inference (shape + depth + mixing, one e-graph per call)\n");
    println!(
        "| {:<44} | {:>10} | {:>14} | {:>22} | {:<34} |",
        "workload", "nodes", "first call", "warm (median)", "reference (alpha-NAS)"
    );
    println!(
        "|{:-<46}|{:-<12}|{:-<16}|{:-<24}|{:-<36}|",
        "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<44} | {:>10} | {:>14} | {:>22} | {:<34} |",
            r.what, r.nodes, r.first, r.warm, r.reference
        );
    }
}
