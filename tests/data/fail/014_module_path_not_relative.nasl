// expect: E0100 E0105
// The imported helper module names its sibling by a project-root path; imports are relative to the importing file.
import modules.root_relative_import.{stage};

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = stage(x, 32);
    linear(global_avg_pool(h), 10)
}
