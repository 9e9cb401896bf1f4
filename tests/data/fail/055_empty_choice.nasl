// expect: E0304
// A width decision whose alternatives were all commented out.
block stage(x: [B, C, H, W]) -> [B, _, H, W] {
    let w = choice(
        // 32, 48, 64
    );
    relu(conv(x, w, kernel: 3, padding: 1))
}
