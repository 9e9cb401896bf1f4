// expect: E0109
// A parameter type computes a dimension (`H * 2`); parameter types take names, integers or `_` only.
block upsample_add(x: [B, C, H, W], skip: [B, C, H * 2, W * 2]) -> [B, C, H, W] {
    x + avg_pool(skip, 2)
}
