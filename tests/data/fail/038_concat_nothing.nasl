// expect: E0201
// A DenseNet-style concat whose branch list was lost in an edit: `concat` needs at least one tensor.
block dense_merge(x: [B, C, H, W]) -> [B, C, H, W] {
    let y = concat(dim: 1);
    x + y
}
