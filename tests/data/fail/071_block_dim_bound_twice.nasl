// expect: E0401
// A U-Net decoder block requires the skip connection to have the upsampled map's size; 28 ≠ 56.
block fuse(x: [B, C, H, W], skip: [B, C, H, W]) -> [B, C, H, W] {
    relu(x + skip)
}

network decoder(x: [B, 64, 28, 28], skip: [B, 64, 56, 56]) -> [B, 64, 28, 28] {
    fuse(x, skip)
}
