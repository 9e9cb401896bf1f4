// expect: W0002
// `std.resnet` was imported for an experiment and is no longer used.
import std.layers.{conv_bn_relu};
import std.resnet;

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    linear(global_avg_pool(conv_bn_relu(x, 32)), 10)
}
