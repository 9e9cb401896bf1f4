// expect: E0401
// An Inception-style concat where one branch (the 3×3 max-pool without padding) shrinks the map: 28 vs 26.
network inception(x: [B, 192, 28, 28]) -> [B, 256, 28, 28] {
    let b1 = relu(conv(x, 64, kernel: 1));
    let b2 = relu(conv(x, 128, kernel: 3, padding: 1));
    let b3 = relu(conv(max_pool(x, 3, stride: 1), 64, kernel: 1));
    concat(b1, b2, b3, dim: 1)
}
