import ArgumentParser
import Backprop
import Foundation

/// `backprop predict`: runs a saved model on samples and prints or writes what it predicts.
public struct PredictCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a saved model on new samples.",
        discussion: """
            Applies the model's own preprocessing (its normalization layer; images are resized to its input). \
            Classification: the class name, class index and probability per sample; regression: the predicted values \
            in the targets' units. --output x.npy writes the float32 [N, classes] probabilities (or [N, outputs] \
            values) in input order; x.csv and x.json one record per sample.
            """)

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Write the predictions to this .csv, .json or .npy file instead of printing them.")
    var output: String?

    public init() {}

    public func validate() throws {
        if let output {
            guard OutputKind(path: output) != nil else {
                throw ValidationError.option("--output", "a file ending in .csv, .json or .npy", got: output)
            }
        }
    }

    enum OutputKind {
        case csv, json, npy
        init?(path: String) {
            switch path.lowercased().split(separator: ".").last {
            case "csv": self = .csv
            case "json": self = .json
            case "npy": self = .npy
            default: return nil
            }
        }
    }

    public func run() throws {
        try input.applyThreads()
        if let output { try checkWritable(output, option: "--output") }
        let saved = try SavedModel(path: input.model)
        let samples = try input.load(for: saved, labelled: false)
        let (outputs, _) = try saved.outputs(for: samples.data, batchSize: input.batchSize)
        let table = try PredictionTable(saved: saved, names: samples.names, outputs: outputs)
        guard let output else {
            print(table.text)
            return
        }
        let data: Data =
            switch OutputKind(path: output)! {
            case .npy: table.values.encoded()
            case .csv: Data(table.csv.utf8)
            case .json: table.json
            }
        try AtomicFile.write(data, to: output)
        print("Wrote \(samples.names.count) predictions of \(input.model) on \(input.data) to \(output)")
    }
}

/// Refuses, before any work, an output path whose folder cannot be written or that is a folder.
func checkWritable(_ path: String, option: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw BackpropError.unwritable(path: path, reason: "it is a folder; \(option) names a file")
    }
    let folder = AtomicFile.split(path).folder
    guard access(folder, W_OK) == 0 else {
        throw BackpropError.unwritable(path: path, reason: "the folder \(folder): \(String(cString: strerror(errno)))")
    }
}

/// A saved model's predictions, one row per sample, in the forms predict writes.
struct PredictionTable {
    let saved: SavedModel
    let names: [String]
    /// Probabilities [N, classes] or regression values [N, outputs].
    let values: NumPyArray
    /// Per sample: the most probable class and its probability (classification).
    let best: [(index: Int, probability: Float)]

    init(saved: SavedModel, names: [String], outputs: Tensor) throws {
        self.saved = saved
        self.names = names
        let result = saved.task == .classification ? saved.probabilities(outputs) : saved.unscaled(outputs)
        let array = NumPyArray(shape: result.shape.dimensions, values: result.scalars)
        values = array
        let width = result.shape[1]
        if saved.task == .classification {
            best = (0..<names.count).map { row in
                let slice = array.values[(row * width)..<((row + 1) * width)]
                let index = slice.indices.max { slice[$0] < slice[$1] }! - row * width
                return (index, slice[row * width + index])
            }
        } else {
            best = []
        }
    }

    private var width: Int { values.shape[1] }

    private func row(_ index: Int) -> ArraySlice<Float> { values.values[(index * width)..<((index + 1) * width)] }

    var text: String {
        if saved.task == .regression {
            let header = "sample\t" + (0..<width).map { "y\($0)" }.joined(separator: "\t")
            return ([header] + names.indices.map { i in names[i] + "\t" + row(i).map { "\($0)" }.joined(separator: "\t") })
                .joined(separator: "\n")
        }
        let header = "sample\tclass\tclass_index\tprobability"
        return
            ([header]
            + names.indices.map { i in
                "\(names[i])\t\(saved.classNames[best[i].index])\t\(best[i].index)\t\(String(format: "%.4f", best[i].probability))"
            }).joined(separator: "\n")
    }

