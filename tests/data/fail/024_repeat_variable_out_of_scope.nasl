// expect: E0104
// The repeat variable `t` is used after the `repeat`, where only its result (`h`) is in scope.
block stage(x: [B, C, H, W]) -> [B, C, H, W] {
    let h = repeat 3 with t = x {
        relu(batch_norm(conv(t, C, kernel: 3, padding: 1)))
    };
    relu(h + t)
}
