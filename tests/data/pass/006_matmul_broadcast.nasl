// expect: clean
// matmul with broadcast batch dimensions: a shared weight [D, E] against [B, H, N, D], and a mask with a
// size-1 head dimension against per-head scores.
block project(x: [B, H, N, D], e: Int) -> [B, H, N, e] {
    matmul(x, param([D, e]))
}

block masked(scores: [B, H, N, N], mask: [B, 1, N, N]) -> [B, H, N, N] {
    softmax(scores + mask, dim: -1)
}

block mix(a: [B, 1, N, N], v: [B, H, N, D]) -> [B, H, N, D] {
    matmul(a, v)
}

network net(x: [B, 4, 16, 32]) -> [B, 4, 16, 8] {
    let y = project(x, 8);
    let s = matmul(y, transpose(y, 2, 3));
    let mask = expand(param([1, 1, 16, 16]), [B, -1, -1, -1]) * param([1, 1, 1, 1]);
    let m = masked(s, mask);
    mix(mean(m, 1, keepdim: true), y)
}
