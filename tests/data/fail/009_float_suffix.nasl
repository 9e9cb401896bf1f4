// expect: E0005
// A C/CUDA-style float suffix on the batch-norm epsilon (`1e-5f`): a number glued to letters is malformed.
block conv_bn(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    let y = conv(x, out, kernel: 3, padding: 1, bias: false);
    batch_norm(y, eps: 1e-5f)
}
