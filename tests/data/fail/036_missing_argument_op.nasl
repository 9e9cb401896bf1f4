// expect: E0201
// The conv is given a kernel size but no output channel count (`out` has no default).
block stem(x: [B, 3, H, W]) -> [B, 16, H, W] {
    relu(batch_norm(conv(x, kernel: 3, padding: 1)))
}
