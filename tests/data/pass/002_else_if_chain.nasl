// expect: clean
// An `else if` chain choosing an activation by an integer code, and a shortcut chain on stride and width.
block act(x: [B, C, H, W], kind: Int = 0) -> [B, C, H, W] {
    if kind == 0 {
        relu(x)
    } else if kind == 1 {
        relu6(x)
    } else if kind == 2 {
        hardswish(x)
    } else {
        silu(x)
    }
}

block shortcut(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, _, _] {
    if stride == 1 && C == out {
        x
    } else if stride == 1 {
        conv(x, out, kernel: 1, bias: false)
    } else if C == out {
        avg_pool(x, stride)
    } else {
        conv(avg_pool(x, stride), out, kernel: 1, bias: false)
    }
}

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = act(conv(x, 16, kernel: 3, padding: 1), kind: 2);
    let h = act(h, kind: choice(0, 1, 2, 3));
    let h = shortcut(h, 32, stride: 2);
    linear(global_avg_pool(h), 10)
}
