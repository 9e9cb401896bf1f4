// expect: E0104
// `layers.conv_bn_relu` is called, but `std.layers` was never imported.
network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = layers.conv_bn_relu(x, 32);
    linear(global_avg_pool(h), 10)
}
