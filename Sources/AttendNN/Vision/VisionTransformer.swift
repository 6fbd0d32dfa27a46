import Attend

/// The sizes of a Vision Transformer (Hugging Face's `ViTConfig`).
public struct VisionTransformerConfiguration: Sendable, Equatable {
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var layerNormEpsilon: Float
    public var queryKeyValueBias: Bool
    /// Classes of the classification head (0: no head).
    public var labelCount: Int
    /// Whether the backbone has `ViTModel`'s pooler (`tanh(dense(class token))`); transformers'
    /// `ViTModel` does by default, `ViTForImageClassification`'s backbone does not.
    public var hasPooler: Bool

    public init(imageSize: Int = 224, patchSize: Int = 16, channels: Int = 3, hiddenSize: Int = 768, layerCount: Int = 12,
                headCount: Int = 12, intermediateSize: Int = 3072, layerNormEpsilon: Float = 1e-12,
                queryKeyValueBias: Bool = true, labelCount: Int = 0, hasPooler: Bool = false) {
        precondition(imageSize % patchSize == 0, "ViT image size \(imageSize) must be a multiple of the patch size \(patchSize)")
        precondition(hiddenSize % headCount == 0, "ViT hidden size \(hiddenSize) must be a multiple of \(headCount) heads")
        (self.imageSize, self.patchSize, self.channels) = (imageSize, patchSize, channels)
        (self.hiddenSize, self.layerCount, self.headCount, self.intermediateSize) = (hiddenSize, layerCount, headCount, intermediateSize)
        (self.layerNormEpsilon, self.queryKeyValueBias, self.labelCount) = (layerNormEpsilon, queryKeyValueBias, labelCount)
        self.hasPooler = hasPooler
    }

    /// Patches per image side.
    public var gridSize: Int { imageSize / patchSize }
    public var patchCount: Int { gridSize * gridSize }
}

/// Patch embedding: the convolution with kernel = stride = patch size, computed as one linear
/// map of the flattened patches (`projection.weight` keeps the convolution's `[D, C, P, P]`).
public final class PatchEmbedding: Module {
    @Child("projection") public var projection: Conv2DProjection
    public let patchSize: Int

    public init(channels: Int, patchSize: Int, dimension: Int) {
        self.patchSize = patchSize
        super.init()
        projection = Conv2DProjection(channels: channels, patchSize: patchSize, dimension: dimension)
    }

    /// `[B, C, H, W]` → `[B, (H/P)·(W/P), D]`, patches in row-major order.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == projection.weight.shape[1]
                     && images.shape[2] % patchSize == 0 && images.shape[3] % patchSize == 0,
                     "PatchEmbedding(C \(projection.weight.shape[1]), P \(patchSize)) needs [B, C, H, W] with H, W multiples of P, got \(images.shape)")
        let (b, c, h, w, p) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3], patchSize)
        let patches = images.reshaped([b, c, h / p, p, w / p, p]).permuted([0, 2, 4, 1, 3, 5])
            .reshaped([b, (h / p) * (w / p), c * p * p])                                  // [B, N, C·P·P]
        let kernel = projection.weight.reshaped([projection.weight.shape[0], c * p * p])   // [D, C·P·P]
        return matmul(patches, kernel.transposed()) + projection.bias
    }
}

/// The parameters of a patch convolution (`weight [D, C, P, P]`, `bias [D]`).
public final class Conv2DProjection: Module {
    @Parameter("weight") public var weight: Tensor
    @Parameter("bias") public var bias: Tensor

    public init(channels: Int, patchSize: Int, dimension: Int) {
        super.init()
        let fanIn = channels * patchSize * patchSize
        weight = Initialization.linear([dimension, channels, patchSize, patchSize], fanIn: fanIn)
        bias = Initialization.linear([dimension], fanIn: fanIn)
    }
}

/// Class token, patch embeddings and learned positions (`embeddings.*`).
public final class VisionEmbeddings: Module {
    @Parameter("cls_token") public var classToken: Tensor
    @Parameter("position_embeddings") public var positions: Tensor
    @Child("patch_embeddings") public var patches: PatchEmbedding

