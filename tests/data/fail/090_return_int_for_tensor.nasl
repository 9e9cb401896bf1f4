// expect: E0409
// A helper that computes a channel count declares a tensor return type.
block make_width(c: Int, ratio: Int = 4) -> [B, C] {
    c / ratio
}
