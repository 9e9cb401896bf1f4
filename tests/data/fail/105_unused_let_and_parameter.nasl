// expect: W0001 W0003
// A refactoring left behind an unused `let` and a parameter (`expand`) that the body no longer reads.
block mbconv(x: [B, C, H, W], out: Int, expand: Int = 6) -> [B, out, H, W] {
    let hidden = C * 6;
    let dw = relu6(batch_norm(conv(x, C, kernel: 3, padding: 1, groups: C)));
    batch_norm(conv(dw, out, kernel: 1))
}
