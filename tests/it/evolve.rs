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
