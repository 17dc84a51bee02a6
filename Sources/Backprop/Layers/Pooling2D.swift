/// A pooling window: its size, how far it moves, and how the border is padded.
public struct PoolingWindow: Sendable {
    public let size: (Int, Int)
    public let strides: (Int, Int)
    public let padding: Padding

    /// Strides default to the window size (non-overlapping windows).
    public init(size: (Int, Int), strides: (Int, Int)?, padding: Padding) {
        self.size = size
        self.strides = strides ?? size
        self.padding = padding
    }
}

/// A 2-D pooling layer: its window, and initializers shared by every kind of pooling.
public protocol WindowPooling: Layer {
    var window: PoolingWindow { get }
    init(window: PoolingWindow)
}

extension WindowPooling {
    public var size: (Int, Int) { window.size }
    public var strides: (Int, Int) { window.strides }
    public var padding: Padding { window.padding }

    /// A window of `size`; strides default to the window size.
    public init(size: (Int, Int) = (2, 2), strides: (Int, Int)? = nil, padding: Padding = .valid) {
        self.init(window: PoolingWindow(size: size, strides: strides, padding: padding))
    }

    /// A square window and equal strides (default: the window size).
    public init(_ size: Int, stride: Int? = nil, padding: Padding = .valid) {
        self.init(size: (size, size), strides: stride.map { ($0, $0) }, padding: padding)
    }
}

/// Max pooling over channels-last images: [N, H, W, C] → [N, H′, W′, C], each output the maximum
/// of its window.
public final class MaxPool2D: WindowPooling {
    public let window: PoolingWindow

    public init(window: PoolingWindow) { self.window = window }

    public func callAsFunction(_ input: Tensor) -> Tensor { input.maxPool2D(size: size, strides: strides, padding: padding) }
}

/// Average pooling over channels-last images. Padded positions are not counted (Keras), unless
/// `countIncludesPadding` (PyTorch's `count_include_pad=True`, its default).
public final class AvgPool2D: WindowPooling {
    public let window: PoolingWindow
    /// Whether padded positions count as zeros in the average.
    public let countIncludesPadding: Bool

    public init(window: PoolingWindow) {
        self.window = window
        countIncludesPadding = false
    }

    public init(window: PoolingWindow, countIncludesPadding: Bool) {
        self.window = window
        self.countIncludesPadding = countIncludesPadding
    }

    /// A square window and equal strides (default: the window size).
    public convenience init(_ size: Int, stride: Int? = nil, padding: Padding = .valid, countIncludesPadding: Bool) {
        self.init(
            window: PoolingWindow(size: (size, size), strides: stride.map { ($0, $0) }, padding: padding),
            countIncludesPadding: countIncludesPadding)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.averagePool2D(size: size, strides: strides, padding: padding, countIncludesPadding: countIncludesPadding)
    }
}

/// The mean of each channel over all positions: [N, H, W, C] → [N, C].
public final class GlobalAveragePooling2D: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4, "GlobalAveragePooling2D: input must be [N, H, W, C], got \(input.shape)")
        return input.mean(alongAxes: [1, 2])
    }
}
