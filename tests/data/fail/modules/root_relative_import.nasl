// Helper module: imports its sibling by a path relative to the project root (`modules.blocks`) instead of
// relative to this file (`blocks`), so the import points at modules/modules/blocks.nasl, which does not exist.
import modules.blocks.{conv_unit};

block stage(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    conv_unit(conv_unit(x, out), out)
}
