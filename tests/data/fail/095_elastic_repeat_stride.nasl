// expect: E0411
// Every iteration of an elastic-depth stage downsamples, so its output size depends on the chosen depth.
network elastic(x: [B, 32, 32, 32]) -> [B, 10] {
    let d = choice(1..=3);
    let h = repeat d with t = x {
        relu(conv(t, 32, kernel: 3, stride: 2, padding: 1))
    };
    linear(global_avg_pool(h), 10)
}
