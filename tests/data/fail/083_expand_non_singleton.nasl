// expect: E0407
// A per-channel scale [B, 64, 1, 1] expanded to 128 channels: only size-1 dimensions can be broadcast.
network rescale(x: [B, 128, 16, 16], s: [B, 64, 1, 1]) -> [B, 128, 16, 16] {
    x * expand(s, [-1, 128, 16, 16])
}
