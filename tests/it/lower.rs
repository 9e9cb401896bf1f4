//! Lowering to libtorch: every example runs for real on CPU and its output shape is the checked shape;
//! weights are named by IR paths and shared by path; libtorch errors point at the node.

use crate::{big_stack, nasl_files, root};
use nasc::check;
use nasc::ir::{self, BuildOptions, Graph};
use nasc::lower::{self, LowerError, Network};
use tch::{nn, Device, Kind, Tensor};

pub fn graph(file: &str, batch: i64) -> Graph {
    let path = root().join(file);
    big_stack(move || {
        let r = check::check_paths(&[path]);
        assert!(!r.has_errors(), "{:?}", r.diagnostics);
        ir::build(
            &r.program,
            &BuildOptions {
                batch: Some(batch),
                ..Default::default()
            },
        )
        .expect("builds")
    })
}

#[test]
fn every_example_runs_with_its_checked_output_shape() {
    tch::manual_seed(0);
    for f in nasl_files("examples") {
        let rel = crate::rel(&f);
        let g = graph(&rel, 2);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = Network::new(&vs.root(), &g).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let xs: Vec<Tensor> = g
            .inputs
            .iter()
            .map(|&i| Tensor::randn(g.nodes[i].shape.as_slice(), (Kind::Float, Device::Cpu)))
            .collect();
        let out =
            tch::no_grad(|| net.forward_all(&xs, false)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let want = &g.nodes[g.outputs[0]].shape;
        assert_eq!(&out[0].size(), want, "{rel}");
        assert!(
            out[0].isfinite().all().int64_value(&[]) == 1,
            "{rel}: non-finite output"
        );
    }
}

#[test]
fn train_mode_and_other_batch_sizes() {
    let g = graph("examples/vit_ti16.nasl", 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), &g).expect("lowers");
    // a batch of 3 through a graph built for 2: reshapes and expands follow the real batch
    let x = Tensor::randn([3, 3, 224, 224], (Kind::Float, Device::Cpu));
    let y = net.forward_t(&x, true).expect("runs");
    assert_eq!(y.size(), vec![3, 1000]);
    y.sum(Kind::Float).backward();
}

#[test]
fn parameters_are_named_by_path_like_a_state_dict() {
    let g = graph("examples/fmnist_cnn.nasl", 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), &g).expect("lowers");
    let vars = vs.variables();
    for name in [
        "h.conv_bn.y.weight",
        "h.conv_bn.batch_norm.weight",
        "h.conv_bn.batch_norm.bias",
        "h.conv_bn.batch_norm.running_mean",
        "h.conv_bn.batch_norm.running_var",
        "h.conv_bn.batch_norm.num_batches_tracked",
        "linear.weight",
        "linear.bias",
        "linear_1.weight",
    ] {
        assert!(
            vars.contains_key(name),
            "{name} missing from {:?}",
            vars.keys()
        );
    }
    assert!(!vars.contains_key("h.conv_bn.y.bias"));
    assert_eq!(net.num_params(), 421_738);
    // trainable = params only (the buffers are not)
    let trainable: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    assert_eq!(trainable, 421_738);
    // a second network under the same path shares every weight
    let net2 = Network::new(&vs.root(), &g).expect("lowers");
    assert_eq!(vs.variables().len(), vars.len());
    let x = Tensor::randn([2, 1, 28, 28], (Kind::Float, Device::Cpu));
    let a = net.forward_t(&x, false).unwrap();
    let b = net2.forward_t(&x, false).unwrap();
    assert!(a.allclose(&b, 0.0, 0.0, false));
}

#[test]
fn batch_norm_running_stats_update_in_train_mode_only() {
    let g = graph("examples/fmnist_cnn.nasl", 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), &g).expect("lowers");
    let rm = vs.variables()["h.conv_bn.batch_norm.running_mean"].copy();
    let x = Tensor::randn([4, 1, 28, 28], (Kind::Float, Device::Cpu)) + 3.0;
    let _ = tch::no_grad(|| net.forward_t(&x, false)).unwrap();
    assert!(vs.variables()["h.conv_bn.batch_norm.running_mean"].allclose(&rm, 0.0, 0.0, false));
    let _ = tch::no_grad(|| net.forward_t(&x, true)).unwrap();
    assert!(!vs.variables()["h.conv_bn.batch_norm.running_mean"].allclose(&rm, 0.0, 0.0, false));
    let t = vs.variables()["h.conv_bn.batch_norm.num_batches_tracked"].int64_value(&[]);
    assert_eq!(t, 1);
    // dropout: eval is deterministic
    let a = net.forward_t(&x, false).unwrap();
    let b = net.forward_t(&x, false).unwrap();
    assert!(a.allclose(&b, 0.0, 0.0, false));
}

