/// The compute boundary: every kernel that touches tensor memory goes through a backend.
///
/// Ops in `Ops/` and `Tensor/` do shape logic and record pullbacks; they never loop over elements
/// themselves. A different device (a GPU backend) implements this protocol; layers, losses and
/// optimizers do not change. Shapes and strides are in elements.
public protocol Backend: AnyObject, Sendable {
    /// A short name, e.g. "cpu (oneDNN 2.6, AVX-512)".
    var name: String { get }

    /// C = α·op(A)·op(B) + β·C for row-major matrices; op transposes when asked. The one GEMM entry
    /// point of the system. Offsets are in elements from each storage's start.
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: TensorStorage, aOffset: Int, lda: Int, b: TensorStorage, bOffset: Int, ldb: Int,
        beta: Float, c: TensorStorage, cOffset: Int, ldc: Int)

    func fill(_ storage: TensorStorage, value: Float, count: Int)
    /// y (=|+=) α·x.
    func scale(_ x: TensorStorage, by alpha: Float, into y: TensorStorage, count: Int, accumulate: Bool)
    func unary(_ op: UnaryOperation, _ x: TensorStorage, into y: TensorStorage, count: Int)
    /// dx (=|+=) dy · op′(x), with y = op(x) available.
    func unaryBackward(
        _ op: UnaryOperation, x: TensorStorage, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage,
        count: Int, accumulate: Bool)
    /// out = op(a, b) over `shape`, reading a and b through strides (0 on broadcast axes).
    func binary(
        _ op: BinaryOperation, shape: [Int], _ a: TensorStorage, strides aStrides: [Int], _ b: TensorStorage,
        strides bStrides: [Int], into out: TensorStorage)
    /// dst (=|+=) src over `shape` with arbitrary strides; destination stride 0 sums (reduction).
    func copy(
        shape: [Int], from src: TensorStorage, offset srcOffset: Int, strides srcStrides: [Int],
        into dst: TensorStorage, offset dstOffset: Int, strides dstStrides: [Int], accumulate: Bool)
    /// dst = max over axes where dst stride is 0; dst must start at -∞.
    func maxReduce(shape: [Int], from src: TensorStorage, into dst: TensorStorage, strides dstStrides: [Int])
    /// Index of the maximum along the middle axis of [outer, axis, inner].
    func argmax(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, into dst: TensorStorage)
    /// dst[o, j, :] = src[o, indices[j], :].
    func gather(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage)
    /// dst[o, indices[j], :] += src[o, j, :].
    func scatterAdd(
        outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage,
        accumulate: Bool)
    func logSoftmax(rows: Int, classes: Int, _ x: TensorStorage, into y: TensorStorage)
    func logSoftmaxBackward(
        rows: Int, classes: Int, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage, accumulate: Bool)
    /// Mean cross-entropy of softmax(logits) against integer labels; writes softmax(logits) to
    /// `probabilities`. Returns the first row with an invalid label, if any.
    func softmaxCrossEntropy(
        rows: Int, classes: Int, logits: TensorStorage, labels: TensorStorage, probabilities: TensorStorage,
        loss: TensorStorage
    ) -> Int?
    func softmaxCrossEntropyBackward(
        rows: Int, classes: Int, probabilities: TensorStorage, labels: TensorStorage, scale: Float,
        into dx: TensorStorage, accumulate: Bool)
    /// Sum of the first `count` elements, accumulated in double precision.
    func sum(_ x: TensorStorage, count: Int) -> Double

    /// Convolution forward over NHWC input and HWIO weights: output = conv(input, weight) + bias.
    func convolutionForward(
        _ geometry: ConvolutionGeometry, input: TensorStorage, weight: TensorStorage, bias: TensorStorage?,
        into output: TensorStorage)
    /// ∂L/∂input from ∂L/∂output (overwrites `inputGradient`).
    func convolutionBackwardData(
        _ geometry: ConvolutionGeometry, outputGradient: TensorStorage, weight: TensorStorage,
        into inputGradient: TensorStorage)
    /// ∂L/∂weight (HWIO) and, when given a buffer, ∂L/∂bias (overwrites both).
    func convolutionBackwardWeights(
        _ geometry: ConvolutionGeometry, input: TensorStorage, outputGradient: TensorStorage,
        into weightGradient: TensorStorage, biasGradient: TensorStorage?)
    /// Convolution followed by max pooling of its output (`pooling` describes the pooling of the
    /// convolution's output) as one op; returns what the backward pass needs. A backend may run it
    /// as one kernel that never stores the full-size convolution output; `inputGradientNeeded`
    /// says whether the backward pass will ask for ∂L/∂input.
    func convolutionMaxPoolForward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        bias: TensorStorage?, into output: TensorStorage, inputGradientNeeded: Bool
    ) -> TensorStorage?
    /// Gradients of ``convolutionMaxPoolForward(_:_:input:weight:bias:into:inputGradientNeeded:)``
    /// into the buffers given (each overwritten; nil: not wanted).
    func convolutionMaxPoolBackward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        outputGradient: TensorStorage, workspace: TensorStorage?, inputGradient: TensorStorage?,
        weightGradient: TensorStorage?, biasGradient: TensorStorage?, inputGradientNeeded: Bool)
    /// Max or average pooling over NHWC; returns the workspace the backward pass needs, if any.
    func poolingForward(_ geometry: PoolingGeometry, input: TensorStorage, into output: TensorStorage) -> TensorStorage?
    /// ∂L/∂input from ∂L/∂output (overwrites `inputGradient`).
    func poolingBackward(
        _ geometry: PoolingGeometry, outputGradient: TensorStorage, workspace: TensorStorage?,
        into inputGradient: TensorStorage)
    /// Batch normalization of [rows, channels] with the batch's statistics: writes the output and
    /// the per-channel mean and (biased) variance.
    func batchNormalizationForward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, scale: TensorStorage, shift: TensorStorage,
        into output: TensorStorage, mean: TensorStorage, variance: TensorStorage)
    /// Gradients of the training-mode batch normalization (overwrites the three outputs).
    func batchNormalizationBackward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, mean: TensorStorage, variance: TensorStorage,
        outputGradient: TensorStorage, scale: TensorStorage, shift: TensorStorage, into inputGradient: TensorStorage,
        scaleGradient: TensorStorage, shiftGradient: TensorStorage)

    /// Runs a recurrent layer over every step (see ``RecurrentGeometry``): writes the state after
    /// each step into `states` and, for the LSTM, the cell state into `cells`, and fills
    /// `workspace` (``RecurrentGeometry/workspaceCount``) for the backward pass. Missing initial
    /// states are zeros; `mask` [batch, steps] (1 = take the step, 0 = keep the state) may be nil.
    func recurrentForward(
        _ geometry: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage)
    /// Back-propagation through time of ``recurrentForward(_:input:weights:initialHidden:initialCell:mask:states:cells:workspace:)``: `stateGradient` is ∂L/∂states
    /// (every step's state), `finalCellGradient` ∂L/∂(the LSTM's last cell state).
    func recurrentBackward(
        _ geometry: RecurrentGeometry, input: TensorStorage, weights: RecurrentWeights, initialHidden: TensorStorage?,
        initialCell: TensorStorage?, mask: TensorStorage?, states: TensorStorage, cells: TensorStorage?,
        workspace: TensorStorage, stateGradient: TensorStorage, finalCellGradient: TensorStorage?,
        into gradients: RecurrentGradients)

    /// The kernels that run a convolution and a pooling shape (forward, backward…), e.g.
    /// "brg:avx512_core"; a `ref` kernel is a performance bug.
    func kernelNames(_ geometry: ConvolutionGeometry) -> [String]
    func kernelNames(_ geometry: PoolingGeometry) -> [String]

    /// One optimizer update over `range` of the flat buffers (see `OptimizerUpdate`); `state`
    /// holds up to three per-parameter buffers of the rule.
    func optimizerUpdate(
        _ update: OptimizerUpdate, parameters: TensorStorage, gradients: TensorStorage, state: [TensorStorage],
        range: Range<Int>)
    /// Clamps the first `count` gradients to [-limit, limit] in place.
    func clipValues(_ gradients: TensorStorage, count: Int, limit: Float)
    /// Σ x² over the first `count` elements, in double precision.
    func sumOfSquares(_ x: TensorStorage, count: Int) -> Double

    /// Fills the first `count` elements with samples of `distribution` drawn from `generator`, in
    /// order (the same generator state gives the same values on every backend).
    func fillRandom(_ storage: TensorStorage, count: Int, _ distribution: RandomDistribution, generator: inout RandomGenerator)
}

