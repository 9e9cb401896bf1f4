// expect: E0107
// A "deep" stage written as a block that calls itself; NASL graphs are finite, so recursion is refused.
block deep_stage(x: [B, C, H, W]) -> [B, C, H, W] {
    let y = relu(batch_norm(conv(x, C, kernel: 3, padding: 1)));
    deep_stage(y)
}
