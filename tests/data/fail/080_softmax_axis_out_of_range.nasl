// expect: E0405
// Softmax over `dim: 3` of a rank-3 score tensor [B, N, N] (valid dims are -3..2).
block attention(q: [B, N, D], k: [B, N, D]) -> [B, N, N] {
    softmax(matmul(q, transpose(k, 1, 2)), dim: 3)
}
