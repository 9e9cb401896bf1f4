// expect: E0108
// The class count is declared with Python's type name `int`; NASL's integer type is `Int`.
block head(x: [B, C, H, W], classes: int) -> [B, classes] {
    linear(global_avg_pool(x), classes)
}
