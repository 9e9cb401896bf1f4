// expect: E0005
// A parameter budget given as an integer literal that does not fit in 64 bits.
block budget(x: [B, D], limit: Int = 99999999999999999999) -> [B, D] {
    if limit > 0 { x } else { relu(x) }
}
