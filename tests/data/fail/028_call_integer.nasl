// expect: E0106
// The width `w` is an integer, but it is called as if it were a block.
block stage(x: [B, C, H, W], w: Int) -> [B, w, H, W] {
    relu(w(x))
}
