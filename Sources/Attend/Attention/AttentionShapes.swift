/// The sizes of one attention call, checked once at the public entry point.
struct AttentionShapes: Sendable {
    let batch: Int, heads: Int, keyValueHeads: Int
    let queryLength: Int, keyLength: Int
    let headDimension: Int, valueDimension: Int
    let scale: Float

    /// Query heads that share one key/value head.
    var groupSize: Int { heads / keyValueHeads }

    init(query: Tensor, key: Tensor, value: Tensor, scale: Float?, function: String) {
        let shapes = "query \(query.shape), key \(key.shape), value \(value.shape)"
        precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                     "\(function) needs rank-4 [B, H, L, D] tensors, got \(shapes)")
        batch = query.shape[0]
        heads = query.shape[1]
        queryLength = query.shape[2]
        headDimension = query.shape[3]
        keyValueHeads = key.shape[1]
        keyLength = key.shape[2]
        valueDimension = value.shape[3]
        precondition(key.shape[0] == batch && value.shape[0] == batch,
                     "\(function): batch sizes differ: \(shapes)")
        precondition(key.shape[3] == headDimension,
                     "\(function): query and key head dimensions differ: \(shapes)")
        precondition(value.shape[1] == keyValueHeads && value.shape[2] == keyLength,
                     "\(function): key and value must share [B, Hkv, Lk]: \(shapes)")
        precondition(keyValueHeads > 0 && heads % keyValueHeads == 0,
                     "\(function): query heads (\(heads)) must be a multiple of key/value heads (\(keyValueHeads)): \(shapes)")
        self.scale = scale ?? 1 / Float(Swift.max(headDimension, 1)).squareRoot()
        precondition(self.scale.isFinite, "\(function): scale must be finite, got \(self.scale)")
    }

    init(batch: Int, heads: Int, keyValueHeads: Int, queryLength: Int, keyLength: Int,
         headDimension: Int, valueDimension: Int, scale: Float) {
        (self.batch, self.heads, self.keyValueHeads) = (batch, heads, keyValueHeads)
        (self.queryLength, self.keyLength) = (queryLength, keyLength)
        (self.headDimension, self.valueDimension, self.scale) = (headDimension, valueDimension, scale)
    }
}
