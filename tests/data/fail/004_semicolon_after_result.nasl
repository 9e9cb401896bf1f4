// expect: E0001
// The result expression of the body is terminated with `;` as if it were a statement.
block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    let h = global_avg_pool(x);
    linear(h, classes);
}