#[test]
fn wrong_inputs_and_devices_are_errors() {
    let g = graph("examples/fmnist_cnn.nasl", 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = Network::new(&vs.root(), &g).expect("lowers");
    let x = Tensor::randn([2, 3, 28, 28], (Kind::Float, Device::Cpu));
    assert!(
        matches!(net.forward_t(&x, false), Err(LowerError::Input(m)) if m.contains("[B, 1, 28, 28]"))
    );
    assert!(matches!(lower::parse_device("cpu"), Ok(Device::Cpu)));
    assert!(matches!(
        lower::parse_device("gpu"),
        Err(LowerError::Device(_))
    ));
    if !tch::Cuda::is_available() {
        assert!(
            matches!(lower::parse_device("cuda:0"), Err(LowerError::Device(m)) if m.contains("no CUDA device"))
        );
    }
}

#[test]
fn libtorch_errors_name_the_node_and_its_source() {
    // a graph edited so that libtorch must reject it: the conv's groups no longer divide its channels
    let mut g = graph("examples/fmnist_cnn.nasl", 2);
    let i = g.find("h_2.conv_bn.y").expect("node");
    if let nasc::ir::Op::Conv { groups, .. } = &mut g.nodes[i].op {
        *groups = 3;
    }
    let vs = nn::VarStore::new(Device::Cpu);
    let err = match Network::new(&vs.root(), &g) {
        Ok(net) => net
            .forward_t(
                &Tensor::zeros([2, 1, 28, 28], (Kind::Float, Device::Cpu)),
                false,
            )
            .expect_err("libtorch rejects it"),
        Err(e) => e,
    };
    assert!(
        matches!(&err, LowerError::Op { path, .. } if path == "h_2.conv_bn.y"),
        "{err}"
    );
    let d = err.to_diagnostic().expect("a diagnostic");
    assert_eq!(d.code, nasc::base::Code::Lowering);
    assert!(!d.labels.is_empty());
}

#[test]
fn golden_parameter_and_mac_counts() {
    use nasc::lower::cost::cost;
    // (example, params, MACs per sample): the params are the published/torchvision counts; MACs follow
    // docs/cost.md (conv + linear), e.g. torchvision ResNet-50 4.09 G, MobileNetV2 300.8 M
    let golden = [
        ("examples/cifarnet.nasl", 2_192_458, 39_946_752),
        ("examples/resnet50.nasl", 25_557_032, 4_089_184_256),
        ("examples/mobilenet_v2.nasl", 3_504_872, 300_774_272),
        ("examples/resnet18.nasl", 11_689_512, 1_814_073_344),
        ("examples/fmnist_cnn.nasl", 421_738, 4_241_152),
        ("examples/resnet20.nasl", 272_474, 40_813_184),
    ];
    for (file, params, macs) in golden {
        let g = graph(file, 1);
        let c = cost(&g, 1);
        assert_eq!(c.total.params, params, "{file} params");
        assert_eq!(c.total.macs, macs, "{file} MACs");
        assert_eq!(c.blocks.iter().map(|b| b.params).sum::<i64>(), params);
        // the counter agrees with the parameters libtorch actually holds
        let vs = nn::VarStore::new(Device::Cpu);
        let net = Network::new(&vs.root(), &g).expect("lowers");
        assert_eq!(net.num_params(), params, "{file} lowered params");
    }
    // activation memory scales with the batch
    let c1 = cost(&graph("examples/resnet20.nasl", 1), 1);
    let c8 = cost(&graph("examples/resnet20.nasl", 8), 1);
    assert_eq!(c8.peak_activation_bytes, 8 * c1.peak_activation_bytes);
    assert_eq!(c8.total.macs, c1.total.macs);
    assert!(c1.peak_activation_bytes < c1.saved_activation_bytes);
}

#[test]
fn supernet_weights_are_shared_by_path_and_sliced() {
    // an elastic kernel (one conv whose kernel is a decision): both alternatives have the same node path;
    // built under one root, the 1×1 kernel is the centre of the shared 3×3 one
    const SPACE: &str = "network s(x: [B, 8, 16, 16]) -> [B, 8, 16, 16] {\n    let k = choice(3, 1);\n    conv(x, 8, kernel: k, padding: k / 2)\n}\n";
    let build = |choice: usize| {
        let path = root().join("examples/__elastic__.nasl");
        big_stack(move || {
            let r = check::check_program(check::load_text(&path, SPACE, &check::DiskReader));
            assert!(!r.has_errors(), "{:?}", r.diagnostics);
            let mut o = BuildOptions {
                batch: Some(2),
                ..Default::default()
            };
            o.choices.insert("k".into(), choice);
            ir::build(&r.program, &o).expect("builds")
        })
    };
    let (g3, g1) = (build(0), build(1));
    let vs = nn::VarStore::new(Device::Cpu);
    let big = Network::new(&vs.root(), &g3).expect("lowers");
    let small = Network::new(&vs.root(), &g1).expect("lowers");
    assert!(
        vs.variables().keys().all(|k| !k.contains("__")),
        "equal paths never make a second tensor"
    );
    let w = &vs.variables()["conv.weight"];
    assert_eq!(w.size(), vec![8, 8, 3, 3]);
    let x = Tensor::randn([2, 8, 16, 16], (Kind::Float, Device::Cpu));
    let y = small.forward_t(&x, true).unwrap();
    y.sum(Kind::Float).backward();
    // the gradient reached the shared 3×3 tensor only at the kernel centre
    let g = w.grad();
    assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0);
    assert_eq!(
        g.narrow(2, 0, 1).abs().sum(Kind::Float).double_value(&[]),
        0.0
    );
    let _ = big.forward_t(&x, false).unwrap();
    // the other way round is an error that says what to do
    let vs2 = nn::VarStore::new(Device::Cpu);
    let _ = Network::new(&vs2.root(), &g1).expect("lowers");
    let e = Network::new(&vs2.root(), &g3).expect_err("smaller shared weight");
    assert!(e.to_string().contains("largest architecture"), "{e}");
}

