// expect: E0401
// Attention scores computed as `q @ k` without transposing `k`: the contracted sizes D and N differ.
network attention(q: [B, 196, 64], k: [B, 196, 64]) -> [B, 196, 196] {
    softmax(matmul(q, k))
}
