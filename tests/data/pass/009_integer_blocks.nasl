// expect: clean
// Blocks that return integers (channel rounding, a ceil division) used to size layers, with min/max.
block round8(v: Int, d: Int = 8) -> Int {
    let n = max(d, (v + d / 2) / d * d);
    if n * 10 < v * 9 {
        n + d
    } else {
        n
    }
}

block ceil_div(a: Int, b: Int) -> Int {
    (a + b - 1) / b
}

block se(x: [B, C, H, W], ratio: Int = 4) -> [B, C, H, W] {
    let squeeze = round8(C / ratio);
    let s = global_avg_pool(x, keepdim: true);
    let s = relu(conv(s, squeeze, kernel: 1));
    x * hardsigmoid(conv(s, C, kernel: 1))
}

network net(x: [B, 3, 224, 224]) -> [B, 1000] {
    let w = round8(3 * 37 / 4);
    let h = relu(conv(x, w, kernel: 3, stride: 2, padding: 1));   // 112
    let h = se(h);
    let k = min(7, max(3, 2 * ceil_div(w, 16) + 1));
    let h = conv(h, 64, kernel: k, padding: k / 2, groups: 1);
    linear(global_avg_pool(h), 1000)
}
