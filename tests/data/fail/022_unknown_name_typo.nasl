// expect: E0104
// The output width is the parameter `out`, but the body refers to `out_ch`.
block conv_bn_relu(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    let y = conv(x, out_ch, kernel: 3, padding: 1, bias: false);
    relu(batch_norm(y))
}
