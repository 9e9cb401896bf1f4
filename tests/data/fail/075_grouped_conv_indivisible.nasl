// expect: E0403
// A ResNeXt grouped conv with 32 groups on 100 channels: 100 is not a multiple of 32.
network resnext_unit(x: [B, 100, 56, 56]) -> [B, 128, 56, 56] {
    conv(x, 128, kernel: 3, padding: 1, groups: 32)
}