extension Backend {
    /// y = x over `count` elements (a backend keeps its own layout of x if y can take it).
    public func copy(_ x: TensorStorage, into y: TensorStorage, count: Int) {
        scale(x, by: 1, into: y, count: count, accumulate: false)
    }

    public func convolutionMaxPoolForward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        bias: TensorStorage?, into output: TensorStorage, inputGradientNeeded: Bool
    ) -> TensorStorage? {
        composedConvolutionMaxPoolForward(convolution, pooling, input: input, weight: weight, bias: bias, into: output)
    }

    public func convolutionMaxPoolBackward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        outputGradient: TensorStorage, workspace: TensorStorage?, inputGradient: TensorStorage?,
        weightGradient: TensorStorage?, biasGradient: TensorStorage?, inputGradientNeeded: Bool
    ) {
        composedConvolutionMaxPoolBackward(
            convolution, pooling, input: input, weight: weight, outputGradient: outputGradient, workspace: workspace,
            inputGradient: inputGradient, weightGradient: weightGradient, biasGradient: biasGradient)
    }

    /// Convolution then max pooling by the two kernels, the convolution's output in a temporary.
    func composedConvolutionMaxPoolForward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        bias: TensorStorage?, into output: TensorStorage
    ) -> TensorStorage? {
        let convolved = Tensor(uninitializedShape: [convolution.outputElementCount])
        convolutionForward(convolution, input: input, weight: weight, bias: bias, into: convolved.storage)
        return poolingForward(pooling, input: convolved.storage, into: output)
    }

    /// Pooling backward into a temporary, then the convolution's backward kernels.
    func composedConvolutionMaxPoolBackward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        outputGradient: TensorStorage, workspace: TensorStorage?, inputGradient: TensorStorage?,
        weightGradient: TensorStorage?, biasGradient: TensorStorage?
    ) {
        let convolved = Tensor(uninitializedShape: [convolution.outputElementCount])
        poolingBackward(pooling, outputGradient: outputGradient, workspace: workspace, into: convolved.storage)
        if let inputGradient {
            convolutionBackwardData(convolution, outputGradient: convolved.storage, weight: weight, into: inputGradient)
        }
        guard weightGradient != nil || biasGradient != nil else { return }
        convolutionBackwardWeights(
            convolution, input: input, outputGradient: convolved.storage,
            into: weightGradient ?? Tensor(uninitializedShape: [convolution.weightElementCount]).storage,
            biasGradient: biasGradient)
    }

    /// Draws on the host, element by element, and writes through ``TensorStorage/pointer``.
    public func fillRandom(_ storage: TensorStorage, count: Int, _ distribution: RandomDistribution, generator: inout RandomGenerator) {
        let target = storage.pointer
        switch distribution {
        case .normal(let mean, let standardDeviation):
            for i in 0..<count { target[i] = mean + standardDeviation * generator.nextNormal() }
        case .uniform(let lower, let upper):
            for i in 0..<count { target[i] = lower + (upper - lower) * generator.nextUniform() }
        case .bernoulli(let probability, let value):
            for i in 0..<count { target[i] = generator.nextUniform() < probability ? value : 0 }
        }
    }
}

