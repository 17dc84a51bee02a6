import Foundation

/// A learning rate as a function of the step (or epoch) count t, counted from 0.
///
/// ```swift
/// let schedule = LearningRateSchedule.cosine(initial: 0.1, period: 10_000).withWarmup(steps: 500)
/// schedule.value(at: 0)      // 0.1 / 500
/// ```
public indirect enum LearningRateSchedule: Sendable, Equatable {
    /// α0 throughout.
    case constant(Float)
    /// α0(1 − t/T) + α_T·t/T until T, then α_T (the course's linear decay).
    case linear(initial: Float, final: Float = 0, steps: Int)
    /// α0 · rate^(t / steps).
    case exponential(initial: Float, rate: Float, steps: Int)
    /// `values[i]` from boundary i−1 (inclusive) to boundary i; `values` has one more entry than
    /// `boundaries`.
    case piecewise(boundaries: [Int], values: [Float])
    /// α_min + ½(α0 − α_min)(1 + cos(π·t/T)) over a period T; with `restarts` it starts again
    /// after each period, the period growing by `periodMultiplier` (SGDR, Loshchilov & Hutter 2017),
    /// otherwise it stays at α_min.
    case cosine(initial: Float, period: Int, minimum: Float = 0, restarts: Bool = false, periodMultiplier: Int = 1)
    /// α0 until t = `steps`, then α0·√(steps / t) (the Transformer's decay).
    case inverseSquareRoot(initial: Float, steps: Int)
    /// Rises linearly from α(0)/steps to α(0) over `steps`, then follows `schedule` from its t = 0.
    case warmup(steps: Int, schedule: LearningRateSchedule)

    /// This schedule after a linear warm-up of `steps`.
    public func withWarmup(steps: Int) -> LearningRateSchedule {
        steps > 0 ? .warmup(steps: steps, schedule: self) : self
    }

    /// The learning rate at step (or epoch) t ≥ 0.
    public func value(at t: Int) -> Float {
        let t = max(t, 0)
        switch self {
        case .constant(let value):
            return value
        case .linear(let initial, let final, let steps):
            let fraction = min(Float(t) / Float(max(steps, 1)), 1)
            return initial * (1 - fraction) + final * fraction
        case .exponential(let initial, let rate, let steps):
            return initial * pow(rate, Float(t) / Float(max(steps, 1)))
        case .piecewise(let boundaries, let values):
            precondition(
                values.count == boundaries.count + 1,
                "piecewise: \(values.count) values for \(boundaries.count) boundaries; need one more value")
            return values[boundaries.firstIndex { t < $0 } ?? boundaries.count]
        case .cosine(let initial, let period, let minimum, let restarts, let multiplier):
            var position = t
            var length = max(period, 1)
            if restarts {
                while position >= length {
                    position -= length
                    length *= max(multiplier, 1)
                }
            } else if position >= length {
                return minimum
            }
            return minimum + 0.5 * (initial - minimum) * (1 + cos(Float.pi * Float(position) / Float(length)))
        case .inverseSquareRoot(let initial, let steps):
            return t <= steps ? initial : initial * (Float(max(steps, 1)) / Float(t)).squareRoot()
        case .warmup(let steps, let schedule):
            if t < steps { return schedule.value(at: 0) * Float(t + 1) / Float(steps) }
            return schedule.value(at: t - steps)
        }
    }
}
