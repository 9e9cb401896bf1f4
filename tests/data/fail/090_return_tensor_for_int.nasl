// expect: E0409
// A squeeze-width helper declared `-> Int` returns the squeezed tensor instead of the width.
block se_width(x: [B, C, H, W], ratio: Int = 4) -> Int {
    conv(global_avg_pool(x, keepdim: true), C / ratio, kernel: 1)
}
