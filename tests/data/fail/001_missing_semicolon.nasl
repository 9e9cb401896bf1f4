// expect: E0001
// The first `let` of the residual block has no `;`, so the parser meets the next `let` mid-expression.
block residual(x: [B, C, H, W]) -> [B, C, H, W] {
    let y = relu(batch_norm(conv(x, C, kernel: 3, padding: 1)))
    let y = batch_norm(conv(y, C, kernel: 3, padding: 1));
    relu(x + y)
}
