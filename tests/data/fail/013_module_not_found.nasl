// expect: E0100
// A leftover import of a module that does not exist (the ResNet blocks are in `std.resnet`) (a failed import is not also reported as unused).
import std.resnet_blocks;
import modules.blocks.{conv_unit, classifier};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    classifier(conv_unit(x, 32), 10)
}