#[test]
fn block_valued_alternatives_get_their_own_weights() {
    // NAS-Bench-201: conv3x3 and conv1x1 on the same edge are different ops with different weights
    let build = |choice: usize| {
        let path = root().join("examples/nb201_space.nasl");
        big_stack(move || {
            let r = check::check_paths(&[path]);
            let mut o = BuildOptions {
                batch: Some(2),
                ..Default::default()
            };
            for e in ["e01", "e02", "e03", "e12", "e13", "e23"] {
                o.choices.insert(e.into(), choice);
            }
            ir::build(&r.program, &o).expect("builds")
        })
    };
    let (g3, g1) = (build(3), build(2));
    let vs = nn::VarStore::new(Device::Cpu);
    let _big = Network::new(&vs.root(), &g3).expect("lowers");
    let _small = Network::new(&vs.root(), &g1).expect("lowers (no slicing: its own tensors)");
    let vars = vs.variables();
    let w3 = &vars["h_1.0.cell_ops.n1.conv3x3.relu_conv_bn.y.weight"];
    let w1 = &vars["h_1.0.cell_ops.n1.conv1x1.relu_conv_bn.y.weight"];
    assert_eq!(w3.size(), vec![16, 16, 3, 3]);
    assert_eq!(w1.size(), vec![16, 16, 1, 1]);
}

use crate::run_nasc as nasc;

#[test]
fn cli_cost_train_and_export_report_clearly() {
    let (rc, out, _) = nasc(&["cost", "examples/resnet50.nasl", "--json"]);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"]["params"], 25_557_032);
    let (rc, out, _) = nasc(&["cost", "examples/resnet18.nasl"]);
    assert_eq!(rc, 0);
    assert!(
        out.contains("11,689,512") && out.contains("docs/cost.md"),
        "{out}"
    );
    let (rc, _, err) = nasc(&[
        "train",
        "examples/fmnist_cnn.nasl",
        "--data",
        "idx:/nonexistent-dir",
    ]);
    assert_eq!(rc, 2);
    assert!(
        err.contains("/nonexistent-dir/train-images-idx3-ubyte"),
        "{err}"
    );
    if !tch::Cuda::is_available() {
        let (rc, _, err) = nasc(&["train", "examples/fmnist_cnn.nasl", "--device", "cuda"]);
        assert_eq!(rc, 2);
        assert!(err.contains("no CUDA device"), "{err}");
    }
    let (rc, _, err) = nasc(&["export", "examples/fmnist_cnn.nasl"]);
    assert_eq!(rc, 2);
    assert!(err.contains("--torchscript"), "{err}");
}
