// expect: clean
// A block-valued `choice` over edge operations that all keep the shape (NAS-Bench-201 style), plus integer
// decisions for width and kernel.
block conv3(x: [B, C, H, W], c: Int) -> [B, C, H, W] {
    if c == C {
        relu(batch_norm(conv(x, c, kernel: 3, padding: 1, bias: false)))
    } else {
        relu(batch_norm(conv(x, C, kernel: 3, padding: 1, bias: false)))
    }
}

block skip(x: [B, C, H, W], _c: Int) -> [B, C, H, W] {
    identity(x)
}

block pool3(x: [B, C, H, W], _c: Int) -> [B, C, H, W] {
    avg_pool(x, 3, stride: 1, padding: 1)
}

block cell(x: [B, C, H, W]) -> [B, C, H, W] {
    let op1 = choice(conv3, skip, pool3);
    let op2 = choice(conv3, skip, pool3);
    let n1 = op1(x, C);
    x + op2(n1, C)
}

network space(x: [B, 3, 32, 32]) -> [B, 10] {
    let w = choice(16, 24, 32);
    let k = choice(3, 5, 7);
    let h = relu(conv(x, w, kernel: k, padding: k / 2));
    let h = cell(cell(h));
    linear(global_avg_pool(h), 10)
}
