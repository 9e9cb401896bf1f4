//! Export round trips through the installed Python torch (NASC_PYTHON): the traced TorchScript module and
//! the generated PyTorch source (with the nasc checkpoint loaded into its state dict) give the same
//! outputs as the lowered network — the PyTorch-source check is also the parity check of nasc's lowering
//! against PyTorch's own modules (nn.Conv2d, nn.BatchNorm2d, …) on the same weights.

use crate::lower::graph;
use nasc::lower::{export, Network};
use std::path::PathBuf;
use std::process::Command;
use tch::{nn, Device, Kind, Tensor};

/// The Python that has torch, or None (with the reason printed) when it cannot import torch.
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("NASC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join(".deps/venv/bin/python"));
    match Command::new(&py).args(["-c", "import torch"]).output() {
        Ok(o) if o.status.success() => Some(py),
        Ok(o) => {
            eprintln!(
                "skipping: {} cannot import torch: {}",
                py.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("skipping: cannot run {}: {e}", py.display());
            None
        }
    }
}

fn raw(t: &Tensor) -> Vec<u8> {
    let v: Vec<f32> = Vec::<f32>::try_from(t.flatten(0, -1)).unwrap();
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn torchscript_and_pytorch_source_round_trip() {
    let Some(py) = python() else { return };
    let dir = std::env::temp_dir().join(format!("nasc-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        "fmnist_cnn",
        "resnet20",
        "mobilenetv3_space",
        "nb201_space",
        "vit_ti16",
    ];
    let mut specs = Vec::new();
    for (k, name) in cases.iter().enumerate() {
        tch::manual_seed(k as i64);
        let g = graph(&format!("examples/{name}.nasl"), 2);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = Network::new(&vs.root(), &g).unwrap();
        let shape = net.input_shape();
        // one training-mode pass so that batch-norm statistics are not the initial 0 / 1
        let warm = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu)) * 2.0 + 0.5;
        let _ = tch::no_grad(|| net.forward_t(&warm, true)).unwrap();
        let ckpt = dir.join(format!("{name}.safetensors"));
        vs.save(&ckpt).unwrap();
        let x = Tensor::randn(shape.as_slice(), (Kind::Float, Device::Cpu));
        let y = tch::no_grad(|| net.forward_t(&x, false)).unwrap();
        std::fs::write(dir.join(format!("{name}.x")), raw(&x)).unwrap();
        std::fs::write(dir.join(format!("{name}.y")), raw(&y)).unwrap();
        export::torchscript(&g, Some(&ckpt), &dir.join(format!("{name}.pt"))).unwrap();
        std::fs::write(
            dir.join(format!("{name}.py")),
            export::pytorch_source(&g, &format!("examples/{name}.nasl")),
        )
        .unwrap();
        specs.push(format!("({name:?}, {shape:?}, {:?})", y.size()));
    }
    let script = format!(
        r#"
import importlib.util, json, sys, torch
d = sys.argv[1]
out = {{}}
def load(p, shape):
    return torch.frombuffer(bytearray(open(p, "rb").read()), dtype=torch.float32).reshape(shape)
for name, xs, ys in [{specs}]:
    x = load(f"{{d}}/{{name}}.x", xs); y = load(f"{{d}}/{{name}}.y", ys)
    ts = torch.jit.load(f"{{d}}/{{name}}.pt")
    with torch.no_grad():
        yt = ts(x)
    spec = importlib.util.spec_from_file_location(name, f"{{d}}/{{name}}.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    m = mod.build(); mod.load_nasc_checkpoint(m, f"{{d}}/{{name}}.safetensors"); m.eval()
    with torch.no_grad():
        yp = m(x)
    scale = float(y.abs().max()) + 1e-6
    out[name] = [float((yt - y).abs().max()) / scale, float((yp - y).abs().max()) / scale,
                 sum(p.numel() for p in m.parameters())]
print(json.dumps(out))
"#,
        specs = specs.join(", ")
    );
    let o = Command::new(&py)
        .arg("-c")
        .arg(&script)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let res: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for name in cases {
        let r = &res[name];
        let (ts, src) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        assert!(ts < 1e-4, "{name}: TorchScript differs by {ts} (relative)");
        assert!(
            src < 1e-4,
            "{name}: PyTorch source differs by {src} (relative)"
        );
    }
    assert_eq!(res["resnet20"][2].as_i64(), Some(272_474));
}
