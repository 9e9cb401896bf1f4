// expect: E0303
// The elastic depth range depends on the parameter `max_depth`, which has no value when the block is checked.
block elastic_stage(x: [B, C, H, W], max_depth: Int) -> [B, C, H, W] {
    let d = choice(1..=max_depth);
    repeat d with h = x {
        relu(conv(h, C, kernel: 3, padding: 1))
    }
}
