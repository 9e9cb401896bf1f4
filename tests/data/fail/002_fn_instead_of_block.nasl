// expect: E0001
// A block declared with Rust's `fn` keyword instead of `block`.
fn conv_relu(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(conv(x, out, kernel: 3, padding: 1))
}
