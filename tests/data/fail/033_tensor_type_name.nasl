// expect: E0108 E0104
// The input is declared as `Tensor` instead of a shape, so the return type's `B` is bound by nothing.
block head(x: Tensor, classes: Int) -> [B, classes] {
    linear(global_avg_pool(x), classes)
}