    var csv: String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        if saved.task == .regression {
            return ((["sample"] + (0..<width).map { "y\($0)" }).joined(separator: ",") + "\n")
                + names.indices.map { i in ([field(names[i])] + row(i).map { "\($0)" }).joined(separator: ",") + "\n" }.joined()
        }
        return "sample,class,class_index,probability\n"
            + names.indices.map { i in
                "\(field(names[i])),\(field(saved.classNames[best[i].index])),\(best[i].index),\(best[i].probability)\n"
            }.joined()
    }

    var json: Data {
        var records: [[String: Any]] = []
        for i in names.indices {
            let values = row(i).map(Double.init)
            if saved.task == .regression {
                records.append(["sample": names[i], "values": values])
            } else {
                records.append([
                    "sample": names[i], "class": saved.classNames[best[i].index], "class_index": best[i].index,
                    "probability": Double(best[i].probability), "probabilities": values,
                ])
            }
        }
        return (try? JSONSerialization.data(withJSONObject: records, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}

/// `backprop evaluate`: a saved model's loss and metrics on labelled samples.
public struct EvaluateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a saved model on labelled samples.",
        discussion:
            "Classification: loss, accuracy, top-k, per-class precision, recall and F1, and the confusion matrix with the class names. Regression: MAE, RMSE and R² in the targets' units."
    )

    @OptionGroup var input: InputOptions

    @Option(
        name: .customLong("top-k"), parsing: .unconditional,
        help: "Also report top-k accuracy (default 5 when there are more than 5 classes).")
    var topK: Int?

    @Flag(name: .long, help: "Print the figures as one JSON object.")
    var json = false

    public init() {}

    public func validate() throws {
        if let topK { try check(topK, "--top-k", in: 1...Limits.classes) }
    }

    public func run() throws {
        try input.applyThreads()
        let saved = try SavedModel(path: input.model)
        let samples = try input.load(for: saved, labelled: true)
        guard samples.hasTargets else {
            throw ValidationError(
                "\(input.data) has no targets to evaluate against: give --labels for an .npy, a label column in a CSV, or class folders of images (predict runs without them)"
            )
        }
        let (outputs, targets) = try saved.outputs(for: samples.data, batchSize: input.batchSize)
        if saved.task == .regression {
            let report = RegressionReport(predictions: saved.unscaled(outputs), targets: targets.reshaped(outputs.shape))
            if json {
                emit([
                    "model": input.model, "data": input.data, "samples": report.count, "mae": report.meanAbsoluteError,
                    "rmse": report.rootMeanSquaredError, "r2": report.rSquared, "r2_per_output": report.rSquaredPerOutput,
                ])
            } else {
                print("Evaluated \(input.model) on \(input.data) (\(samples.description), \(report.count) samples)")
                print(
                    String(
                        format: "MAE: %.4g - RMSE: %.4g - R²: %.4f", report.meanAbsoluteError, report.rootMeanSquaredError, report.rSquared)
                )
            }
            return
        }
        let classes = saved.classNames.count
        if let topK, topK > classes { throw ValidationError("--top-k must be at most the number of classes (\(classes)), got \(topK)") }
        let k = topK ?? (classes > 5 ? 5 : nil)
        let loss: Float = saved.outputs == 1 ? BinaryCrossEntropy()(outputs, targets).item : SoftmaxCrossEntropy()(outputs, targets).item
        let scores = saved.probabilities(outputs)
        let report = ClassificationReport(scores: scores, labels: targets, classNames: saved.classNames, topK: k.map { [$0] } ?? [])
        if json {
            var object: [String: Any] = [
                "model": input.model, "data": input.data, "samples": report.count, "loss": Double(loss), "accuracy": report.accuracy,
                "class_names": saved.classNames, "confusion_matrix": report.confusion,
                "per_class": saved.classNames.indices.map { c in
                    [
                        "class": saved.classNames[c], "precision": report.precision[c], "recall": report.recall[c], "f1": report.f1[c],
                        "support": report.support[c],
                    ] as [String: Any]
                },
            ]
            if let k, let value = report.topK[k] { object["top_k"] = ["\(k)": value] }
            emit(object)
            return
        }
        print("Evaluated \(input.model) on \(input.data) (\(samples.description), \(report.count) samples)")
        var line = String(format: "Loss: %.4f - accuracy: %.4f", loss, report.accuracy)
        if let k, let value = report.topK[k] { line += String(format: " - top-%d accuracy: %.4f", k, value) }
        print(line)
        print(report.formatted)
    }

    private func emit(_ object: [String: Any]) {
        // NaN (an undefined precision) is not JSON: written as null.
        func clean(_ value: Any) -> Any {
            switch value {
            case let number as Double: return number.isFinite ? number : NSNull()
            case let array as [Any]: return array.map(clean)
            case let dictionary as [String: Any]: return dictionary.mapValues(clean)
            default: return value
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: clean(object), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }
}
