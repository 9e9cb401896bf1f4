//! Datasets: the default Fashion-MNIST loads; readers for IDX, CIFAR binary and CSV; errors name the file;
//! the validation split is seeded and disjoint from training; fitting and augmentation keep shapes; a short
//! training run learns and its checkpoint round-trips.

use nasc::data::{self, DataError, LabelColumn, Part, Source, SplitOptions, Splits};
use std::io::Write;
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nasc-data-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn fashion_mnist_is_the_default_and_loads() {
    let (train, test) = Source::default()
        .load()
        .expect("installed by scripts/setup.sh");
    assert_eq!(train.len(), 60_000);
    assert_eq!(test.len(), 10_000);
    assert_eq!(train.image_shape(), vec![1, 28, 28]);
    assert_eq!(train.classes, 10);
    let s = Splits::new(
        train,
        test,
        &[1, 28, 28],
        SplitOptions {
            val: 5000,
            seed: 7,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.train.len(), 55_000);
    assert_eq!(s.val.len(), 5_000);
    // Fashion-MNIST's mean/std of [0, 1] pixels are about 0.286 / 0.353
    assert!((s.mean[0] - 0.286).abs() < 0.01 && (s.std[0] - 0.353).abs() < 0.01);
    let (x, y) = s
        .batches(Part::Train, 64, 0, Device::Cpu)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(x.size(), vec![64, 1, 28, 28]);
    assert_eq!(y.size(), vec![64]);
    assert_eq!(x.kind(), Kind::Float);
}

fn fake(n: i64, seed: i64) -> data::Dataset {
    tch::manual_seed(seed);
    data::Dataset {
        images: Tensor::randint(256, [n, 1, 4, 4], (Kind::Uint8, Device::Cpu)),
        labels: Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(3),
        classes: 3,
    }
}

#[test]
fn split_is_seeded_and_disjoint_from_training() {
    let make = |seed| {
        let mut d = fake(100, 0);
        // label = index, to identify images
        d.labels = Tensor::arange(100, (Kind::Int64, Device::Cpu));
        Splits::new(
            d,
            fake(10, 1),
            &[1, 4, 4],
            SplitOptions {
                val: 20,
                seed,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let ids = |t: &Tensor| -> Vec<i64> { Vec::<i64>::try_from(t).unwrap() };
    let (a, b, c) = (make(1), make(1), make(2));
    assert_eq!(ids(&a.val.labels), ids(&b.val.labels));
    assert_ne!(ids(&a.val.labels), ids(&c.val.labels));
    let val = ids(&a.val.labels);
    assert!(ids(&a.train.labels).iter().all(|i| !val.contains(i)));
    assert_eq!(a.train.len() + a.val.len(), 100);
    // epoch shuffles are seeded too, and differ between epochs
    let first = |s: &Splits, e| {
        ids(&s
            .batches(Part::Train, 80, e, Device::Cpu)
            .next()
            .unwrap()
            .unwrap()
            .1)
    };
    assert_eq!(first(&a, 0), first(&b, 0));
    assert_ne!(first(&a, 0), first(&a, 1));
}

#[test]
fn missing_and_corrupt_files_are_named() {
    let e = Source::Idx("/nonexistent/mnist".into()).load().unwrap_err();
    assert!(
        matches!(&e, DataError::Missing { file, .. } if file.starts_with("/nonexistent/mnist"))
    );
    assert!(e
        .to_string()
        .contains("/nonexistent/mnist/train-images-idx3-ubyte"));
    let bad = tmp("bad-idx");
    std::fs::write(&bad, b"not an idx file at all").unwrap();
    let e = data::read_idx(&bad).unwrap_err();
    assert!(
        matches!(&e, DataError::Corrupt { file, .. } if file == &bad),
        "{e}"
    );
    // a truncated image file: the header promises more than the data
    let trunc = tmp("trunc-idx");
    let mut b = vec![0u8, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    b.extend(vec![0u8; 100]);
    std::fs::write(&trunc, &b).unwrap();
    let e = data::read_idx(&trunc).unwrap_err();
    assert!(
        e.to_string().contains("trunc-idx") && e.to_string().contains("7840"),
        "{e}"
    );
    // a gzip file cut short
    let gz = tmp("cut.gz");
    let full =
        std::fs::read("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").unwrap();
    std::fs::write(&gz, &full[..full.len() / 2]).unwrap();
    assert!(matches!(data::read_idx(&gz), Err(DataError::Corrupt { file, .. }) if file == gz));
    assert!(Source::parse("imagenet").is_err());
}

#[test]
fn csv_and_cifar_readers() {
    let csv = tmp("digits.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "p0,p1,p2,p3,label").unwrap();
    for i in 0..10 {
        writeln!(f, "{},0,16,8,{}", i, i % 2).unwrap();
    }
    drop(f);
    let d = data::load_csv(&csv, &[1, 2, 2], LabelColumn::Last).unwrap();
    assert_eq!(d.len(), 10);
    assert_eq!(d.image_shape(), vec![1, 2, 2]);
    assert_eq!(d.classes, 2);
    assert_eq!(d.images.int64_value(&[0, 0, 1, 0]), 16); // pixels are used as they are (0–255)
    let e = data::load_csv(&csv, &[1, 3, 3], LabelColumn::Last).unwrap_err();
    assert!(e.to_string().contains("digits.csv"), "{e}");
    match Source::parse(&format!("csv:{}:1,2,2", csv.display())).unwrap() {
        Source::Csv { shape, label, .. } => {
            assert_eq!(shape, vec![1, 2, 2]);
            assert_eq!(label, LabelColumn::Last);
        }
        other => panic!("{other:?}"),
    }
    // CIFAR-10 binary: label byte + 3072 pixels per record
    let bin = tmp("cifar.bin");
    let mut b = Vec::new();
    for k in 0..3u8 {
        b.push(k);
        b.extend(vec![k * 10; 3072]);
    }
    std::fs::write(&bin, &b).unwrap();
    let d = data::load_cifar(std::slice::from_ref(&bin), false).unwrap();
    assert_eq!(d.images.size(), vec![3, 3, 32, 32]);
    assert_eq!(Vec::<i64>::try_from(&d.labels).unwrap(), vec![0, 1, 2]);
    std::fs::write(&bin, &b[..100]).unwrap();
    assert!(
        matches!(data::load_cifar(std::slice::from_ref(&bin), false), Err(DataError::Corrupt { file, .. }) if file == bin)
    );
}

#[test]
fn fitting_and_augmentation_keep_shapes() {
    let x = Tensor::randint(256, [5, 1, 28, 28], (Kind::Uint8, Device::Cpu));
    let y = data::fit_images(&x, &[3, 32, 32]).unwrap();
    assert_eq!(y.size(), vec![5, 3, 32, 32]);
    // padded around the centre: the border is zero, the middle is the image
    assert_eq!(y.int64_value(&[0, 0, 0, 0]), 0);
    assert_eq!(y.int64_value(&[0, 2, 2, 2]), x.int64_value(&[0, 0, 0, 0]));
    let z = data::fit_images(&x, &[1, 14, 14]).unwrap();
    assert_eq!(z.size(), vec![5, 1, 14, 14]);
    let s = Splits::new(
        fake(40, 0),
        fake(8, 1),
        &[1, 4, 4],
        SplitOptions {
            val: 8,
            crop_padding: 1,
            flip: true,
            ..Default::default()
        },
    )
    .unwrap();
    for b in s.batches(Part::Train, 16, 0, Device::Cpu) {
        let (x, _) = b.unwrap();
        assert_eq!(&x.size()[1..], &[1, 4, 4]);
    }
    assert_eq!(s.batches(Part::Train, 16, 0, Device::Cpu).count(), 2); // 32 images: 16 + 16
}

#[test]
fn a_short_training_run_learns_and_its_checkpoint_round_trips() {
    use nasc::lower::train::{Schedule, TrainConfig};
    use nasc::lower::{Session, SessionOptions};
    let g = crate::lower::graph("examples/fmnist_cnn.nasl", 64);
    let opts = SessionOptions {
        data: "fashion-mnist".into(),
        device: "cpu".into(),
        seed: 3,
        val: 500,
        limit: Some(1024),
        ..Default::default()
    };
    let s = Session::new(g.clone(), Default::default(), &opts)
        .map_err(|e| e.0)
        .unwrap();
    let cfg = TrainConfig {
        epochs: 1,
        batch: 64,
        lr: 0.05,
        schedule: Schedule::Cosine,
        ..Default::default()
    };
    let mut ticks = 0;
    let r = s.train(&cfg, &mut |_| ticks += 1).unwrap();
    assert_eq!(ticks, 16);
    assert!(r[0].val.accuracy > 0.5, "{:?}", r[0]);
    let ckpt = tmp("fmnist.safetensors");
    s.save(&ckpt).unwrap();
    let ev = s.evaluate(Part::Val, 100).unwrap();
    let mut s2 = Session::new(g, Default::default(), &opts)
        .map_err(|e| e.0)
        .unwrap();
    assert_ne!(s2.evaluate(Part::Val, 100).unwrap().accuracy, ev.accuracy);
    s2.load(&ckpt).unwrap();
    let ev2 = s2.evaluate(Part::Val, 100).unwrap();
    assert_eq!((ev2.accuracy, ev2.images), (ev.accuracy, ev.images));
    assert!((ev2.loss - ev.loss).abs() < 1e-6);
    let missing = s2.load(&tmp("nope.safetensors")).unwrap_err();
    assert!(missing.to_string().contains("nope.safetensors"));
}
