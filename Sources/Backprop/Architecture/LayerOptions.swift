/// Rows and columns of a 2-D window, stride or dilation; an integer literal is the square case
/// (`kernelSize: 3`).
public struct Extent2D: Sendable, Equatable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rows: Int
    public var columns: Int

    public init(_ rows: Int, _ columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    public init(_ both: Int) { self.init(both, both) }
    public init(integerLiteral value: Int) { self.init(value) }

    /// `(rows, columns)`, as the layers take it.
    public var pair: (Int, Int) { (rows, columns) }
    public var isSquare: Bool { rows == columns }
    /// Both extents are positive.
    var isPositive: Bool { rows > 0 && columns > 0 }
    /// The extent along axis 0 (rows) or 1 (columns).
    subscript(axis: Int) -> Int { axis == 0 ? rows : columns }

    /// `3` or `(3, 5)`: also how PyTorch's constructors take it.
    public var description: String { isSquare ? "\(rows)" : "(\(rows), \(columns))" }
    /// `3×3`.
    var window: String { "\(rows)×\(columns)" }
}

/// How a layer's weights start and what penalizes them, beside the kernel regularizer each
/// spec names: the architecture file's `use_bias`, `kernel_initializer`, `bias_initializer`,
/// `bias_l1` and `bias_l2`.
public struct WeightOptions: Sendable, Equatable {
    /// Whether the layer adds a learned bias.
    public var useBias: Bool
    /// The distribution of the kernel (Glorot uniform, as in Keras).
    public var kernelInitializer: Initializer
    /// The distribution of the bias (zeros).
    public var biasInitializer: Initializer
    /// A penalty on the bias added to the training loss.
    public var biasRegularizer: Regularizer?

    public init(
        useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        biasRegularizer: Regularizer? = nil
    ) {
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.biasRegularizer = biasRegularizer
    }

    /// Parameters of a layer with `kernel` kernel values and `bias` bias values.
    func parameterCount(kernel: Int, bias: Int) -> Int { kernel + (useBias ? bias : 0) }
}

extension Initializer {
    /// The architecture file's name: `glorot_uniform`, `he_normal`, `normal(0.01)`, `constant(0.1)`…
    var jsonName: String {
        switch self {
        case .glorotUniform: "glorot_uniform"
        case .glorotNormal: "glorot_normal"
        case .xavier: "xavier"
        case .heNormal: "he_normal"
        case .heUniform: "he_uniform"
        case .orthogonal(let gain): gain == 1 ? "orthogonal" : "orthogonal(\(gain))"
        case .zeros: "zeros"
        case .normal(let deviation): "normal(\(deviation))"
        case .uniform(let limit): "uniform(\(limit))"
        case .constant(let value): "constant(\(value))"
        }
    }

    /// Every spelling ``init(jsonName:)`` accepts, for error messages.
    static let jsonNames =
        "glorot_uniform, glorot_normal, xavier, he_normal, he_uniform, orthogonal, zeros, ones, normal(STD), uniform(LIMIT), orthogonal(GAIN) or constant(VALUE)"

    init?(jsonName text: String) {
        let simple: [String: Initializer] = [
            "glorot_uniform": .glorotUniform, "glorot_normal": .glorotNormal, "xavier": .xavier, "he_normal": .heNormal,
            "he_uniform": .heUniform, "orthogonal": .orthogonal(), "zeros": .zeros, "ones": .constant(1),
        ]
        if let initializer = simple[text] {
            self = initializer
            return
        }
        let parametric: [(String, (Float) -> Initializer?)] = [
            ("normal(", { $0 > 0 ? .normal(standardDeviation: $0) : nil }), ("uniform(", { $0 > 0 ? .uniform(limit: $0) : nil }),
            ("constant(", { .constant($0) }), ("orthogonal(", { $0 > 0 ? .orthogonal(gain: $0) : nil }),
        ]
        for (prefix, make) in parametric where text.hasPrefix(prefix) && text.hasSuffix(")") {
            guard let value = Float(text.dropFirst(prefix.count).dropLast()), value.isFinite, let initializer = make(value) else {
                return nil
            }
            self = initializer
            return
        }
        return nil
    }
}