/// What ``Backend/fillRandom(_:count:_:generator:)`` draws.
public enum RandomDistribution: Sendable, Equatable {
    /// N(mean, standardDeviation²).
    case normal(mean: Float, standardDeviation: Float)
    /// U[lower, upper).
    case uniform(lower: Float, upper: Float)
    /// `value` with probability `probability`, else 0 (a dropout mask).
    case bernoulli(probability: Float, value: Float)
}

/// A memory layout a backend keeps a storage in instead of row-major order. Such storages are read
/// directly only by that backend; ``TensorStorage/pointer`` converts them with
/// ``convertToRowMajor(from:into:)`` on first use.
public protocol NativeLayout: Sendable {
    /// Elements the layout holds (the storage's count).
    var elementCount: Int { get }

    /// Writes the row-major order of the elements at `source` into `destination`.
    func convertToRowMajor(from source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>)
}

/// The backend registry.
public enum Backends {
    nonisolated(unsafe) private static var global: any Backend = CPUBackend()
    @TaskLocal private static var scoped: (any Backend)?

    /// The backend tensor operations use: the one given to ``using(_:_:)`` around the current code,
    /// else the process-wide one (the CPU backend unless replaced before any tensor work).
    public static var current: any Backend {
        get { scoped ?? global }
        set { global = newValue }
    }

