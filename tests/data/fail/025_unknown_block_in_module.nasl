// expect: E0104
// std.resnet is imported as a module, but it has no block named `basicblock` (it is `basic_block`).
import std.resnet as rn;

network net(x: [B, 64, 56, 56]) -> [B, 64, 56, 56] {
    rn.basicblock(x, 64)
}