    public init(_ c: VisionTransformerConfiguration) {
        super.init()
        classToken = Initialization.normal([1, 1, c.hiddenSize], standardDeviation: 0.02)
        positions = Initialization.normal([1, c.patchCount + 1, c.hiddenSize], standardDeviation: 0.02)
        patches = PatchEmbedding(channels: c.channels, patchSize: c.patchSize, dimension: c.hiddenSize)
    }

    /// `[B, C, H, W]` → `[B, 1 + N, D]`: the class token first.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        let embedded = patches(images)                                                    // [B, N, D]
        let (b, d) = (embedded.shape[0], embedded.shape[2])
        precondition(embedded.shape[1] + 1 == positions.shape[1],
                     "ViT: \(embedded.shape[1]) patches, but position embeddings for \(positions.shape[1] - 1)")
        let tokens = Tensor.concatenate([classToken.expanded(to: [b, 1, d]), embedded], axis: 1)
        return tokens + positions
    }
}

/// Multi-head self-attention with separate projections (`q_proj`, `k_proj`, `v_proj`, `o_proj`).
public final class ProjectedSelfAttention: Module {
    @Child("q_proj") public var query: Linear
    @Child("k_proj") public var key: Linear
    @Child("v_proj") public var value: Linear
    @Child("o_proj") public var output: Linear
    /// Heads left after ``prune(heads:)`` (the configuration's count until then).
    public private(set) var headCount: Int
    /// The original indices of the heads left, in order.
    public private(set) var remainingHeads: [Int]
    /// `[headCount]` factors on each head's output (nil: all 1), for head importance.
    public var headGate: Tensor?

    public init(dimension: Int, headCount: Int, bias: Bool = true) {
        self.headCount = headCount
        remainingHeads = Array(0..<headCount)
        super.init()
        query = Linear(dimension, dimension, bias: bias)
        key = Linear(dimension, dimension, bias: bias)
        value = Linear(dimension, dimension, bias: bias)
        output = Linear(dimension, dimension)
    }

    /// `[B, L, D]` → `[B, L, D]`, and the weights `[B, H, L, L]` when asked for.
    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none, returningWeights: Bool = false) -> (Tensor, Tensor?) {
        let (attended, weights) = selfAttention(x, query: query, key: key, value: value, headCount: headCount,
                                                mask: mask, returningWeights: returningWeights, headGate: headGate)
        return (output(attended), weights)
    }

    /// Removes `heads` (original indices): smaller projections that equal this layer with those
    /// heads' outputs set to zero (``PrunedProjections``). Prune before quantizing.
    public func prune(heads: Set<Int>) {
        guard let pruned = PrunedProjections(removing: heads, from: remainingHeads, query: query, key: key,
                                             value: value, output: output) else { return }
        (query, key, value, output) = (pruned.query, pruned.key, pruned.value, pruned.output)
        remainingHeads = pruned.remainingHeads
        headCount = remainingHeads.count
        headGate = nil
    }
}

/// One pre-norm ViT layer: `h = x + attention(LN(x))`, `out = h + MLP(LN(h))` with exact GELU.
public final class VisionTransformerLayer: Module {
    @Child("attention") public var attention: ProjectedSelfAttention
    @Child("layernorm_before") public var normBefore: LayerNorm
    @Child("layernorm_after") public var normAfter: LayerNorm
    @Child("mlp") public var mlp: VisionMLP

    public init(_ c: VisionTransformerConfiguration) {
        super.init()
        attention = ProjectedSelfAttention(dimension: c.hiddenSize, headCount: c.headCount, bias: c.queryKeyValueBias)
        normBefore = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        normAfter = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        mlp = VisionMLP(c)
    }

    public func callAsFunction(_ x: Tensor, returningWeights: Bool = false) -> (Tensor, Tensor?) {
        let (attended, weights) = attention(normBefore(x), returningWeights: returningWeights)
        let h = x + attended
        return (h + mlp(normAfter(h)), weights)
    }
}

/// `fc2(gelu(fc1(x)))`.
public final class VisionMLP: Module {
    @Child("fc1") public var fc1: Linear
    @Child("fc2") public var fc2: Linear

