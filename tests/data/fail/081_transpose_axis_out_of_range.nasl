// expect: E0405
// Transposing dims 2 and 3 of a [B, N, D] sequence, as if it still had a head dimension.
block merge_heads(x: [B, N, D]) -> [B, D, N] {
    transpose(x, 2, 3)
}
