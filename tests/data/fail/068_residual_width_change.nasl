// expect: E0401
// An unguarded residual in a block whose output width `out` need not equal the input width `C`.
block basic_block(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    let y = relu(batch_norm(conv(x, out, kernel: 3, padding: 1, bias: false)));
    let y = batch_norm(conv(y, out, kernel: 3, padding: 1, bias: false));
    relu(y + x)
}
