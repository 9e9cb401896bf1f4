// expect: E0409
// The classifier head forgets to pool: it returns [B, H, W, classes]-like rank 4, not [B, classes].
block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    linear(x, classes)
}
