// expect: E0300
// The per-head width is `D / heads`, and the network passes `heads: 0` (meant as "no attention").
block qkv(x: [B, N, D], heads: Int) -> [B, N, _] {
    let dh = D / heads;
    linear(x, 3 * heads * dh)
}

network vit_qkv(x: [B, 197, 192]) -> [B, 197, _] {
    qkv(x, 0)
}
