// expect: E0400
// A pooled vector [B, C] is concatenated with a feature map [B, C, H, W].
block context_concat(x: [B, C, H, W]) -> [B, _, H, W] {
    let ctx = global_avg_pool(x);
    concat(x, ctx, dim: 1)
}
