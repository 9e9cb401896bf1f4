// expect: E0401
// A hand-written linear layer (a `param` weight) sized for 512 inputs gets 256 features.
network head(x: [B, 256]) -> [B, 10] {
    let w = param([512, 10]);
    matmul(x, w)
}
