// expect: E0004 E0001
// The einsum specification string is missing its closing quote; the string then swallows the rest of the line.
block attention_scores(q: [B, N, D], k: [B, N, D]) -> [B, N, N] {
    einsum("bqd,bkd->bqk, q, k)
}
