// expect: E0302
// A width multiplier applied with integer division (`16 / 32`) rounds the width down to 0 output channels.
network slim(x: [B, 3, 32, 32]) -> [B, 10] {
    let w = 16 / 32 * 64;
    let h = relu(conv(x, w, kernel: 3, padding: 1));
    linear(global_avg_pool(h), 10)
}
