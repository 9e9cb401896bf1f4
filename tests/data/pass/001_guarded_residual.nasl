// expect: clean
// Path-sensitive residual: inside `if stride == 1 && C == out` the checker knows C == out, so `x + y` is fine.
block basic_block(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let y = relu(batch_norm(conv(x, out, kernel: 3, stride: stride, padding: 1, bias: false)));
    let y = batch_norm(conv(y, out, kernel: 3, padding: 1, bias: false));
    if stride == 1 && C == out {
        relu(x + y)
    } else {
        relu(y + batch_norm(conv(x, out, kernel: 1, stride: stride, bias: false)))
    }
}

/// A plain equality guard on its own.
block same_width_add(x: [B, C, H, W], y: [B, D, H, W]) -> [B, D, H, W] {
    if C == D {
        x + y
    } else {
        conv(x, D, kernel: 1) + y
    }
}

network resnet_mini(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = relu(batch_norm(conv(x, 16, kernel: 3, padding: 1, bias: false)));
    let h = basic_block(h, 16);
    let h = basic_block(h, 32, stride: 2);
    let h = same_width_add(h, basic_block(h, 32));
    linear(global_avg_pool(h), 10)
}
