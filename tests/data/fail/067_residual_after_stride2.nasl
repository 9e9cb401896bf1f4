// expect: E0401
// The residual add takes the block input after a stride-2 conv: 32×32 and 16×16 maps cannot be added.
network resnet_stage(x: [B, 64, 32, 32]) -> [B, 64, 16, 16] {
    let y = relu(batch_norm(conv(x, 64, kernel: 3, stride: 2, padding: 1, bias: false)));
    let y = batch_norm(conv(y, 64, kernel: 3, padding: 1, bias: false));
    relu(y + x)
}
