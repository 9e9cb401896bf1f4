// expect: clean
// Class token and position embedding (expand, concat), reshape with -1, select and slice, flatten.
network vit_tokens(img: [B, 3, 32, 32]) -> [B, 10] {
    let p = conv(img, 64, kernel: 4, stride: 4);                // [B, 64, 8, 8]
    let t = transpose(flatten(p, start: 2), 1, 2);              // [B, 64, 64]
    let cls = expand(param([1, 1, 64]), [B, -1, -1]);           // [B, 1, 64]
    let t = concat(cls, t, dim: 1);                             // [B, 65, 64]
    let t = t + param([1, 65, 64]);
    let body = slice(t, 1, 1, 65);                              // [B, 64, 64]
    let grid = reshape(body, [B, 8, 8, -1]);                    // [B, 8, 8, 64]
    let pooled = mean(mean(grid, 1), 1);                        // [B, 64]
    let c = select(t, 1, 0);                                    // [B, 64]
    let c = select(reshape(c, [B, 64, 1]), -1, 0);              // [B, 64]
    linear(layer_norm(c + pooled), 10)
}
