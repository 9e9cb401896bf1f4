// expect: E0500
// A repeat count typed as `3_000_000` (meant: 3) makes the checker evaluate more calls than its limit.
block grow() -> Int {
    1
}

network deep(x: [B, 16, 32, 32]) -> [B, 16, 32, 32] {
    let n = repeat 3_000_000 with k = 0 {
        grow()
    };
    conv(x, 16 * n, kernel: 1)
}
