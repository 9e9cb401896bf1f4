// expect: clean
// Networks built from the standard library: renamed module imports, selected names and block-valued decisions.
import std.layers.{conv_bn_relu, squeeze_excite as se, make_divisible};
import std.resnet as rn;

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let w = make_divisible(choice(20, 28, 36));
    let h = conv_bn_relu(x, w);
    let h = se(h, reduction: 4, hard: false);
    let unit = choice(rn.basic_block, rn.basic_block);
    let h = unit(h, 64, stride: 2);
    linear(global_avg_pool(h), 10)
}
