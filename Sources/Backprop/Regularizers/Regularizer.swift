/// A parameter-norm penalty λΩ(W) added to the training loss (the course's regularization):
/// L2 is λ·Σw², L1 is λ·Σ|w| (Keras's definitions). Attach one to a parameter
/// (`Dense(…, kernelRegularizer: .l2(1e-4))`); `fit` adds every penalty to the loss it optimizes
/// and reports it as `penalty`, so both parts are visible.
public enum Regularizer: Sendable, Equatable, Codable {
    case l2(Float)
    case l1(Float)
    case l1l2(l1: Float, l2: Float)

    /// The penalty for `value`, as a differentiable scalar.
    public func penalty(_ value: Tensor) -> Tensor {
        switch self {
        case .l2(let lambda): value.squared().sum() * lambda
        case .l1(let lambda): value.abs().sum() * lambda
        case .l1l2(let l1, let l2): value.abs().sum() * l1 + value.squared().sum() * l2
        }
    }
}

extension Layer {
    /// The sum of all parameters' penalties, or nil when no parameter has a regularizer.
    public func regularizationPenalty() -> Tensor? {
        let terms = parameters.compactMap { parameter in parameter.regularizer.map { $0.penalty(parameter.value) } }
        guard var total = terms.first else { return nil }
        for term in terms.dropFirst() { total = total + term }
        return total
    }
}
