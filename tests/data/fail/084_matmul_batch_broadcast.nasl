// expect: E0407
// Multi-head attention with 8 query heads but 6 key heads: the batch dims of matmul cannot broadcast.
network mha(q: [2, 8, 196, 64], k: [2, 6, 64, 196]) -> [2, 8, 196, 196] {
    matmul(q, k)
}
