// expect: E0105
// `batchnorm` is not an op: the primitive is `batch_norm`.
block conv_bn(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    batchnorm(conv(x, out, kernel: 3, padding: 1))
}
