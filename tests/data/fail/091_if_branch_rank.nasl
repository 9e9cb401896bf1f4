// expect: E0410
// One branch of the pooling helper keeps [B, C, 1, 1], the other gives [B, C]: the branches disagree in rank.
block pool(x: [B, C, H, W], keep: Bool) -> [B, C, _, _] {
    if keep {
        global_avg_pool(x, keepdim: true)
    } else {
        global_avg_pool(x)
    }
}
