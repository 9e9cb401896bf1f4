// expect: E0410
// A choice between a 3×3 and a 5×5 conv, both with padding 1: the 5×5 one shrinks the map by 2.
network mixed(x: [B, 32, 16, 16]) -> [B, 32, 16, 16] {
    choice(conv(x, 32, kernel: 3, padding: 1), conv(x, 32, kernel: 5, padding: 1))
}
