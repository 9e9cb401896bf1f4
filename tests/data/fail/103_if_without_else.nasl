// expect: E0001
// An `if` without `else` (a value is needed on both paths: every `if` is an expression).
block maybe_down(x: [B, C, H, W], stride: Int = 1) -> [B, C, _, _] {
    let y = relu(x);
    if stride > 1 {
        avg_pool(y, stride)
    }
}
