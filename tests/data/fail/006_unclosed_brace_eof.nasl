// expect: E0002
// The closing `}` of the network body was lost (e.g. in a bad merge): the file ends inside the block.
network mlp_head(x: [B, 512]) -> [B, 10] {
    let h = relu(linear(x, 256));
    linear(dropout(h, p: 0.1), 10)
