extension Tensor {
    /// Picks the slices at `indices` along `axis` (PyTorch's `index_select`); the result has
    /// `indices.count` entries on that axis. An embedding lookup is
    /// `table.indexSelect(ids, axis: 0)`. The gradient scatter-adds back, so repeated
    /// indices accumulate.
    ///
    /// - Precondition: every index lies in `0..<shape[axis]`.
    public func indexSelect(_ indices: [Int], axis: Int = 0) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        let size = shape[axis]
        for index in indices {
            precondition(index >= 0 && index < size,
                         "indexSelect: index \(index) is out of range for axis \(axis) of shape \(shape)")
        }
        let source = detached.contiguous()
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var outputShape = shape
        outputShape[axis] = indices.count
        let result = Tensor(uninitializedShape: outputShape)
        let (from, to) = (source.basePointer, result.storage.base)
        let count = indices.count
        indices.withUnsafeBufferPointer { indices in
            let list = UncheckedSendable(indices)
            Parallelism.forEachChunk(of: outer * count, minimumChunk: Swift.max(1, 8192 / Swift.max(inner, 1))) { range in
                for item in range {
                    let (o, i) = item.quotientAndRemainder(dividingBy: count)
                    (to + item * inner).update(from: from + (o * size + list.value[i]) * inner, count: inner)
                }
            }
        }
        let inputShape = shape
        return result.recordingGradient(from: [self]) { g in
            var gradient = Tensor.zeros(inputShape)
            let upstream = g.contiguous()
            gradient.withUnsafeMutableScalars { target in
                let from = upstream.basePointer
                for o in 0..<outer {
                    for (i, index) in indices.enumerated() {
                        let source = from + (o * count + i) * inner
                        let destination = target.baseAddress! + (o * size + index) * inner
                        for j in 0..<inner { destination[j] += source[j] }
                    }
                }
            }
            return [gradient]
        }
    }
}
