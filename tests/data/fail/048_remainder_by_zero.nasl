// expect: E0300
// A channel-shuffle stage computes `C % groups` with `groups` defaulting to 0.
block shuffle_pad(x: [B, C, H, W], groups: Int = 0) -> [B, C, H, W] {
    let extra = C % groups;
    slice(x, 1, 0, C - extra)
}
