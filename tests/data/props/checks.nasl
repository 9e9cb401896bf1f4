// tests/data/props/checks.nasl — small programs whose depths properties.md fixes (tests/it/props.rs).
// Each check is the subgraph after the first op, so that its input has a linear producer.

/// `avg_pool → conv 1×1 → gelu` (depth 1) after a linear op.
network pool_conv_gelu(x: [B, 8, 16, 16]) {
    let h = conv(x, 8, kernel: 1);
    let p = avg_pool(h, 2, stride: 2);
    let c = conv(p, 16, kernel: 1);
    gelu(c)
}

/// `dense → relu → add` (depth 2) after a linear op; the add's other operand is the linear op.
network dense_relu_add(x: [B, 32]) {
    let h = linear(x, 32);
    let d = linear(h, 32);
    let r = relu(d);
    r + h
}

/// A 1×1 conv, a residual add and an identity: the rewrites' playground.
network conv_form(x: [B, 8, 6, 6]) {
    let y = relu(conv(x, 8, kernel: 1));
    identity(y) + x
}

/// The same network with the conv written as a dense layer over channels and the add swapped.
network dense_form(x: [B, 8, 6, 6]) {
    let t = permute(x, [0, 2, 3, 1]);
    let y = relu(permute(linear(t, 8), [0, 3, 1, 2]));
    x + y
}

/// As `conv_form` with a 3×3 conv: different mixing.
network conv3_form(x: [B, 8, 6, 6]) {
    let y = relu(conv(x, 8, kernel: 3, padding: 1));
    identity(y) + x
}
