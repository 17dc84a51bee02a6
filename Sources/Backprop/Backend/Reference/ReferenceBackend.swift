import Foundation

/// A backend written as plain Swift loops over row-major memory, one element at a time, with no
/// library calls, layouts, threads or fused kernels: the test oracle for ``CPUBackend``.
///
/// It follows the ``Backend`` contract literally (the formulas in each method's documentation) and
/// sums in double precision, so a disagreement with the CPU backend points at the faster code.
/// Thousands of times slower than the CPU backend; for tests and small checks only.
///
/// ```swift
/// let y = Backends.using(ReferenceBackend()) { model.predict(x) }
/// ```
public final class ReferenceBackend: Backend {
    public let name = "reference (plain Swift)"

    public init() {}

    public func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: TensorStorage, aOffset: Int, lda: Int, b: TensorStorage, bOffset: Int, ldb: Int,
        beta: Float, c: TensorStorage, cOffset: Int, ldc: Int
    ) {
        let (a, b, c) = (a.pointer + aOffset, b.pointer + bOffset, c.pointer + cOffset)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let left = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let right = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(left) * Double(right)
                }
                let product = alpha * Float(sum)
                c[i * ldc + j] = beta == 0 ? product : product + beta * c[i * ldc + j]
            }
        }
    }

    public func fill(_ storage: TensorStorage, value: Float, count: Int) {
        storage.pointer.update(repeating: value, count: count)
    }

    public func scale(_ x: TensorStorage, by alpha: Float, into y: TensorStorage, count: Int, accumulate: Bool) {
        let (x, y) = (x.pointer, y.pointer)
        for i in 0..<count { y[i] = accumulate ? y[i] + alpha * x[i] : alpha * x[i] }
    }

    public func unary(_ op: UnaryOperation, _ x: TensorStorage, into y: TensorStorage, count: Int) {
        let (x, y) = (x.pointer, y.pointer)
        for i in 0..<count { y[i] = op.apply(x[i]) }
    }

    public func unaryBackward(
        _ op: UnaryOperation, x: TensorStorage, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage,
        count: Int, accumulate: Bool
    ) {
        let (x, y, dy, dx) = (x.pointer, y.pointer, dy.pointer, dx.pointer)
        for i in 0..<count {
            let value = dy[i] * op.derivative(x: x[i], y: y[i])
            dx[i] = accumulate ? dx[i] + value : value
        }
    }

    public func binary(
        _ op: BinaryOperation, shape: [Int], _ a: TensorStorage, strides aStrides: [Int], _ b: TensorStorage,
        strides bStrides: [Int], into out: TensorStorage
    ) {
        let (a, b, out) = (a.pointer, b.pointer, out.pointer)
        var index = 0
        forEachIndex(shape) { position in
            out[index] = op.apply(a[offset(position, aStrides)], b[offset(position, bStrides)])
            index += 1
        }
    }

    public func copy(
        shape: [Int], from src: TensorStorage, offset srcOffset: Int, strides srcStrides: [Int],
        into dst: TensorStorage, offset dstOffset: Int, strides dstStrides: [Int], accumulate: Bool
    ) {
        // A destination stride of 0 on an axis longer than 1 is a sum, which always adds.
        let sums = zip(shape, dstStrides).contains { $0.0 > 1 && $0.1 == 0 }
        let (src, dst) = (src.pointer + srcOffset, dst.pointer + dstOffset)
        forEachIndex(shape) { position in
            let (from, to) = (offset(position, srcStrides), offset(position, dstStrides))
            dst[to] = accumulate || sums ? dst[to] + src[from] : src[from]
        }
    }

    public func maxReduce(shape: [Int], from src: TensorStorage, into dst: TensorStorage, strides dstStrides: [Int]) {
        let (src, dst) = (src.pointer, dst.pointer)
        var index = 0
        forEachIndex(shape) { position in
            let to = offset(position, dstStrides)
            dst[to] = Float.maximum(dst[to], src[index])  // NaN-ignoring, as C's fmaxf
            index += 1
        }
    }

    public func argmax(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, into dst: TensorStorage) {
        let (src, dst) = (src.pointer, dst.pointer)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                for j in 1..<max(axis, 1) {
                    let (value, current) = (src[(o * axis + j) * inner + i], src[(o * axis + best) * inner + i])
                    // NaN wins, so that a broken model is not reported as confidently right.
                    if value > current || (value.isNaN && !current.isNaN) { best = j }
                }
                dst[o * inner + i] = Float(best)
            }
        }
    }

    public func gather(outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage) {
        let (src, dst) = (src.pointer, dst.pointer)
        for o in 0..<outer {
            for (j, index) in indices.enumerated() {
                for i in 0..<inner { dst[(o * indices.count + j) * inner + i] = src[(o * axis + index) * inner + i] }
            }
        }
    }

    public func scatterAdd(
        outer: Int, axis: Int, inner: Int, _ src: TensorStorage, indices: [Int], into dst: TensorStorage,
        accumulate: Bool
    ) {
        if !accumulate { fill(dst, value: 0, count: outer * axis * inner) }
        let (src, dst) = (src.pointer, dst.pointer)
        for o in 0..<outer {
            for (j, index) in indices.enumerated() {
                for i in 0..<inner { dst[(o * axis + index) * inner + i] += src[(o * indices.count + j) * inner + i] }
            }
        }
    }

    public func logSoftmax(rows: Int, classes: Int, _ x: TensorStorage, into y: TensorStorage) {
        let (x, y) = (x.pointer, y.pointer)
        for r in 0..<rows {
            let row = x + r * classes
            let top = (0..<classes).map { Double(row[$0]) }.max() ?? 0
            let logSum = log((0..<classes).reduce(0.0) { $0 + exp(Double(row[$1]) - top) }) + top
            for i in 0..<classes { y[r * classes + i] = Float(Double(row[i]) - logSum) }
        }
    }

    public func logSoftmaxBackward(
        rows: Int, classes: Int, y: TensorStorage, dy: TensorStorage, into dx: TensorStorage, accumulate: Bool
    ) {
        let (y, dy, dx) = (y.pointer, dy.pointer, dx.pointer)
        for r in 0..<rows {
            let base = r * classes
            let total = (0..<classes).reduce(0.0) { $0 + Double(dy[base + $1]) }
            for i in 0..<classes {
                let value = Float(Double(dy[base + i]) - exp(Double(y[base + i])) * total)
                dx[base + i] = accumulate ? dx[base + i] + value : value
            }
        }
    }

    public func softmaxCrossEntropy(
        rows: Int, classes: Int, logits: TensorStorage, labels: TensorStorage, probabilities: TensorStorage,
        loss: TensorStorage
    ) -> Int? {
        let (logits, labels, probabilities) = (logits.pointer, labels.pointer, probabilities.pointer)
        var total = 0.0
        for r in 0..<rows {
            let label = labels[r]
            guard label >= 0, label < Float(classes), label == label.rounded(.down) else { return r }
            let row = logits + r * classes
            let top = (0..<classes).map { Double(row[$0]) }.max() ?? 0
            let sum = (0..<classes).reduce(0.0) { $0 + exp(Double(row[$1]) - top) }
            for i in 0..<classes { probabilities[r * classes + i] = Float(exp(Double(row[i]) - top) / sum) }
            total += top + log(sum) - Double(row[Int(label)])
        }
        loss.pointer[0] = rows > 0 ? Float(total / Double(rows)) : 0
        return nil
    }

    public func softmaxCrossEntropyBackward(
        rows: Int, classes: Int, probabilities: TensorStorage, labels: TensorStorage, scale: Float,
        into dx: TensorStorage, accumulate: Bool
    ) {
        let (probabilities, labels, dx) = (probabilities.pointer, labels.pointer, dx.pointer)
        for r in 0..<rows {
            for i in 0..<classes {
                let value = scale * (probabilities[r * classes + i] - (Int(labels[r]) == i ? 1 : 0))
                dx[r * classes + i] = accumulate ? dx[r * classes + i] + value : value
            }
        }
    }

    public func sum(_ x: TensorStorage, count: Int) -> Double {
        (0..<count).reduce(0.0) { $0 + Double(x.pointer[$1]) }
    }

    public func kernelNames(_ geometry: ConvolutionGeometry) -> [String] { Array(repeating: "reference", count: 3) }
    public func kernelNames(_ geometry: PoolingGeometry) -> [String] { Array(repeating: "reference", count: 2) }

    public func optimizerUpdate(
        _ update: OptimizerUpdate, parameters: TensorStorage, gradients: TensorStorage, state: [TensorStorage],
        range: Range<Int>
    ) {
        let (p, g) = (parameters.pointer, gradients.pointer)
        let s = state.map(\.pointer)
        let (lr, wd) = (update.learningRate, update.weightDecay)
        for i in range {
            // L2 decay joins the gradient, except Adam's decoupled decay (AdamW), which shrinks the weight.
            let decoupled: Bool
            if case .adam = update.rule { decoupled = update.decoupledWeightDecay } else { decoupled = false }
            let gradient = g[i] + (decoupled ? 0 : wd * p[i])
            switch update.rule {
            case .sgd(let momentum, let nesterov):
                guard momentum != 0 else {
                    p[i] -= lr * gradient
                    continue
                }
                let velocity = momentum * s[0][i] + gradient
                s[0][i] = velocity
                p[i] -= lr * (nesterov ? gradient + momentum * velocity : velocity)
            case .adaGrad(let epsilon):
                s[0][i] += gradient * gradient
                p[i] -= lr * gradient / (s[0][i].squareRoot() + epsilon)
            case .rmsProp(let alpha, let epsilon, let momentum, let centered):
                s[0][i] = alpha * s[0][i] + (1 - alpha) * gradient * gradient
                var variance = s[0][i]
                if centered {
                    s[2][i] = alpha * s[2][i] + (1 - alpha) * gradient
                    variance -= s[2][i] * s[2][i]
                }
                var step = gradient / (variance.squareRoot() + epsilon)
                if momentum > 0 {
                    s[1][i] = momentum * s[1][i] + step
                    step = s[1][i]
                }
                p[i] -= lr * step
            case .adam(let beta1, let beta2, let epsilon, let c1, let c2, let amsGrad):
                s[0][i] = beta1 * s[0][i] + (1 - beta1) * gradient
                s[1][i] = beta2 * s[1][i] + (1 - beta2) * gradient * gradient
                var second = s[1][i]
                if amsGrad {
                    s[2][i] = Float.maximum(s[2][i], second)
                    second = s[2][i]
                }
                let shrink: Float = update.decoupledWeightDecay ? 1 - lr * wd : 1
                p[i] = shrink * p[i] - (lr / c1) * s[0][i] / ((second / c2).squareRoot() + epsilon)
            }
        }
    }

    public func clipValues(_ gradients: TensorStorage, count: Int, limit: Float) {
        // maxNum/minNum, as C's fmaxf/fminf: NaN becomes -limit.
        for i in 0..<count { gradients.pointer[i] = Float.minimum(Float.maximum(gradients.pointer[i], -limit), limit) }
    }

    public func sumOfSquares(_ x: TensorStorage, count: Int) -> Double {
        (0..<count).reduce(0.0) { $0 + Double(x.pointer[$1]) * Double(x.pointer[$1]) }
    }
}

