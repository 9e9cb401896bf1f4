// expect: E0204
// A width multiplier applied in floating point (`0.5 * 64`) gives a float where `conv` needs an integer.
network slim(x: [B, 3, 32, 32]) -> [B, 32, 32, 32] {
    let width = 0.5 * 64;
    conv(x, width, kernel: 3, padding: 1)
}
