// expect: E0404
// Patch tokens reshaped with the wrong patch count: 14×14 = 196 patches, not 169.
network to_tokens(x: [B, 192, 14, 14]) -> [B, 169, 192] {
    transpose(reshape(x, [B, 192, 169]), 1, 2)
}