/// Visits every multi-index of `shape` in row-major order.
func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
    guard !shape.contains(0) else { return }
    var position = Array(repeating: 0, count: shape.count)
    while true {
        body(position)
        var axis = shape.count - 1
        while axis >= 0 {
            position[axis] += 1
            if position[axis] < shape[axis] { break }
            position[axis] = 0
            axis -= 1
        }
        if axis < 0 { return }
    }
}

/// Σ position[axis] · strides[axis].
func offset(_ position: [Int], _ strides: [Int]) -> Int {
    zip(position, strides).reduce(0) { $0 + $1.0 * $1.1 }
}

extension UnaryOperation {
    /// The function, as the ``Backend`` contract defines it (ReLU keeps NaN).
    func apply(_ x: Float) -> Float {
        switch self {
        case .negate: -x
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .squareRoot: x.squareRoot()
        case .absolute: abs(x)
        case .square: x * x
        case .relu: x < 0 ? 0 : x
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .tanh: Foundation.tanh(x)
        case .softplus: max(x, 0) + Foundation.log(1 + Foundation.exp(-abs(x)))
        case .leakyRelu(let slope): x > 0 ? x : slope * x
        case .elu(let alpha): x > 0 ? x : alpha * Foundation.expm1(x)
        case .clamp(let lower, let upper): Float.minimum(Float.maximum(x, lower), upper)  // NaN → lower, as fmaxf
        case .power(let exponent): Foundation.pow(x, exponent)
        case .affine(let scale, let shift): scale * x + shift
        }
    }

    /// d op / dx at x, given y = op(x); 0 at the kinks of abs, ReLU and clamp's outside.
    func derivative(x: Float, y: Float) -> Float {
        switch self {
        case .negate: -1
        case .exp: y
        case .log: 1 / x
        case .squareRoot: 0.5 / y
        case .absolute: x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .square: 2 * x
        case .relu: y > 0 ? 1 : 0
        case .sigmoid: y * (1 - y)
        case .tanh: 1 - y * y
        case .softplus: 1 / (1 + Foundation.exp(-x))
        case .leakyRelu(let slope): x > 0 ? 1 : slope
        case .elu(let alpha): x > 0 ? 1 : y + alpha
        case .clamp(let lower, let upper): x >= lower && x <= upper ? 1 : 0
        case .power(let exponent): exponent * Foundation.pow(x, exponent - 1)
        case .affine(let scale, _): scale
        }
    }
}

extension BinaryOperation {
    func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .maximum: Float.maximum(a, b)
        case .minimum: Float.minimum(a, b)
        case .power: Foundation.pow(a, b)
        case .equal: a == b ? 1 : 0
        case .greater: a > b ? 1 : 0
        }
    }
}
