import CBackpropKernels
import CDNNL
import COpenBLAS
import Synchronization

/// The library behind the CPU backend's GEMM.
public enum GEMMLibrary: String, Sendable, CaseIterable {
    /// oneDNN's `dnnl_sgemm` (AVX-512 JIT kernels, OpenMP threads).
    case oneDNN
    /// CBLAS `cblas_sgemm` from OpenBLAS (its own thread pool; AVX2 under `OPENBLAS_CORETYPE=Haswell`).
    case openBLAS
}

/// The CPU backend: oneDNN for GEMM (AVX-512 JIT kernels, ~480 GFLOP/s at training shapes), small
/// C kernels (`CBackpropKernels`) for elementwise work, all on oneDNN's OpenMP threads.
public final class CPUBackend: Backend {
    public let name: String
    /// Which library multiplies matrices. oneDNN by default: on the project's machines it measured
    /// faster at every training shape and square size (`backprop-bench gemm`), and it shares the
    /// OpenMP pool with everything else.
    public let gemmLibrary: GEMMLibrary
    /// Channels per block of the blocked layout convolution and pooling outputs are kept in (16 on
    /// AVX-512, 8 on AVX2), or 0 for NHWC everywhere.
    public let activationBlock: Int
    /// Each convolution shape's layouts and primitives (`convolutionPlan`), by shape.
    let convolutionPlans = Mutex<[ConvolutionGeometry: ConvolutionPlan]>([:])
    /// The convolution-and-pooling pairs run by the fused first-layer kernel so far (for `kernelsInUse`).
    let fusedConvolutionPools = Mutex<Set<FusedConvolutionPool>>([])

    /// A CPU backend; `blockedLayouts: false` keeps every activation NHWC (for comparison).
    public convenience init(gemmLibrary: GEMMLibrary = .oneDNN, blockedLayouts: Bool = true) {
        self.init(gemmLibrary: gemmLibrary, activationBlock: blockedLayouts ? Self.preferredActivationBlock() : 0)
    }

    /// A CPU backend with a given channel block (0, 8 or 16): tests run the AVX2 layout on AVX-512.
    init(gemmLibrary: GEMMLibrary = .oneDNN, activationBlock: Int) {
        precondition([0, 8, 16].contains(activationBlock), "CPUBackend: channel block \(activationBlock) is not 0, 8 or 16")
        self.gemmLibrary = gemmLibrary
        self.activationBlock = activationBlock
        // Denormals appear in Adam's moments for always-zero inputs and slowed training by 25%
        // (PLATFORM.md). MXCSR is per thread; OpenMP threads created after this inherit it, and the
        // parallel kernels set it again on each thread.
        bp_enable_flush_denormals()
        if let version = dnnl_version() {
            name =
                "cpu (oneDNN \(version.pointee.major).\(version.pointee.minor).\(version.pointee.patch), \(bp_thread_count()) threads, GEMM: \(gemmLibrary.rawValue))"
        } else {
            name = "cpu (GEMM: \(gemmLibrary.rawValue))"
        }
    }

