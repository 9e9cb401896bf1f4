// expect: E0305
// The class token is taken at index 197 of a 197-token sequence (indices are 0-based: it is index 0).
network vit_head(x: [B, 197, 192]) -> [B, 1000] {
    let cls = select(x, 1, 197);
    linear(layer_norm(cls), 1000)
}
