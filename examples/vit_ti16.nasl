// examples/vit_ti16.nasl — ViT-Ti/16 for ImageNet ([B, 3, 224, 224], 1000 classes): Dosovitskiy et al. 2021
// with the "Tiny" size of Touvron et al. 2021 (DeiT-Ti; timm `vit_tiny_patch16_224`): 16×16 patches (196
// tokens), width D = 192, 12 pre-norm encoder blocks with 3 heads of 64 dims (scale 1/sqrt(64) = 0.125) and
// MLP 768, a learned class token and position embedding (197 positions), final LayerNorm, head on the
// class token. LayerNorm eps 1e-6 as timm.
// Parameters: 5,717,416 (= timm vit_tiny_patch16_224), counted by hand: patch embedding 147,648; class
// token 192; position embedding 37,824; 12 blocks × 444,864 = 5,338,368; final norm 384; head 193,000.
import std.transformer.{patch_embed, encoder_block};

/// ViT-Ti/16.
network vit_ti16(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let t = patch_embed(x, 192, 16); // [B, 196, 192]
    let cls = expand(param([1, 1, 192]), [B, -1, -1]); // [B, 1, 192]
    let t = concat(cls, t, dim: 1); // [B, 197, 192]
    let t = t + param([1, 197, 192]); // learned position embedding
    let t = repeat 12 with h = t { encoder_block(h, 3, 768, 0.125) };
    let t = layer_norm(t, eps: 1e-6);
    linear(select(t, 1, 0), classes) // the class token → [B, classes]
}