    public init(_ c: VisionTransformerConfiguration) {
        super.init()
        fc1 = Linear(c.hiddenSize, c.intermediateSize)
        fc2 = Linear(c.intermediateSize, c.hiddenSize)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { fc2(gelu(fc1(x))) }
}

/// A Vision Transformer (Dosovitskiy et al. 2021) with Hugging Face's `ViTModel` names
/// (transformers 5; checkpoints saved by transformers 4 load through ``VisionTransformer/renamingTransformers4Keys(_:)``).
///
/// Images `[B, C, H, W]` → patch tokens with a class token → pre-norm encoder → final LayerNorm.
public final class VisionTransformer: Module {
    public let configuration: VisionTransformerConfiguration
    @Child("embeddings") public var embeddings: VisionEmbeddings
    @Child("layers") public var layers: [VisionTransformerLayer]
    @Child("layernorm") public var norm: LayerNorm
    @Child("pooler") public var pooler: VisionPooler?

    public init(configuration c: VisionTransformerConfiguration) {
        configuration = c
        super.init()
        embeddings = VisionEmbeddings(c)
        layers = (0..<c.layerCount).map { _ in VisionTransformerLayer(c) }
        norm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
        pooler = c.hasPooler ? VisionPooler(dimension: c.hiddenSize) : nil
    }

    /// `tanh(dense(h[:, 0]))` of the final states, when the model has a pooler.
    public func pooled(_ hiddenStates: Tensor) -> Tensor? {
        pooler.map { $0(hiddenStates.selecting(axis: 1, index: 0)) }
    }

    /// Hidden states `[B, 1 + N, D]` (class token first) and, on request, each layer's attention
    /// weights `[B, H, 1 + N, 1 + N]`; row 0 of a layer's weights is the class token's attention
    /// over the patches (see `Heatmap.overlay`).
    public func callAsFunction(_ images: Tensor, returningAttention: Bool = false) -> (hiddenStates: Tensor, attentions: [Tensor]) {
        var h = embeddings(images)
        var attentions: [Tensor] = []
        for layer in layers {
            let (next, weights) = layer(h, returningWeights: returningAttention)
            h = next
            if let weights { attentions.append(weights) }
        }
        return (norm(h), attentions)
    }

    /// Maps a state dict saved by transformers 4 (`encoder.layer.N.attention.attention.query`,
    /// `intermediate.dense`, `output.dense`, …) to transformers 5's names, which this module uses.
    public static func renamingTransformers4Keys(_ state: [String: Tensor]) -> [String: Tensor] {
        var renamed: [String: Tensor] = [:]
        for (key, value) in state {
            var name = key.replacingOccurrences(of: "encoder.layer.", with: "layers.")
            for (old, new) in [("attention.attention.query", "attention.q_proj"), ("attention.attention.key", "attention.k_proj"),
                               ("attention.attention.value", "attention.v_proj"), ("attention.output.dense", "attention.o_proj"),
                               ("intermediate.dense", "mlp.fc1"), (".output.dense", ".mlp.fc2")] {
                name = name.replacingOccurrences(of: old, with: new)
            }
            renamed[name] = value
        }
        return renamed
    }
}

/// `tanh(dense(x))` (`pooler.dense`).
public final class VisionPooler: Module {
    @Child("dense") public var dense: Linear

    public init(dimension: Int) {
        super.init()
        dense = Linear(dimension, dimension)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { tanh(dense(x)) }
}

/// A ViT with a linear classifier on the class token (Hugging Face's `ViTForImageClassification`:
/// keys `vit.…` and `classifier.…`).
public final class VisionTransformerClassifier: Module {
    @Child("vit") public var backbone: VisionTransformer
    @Child("classifier") public var classifier: Linear

    public init(configuration c: VisionTransformerConfiguration) {
        precondition(c.labelCount > 0, "VisionTransformerClassifier needs labelCount > 0")
        super.init()
        backbone = VisionTransformer(configuration: c)
        classifier = Linear(c.hiddenSize, c.labelCount)
    }

    /// Logits `[B, labels]` from the class token's final state.
    public func callAsFunction(_ images: Tensor) -> Tensor {
        classifier(backbone(images).hiddenStates.selecting(axis: 1, index: 0))
    }
}
