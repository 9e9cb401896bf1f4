// expect: E0301
// A FLOP budget computed as a product of large constants overflows 64-bit integers.
block budget_gate(x: [B, D], flops: Int = 1_000_000_000 * 1_000_000_000 * 1_000) -> [B, D] {
    if flops > 0 {
        relu(x)
    } else {
        x
    }
}
