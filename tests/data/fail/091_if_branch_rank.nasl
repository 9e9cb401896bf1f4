// expect: E0410
// One branch of the head pools to [B, C], the other keeps [B, C, 1, 1]: the branches disagree in rank.
block pool(x: [B, C, H, W], keep: Bool = false) -> [B, C, _, _] {
    if keep {
        global_avg_pool(x, keepdim: true)
    } else {
        global_avg_pool(x)
    }
}
