// expect: E0303
// The softmax axis is an Int parameter without a default; dimension indices must be known constants.
block attention(q: [B, N, D], k: [B, N, D], axis: Int) -> [B, N, N] {
    softmax(matmul(q, transpose(k, 1, 2)), dim: axis)
}
