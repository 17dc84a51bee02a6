import ArgumentParser
import Backprop

/// The optimizers `--optimizer` can name.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    case sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw

    /// The learning rate used when --lr is not given.
    var defaultLearningRate: Float {
        switch self {
        case .sgd, .momentum, .nesterov, .adagrad, .rmsprop: 0.01
        case .adam, .adamw: 1e-3
        }
    }

    var usesMomentum: Bool { self == .momentum || self == .nesterov || self == .rmsprop }
    var isAdam: Bool { self == .adam || self == .adamw }

    /// Per-parameter state buffers the rule keeps (for the memory estimate).
    func stateBuffers(amsGrad: Bool) -> Int {
        switch self {
        case .sgd: 0
        case .momentum, .nesterov, .adagrad: 1
        case .rmsprop: 3
        case .adam, .adamw: amsGrad ? 3 : 2
        }
    }
}

/// The learning-rate schedules `--lr-schedule` can name.
enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable {
    case constant, linear, exponential, step, cosine, invsqrt, plateau
}

/// The batch-size schedules `--batch-schedule` can name.
enum BatchScheduleChoice: String, ExpressibleByArgument, CaseIterable {
    case none, step, plateau
}

/// The losses `--loss` can name.
enum LossChoice: String, ExpressibleByArgument, CaseIterable {
    /// cross-entropy for classes, mse for regression.
    case auto
    case crossEntropy = "cross-entropy"
    case bce, mse, mae, huber
}

/// `--normalize`: how inputs are standardized, fitted on the training split.
enum NormalizeChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, none, standard, minmax
}

/// `--prefetch`: whether the next batch is prepared on a background thread.
enum PrefetchChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, on, off
}
