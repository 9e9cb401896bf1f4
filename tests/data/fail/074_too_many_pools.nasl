// expect: E0402
// Five 2×2 max-pools on a 28×28 image: 28 → 14 → 7 → 3 → 1 → 0.
network fmnist(x: [B, 1, 28, 28]) -> [B, 10] {
    let h = repeat 5 with t = x {
        max_pool(relu(conv(t, 32, kernel: 3, padding: 1)), 2)
    };
    linear(flatten(h), 10)
}
