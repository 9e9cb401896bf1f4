// expect: E0102 E0105
// The imported stage module selects `se` from std.layers, whose squeeze-and-excitation block is `squeeze_excite`.
import modules.se_stage.{se_stage};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = se_stage(x, 32);
    linear(global_avg_pool(h), 10)
}
