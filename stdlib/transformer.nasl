// std.transformer — Vision Transformer pieces over token sequences [B, N, D] (Dosovitskiy et al. 2021,
// "An Image is Worth 16x16 Words"; layout and defaults of timm's `vision_transformer.py`: pre-norm
// encoder blocks, biased q/k/v and output projections, GELU MLP, LayerNorm eps 1e-6).
// Separate q, k and v linears hold exactly the parameters of timm's fused `qkv` linear (D → 3D, bias).
// Float arithmetic is not part of NASL, so the attention scale 1/sqrt(D / heads) is passed in
// (0.125 for 64-dim heads).
/// Multi-head self-attention: q, k, v = linear(x) each, split into `heads` heads of D / heads dims
/// ([B, heads, N, dh]), softmax(q·kᵀ · qk_scale) · v, heads merged back to [B, N, D], output linear.
/// `qk_scale` should be 1/sqrt(D / heads).
block attention(x: [B, N, D], heads: Int, qk_scale: Float) -> [B, N, D] {
    let dh = D / heads;
    let q = permute(reshape(linear(x, heads * dh), [B, N, heads, dh]), [0, 2, 1, 3]); // [B, heads, N, dh]
    let k = permute(reshape(linear(x, heads * dh), [B, N, heads, dh]), [0, 2, 1, 3]);
    let v = permute(reshape(linear(x, heads * dh), [B, N, heads, dh]), [0, 2, 1, 3]);
    let a = softmax(scale(matmul(q, transpose(k, -2, -1)), qk_scale), dim: -1); // [B, heads, N, N]
    let o = permute(matmul(a, v), [0, 2, 1, 3]); // [B, N, heads, dh]
    linear(reshape(o, [B, N, heads * dh]), D)
}

/// Transformer MLP: linear to `hidden` (4·D in ViT) → GELU → dropout(p) → linear back to D.
block mlp(x: [B, N, D], hidden: Int, p: Float = 0.0) -> [B, N, D] {
    let h = gelu(linear(x, hidden));
    linear(dropout(h, p: p), D)
}

/// Pre-norm encoder block: x + attention(layer_norm(x)), then + mlp(layer_norm(·)).
block encoder_block(
    x: [B, N, D],
    heads: Int,
    mlp_dim: Int,
    qk_scale: Float,
    eps: Float = 1e-6,
) -> [B, N, D] {
    let h = x + attention(layer_norm(x, eps: eps), heads, qk_scale);
    h + mlp(layer_norm(h, eps: eps), mlp_dim)
}

/// Patch embedding: a `patch`×`patch` conv with stride `patch` to `dim` channels, the grid flattened into
/// tokens and moved before the channels: [B, (H / patch)·(W / patch), dim].
block patch_embed(
    x: [B, C, H, W],
    dim: Int,
    patch: Int,
) -> [B, ((H - patch) / patch + 1) * ((W - patch) / patch + 1), dim] {
    let p = conv(x, dim, kernel: patch, stride: patch); // [B, dim, H / patch, W / patch]
    transpose(flatten(p, start: 2), 1, 2)
}
