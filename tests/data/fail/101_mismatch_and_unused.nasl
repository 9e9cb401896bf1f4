// expect: E0401 W0001
// The projection shortcut is computed but the raw input is added instead (64 vs 128 channels).
network down(x: [B, 64, 32, 32]) -> [B, 128, 16, 16] {
    let y = relu(conv(x, 128, kernel: 3, stride: 2, padding: 1));
    let proj = conv(x, 128, kernel: 1, stride: 2);
    y + x
}
