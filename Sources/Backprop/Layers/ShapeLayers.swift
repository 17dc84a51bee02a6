/// Gives each sample a new shape with the same number of elements: [N, a…] → [N, b…]. No copy.
public final class Reshape: Layer {
    /// The shape of one output sample; one extent may be -1.
    public let targetShape: [Int]

    public init(_ targetShape: [Int]) {
        precondition(
            targetShape.filter { $0 == -1 }.count <= 1 && targetShape.allSatisfy { $0 > 0 || $0 == -1 },
            "Reshape: target \(targetShape) needs positive extents and at most one -1")
        self.targetShape = targetShape
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { input.reshaped([input.shape[0]] + targetShape) }
}

/// Adds rows and columns of zeros around channels-last images: [N, H, W, C] → [N, H+t+b, W+l+r, C].
public final class ZeroPadding2D: Layer {
    public let top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        precondition(min(top, left, bottom, right) >= 0, "ZeroPadding2D: padding must be ≥ 0, got \(top), \(left), \(bottom), \(right)")
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    /// The same padding on every side.
    public convenience init(_ amount: Int) { self.init(top: amount, left: amount, bottom: amount, right: amount) }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "ZeroPadding2D: input must be [N, H, W, C], got \(input.shape)")
        return input.padded([(0, 0), (top, bottom), (left, right)])
    }
}