    public func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: TensorStorage, aOffset: Int, lda: Int, b: TensorStorage, bOffset: Int, ldb: Int,
        beta: Float, c: TensorStorage, cOffset: Int, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // Nothing to multiply: C = β·C.
            for row in 0..<m {
                let base = c.pointer + cOffset + row * ldc
                for column in 0..<n { base[column] = beta == 0 ? 0 : beta * base[column] }
            }
            return
        }
        if gemmLibrary == .openBLAS {
            cblas_sgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a.pointer + aOffset, Int32(lda), b.pointer + bOffset, Int32(ldb),
                beta, c.pointer + cOffset, Int32(ldc))
            return
        }
        let status = dnnl_sgemm(
            CChar(transposeA ? 84 : 78), CChar(transposeB ? 84 : 78), Int64(m), Int64(n), Int64(k), alpha,
            a.pointer + aOffset, Int64(lda), b.pointer + bOffset, Int64(ldb), beta, c.pointer + cOffset, Int64(ldc))
        precondition(status == dnnl_success, "gemm: oneDNN sgemm failed with status \(status.rawValue) for m=\(m) n=\(n) k=\(k)")
    }

    public func fill(_ storage: TensorStorage, value: Float, count: Int) {
        bp_fill(Int64(count), value, storage.pointer)
    }

    // Elementwise kernels run on blocked activations as they are when every operand shares the
    // layout (it holds exactly the NHWC elements, in another order); otherwise on NHWC.

    public func scale(_ x: TensorStorage, by alpha: Float, into y: TensorStorage, count: Int, accumulate: Bool) {
        let fresh = !accumulate && x !== y && y.canAdopt
        if fresh, let (layout, source) = blockedElements(x), layout.elementCount == count {
            scaleElements(count, alpha, source, y.outputPointer, accumulate: false)
            y.adopt(layout)
        } else if !fresh, let (_, pointers) = sharedBlockedElements([x, y], count: count) {
            scaleElements(count, alpha, pointers[0], pointers[1], accumulate: accumulate)
        } else {
            scaleElements(count, alpha, x.pointer, y.pointer, accumulate: accumulate)
        }
    }

    /// y (=|+=) α·x; a plain copy is a memory copy (bit for bit, subnormals kept despite FTZ).
    private func scaleElements(
        _ count: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        if alpha == 1 && !accumulate {
            if x != y { y.update(from: x, count: count) }
            return
        }
        bp_scale(Int64(count), alpha, x, y, accumulate ? 1 : 0)
    }

    public func unary(_ op: UnaryOperation, _ x: TensorStorage, into y: TensorStorage, count: Int) {
        let (code, a, b) = op.kernel
        if y.canAdopt, let (layout, source) = blockedElements(x), layout.elementCount == count {
            bp_unary(code, Int64(count), source, y.outputPointer, a, b)
            y.adopt(layout)
            return
        }
        bp_unary(code, Int64(count), x.pointer, y.pointer, a, b)
    }

    public func unaryBackward(
        _ op: UnaryOperation, x: TensorStorage, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage,
        count: Int, accumulate: Bool
    ) {
        let (code, a, b) = op.kernel
        let fresh = !accumulate && dx.canAdopt
        if let (layout, p) = sharedBlockedElements(fresh ? [x, y, dy] : [x, y, dy, dx], count: count) {
            let target = fresh ? dx.outputPointer : p[3]
            bp_unary_backward(code, Int64(count), p[0], p[1], p[2], target, accumulate ? 1 : 0, a, b)
            if fresh { dx.adopt(layout) }
            return
        }
        bp_unary_backward(code, Int64(count), x.pointer, y.pointer, dy.pointer, dx.pointer, accumulate ? 1 : 0, a, b)
    }

    public func binary(
        _ op: BinaryOperation, shape: [Int], _ a: TensorStorage, strides aStrides: [Int], _ b: TensorStorage,
        strides bStrides: [Int], into out: TensorStorage
    ) {
        let count = shape.reduce(1, *)
        let contiguous = Shape(shape).strides
        if aStrides == contiguous, bStrides == contiguous, out.canAdopt, let (layout, p) = sharedBlockedElements([a, b], count: count) {
            var one = Int64(count)
            var unit: Int64 = 1
            bp_binary(op.kernel, 1, &one, p[0], &unit, p[1], &unit, out.outputPointer)
            out.adopt(layout)
            return
        }
        let (shape, strides) = coalesce(shape, [aStrides, bStrides, Shape(shape).strides])
        shape.withInt64s { shape in
            strides[0].withInt64s { sa in
                strides[1].withInt64s { sb in
                    bp_binary(
                        op.kernel, Int32(shape.count), shape.baseAddress, a.pointer, sa.baseAddress,
                        b.pointer, sb.baseAddress, out.pointer)
                }
            }
        }
    }

    public func copy(
        shape: [Int], from src: TensorStorage, offset srcOffset: Int, strides srcStrides: [Int],
        into dst: TensorStorage, offset dstOffset: Int, strides dstStrides: [Int], accumulate: Bool
    ) {
        let (shape, strides) = coalesce(shape, [srcStrides, dstStrides])
        shape.withInt64s { shape in
            strides[0].withInt64s { ss in
                strides[1].withInt64s { ds in
                    bp_copy_strided(
                        Int32(shape.count), shape.baseAddress, src.pointer + srcOffset, ss.baseAddress,
                        dst.pointer + dstOffset, ds.baseAddress, accumulate ? 1 : 0)
                }
            }
        }
    }

    public func maxReduce(shape: [Int], from src: TensorStorage, into dst: TensorStorage, strides dstStrides: [Int]) {
        let (shape, strides) = coalesce(shape, [Shape(shape).strides, dstStrides])
        shape.withInt64s { shape in
            strides[1].withInt64s { ds in
                bp_max_strided(Int32(shape.count), shape.baseAddress, src.pointer, dst.pointer, ds.baseAddress)
            }
        }
    }

    public func argmax(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, into dst: TensorStorage) {
        bp_argmax(Int64(outer), Int64(axis), Int64(inner), src.pointer, dst.pointer)
    }

    public func gather(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage) {
        indices.withInt64s { index in
            bp_gather(Int64(outer), Int64(axis), Int64(inner), src.pointer, index.baseAddress, Int64(index.count), dst.pointer)
        }
    }

    public func scatterAdd(
        outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage,
        accumulate: Bool
    ) {
        indices.withInt64s { index in
            bp_scatter_add(
                Int64(outer), Int64(axis), Int64(inner), src.pointer, index.baseAddress, Int64(index.count),
                dst.pointer, accumulate ? 1 : 0)
        }
    }

    public func logSoftmax(rows: Int, classes: Int, _ x: TensorStorage, into y: TensorStorage) {
        bp_log_softmax(Int64(rows), Int64(classes), x.pointer, y.pointer)
    }

    public func logSoftmaxBackward(
        rows: Int, classes: Int, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage, accumulate: Bool
    ) {
        bp_log_softmax_backward(Int64(rows), Int64(classes), y.pointer, dy.pointer, dx.pointer, accumulate ? 1 : 0)
    }

    public func softmaxCrossEntropy(
        rows: Int, classes: Int, logits: TensorStorage, labels: TensorStorage, probabilities: TensorStorage,
        loss: TensorStorage
    ) -> Int? {
        let bad = bp_softmax_cross_entropy(
            Int64(rows), Int64(classes), logits.pointer, labels.pointer,
            probabilities.pointer, loss.pointer)
        return bad < 0 ? nil : Int(bad)
    }

    public func softmaxCrossEntropyBackward(
        rows: Int, classes: Int, probabilities: TensorStorage, labels: TensorStorage, scale: Float,
        into dx: TensorStorage, accumulate: Bool
    ) {
        bp_softmax_cross_entropy_backward(
            Int64(rows), Int64(classes), probabilities.pointer, labels.pointer, scale,
            dx.pointer, accumulate ? 1 : 0)
    }

    public func sum(_ x: TensorStorage, count: Int) -> Double { bp_sum(Int64(count), x.pointer) }

    public func optimizerUpdate(
        _ update: OptimizerUpdate, parameters: TensorStorage, gradients: TensorStorage, state: [TensorStorage],
        range: Range<Int>
    ) {
        var u = bp_update()
        u.learning_rate = update.learningRate
        u.weight_decay = update.weightDecay
        u.decoupled = update.decoupledWeightDecay ? 1 : 0
        switch update.rule {
        case .sgd(let momentum, let nesterov):
            u.rule = BP_RULE_SGD
            u.momentum = momentum
            u.nesterov = nesterov ? 1 : 0
        case .adaGrad(let epsilon):
            u.rule = BP_RULE_ADAGRAD
            u.epsilon = epsilon
        case .rmsProp(let alpha, let epsilon, let momentum, let centered):
            u.rule = BP_RULE_RMSPROP
            u.beta2 = alpha
            u.epsilon = epsilon
            u.momentum = momentum
            u.centered = centered ? 1 : 0
        case .adam(let beta1, let beta2, let epsilon, let c1, let c2, let amsGrad):
            u.rule = BP_RULE_ADAM
            u.beta1 = beta1
            u.beta2 = beta2
            u.epsilon = epsilon
            u.bias_correction1 = c1
            u.bias_correction2 = c2
            u.amsgrad = amsGrad ? 1 : 0
        }
        let offset = range.lowerBound
        func pointer(_ index: Int) -> UnsafeMutablePointer<Float>? { index < state.count ? state[index].pointer + offset : nil }
        bp_optimizer_update(
            &u, Int64(range.count), parameters.pointer + offset, gradients.pointer + offset,
            pointer(0), pointer(1), pointer(2))
    }

    public func clipValues(_ gradients: TensorStorage, count: Int, limit: Float) {
        bp_clip_values(Int64(count), gradients.pointer, limit)
    }

    public func sumOfSquares(_ x: TensorStorage, count: Int) -> Double { bp_sum_of_squares(Int64(count), x.pointer) }
}

