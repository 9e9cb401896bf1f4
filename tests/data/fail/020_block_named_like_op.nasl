// expect: E0103
// A helper block named `linear` redefines the primitive op of the same name.
block linear(x: [B, D], out: Int) -> [B, out] {
    relu(matmul(x, param([D, out])))
}
