// expect: E0001
// An `import` appended at the bottom of the file: imports must all come before the first block.
block stem(x: [B, 3, H, W]) -> [B, 16, H, W] {
    relu(batch_norm(conv(x, 16, kernel: 3, padding: 1)))
}

network net(x: [B, 3, 32, 32]) -> [B, 10] {
    let h = stem(x);
    linear(global_avg_pool(h), 10)
}

import std.layers;
