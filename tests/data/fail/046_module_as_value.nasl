// expect: E0204
// The module `rn` is put in a block-valued choice instead of one of its blocks.
import std.resnet as rn;

block stage(x: [B, C, H, W]) -> [B, C, H, W] {
    let unit = choice(rn.basic_block, rn);
    unit(x, C)
}
