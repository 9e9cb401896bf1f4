// expect: E0400
// A CNN head's global average pool applied to transformer tokens [B, N, D] (it needs [B, C, H, W]).
network vit_head(x: [B, 197, 192]) -> [B, 1000] {
    linear(global_avg_pool(layer_norm(x)), 1000)
}
