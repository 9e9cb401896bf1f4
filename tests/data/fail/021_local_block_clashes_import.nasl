// expect: E0103
// A local `conv_bn_relu` clashes with the one imported from std.layers.
import std.layers.{conv_bn_relu};

block conv_bn_relu(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(batch_norm(conv(x, out, kernel: 3, padding: 1)))
}

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    linear(global_avg_pool(conv_bn_relu(x, 32)), 10)
}
