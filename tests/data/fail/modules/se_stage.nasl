// Helper module: selects `se` from std.layers, which defines `squeeze_excite`, not `se`.
import std.layers.{conv_bn_relu, se};

block se_stage(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    se(conv_bn_relu(x, out))
}
