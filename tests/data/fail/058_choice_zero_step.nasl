// expect: E0304
// A width range with `step 0`: the step of a choice range must be positive.
block stage(x: [B, C, H, W]) -> [B, _, H, W] {
    let w = choice(16..=64 step 0);
    relu(conv(x, w, kernel: 1))
}