    /// Runs `body` with `backend` as ``current`` for this task only (other threads and tests keep
    /// theirs): how tests run the same code on the ``ReferenceBackend``.
    public static func using<R>(_ backend: any Backend, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(backend, operation: body)
    }
}

/// Elementwise functions of one argument; `a` and `b` are the op's scalar parameters.
public enum UnaryOperation: Sendable, Equatable {
    case negate, exp, log, squareRoot, absolute, square
    case relu, sigmoid, tanh, softplus
    case leakyRelu(slope: Float)
    case elu(alpha: Float)
    case clamp(lower: Float, upper: Float)
    case power(Float)
    case affine(scale: Float, shift: Float)
}

/// Elementwise functions of two broadcast arguments.
public enum BinaryOperation: Sendable, Equatable {
    case add, subtract, multiply, divide, maximum, minimum, power, equal, greater
}

/// An optimizer's update rule and hyper-parameters for one step, as the backend applies it.
public struct OptimizerUpdate: Sendable {
    /// The update rules the backend implements.
    public enum Rule: Sendable {
        case sgd(momentum: Float, nesterov: Bool)
        case adaGrad(epsilon: Float)
        case rmsProp(alpha: Float, epsilon: Float, momentum: Float, centered: Bool)
        case adam(beta1: Float, beta2: Float, epsilon: Float, biasCorrection1: Float, biasCorrection2: Float, amsGrad: Bool)
    }

    public var rule: Rule
    public var learningRate: Float
    /// L2 coefficient added to the gradient, or (when `decoupledWeightDecay`) the AdamW decay.
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool

    public init(rule: Rule, learningRate: Float, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.rule = rule
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }
}

/// The shape of a 2-D convolution: NHWC input and output, HWIO weights.
public struct ConvolutionGeometry: Hashable, Sendable {
    public var batch, inputHeight, inputWidth, inputChannels: Int
    public var outputHeight, outputWidth, outputChannels: Int
    public var kernelHeight, kernelWidth, strideHeight, strideWidth, dilationHeight, dilationWidth: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var hasBias: Bool
    /// The forward output passes through ReLU (NaN kept) before the kernel returns.
    public var fusedReLU = false
    /// No backward pass follows (inference): the backend may pick the layouts fastest for the
    /// forward kernel alone.
    public var forwardOnly = false

    /// Scalars of the output.
    public var outputElementCount: Int { batch * outputHeight * outputWidth * outputChannels }
    /// Scalars of the weight (HWIO).
    public var weightElementCount: Int { kernelHeight * kernelWidth * inputChannels * outputChannels }
}

/// The shape of a 2-D pooling over NHWC.
public struct PoolingGeometry: Hashable, Sendable {
    public enum Kind: Sendable { case max, average, averageIncludingPadding }
    public var batch, inputHeight, inputWidth, channels, outputHeight, outputWidth: Int
    public var kernelHeight, kernelWidth, strideHeight, strideWidth: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var kind: Kind
    /// No backward pass follows (inference); see ``ConvolutionGeometry/forwardOnly``.
    public var forwardOnly = false
}
