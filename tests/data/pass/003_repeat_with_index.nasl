// expect: clean
// `repeat … with h = x, i`: the first block of a stage downsamples (i == 0), the others keep the shape, so an
// elastic depth `choice(1..=4 step 1)` gives the same shape for every count.
block unit(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    relu(batch_norm(conv(x, out, kernel: 3, stride: stride, padding: 1, bias: false)))
}

block stage(x: [B, C, H, W], out: Int, depth: Int = 2, stride: Int = 2) -> [B, out, _, _] {
    repeat depth with h = x, i {
        let s = if i == 0 {
            stride
        } else {
            1
        };
        unit(h, out, stride: s)
    }
}

network elastic(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = unit(x, 16);
    let d = choice(1..=4 step 1);
    let h = repeat d with t = h, i {
        if i == 0 {
            unit(t, 32, stride: 2)
        } else {
            unit(t, 32)
        }
    };
    let h = stage(h, 64, depth: choice(2..4));
    linear(global_avg_pool(h), 10)
}
