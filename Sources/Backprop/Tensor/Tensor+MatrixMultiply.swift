// Matrix products through the backend's single GEMM entry point. Gradients are written by GEMMs
// straight into the inputs' gradient buffers (β = 1 when accumulating), so a weight gradient lands
// in the optimizer's flat buffer without a copy.

/// The matrix product of `a` and `b`.
///
/// - `a` [m, k] · `b` [k, n] → [m, n]
/// - `a` [..., m, k] · `b` [k, n] → [..., m, n] (the leading axes of `a` act as extra rows)
/// - `a` [B..., m, k] · `b` [B..., k, n] → [B..., m, n] (batched, equal leading axes)
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: operands must have rank ≥ 2, got \(a.shape) and \(b.shape)")
    let k = a.shape[a.rank - 1]
    precondition(b.shape[b.rank - 2] == k, "matmul: inner extents differ: \(a.shape) · \(b.shape)")
    let n = b.shape[b.rank - 1]
    let backend = Backends.current
    if b.rank == 2 {
        let m = a.shape.dimensions.dropLast().reduce(1, *)
        var resultShape = a.shape
        resultShape[a.rank - 1] = n
        let result = Tensor(uninitializedShape: resultShape)
        backend.gemm(
            transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a.storage, aOffset: 0, lda: k,
            b: b.storage, bOffset: 0, ldb: n, beta: 0, c: result.storage, cOffset: 0, ldc: n)
        return Tensor.record("matmul", result, inputs: [a, b]) { gradient, sink in
            if let (target, accumulate) = sink.target(0) {  // dA = dY · Bᵀ
                backend.gemm(
                    transposeA: false, transposeB: true, m: m, n: k, k: n, alpha: 1, a: gradient.storage, aOffset: 0,
                    lda: n, b: b.storage, bOffset: 0, ldb: n, beta: accumulate ? 1 : 0, c: target.storage, cOffset: 0, ldc: k)
            }
            if let (target, accumulate) = sink.target(1) {  // dB = Aᵀ · dY
                backend.gemm(
                    transposeA: true, transposeB: false, m: k, n: n, k: m, alpha: 1, a: a.storage, aOffset: 0, lda: k,
                    b: gradient.storage, bOffset: 0, ldb: n, beta: accumulate ? 1 : 0, c: target.storage, cOffset: 0, ldc: n)
            }
        }
    }
    precondition(
        a.rank == b.rank && a.shape.dimensions.dropLast(2) == b.shape.dimensions.dropLast(2),
        "matmul: batch axes differ: \(a.shape) · \(b.shape)")
    let m = a.shape[a.rank - 2]
    let batch = a.shape.dimensions.dropLast(2).reduce(1, *)
    var resultShape = a.shape
    resultShape[a.rank - 1] = n
    let result = Tensor(uninitializedShape: resultShape)
    for i in 0..<batch {
        backend.gemm(
            transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: a.storage, aOffset: i * m * k, lda: k,
            b: b.storage, bOffset: i * k * n, ldb: n, beta: 0, c: result.storage, cOffset: i * m * n, ldc: n)
    }
    return Tensor.record("matmul", result, inputs: [a, b]) { gradient, sink in
        if let (target, accumulate) = sink.target(0) {
            for i in 0..<batch {
                backend.gemm(
                    transposeA: false, transposeB: true, m: m, n: k, k: n, alpha: 1, a: gradient.storage,
                    aOffset: i * m * n, lda: n, b: b.storage, bOffset: i * k * n, ldb: n, beta: accumulate ? 1 : 0,
                    c: target.storage, cOffset: i * m * k, ldc: k)
            }
        }
        if let (target, accumulate) = sink.target(1) {
            for i in 0..<batch {
                backend.gemm(
                    transposeA: true, transposeB: false, m: k, n: n, k: m, alpha: 1, a: a.storage, aOffset: i * m * k,
                    lda: k, b: gradient.storage, bOffset: i * m * n, ldb: n, beta: accumulate ? 1 : 0,
                    c: target.storage, cOffset: i * k * n, ldc: n)
            }
        }
    }
}
