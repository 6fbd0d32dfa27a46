/// NumPy broadcasting: shapes are aligned at their last axis; each pair of sizes must be equal
/// or one of them 1, and the result takes the larger.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = max(a.count, b.count)
    return (0..<rank).map { axis in
        let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
        let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
        precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
        return x == 1 ? y : x
    }
}

extension Tensor {
    /// The strides that read this tensor as if it had `target` shape (0 on broadcast axes).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let leading = target.count - rank
        precondition(leading >= 0, "cannot broadcast shape \(shape) to \(target)")
        return target.indices.map { axis in
            if axis < leading { return 0 }
            let size = shape[axis - leading]
            precondition(size == target[axis] || size == 1, "cannot broadcast shape \(shape) to \(target)")
            return size == 1 && target[axis] != 1 ? 0 : strides[axis - leading]
        }
    }

    /// Sums a gradient of a broadcast result back to `shape`: over the leading axes broadcasting
    /// added and over the axes where `shape` had size 1.
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let leading = rank - target.count
        precondition(leading >= 0, "cannot sum shape \(shape) down to \(target)")
        var axes = Array(0..<leading)
        for axis in target.indices where target[axis] == 1 && shape[axis + leading] != 1 {
            axes.append(axis + leading)
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(target)
    }
}
