// expect: E0500
// A depth meant as a list index (`3_000_000` instead of 3): the checker gives up after its op limit.
network deep(x: [B, 16, 32, 32]) -> [B, 16, 32, 32] {
    repeat 3_000_000 with h = x {
        relu(h)
    }
}
