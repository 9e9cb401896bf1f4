// expect: E0409
// The classifier head forgets to pool: `linear` on [B, C, H, W] gives rank 4 [B, C, H, classes], not [B, classes].
block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    linear(x, classes)
}
