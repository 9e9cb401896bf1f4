// expect: W0001
// The shortcut branch is computed but never added back: the `let` is unused.
block res_unit(x: [B, C, H, W]) -> [B, C, H, W] {
    let shortcut = identity(x);
    relu(batch_norm(conv(x, C, kernel: 3, padding: 1)))
}
