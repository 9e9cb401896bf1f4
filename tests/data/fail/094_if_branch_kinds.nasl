// expect: E0410
// An `if` whose branches give a tensor and an integer.
block maybe_proj(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    let s = if C == out {
        x
    } else {
        out
    };
    s
}
