// expect: clean
// Multi-head attention on concrete ViT-Ti sizes with einsum, reshape with -1, permute and softmax.
network attention(x: [B, 197, 192]) -> [B, 197, 192] {
    let q = reshape(linear(x, 192), [-1, 197, 3, 64]);
    let k = reshape(linear(x, 192), [-1, 197, 3, 64]);
    let v = reshape(linear(x, 192), [-1, 197, 3, 64]);
    let q = permute(q, [0, 2, 1, 3]);                       // [B, 3, 197, 64]
    let k = permute(k, [0, 2, 1, 3]);
    let v = permute(v, [0, 2, 1, 3]);
    let s = einsum("bhqd,bhkd->bhqk", q, k) * 0.125;        // [B, 3, 197, 197]
    let a = softmax(s, dim: -1);
    let o = einsum("bhqk,bhkd->bhqd", a, v);                // [B, 3, 197, 64]
    let o = reshape(transpose(o, 1, 2), [-1, 197, 192]);
    linear(o, 192) + x
}

/// Einsum with an implicit output (letters used once, in alphabetical order): "ij,jk" is "ik".
block implicit(a: [N, K], b: [K, M]) -> [N, M] {
    einsum("ij,jk", a, b)
}
