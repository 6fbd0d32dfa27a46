import Attend
import AttendNN

/// The methods `attend explain` offers.
public enum ExplanationMethod: String, Sendable, CaseIterable {
    case rollout
    case flow
    case gradientWeightedAttention = "grad-attention"
    case integratedGradients = "integrated-gradients"
}

/// A score per input token for one explained output, with words for what was done.
public struct TokenExplanation: Sendable, Equatable {
    public var tokens: [String]
    public var scores: [Float]
    /// E.g. `"attention rollout (mean over heads, residual halves)"`.
    public var method: String
    /// E.g. `"next token “ Paris”"`.
    public var target: String
}

extension SentenceEmbedder {
    /// Which tokens of `text` its embedding rests on (rollout, flow: the pooled positions' shares
    /// of each input token), or — with `pair` — which tokens make it similar to `pair`'s
    /// (integrated gradients of the cosine similarity over the word vectors, from a zero baseline;
    /// a token's score is the sum over its vector's attributions).
    ///
    /// - Throws: ``ExplanationError`` for a method that needs `pair` without one, flow over too many
    ///   tokens, or gradient-weighted attention (offered for language models).
    public func explain(_ text: String, similarTo pair: String? = nil, method: ExplanationMethod,
                        steps: Int = 50) throws -> TokenExplanation {
        let encoding = pipeline.encode(text)
        let tokens = encoding.tokens
        switch method {
        case .rollout, .flow:
            let (_, attentions) = model(ids: [encoding.ids], typeIds: [encoding.typeIds], validLengths: [encoding.ids.count],
                                        returningAttention: true)
            let matrix = method == .rollout ? attentionRollout(attentions) : try attentionFlow(attentions)
            // The embedding pools positions: mean pooling averages the rows, [CLS] pooling reads row 0.
            let scores = pooling == .classToken ? Array(matrix.selecting(axis: 0, index: 0).scalars)
                                                : matrix.mean(alongAxes: [0]).scalars
            return TokenExplanation(tokens: tokens, scores: scores,
                                    method: method == .rollout ? "attention rollout (mean over heads, residual halves)" : "attention flow (max-flow through the layers)",
                                    target: "the sentence embedding (\(pooling.rawValue) pooling)")
        case .integratedGradients:
            guard let pair else { throw ExplanationError.invalidOption("integrated gradients explain a similarity: give the second text (--pair)") }
            let other = Tensor(shape: [1, dimension], scalars: embed([pair])[0])
            let length = encoding.ids.count
            let similarity: (Tensor) -> Tensor = { words in
                let hidden = self.model.encoder(self.model.embeddings(wordVectors: words, typeIds: [encoding.typeIds]),
                                                mask: .keyPadding(validLengths: [length]), returningAttention: false).hiddenStates
                return cosineSimilarity(self.pool(hidden, lengths: [length]), other)
            }
            let words = model.embeddings.words([encoding.ids]).detached                       // [1, L, E]
            let (attributions, _) = integratedGradients(of: similarity, at: words, baseline: Tensor.zeros(words.shape), steps: steps)
            return TokenExplanation(tokens: tokens, scores: attributions.sum(alongAxes: [2]).scalars,
                                    method: "integrated gradients (\(steps) midpoint steps from zero word vectors)",
                                    target: "cosine similarity to \"\(pair)\"")
        case .gradientWeightedAttention:
            throw ExplanationError.invalidOption("grad-attention is offered for language models; for embedders use rollout, flow or integrated-gradients")
        }
    }
}

extension TextGenerator {
    /// Which tokens of `text` the model's next token rests on — `target` (a token id) or, by
    /// default, the most likely one: rollout or flow over the causal weights (the last row),
    /// gradient-weighted attention (Chefer et al. 2021's aggregation `R ← R + Ā·R` of
    /// `Ā = mean_h max(A ⊙ ∂logit/∂A, 0)`, without LRP), or integrated gradients of the target
    /// logit over the token vectors from a zero baseline.
    ///
    /// - Throws: ``ExplanationError`` for an empty text, an unknown target or flow over too many tokens.
    public func explainNextToken(_ text: String, target: Int? = nil, method: ExplanationMethod,
                                 steps: Int = 32) throws -> TokenExplanation {
        let ids = tokenizer.encode(text)
        guard !ids.isEmpty else { throw ExplanationError.invalidOption("the text has no tokens") }
        guard ids.count <= 512 else { throw ExplanationError.invalidOption("the text has \(ids.count) tokens; explanations take at most 512") }
        let tokens = ids.map { tokenizer.decode([$0]) }
        var cache = model.makeCache()
        let predicted = Sampler.argmax(model.logits(for: ids, cache: &cache).scalars)
        let targetID = target ?? predicted
        guard (0..<model.configuration.vocabularySize).contains(targetID) else {
            throw ExplanationError.invalidOption("target token \(targetID) is outside the vocabulary")
        }
        let targetText = "next token \"\(tokenizer.decode([targetID]))\" (id \(targetID)\(target == nil ? ", the most likely" : ""))"
        let last = ids.count - 1, vocabulary = model.configuration.vocabularySize
        func targetLogit(_ logits: Tensor) -> Tensor {                                            // [1, L, V] → scalar
            logits.reshaped([ids.count, vocabulary]).sliced(axis: 0, last..<ids.count).sliced(axis: 1, targetID..<(targetID + 1)).sum()
        }
        switch method {
        case .rollout, .flow:
            let weights = model.attentionWeights([ids])
            let matrix = method == .rollout ? attentionRollout(weights) : try attentionFlow(weights)
            return TokenExplanation(tokens: tokens, scores: Array(matrix.selecting(axis: 0, index: last).scalars),
                                    method: method == .rollout ? "attention rollout over the causal weights (mean over heads, residual halves), last position"
                                                               : "attention flow over the causal weights, last position",
                                    target: targetText)
        case .gradientWeightedAttention:
            let embeddings = model.embeddings(ids).detached
            let heads = model.configuration.headCount
            let ones = Array(repeating: Tensor.ones([1, heads, ids.count, ids.count]), count: model.layers.count)
            let products = gradient(at: ones) { gates in targetLogit(self.model.logits(embeddings: embeddings, attentionGates: gates)) }
            var relevance = Tensor.eye(ids.count)
            for product in products {                                                               // A ⊙ ∂f/∂A per layer
                let layer = relu(product).selecting(axis: 0, index: 0).mean(alongAxes: [0])        // [L, L]
                relevance = relevance + matmul(layer, relevance)
            }
            return TokenExplanation(tokens: tokens, scores: Array(relevance.selecting(axis: 0, index: last).scalars),
                                    method: "gradient-weighted attention (mean over heads of max(A ⊙ ∂logit/∂A, 0), R ← R + Ā·R over layers)",
                                    target: targetText)
        case .integratedGradients:
            let embeddings = model.embeddings(ids).detached
            let (attributions, gap) = integratedGradients(of: { targetLogit(self.model.logits(embeddings: $0)) },
                                                          at: embeddings, baseline: Tensor.zeros(embeddings.shape), steps: steps)
            return TokenExplanation(tokens: tokens, scores: attributions.sum(alongAxes: [2]).scalars,
                                    method: String(format: "integrated gradients (%d midpoint steps from zero vectors; completeness gap %.3g)", steps, gap),
                                    target: targetText)
        }
    }
}

/// `a·b / (‖a‖‖b‖)` of two `[1, E]` rows, differentiable.
func cosineSimilarity(_ a: Tensor, _ b: Tensor) -> Tensor {
    (normalizedRows(a) * normalizedRows(b)).sum()
}