/// Merges adjacent axes that are contiguous in every operand and drops size-1 axes, so kernels see
/// the fewest, longest rows (a same-shape add becomes one flat loop).
func coalesce(_ shape: [Int], _ strides: [[Int]]) -> ([Int], [[Int]]) {
    var outShape: [Int] = []
    var outStrides: [[Int]] = Array(repeating: [], count: strides.count)
    for axis in shape.indices where shape[axis] != 1 {
        if !outShape.isEmpty,
            strides.indices.allSatisfy({ strides[$0][axis] * shape[axis] == outStrides[$0].last! })
        {
            outShape[outShape.count - 1] *= shape[axis]
            for operand in strides.indices { outStrides[operand][outStrides[operand].count - 1] = strides[operand][axis] }
        } else {
            outShape.append(shape[axis])
            for operand in strides.indices { outStrides[operand].append(strides[operand][axis]) }
        }
    }
    precondition(outShape.count <= Int(BP_MAX_RANK), "tensor rank \(outShape.count) exceeds the kernels' limit of \(BP_MAX_RANK)")
    return (outShape, outStrides)
}

extension Array where Element == Int {
    func withInt64s<R>(_ body: (UnsafeBufferPointer<Int64>) -> R) -> R {
        map(Int64.init).withUnsafeBufferPointer(body)
    }
}

