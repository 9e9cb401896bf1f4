// expect: E0200
// PyTorch's `ReLU(inplace=True)` habit: `relu` takes only the tensor, so the extra `true` is one argument too many.
block conv_relu(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(conv(x, out, kernel: 3, padding: 1), true)
}
