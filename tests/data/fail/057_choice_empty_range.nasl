// expect: E0304
// An exclusive range `4..4` has no elements (`4..=4` was meant).
network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let d = choice(4..4);
    let h = repeat d with t = x {
        relu(t)
    };
    linear(global_avg_pool(h), 10)
}
