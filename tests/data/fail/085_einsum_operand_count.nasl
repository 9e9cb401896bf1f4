// expect: E0408
// The einsum spec names two operands, but three tensors are passed (a leftover `v`).
block scores(q: [B, H, N, D], k: [B, H, N, D], v: [B, H, N, D]) -> [B, H, N, N] {
    einsum("bhqd,bhkd->bhqk", q, k, v)
}
