// expect: E0103
// Two versions of `stem` left in the file after an experiment: a block name may be defined only once.
block stem(x: [B, 3, H, W]) -> [B, 16, H, W] {
    relu(batch_norm(conv(x, 16, kernel: 3, padding: 1)))
}

block stem(x: [B, 3, H, W]) -> [B, 16, H, W] {
    relu(batch_norm(conv(x, 16, kernel: 5, padding: 2)))
}

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    linear(global_avg_pool(stem(x)), 10)
}
