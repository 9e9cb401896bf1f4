// expect: E0102
// The helper module defines `classifier`, not `head`; the selected name is missing there (a failed import is not also reported as unused).
import modules.blocks.{conv_unit, head};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = conv_unit(x, 32);
    linear(global_avg_pool(h), 10)
}