extension UnaryOperation {
    var kernel: (bp_unary_op, Float, Float) {
        switch self {
        case .negate: (BP_UNARY_NEG, 0, 0)
        case .exp: (BP_UNARY_EXP, 0, 0)
        case .log: (BP_UNARY_LOG, 0, 0)
        case .squareRoot: (BP_UNARY_SQRT, 0, 0)
        case .absolute: (BP_UNARY_ABS, 0, 0)
        case .square: (BP_UNARY_SQUARE, 0, 0)
        case .relu: (BP_UNARY_RELU, 0, 0)
        case .sigmoid: (BP_UNARY_SIGMOID, 0, 0)
        case .tanh: (BP_UNARY_TANH, 0, 0)
        case .softplus: (BP_UNARY_SOFTPLUS, 0, 0)
        case .leakyRelu(let slope): (BP_UNARY_LEAKY_RELU, slope, 0)
        case .elu(let alpha): (BP_UNARY_ELU, alpha, 0)
        case .clamp(let lower, let upper): (BP_UNARY_CLAMP, lower, upper)
        case .power(let exponent): (BP_UNARY_POW, exponent, 0)
        case .affine(let scale, let shift): (BP_UNARY_AFFINE, scale, shift)
        }
    }
}

extension BinaryOperation {
    var kernel: bp_binary_op {
        switch self {
        case .add: BP_BINARY_ADD
        case .subtract: BP_BINARY_SUB
        case .multiply: BP_BINARY_MUL
        case .divide: BP_BINARY_DIV
        case .maximum: BP_BINARY_MAX
        case .minimum: BP_BINARY_MIN
        case .power: BP_BINARY_POW
        case .equal: BP_BINARY_EQUAL
        case .greater: BP_BINARY_GREATER
        }
    }
}

extension Backends {
    /// Runs the C kernels called on this thread on it alone: for helper threads (the data loader's
    /// prefetch thread), where a parallel region would start a second OpenMP pool competing with the
    /// training thread's for the same cores.
    static func keepKernelsOnThisThread() { bp_set_serial_thread(1) }
}
