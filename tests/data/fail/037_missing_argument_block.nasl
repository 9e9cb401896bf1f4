// expect: E0201
// `conv_bn_relu` needs the output width `out`, but the call gives only the input.
import std.layers.{conv_bn_relu};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = conv_bn_relu(x);
    linear(global_avg_pool(h), 10)
}
