// expect: E0408
// The spec `bqd` (rank 3) is used for a 4-d per-head tensor [B, H, N, D].
block scores(q: [B, H, N, D], k: [B, H, N, D]) -> [B, H, N, N] {
    einsum("bqd,bkd->bqk", q, k)
}
