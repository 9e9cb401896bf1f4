// expect: E0403
// A depthwise conv (groups = input channels = 24) asked for 36 output channels, not a multiple of 24.
network dw(x: [B, 24, 56, 56]) -> [B, 36, 56, 56] {
    conv(x, 36, kernel: 3, padding: 1, groups: 24)
}
