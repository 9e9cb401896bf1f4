// expect: E0411
// Every iteration of an elastic stage doubles the width, so the width after the repeat depends on the count.
network elastic(x: [B, 16, 32, 32]) -> [B, _, 32, 32] {
    let d = choice(2, 3, 4);
    repeat d with t = x, i {
        relu(conv(t, 16 * (i + 2), kernel: 1))
    }
}
