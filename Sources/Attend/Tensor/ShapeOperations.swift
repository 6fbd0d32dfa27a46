extension Tensor {
    /// The same scalars in a new shape; one axis may be `-1` and is inferred.
    ///
    /// Returns a view when the tensor is contiguous, a copy otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let inferred = newShape.firstIndex(of: -1) {
            precondition(newShape.filter { $0 == -1 }.count == 1, "reshape to \(newShape): at most one -1")
            precondition(known > 0 && scalarCount % known == 0,
                         "cannot reshape \(shape) (\(scalarCount) scalars) to \(newShape)")
            target[inferred] = scalarCount / known
        }
        precondition(target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == scalarCount,
                     "cannot reshape \(shape) (\(scalarCount) scalars) to \(newShape)")
        if target == shape { return self }
        let result: Tensor
        if let viewStrides = viewStrides(for: target) {
            result = Tensor(storage: storage, shape: target, strides: viewStrides, offset: offset)
        } else {
            let source = contiguousCopy()
            result = Tensor(storage: source.storage, shape: target,
                            strides: Tensor.contiguousStrides(for: target), offset: source.offset)
        }
        let inputShape = shape
        return result.recordingGradient(from: [self]) { gradient in [gradient.reshaped(inputShape)] }
    }

    /// Strides that show this view's elements in `target` shape without copying, when the
    /// reshape only splits or merges axes whose elements are evenly spaced (PyTorch's `view`
    /// rule); nil when a copy is needed.
    func viewStrides(for target: [Int]) -> [Int]? {
        if isContiguous { return Tensor.contiguousStrides(for: target) }
        // Groups of source axes that merge (each contiguous within itself) must map onto groups of target axes.
        let source = shape.indices.filter { shape[$0] != 1 }
        var result = [Int](repeating: 0, count: target.count)
        var targetAxis = target.count - 1
        var sourceIndex = source.count - 1
        while sourceIndex >= 0 {
            // Collect a chunk of source axes that can merge: stride[i] == stride[i+1] * size[i+1].
            var chunkSize = shape[source[sourceIndex]]
            let innerStride = strides[source[sourceIndex]]
            while sourceIndex > 0
                && strides[source[sourceIndex - 1]] == strides[source[sourceIndex]] * shape[source[sourceIndex]] {
                sourceIndex -= 1
                chunkSize *= shape[source[sourceIndex]]
            }
            sourceIndex -= 1
            // Lay target axes (innermost first) onto this chunk.
            var covered = 1
            var running = innerStride
            while covered < chunkSize {
                guard targetAxis >= 0 else { return nil }
                let size = target[targetAxis]
                result[targetAxis] = running
                running *= size
                covered *= size
                targetAxis -= 1
            }
            guard covered == chunkSize else { return nil }
        }
        while targetAxis >= 0 {
            guard target[targetAxis] == 1 else { return nil }
            result[targetAxis] = 1
            targetAxis -= 1
        }
        return result
    }

    /// A contiguous tensor with the same elements (`self` when already contiguous).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        return contiguousCopy().recordingGradient(from: [self]) { gradient in [gradient] }
    }

    /// A view with the axes reordered: result axis `i` is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let axes = axes.map { Tensor.normalize(axis: $0, rank: rank) }
        precondition(axes.count == rank && Set(axes).count == rank,
                     "permute of shape \(shape) needs each axis once, got \(axes)")
        if axes == Array(0..<rank) { return self }
        let result = Tensor(storage: storage, shape: axes.map { shape[$0] },
                            strides: axes.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        let inversePermutation = inverse
        return result.recordingGradient(from: [self]) { gradient in [gradient.permuted(inversePermutation)] }
    }

    /// A view with two axes swapped (by default the last two: a batched matrix transpose).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(Tensor.normalize(axis: first, rank: rank), Tensor.normalize(axis: second, rank: rank))
        return permuted(axes)
    }

    /// A view that repeats size-1 axes (and adds leading axes) to reach `shape`, without copying.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let result = Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
        let inputShape = shape
        return result.recordingGradient(from: [self]) { gradient in [gradient.summed(toShape: inputShape)] }
    }

    /// A view with a size-1 axis inserted at `axis` (`-1` appends).
    public func unsqueezed(axis: Int) -> Tensor {
        let position = Tensor.normalize(axis: axis, rank: rank + 1)
        var newShape = shape
        newShape.insert(1, at: position)
        return reshapedView(newShape)
    }

    /// A view without the size-1 axis `axis`.
    public func squeezed(axis: Int) -> Tensor {
        let position = Tensor.normalize(axis: axis, rank: rank)
        precondition(shape[position] == 1, "squeeze axis \(axis) of shape \(shape): size is not 1")
        var newShape = shape
        newShape.remove(at: position)
        return reshapedView(newShape)
    }

    /// A view without any size-1 axes.
    public func squeezed() -> Tensor {
        reshapedView(shape.filter { $0 != 1 })
    }

    /// Reshape that only adds or removes size-1 axes, so it never copies.
    private func reshapedView(_ newShape: [Int]) -> Tensor {
        var newStrides: [Int] = []
        var source = 0
        for size in newShape {
            while source < rank && shape[source] == 1 && size != 1 { source += 1 }
            if source < rank && shape[source] == size {
                newStrides.append(strides[source])
                source += 1
            } else {
                precondition(size == 1, "internal: \(shape) → \(newShape) is not a squeeze/unsqueeze")
                newStrides.append(0)
            }
        }
        let result = Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
        let inputShape = shape
        return result.recordingGradient(from: [self]) { gradient in [gradient.reshaped(inputShape)] }
    }

    /// A view of `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) is out of bounds for axis \(axis) of shape \(shape)")
        var newShape = shape
        newShape[axis] = range.count
        let result = Tensor(storage: storage, shape: newShape, strides: strides,
                            offset: offset + range.lowerBound * strides[axis])
        let inputShape = shape
        return result.recordingGradient(from: [self]) { gradient in
            // Place the gradient back into zeros of the input's shape.
            var padded = Tensor.zeros(inputShape)
            padded.assign(gradient, axis: axis, at: range.lowerBound)
            return [padded]
        }
    }

    /// A view of index `index` along `axis`, with that axis removed.
    public func selecting(axis: Int, index: Int) -> Tensor {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        return sliced(axis: axis, index..<(index + 1)).squeezed(axis: axis)
    }

    /// Writes `source` into `self` starting at `position` along `axis`, in place when this
    /// tensor owns its storage (copy-on-write otherwise). Not recorded for gradients: for
    /// buffers such as key/value caches.
    ///
    /// - Precondition: `source` has this tensor's shape except along `axis`, where it fits.
    public mutating func assign(_ source: Tensor, alongAxis axis: Int, at position: Int) {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        precondition(source.rank == rank && position >= 0 && position + source.shape[axis] <= shape[axis]
                     && shape.indices.allSatisfy { $0 == axis || source.shape[$0] == shape[$0] },
                     "assign: \(source.shape) does not fit into \(shape) at \(position) along axis \(axis)")
        assign(source.detached, axis: axis, at: position)
    }

    /// Writes `source` into `self` starting at `position` along `axis` (no gradient).
    mutating func assign(_ source: Tensor, axis: Int, at position: Int) {
        makeStorageUniqueAndContiguous()
        let window = Tensor(storage: storage, shape: source.shape, strides: strides,
                            offset: offset + position * strides[axis])
        copyElements(of: source, into: window)
    }

    /// Joins tensors along `axis`; all other axes must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0]
        let axis = Tensor.normalize(axis: axis, rank: first.rank)
        for tensor in tensors {
            precondition(tensor.rank == first.rank
                         && tensor.shape.indices.allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
                         "concatenate along axis \(axis): shape \(tensor.shape) does not match \(first.shape)")
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        var result = Tensor(uninitializedShape: shape)
        var position = 0
        var sizes: [Int] = []
        for tensor in tensors {
            result.assign(tensor.detached, axis: axis, at: position)
            position += tensor.shape[axis]
            sizes.append(tensor.shape[axis])
        }
        let splitSizes = sizes
        return result.recordingGradient(from: tensors) { gradient in
            gradient.split(sizes: splitSizes, axis: axis).map { Optional($0) }
        }
    }

    /// Stacks same-shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack needs at least one tensor")
        let axis = Tensor.normalize(axis: axis, rank: tensors[0].rank + 1)
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// Splits into consecutive views along `axis` with the given sizes (which must add up to the axis).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[axis] && sizes.allSatisfy { $0 >= 0 },
                     "split sizes \(sizes) do not add up to axis \(axis) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return sliced(axis: axis, start..<(start + size))
        }
    }

    /// Splits into `count` equal views along `axis`.
    public func split(count: Int, axis: Int = 0) -> [Tensor] {
        let axis = Tensor.normalize(axis: axis, rank: rank)
        precondition(count > 0 && shape[axis] % count == 0,
                     "cannot split axis \(axis) of shape \(shape) into \(count) equal parts")
        return split(sizes: Array(repeating: shape[axis] / count, count: count), axis: axis)
    }
}

/// Copies the elements of `source` into the strided view `destination` (same shape).
func copyElements(of source: Tensor, into destination: Tensor) {
    precondition(source.shape == destination.shape, "copy of \(source.shape) into \(destination.shape)")
    let iteration = StridedIteration(shape: source.shape, strides: [source.strides, destination.strides])
    let (sourceStep, destinationStep) = (iteration.innerStride(0), iteration.innerStride(1))
    let (from, to) = (source.basePointer, destination.basePointer)
    iteration.forEachSegment(minimumElements: 1 << 15) { _, offsets, length in
        let a = from + offsets[0], b = to + offsets[1]
        if sourceStep == 1 && destinationStep == 1 {
            b.update(from: a, count: length)
        } else {
            for j in 0..<length { b[j * destinationStep] = a[j * sourceStep] }
        }
    }
}
