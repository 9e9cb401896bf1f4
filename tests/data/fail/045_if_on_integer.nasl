// expect: E0204
// An `if` on the integer `stride` (C style); conditions must be booleans such as `stride > 1`.
block maybe_pool(x: [B, C, H, W], stride: Int = 2) -> [B, C, _, _] {
    if stride {
        avg_pool(x, stride)
    } else {
        x
    }
}
