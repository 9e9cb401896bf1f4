// expect: E0400
// The feature map is flattened before the last conv: `conv` needs a rank-4 [B, C, H, W] tensor.
network fmnist(x: [B, 1, 28, 28]) -> [B, 10] {
    let h = relu(conv(x, 32, kernel: 3, padding: 1));
    let h = flatten(max_pool(h, 2));
    let h = relu(conv(h, 64, kernel: 3, padding: 1));
    linear(flatten(h), 10)
}
