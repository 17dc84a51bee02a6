/// The extent of each axis of a tensor, outermost first (row-major).
///
/// ```swift
/// let shape: Shape = [128, 28, 28, 1]   // a batch of NHWC images
/// shape.count                            // 100_352 elements
/// ```
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible, RandomAccessCollection {
    /// The axis extents.
    public var dimensions: [Int]

    /// Creates a shape; every extent must be non-negative.
    public init(_ dimensions: [Int]) {
        precondition(dimensions.allSatisfy { $0 >= 0 }, "Shape: negative extent in \(dimensions)")
        self.dimensions = dimensions
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Number of axes.
    public var rank: Int { dimensions.count }
    /// Number of elements (1 for a scalar).
    public var elementCount: Int { dimensions.reduce(1, *) }
    /// Row-major strides in elements.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: rank)
        var step = 1
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= dimensions[axis]
        }
        return strides
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { dimensions.count }
    public subscript(axis: Int) -> Int {
        get { dimensions[axis] }
        set { dimensions[axis] = newValue }
    }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }

    /// Whether extents read from a file can form a shape whose strides are computable: the product
    /// of the non-zero extents must stay below 2⁴⁰ (an empty array may list any other extents).
    public static func isReasonable(_ dimensions: [Int]) -> Bool {
        var product = 1
        for extent in dimensions where extent > 0 {
            let (next, overflow) = product.multipliedReportingOverflow(by: extent)
            guard !overflow, next < 1 << 40 else { return false }
            product = next
        }
        return dimensions.allSatisfy { $0 >= 0 }
    }

    /// Resolves a possibly negative axis (-1 is the last) to 0..<rank, trapping with `operation` named.
    public func normalizedAxis(_ axis: Int, operation: String) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "\(operation): axis \(axis) is out of range for shape \(self)")
        return resolved
    }

    /// The shape two operands broadcast to under NumPy rules, or nil when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = Swift.max(a.rank, b.rank)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.rank ? 1 : a[i - (rank - a.rank)]
            let db = i < rank - b.rank ? 1 : b[i - (rank - b.rank)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                return nil
            }
        }
        return Shape(result)
    }

    /// Strides for reading a tensor of this shape as if it had shape `target` (0 on broadcast axes).
    func broadcastStrides(to target: Shape) -> [Int] {
        let own = strides
        let offset = target.rank - rank
        return (0..<target.rank).map { axis in
            let local = axis - offset
            if local < 0 || dimensions[local] == 1 { return 0 }
            return own[local]
        }
    }
}
