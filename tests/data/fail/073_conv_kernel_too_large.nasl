// expect: E0402
// A 7×7 conv without padding on a 4×4 map (the last stage of a small CNN) leaves no output.
network tail(x: [B, 256, 4, 4]) -> [B, 256, _, _] {
    conv(x, 256, kernel: 7)
}
