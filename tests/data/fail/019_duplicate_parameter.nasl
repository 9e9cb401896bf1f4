// expect: E0103 W0003
// The parameter list declares `stride` twice (the first one, meant to be `groups`, is shadowed and unused).
block dw_conv(x: [B, C, H, W], stride: Int = 1, stride: Int = 1) -> [B, C, _, _] {
    conv(x, C, kernel: 3, stride: stride, padding: 1, groups: C)
}
