// expect: E0404
// Two `-1` entries in a reshape target: only one dimension can be inferred.
block split_heads(x: [B, N, D]) -> [B, N, _, _] {
    reshape(x, [B, N, -1, -1])
}
