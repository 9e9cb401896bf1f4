// expect: E0001
// A Python/Rust-style `return` in front of the result expression; a body ends with its bare result.
block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    let h = global_avg_pool(x);
    return linear(h, classes)
}
