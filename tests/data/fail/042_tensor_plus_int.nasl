// expect: E0204
// A "bias" added as a bare integer to a tensor: `+` combines tensors with tensors only.
block biased(x: [B, D]) -> [B, D] {
    relu(linear(x, D) + 1)
}
