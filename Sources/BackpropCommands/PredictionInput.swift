import ArgumentParser
import Backprop
import Foundation

/// Which split of data that has its own (IDX, CIFAR, an .npz with x_test) `predict` and
/// `evaluate` read.
enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
    case test, train
}

/// Samples to run a saved model on, read from anything `train` reads and more: a single PNG, a
/// folder of PNGs without class folders, an .npy of inputs, a CSV without a label column.
struct PredictionInput {
    /// Inputs (and targets, zeros when there are none) in the model's sample shape.
    let data: any Dataset
    /// Whether `data` has targets that are the model's (labels mapped to its classes).
    let hasTargets: Bool
    /// What each sample is called in the output: its file, or its row.
    let names: [String]
    let description: String
}

/// The `--data` options of predict and evaluate.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "The model file (from train --save, a run folder's model.safetensors or a checkpoint).")
    var model: String

    @Option(
        name: .long,
        help:
            "Samples: anything train reads (IDX or CIFAR folder, .csv, .npz, .npy, class folders of PNGs), a single .png, or a folder of PNGs (default: Fashion-MNIST's test split)."
    )
    var data: String = FashionMNIST.defaultDirectory

    @Option(name: .long, help: "Force the data format: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: DataFormat = .auto

    @Option(name: .long, help: "Targets of --data FILE.npy (optional for predict).")
    var labels: String?

    @Option(
        name: .customLong("label-column"),
        help:
            "CSV label column, by header name or 0-based index (default: the last column, if the CSV has one more column than the model's features)."
    )
    var labelColumn: String?

    @Option(name: .long, help: "Split of data that has one (IDX, CIFAR, .npz with x_test): test or train.")
    var split: SplitChoice = .test

    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Samples per batch (default 256).")
    var batchSize: Int = 256

    @Option(name: .long, parsing: .unconditional, help: "Threads for the kernels and oneDNN (default: all cores).")
    var threads: Int?

    func validate() throws {
        try check(batchSize, "--batch-size", in: 1...Limits.batchSize)
        if let threads { try check(threads, "--threads", in: 1...Limits.threads) }
        for (value, name) in [(model, "--model"), (data, "--data"), (labels ?? "x", "--labels"), (labelColumn ?? "x", "--label-column")]
        where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("\(name) needs a value, got an empty one")
        }
    }

    func applyThreads() throws {
        if let threads, !Backends.setThreadCount(threads) {
            throw ValidationError("--threads: no OpenMP runtime is loaded, so the thread count cannot be set")
        }
    }

    /// Reads the samples for `saved`, checking that they fit it and mapping labels to its classes.
    /// Without `labelled` (predict), labels the data may have are not read against the model's
    /// classes (a model of 5 classes predicts on data of 10).
    func load(for saved: SavedModel, labelled: Bool) throws -> PredictionInput {
        let shape = saved.model.inputShape
        let input = try read(for: saved, labelled: labelled)
        guard input.data.inputShape == shape else {
            throw ValidationError(
                "the model \(saved.path) takes samples of shape \(shape), but \(data) has samples of shape \(input.data.inputShape)")
        }
        guard input.data.count > 0 else { throw ValidationError("no samples in \(data)") }
        return input
    }

    private func read(for saved: SavedModel, labelled: Bool) throws -> PredictionInput {
        let shape = saved.model.inputShape
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) else { throw BackpropError.fileNotFound(path: data) }
        if !isDirectory.boolValue && data.lowercased().hasSuffix(".png") && format == .auto {
            return try images([(data, -1)], classes: [], shape: shape, what: "a PNG image")
        }
        let resolved = format == .auto ? try detectFormat(data) : format
        switch resolved {
        case .images:
            return try imageFolder(for: saved, labelled: labelled)
        case .csv:
            // As many columns as the model has features: no label column.
            let features = shape.elementCount
            if labelColumn == nil && shape.rank == 1, try CSVTable.header(ofFileAt: data).count == features {
                let table = try CSVTable(contentsOf: data, labelColumn: .none)
                return PredictionInput(
                    data: TensorDataset(inputs: table.features, targets: .zeros([table.features.shape[0]])), hasTargets: false,
                    names: (0..<table.features.shape[0]).map { "row \($0 + 2)" }, description: "CSV of \(features) features")
            }
        case .npy where labels == nil:
            let array = try NumPyArray(contentsOf: data)
            guard array.shape.count >= 2 else {
                throw BackpropError.malformed(path: data, field: "shape", expected: "[N, …] (one row per sample)", found: "\(array.shape)")
            }
            let tensor = try inputTensor(array, addingChannel: array.shape.count == 3 && shape.rank == 3, source: data)
            return PredictionInput(
                data: TensorDataset(inputs: tensor, targets: .zeros([tensor.shape[0]])), hasTargets: false,
                names: (0..<tensor.shape[0]).map { "sample \($0)" }, description: "NumPy array")
        case .npz:
            let arrays = try NumPyArchive.read(contentsOf: data)
            let key = arrays["x_test"] != nil ? (split == .test ? "x_test" : "x_train") : "x"
            if let x = arrays[key], arrays[key == "x" ? "y" : "y" + key.dropFirst()] == nil {
                let tensor = try inputTensor(x, addingChannel: x.shape.count == 3 && shape.rank == 3, source: "\(data): \(key)")
                return PredictionInput(
                    data: TensorDataset(inputs: tensor, targets: .zeros([tensor.shape[0]])), hasTargets: false,
                    names: (0..<tensor.shape[0]).map { "sample \($0)" }, description: "NumPy archive (\(key))")
            }
        default:
            break
        }
        // Labelled data, read as train reads it.
        let loaded = try loadData(
            DataRequest(
                path: data, format: resolved, labelColumn: labelColumn, labelsPath: labels,
                task: saved.task == .regression ? .regression : .classification,
                holdOut: false))
        // Data without its own split is returned whole as both.
        let chosen = split == .test ? loaded.test : loaded.train
        guard chosen.inputShape == shape else {
            throw ValidationError(
                "the model \(saved.path) takes samples of shape \(shape), but \(data) has samples of shape \(chosen.inputShape)")
        }
        guard labelled else {
            return PredictionInput(
                data: chosen, hasTargets: false, names: (0..<chosen.count).map { "sample \($0)" }, description: loaded.description)
        }
        let mapped = try mapLabels(chosen, dataNames: loaded.classNames, saved: saved)
        return PredictionInput(
            data: mapped, hasTargets: true, names: (0..<chosen.count).map { "sample \($0)" }, description: loaded.description)
    }

    /// Class folders (labelled by folder name) or PNG files directly in the folder (unlabelled).
    private func imageFolder(for saved: SavedModel, labelled: Bool) throws -> PredictionInput {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(atPath: data) else { throw BackpropError.fileNotFound(path: data) }
        guard saved.model.inputShape.rank == 3 else {
            throw ValidationError("the model takes samples of shape \(saved.model.inputShape), not images; \(data) holds PNG images")
        }
        let pngs = entries.filter { $0.lowercased().hasSuffix(".png") }.sorted()
        if !pngs.isEmpty {
            return try images(pngs.map { (data + "/" + $0, -1) }, classes: [], shape: saved.model.inputShape, what: "PNG images")
        }
        let folder = try ImageFolderDataset(root: data)
        var files: [(String, Int)] = []
        for (path, label) in folder.files {
            let name = folder.classes[label]
            guard labelled else {
                files.append((path, -1))
                continue
            }
            guard let index = saved.classNames.firstIndex(of: name) else {
                throw ValidationError(
                    "the class folder \(name) of \(data) is not one of the model's classes (\(saved.classNames.joined(separator: ", ")))")
            }
            files.append((path, index))
        }
        return try images(files, classes: saved.classNames, shape: saved.model.inputShape, what: "PNG images in class folders")
    }

    private func images(_ files: [(String, Int)], classes: [String], shape: Shape, what: String) throws -> PredictionInput {
        guard shape.rank == 3, [1, 3].contains(shape[2]) else {
            throw ValidationError("the model takes samples of shape \(shape), not images; \(data) holds PNG images")
        }
        let dataset = ImageFolderDataset(files: files, classes: classes, inputShape: shape)
        let prefix = data.hasSuffix("/") ? data : data + "/"
        let names = files.map { $0.0.hasPrefix(prefix) ? String($0.0.dropFirst(prefix.count)) : $0.0 }
        return PredictionInput(
            data: dataset, hasTargets: files.allSatisfy { $0.1 >= 0 }, names: names, description: "\(files.count) \(what)")
    }

    /// Labels of data that names its classes (CSV text labels, folders) are mapped to the model's
    /// classes by name; numeric labels must be below the model's class count.
    private func mapLabels(_ dataset: any Dataset, dataNames: [String]?, saved: SavedModel) throws -> any Dataset {
        guard saved.task == .classification else { return dataset }
        let materialized = try dataset.materialized()
        let labels = materialized.targets.scalars
        let numericNames = dataNames.map { names in names == (0..<names.count).map(String.init) } ?? true
        var mapped = labels
        if !numericNames, let names = dataNames {
            for (i, label) in labels.enumerated() {
                let name = names[Int(label)]
                guard let index = saved.classNames.firstIndex(of: name) else {
                    throw ValidationError(
                        "the label \(name) in \(data) is not one of the model's classes (\(saved.classNames.joined(separator: ", ")))")
                }
                mapped[i] = Float(index)
            }
        }
        if let bad = mapped.firstIndex(where: { Int($0) >= saved.classNames.count }) {
            throw ValidationError(
                "sample \(bad) of \(data) has label \(Int(mapped[bad])), but the model has \(saved.classNames.count) classes")
        }
        return TensorDataset(inputs: materialized.inputs, targets: Tensor(mapped, shape: materialized.targets.shape))
    }
}
