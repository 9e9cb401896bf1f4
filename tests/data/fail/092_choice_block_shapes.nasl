// expect: E0410
// A block-valued operation choice where one candidate downsamples: the alternatives give different shapes.
block conv3(x: [B, C, H, W], c: Int) -> [B, c, H, W] {
    relu(conv(x, c, kernel: 3, padding: 1))
}

block pool2(x: [B, C, H, W], _c: Int) -> [B, C, _, _] {
    max_pool(x, 2)
}

network cell(x: [B, 16, 32, 32]) -> [B, 16, 32, 32] {
    let op = choice(conv3, pool2);
    op(x, 16)
}
