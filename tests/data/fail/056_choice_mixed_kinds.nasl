// expect: E0304
// A kernel-size decision that mixes integers with a block (`identity` meant as "skip this conv").
block mixed_op(x: [B, C, H, W]) -> [B, C, H, W] {
    let k = choice(3, 5, identity);
    conv(x, C, kernel: k, padding: k / 2)
}
