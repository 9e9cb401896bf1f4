// expect: E0107
// `down` calls `up` and `up` calls `down`: a U-Net written as mutual recursion never bottoms out.
block down(x: [B, C, H, W]) -> [B, C, _, _] {
    up(max_pool(x, 2))
}

block up(x: [B, C, H, W]) -> [B, C, _, _] {
    down(relu(x))
}
