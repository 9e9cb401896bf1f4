// expect: E0305
// The dropout rate written as a percentage (`p: 20`) instead of a probability in [0, 1).
block classifier(x: [B, D], classes: Int) -> [B, classes] {
    linear(dropout(x, p: 20), classes)
}
