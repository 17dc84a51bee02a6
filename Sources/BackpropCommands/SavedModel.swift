import ArgumentParser
import Backprop
import Foundation

/// A model file as `predict`, `evaluate`, `export` and `finetune` use it: the model and what its
/// metadata says about its outputs (the task, the class names, the regression targets' scaling).
struct SavedModel {
    let path: String
    let model: Model
    let metadata: [String: String]
    let task: Task
    /// Outputs of the network (1 for a binary classifier trained with bce).
    let outputs: Int
    /// Class names by index (classification): the file's, or "0"… when it has none.
    let classNames: [String]
    /// Regression targets were standardized with these; predictions are mapped back.
    let targetScaling: (mean: [Float], deviation: [Float])?

    /// Reads the model file; a model with several outputs (a graph's) only when `severalOutputs`
    /// (export and import handle them; predict, evaluate, visualize and finetune read one).
    init(path: String, severalOutputs: Bool = false) throws {
        let (model, metadata) = try Model.load(from: path)
        self.model = model
        self.metadata = metadata
        self.path = path
        guard let architecture = model.architecture else { preconditionFailure("a loaded model has its architecture") }
        let ports = architecture.outputPorts
        if ports.count > 1 && !severalOutputs {
            throw BackpropError.malformed(
                path: path, field: "architecture",
                expected: "one output (this command reads one; a model with several predicts from Swift: Model.predict([inputs]))",
                found: "outputs " + ports.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))
        }
        let plan = try architecture.plan()
        guard plan.outputShape.rank == 1, let outputs = plan.outputShape.dimensions.first else {
            throw BackpropError.malformed(
                path: path, field: "architecture", expected: "a network ending in [outputs] per sample",
                found: "output shape \(plan.outputShape)")
        }
        self.outputs = outputs
        func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T? {
            let metadata = metadata
            guard let text = metadata[key] else { return nil }
            do {
                return try JSONDecoder().decode(T.self, from: Data(text.utf8))
            } catch {
                throw BackpropError.malformed(path: path, field: "__metadata__.\(key)", expected: "JSON \(T.self)", found: text)
            }
        }
        switch metadata["backprop.task"] {
        case "regression": task = .regression
        case "classification", nil: task = .classification
        case let other?:
            throw BackpropError.malformed(
                path: path, field: "__metadata__.backprop.task", expected: "classification or regression", found: other)
        }
        let classes = task == .classification ? max(outputs, 2) : 0
        let names = try decode("backprop.class_names", [String].self) ?? []
        if task == .classification && !names.isEmpty && names.count != classes {
            throw BackpropError.malformed(
                path: path, field: "__metadata__.backprop.class_names", expected: "\(classes) names (the model's outputs)",
                found: "\(names.count)")
        }
        classNames = names.isEmpty ? (0..<classes).map(String.init) : names
        if let mean = try decode("backprop.target_mean", [Float].self), let deviation = try decode("backprop.target_std", [Float].self) {
            guard mean.count == outputs, deviation.count == outputs, deviation.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw BackpropError.malformed(
                    path: path, field: "__metadata__.backprop.target_std", expected: "\(outputs) positive numbers", found: "\(deviation)")
            }
            targetScaling = (mean, deviation)
        } else {
            targetScaling = nil
        }
    }

    /// The network's raw outputs for a dataset, in order, in batches (no tape, inference mode).
    func outputs(for data: any Dataset, batchSize: Int = 256, progress: ((Int, Int) -> Void)? = nil) throws -> (
        outputs: Tensor, targets: Tensor
    ) {
        let loader = DataLoader(data, batchSize: batchSize, prefetch: data.count > batchSize)
        let stream = loader.batches(epoch: 0)
        defer { stream.cancel() }
        var outputs: [Tensor] = []
        var targets: [Tensor] = []
        var done = 0
        try withoutGradient {
            while let (x, y) = try stream.next() {
                outputs.append(model(x))
                targets.append(y)
                done += x.shape[0]
                progress?(done, data.count)
            }
        }
        return (Tensor.concatenate(outputs), Tensor.concatenate(targets))
    }

    /// Class probabilities [N, classes] from the network's outputs: softmax, or for a single
    /// output the sigmoid as [1 − p, p].
    func probabilities(_ outputs: Tensor) -> Tensor {
        guard self.outputs == 1 else { return outputs.softmax() }
        let p = outputs.sigmoid()
        return Tensor.concatenate([1 - p, p], alongAxis: 1)
    }

    /// Regression outputs in the targets' units.
    func unscaled(_ outputs: Tensor) -> Tensor {
        guard let (mean, deviation) = targetScaling else { return outputs }
        let shape = Shape([mean.count])
        return outputs * Tensor(deviation, shape: shape) + Tensor(mean, shape: shape)
    }
}
