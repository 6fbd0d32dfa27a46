/// An n-dimensional array of `Float` with value semantics and reverse-mode differentiation.
///
/// A tensor is a *view*: a shape, per-axis strides and an offset into shared storage. Views
/// such as ``permuted(_:)``, ``expanded(to:)`` and ``sliced(axis:_:)`` share storage without
/// copying; anything that writes copies first (copy-on-write), so a `Tensor` behaves like any
/// other Swift value. Scalars are row-major: ``scalars`` lists the last axis fastest.
///
/// ```swift
/// let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let b = Tensor(shape: [3], scalars: [10, 20, 30])
/// let c = a * b          // broadcasts b across rows: [[10, 40, 90], [40, 100, 180]]
/// print(c.sum().scalar)  // 460
/// ```
public struct Tensor: Sendable {
    var storage: TensorStorage
    /// The size of each axis, outermost first. `[]` is a scalar.
    public private(set) var shape: [Int]
    /// Elements to step over in storage to move by one along each axis (0 on broadcast axes).
    var strides: [Int]
    /// Where element `[0, 0, …]` lives in storage.
    var offset: Int
    /// The recorded operation that made this tensor, when gradients flow through it.
    var gradientNode: GradientNode?

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int, gradientNode: GradientNode? = nil) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.gradientNode = gradientNode
    }

    /// A contiguous tensor whose scalars the caller writes before anyone reads them (pooled
    /// storage, not cleared; `package`: Attend's other targets fill such buffers too).
    package init(uninitializedShape shape: [Int]) {
        let count = shape.reduce(1, *)
        self.init(storage: TensorStorage(count: count), shape: shape,
                  strides: Tensor.contiguousStrides(for: shape), offset: 0)
    }

    /// Creates a tensor of the given shape from row-major scalars.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative axis")
        let count = shape.reduce(1, *)
        precondition(scalars.count == count,
                     "Tensor(shape: \(shape)) needs \(count) scalars, got \(scalars.count)")
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { source in
            if count > 0 { storage.base.update(from: source.baseAddress!, count: count) }
        }
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// The number of axes.
    public var rank: Int { shape.count }

    /// The number of elements (1 for a scalar).
    public var scalarCount: Int { shape.reduce(1, *) }

    /// The elements in row-major order, as a new array.
    public var scalars: [Float] {
        let source = contiguous()
        return Array(UnsafeBufferPointer(start: source.storage.base + source.offset, count: scalarCount))
    }

    /// The single element of a tensor with one element.
    ///
    /// - Precondition: the tensor has exactly one element.
    public var scalar: Float {
        precondition(scalarCount == 1, "scalar needs a one-element tensor, got shape \(shape)")
        return storage.base[offset]
    }

    /// True when both are the same view of the same storage (the same tensor passed twice), so
    /// that, say, one projection can serve as query, key and value.
    public func isIdenticalView(to other: Tensor) -> Bool {
        storage === other.storage && offset == other.offset && shape == other.shape && strides == other.strides
    }

    /// Row-major strides of a contiguous tensor of `shape`.
    static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// True when the scalars lie densely in row-major order (size-1 axes ignore their stride).
    var isContiguous: Bool {
        var expected = 1
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// Pointer to element `[0, 0, …]`. Read-only use; see ``withUnsafeMutableScalars(_:)`` to write.
    var basePointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Calls `body` with the row-major scalars, copying only when the view is not contiguous.
    public func withUnsafeScalars<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
        let source = contiguous()
        return try body(UnsafeBufferPointer(start: source.basePointer, count: scalarCount))
    }

    /// Calls `body` with writable row-major scalars, copying first when the storage is shared
    /// or the view is not contiguous (copy-on-write).
    public mutating func withUnsafeMutableScalars<Result>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result
    ) rethrows -> Result {
        makeStorageUniqueAndContiguous()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: scalarCount))
    }

    /// Copies the elements into fresh storage unless this view already owns contiguous storage
    /// starting at offset 0 (the copy-on-write step before any write).
    mutating func makeStorageUniqueAndContiguous() {
        if !isKnownUniquelyReferenced(&storage) || !isContiguous || offset != 0 {
            let node = gradientNode
            self = contiguousCopy()
            gradientNode = node
        }
    }

    /// A fresh contiguous copy of this view's elements (no gradient history).
    func contiguousCopy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        copyElements(of: self, into: result.storage.base)
        return result
    }

    /// Normalizes a possibly negative axis (`-1` is the last) against `rank`.
    static func normalize(axis: Int, rank: Int, _ function: StaticString = #function) -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        precondition(normalized >= 0 && normalized < rank,
                     "\(function): axis \(axis) is out of range for rank \(rank)")
        return normalized
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and, for small tensors, the scalars, nested by axis.
    public var description: String {
        guard scalarCount <= 256 else { return "Tensor(shape: \(shape), \(scalarCount) scalars)" }
        let values = scalars
        func render(_ axis: Int, _ start: Int) -> String {
            if axis == shape.count { return "\(values[start])" }
            let step = shape[(axis + 1)...].reduce(1, *)
            let items = (0..<shape[axis]).map { render(axis + 1, start + $0 * step) }
            return "[" + items.joined(separator: ", ") + "]"
        }
        return "Tensor(shape: \(shape), \(render(0, 0)))"
    }
}
