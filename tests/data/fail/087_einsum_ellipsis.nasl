// expect: E0408
// NumPy's `...` ellipsis is not supported in NASL einsum specifications.
block scores(q: [B, H, N, D], k: [B, H, N, D]) -> [B, H, N, N] {
    einsum("...qd,...kd->...qk", q, k)
}
