// expect: E0202 E0201
// PyTorch names used as keywords (`out_channels:`, `kernel_size:`); NASL says `out`/`kernel`, so `out` is also missing.
block conv3x3(x: [B, C, H, W], width: Int) -> [B, width, H, W] {
    conv(x, out_channels: width, kernel_size: 3, padding: 1)
}
