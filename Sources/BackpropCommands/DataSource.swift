import ArgumentParser
import Backprop
import Foundation

/// The data formats `--format` can name; `auto` looks at the path's contents.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case auto, idx, cifar, csv, npz, npy, images

    /// Whether the format comes with its own test split (otherwise `--test-split` holds one out).
    var hasOwnTestSplit: Bool { self == .idx || self == .cifar }
}

/// What is learned: classes or numbers.
enum Task: String, ExpressibleByArgument, CaseIterable {
    /// Regression when the targets are numbers that are not all integers (or several per sample).
    case auto
    case classification
    case regression
}

/// Training and test data as the CLI loads them.
struct LoadedData {
    let train: any Dataset
    let test: any Dataset
    /// Classes (classification) or outputs per sample (regression).
    let outputs: Int
    let task: Task
    /// Class names by index, when the data names them (folders, CSV labels, Fashion-MNIST).
    let classNames: [String]?
    /// The format and where the test split came from, for the log.
    let description: String
    /// The resolved format.
    let format: DataFormat
    /// Where the training and the test samples were read, for error messages.
    let trainSource: String
    let testSource: String
}

/// How to read the data: `train` options that concern the files.
struct DataRequest {
    var path: String
    var format: DataFormat = .auto
    var labelColumn: String?
    var labelsPath: String?
    var testSplit = 0.2
    var seed: UInt64 = 0
    var imageSize: (height: Int, width: Int)?
    var task: Task = .auto
    /// False for previews: everything is returned as training data.
    var holdOut = true
}

/// Loads the data a request names. Data without its own test split (CSV, an .npz with only x and
/// y, .npy, image folders) has `testSplit` of it held out (stratified for classes, fixed by
/// `seed`) and never trained on.
func loadData(_ request: DataRequest) throws -> LoadedData {
    let path = request.path
    let format = request.format == .auto ? try detectFormat(path) : request.format
    if request.labelColumn != nil && format != .csv {
        throw ValidationError("--label-column applies to CSV data, but \(path) is \(format.rawValue)")
    }
    if request.imageSize != nil && format != .images {
        throw ValidationError("--image-size applies to folders of PNG images, but \(path) is \(format.rawValue)")
    }
    if request.labelsPath != nil && format != .npy {
        throw ValidationError("--labels applies to .npy features, but \(path) is \(format.rawValue)")
    }

    func heldOut(_ dataset: any Dataset, outputs: Int, task: Task, names: [String]?, _ what: String) throws -> LoadedData {
        guard request.holdOut else {
            return LoadedData(
                train: dataset, test: dataset, outputs: outputs, task: task, classNames: names, description: what, format: format,
                trainSource: path, testSource: path)
        }
        let classification = task == .classification
        let (train, test) = try splitNamingTheOption(
            dataset, fraction: request.testSplit, stratified: classification, seed: request.seed, option: "--test-split")
        return LoadedData(
            train: train, test: test, outputs: outputs, task: task, classNames: names,
            description:
                "\(what); \(Int((request.testSplit * 100).rounded()))% held out as the test split (\(classification ? "stratified, " : "")seed \(request.seed))",
            format: format, trainSource: path, testSource: path + " (held-out test split)")
    }

    switch format {
    case .auto:
        preconditionFailure("detectFormat never answers auto")
    case .idx:
        guard request.task != .regression else {
            throw ValidationError("--task regression needs numeric targets (CSV, .npz, .npy); IDX data has class labels")
        }
        // The class count comes from the labels (EMNIST letters: 27 with the unused 0, balanced: 47).
        let train = try FashionMNIST.loadSplit(
            directory: path, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte", classes: 256)
        let test = try FashionMNIST.loadSplit(
            directory: path, images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte", classes: 256)
        let classes = Int(max(train.labels.scalars.max() ?? 0, test.labels.scalars.max() ?? 0)) + 1
        let isFashion = classes == 10 && (path as NSString).standardizingPath.hasSuffix("fashion-mnist")
        return LoadedData(
            train: TensorDataset(inputs: train.inputs, targets: train.labels),
            test: TensorDataset(inputs: test.inputs, targets: test.labels),
            outputs: classes, task: .classification, classNames: isFashion ? FashionMNIST.classNames : nil,
            description: "IDX files (\(classes) classes)", format: format,
            trainSource: (path as NSString).appendingPathComponent("train-images-idx3-ubyte"),
            testSource: (path as NSString).appendingPathComponent("t10k-images-idx3-ubyte"))
    case .cifar:
        guard request.task != .regression else {
            throw ValidationError("--task regression needs numeric targets (CSV, .npz, .npy); CIFAR has class labels")
        }
        let (train, test, classes) = try CIFAR.load(from: path)
        return LoadedData(
            train: TensorDataset(inputs: train.inputs, targets: train.labels),
            test: TensorDataset(inputs: test.inputs, targets: test.labels),
            outputs: classes, task: .classification, classNames: cifarClassNames(in: path, classes: classes),
            description: "CIFAR-\(classes) binary", format: format, trainSource: path, testSource: path)
    case .csv:
        let column: CSVTable.LabelColumn = request.labelColumn.map { Int($0).map { .index($0) } ?? .name($0) } ?? .last
        let table: CSVTable
        do {
            table = try CSVTable(contentsOf: path, labelColumn: column)
        } catch BackpropError.invalidArgument("label column", let expected, let found) {
            throw ValidationError("--label-column for \(path): expected \(expected), got \"\(found)\"")
        }
        try requireFinite(table.features, source: path, what: "feature")
        let task = try resolveTask(request.task, numericTargets: table.numericTargets, path: path, field: "label column")
        if task == .regression, let targets = table.numericTargets {
            return try heldOut(
                TensorDataset(inputs: table.features, targets: targets.reshaped([targets.shape[0], 1])), outputs: 1, task: .regression,
                names: nil, "CSV with \(table.featureNames.count) features and a numeric target")
        }
        return try heldOut(
            TensorDataset(inputs: table.features, targets: table.labels), outputs: table.classNames.count, task: .classification,
            names: table.classNames, "CSV with \(table.featureNames.count) features and \(table.classNames.count) classes")
    case .npz:
        let arrays = try NumPyArchive.read(contentsOf: path)
        func pair(_ x: String, _ y: String) throws -> (TensorDataset, Task, Int)? {
            guard let inputs = arrays[x], let targets = arrays[y] else { return nil }
            return try numericPair(
                inputs: inputs, targets: targets, source: "\(path): \(x)", targetSource: "\(path): \(y)", task: request.task)
        }
        if let train = try pair("x_train", "y_train"), let test = try pair("x_test", "y_test") {
            guard train.1 == test.1 else {
                throw BackpropError.inconsistent(
                    path: path, otherPath: path, detail: "y_train holds \(train.1.rawValue) targets but y_test \(test.1.rawValue) ones")
            }
            let outputs = train.1 == .classification ? max(train.2, test.2) : train.2
            return LoadedData(
                train: train.0, test: test.0, outputs: outputs, task: train.1, classNames: nil,
                description: "NumPy archive (x_train, y_train, x_test, y_test)", format: format, trainSource: "\(path): x_train",
                testSource: "\(path): x_test")
        }
        if let all = try pair("x", "y") { return try heldOut(all.0, outputs: all.2, task: all.1, names: nil, "NumPy archive (x, y)") }
        throw BackpropError.malformed(
            path: path, field: "arrays", expected: "x_train, y_train, x_test, y_test or x, y",
            found: arrays.keys.sorted().joined(separator: ", "))
    case .npy:
        guard let labelsPath = request.labelsPath else {
            throw ValidationError("\(path) is a .npy array of features: name its targets with --labels FILE.npy")
        }
        let inputs = try NumPyArray(contentsOf: path)
        let targets = try NumPyArray(contentsOf: labelsPath)
        let (dataset, task, outputs) = try numericPair(
            inputs: inputs, targets: targets, source: path, targetSource: labelsPath, task: request.task)
        return try heldOut(dataset, outputs: outputs, task: task, names: nil, "NumPy arrays (\(path), \(labelsPath))")
    case .images:
        guard request.task != .regression else {
            throw ValidationError("--task regression needs numeric targets (CSV, .npz, .npy); image folders are classes")
        }
        let folder = try ImageFolderDataset(root: path, resizeTo: request.imageSize)
        return try heldOut(
            folder, outputs: folder.classes.count, task: .classification, names: folder.classes,
            "\(folder.count) PNG images in \(folder.classes.count) class folders")
    }
}

/// Inputs and targets read from NumPy arrays: images [N, H, W] get a channel axis, bytes are
/// scaled to [0, 1], every value must be finite, and class labels must be integers in range.
/// Returns the dataset, the task and the outputs (classes, or target values per sample).
private func numericPair(
    inputs: NumPyArray, targets: NumPyArray, source: String, targetSource: String, task requested: Task
) throws -> (TensorDataset, Task, Int) {
    guard let count = inputs.shape.first, inputs.shape.count >= 2 else {
        throw BackpropError.malformed(
            path: source, field: "shape", expected: "[N, features…] (one row per sample)", found: "\(inputs.shape)")
    }
    guard targets.shape.first == count, targets.shape.count <= 2 else {
        throw BackpropError.inconsistent(
            path: source, otherPath: targetSource,
            detail: "the inputs have shape \(inputs.shape) but the targets \(targets.shape); expected [N, …] and [N] or [N, K]")
    }
    let tensor = try inputTensor(inputs, addingChannel: inputs.shape.count == 3, source: source)
    let values = targets.values
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw BackpropError.malformed(path: targetSource, field: "target \(bad)", expected: "a finite number", found: "\(values[bad])")
    }
    let integral = values.allSatisfy { $0 == $0.rounded() }
    let task: Task =
        switch requested {
        case .auto: targets.shape.count == 1 && integral ? .classification : .regression
        default: requested
        }
    if task == .regression {
        let columns = targets.shape.count == 2 ? targets.shape[1] : 1
        guard columns >= 1 else {
            throw BackpropError.malformed(path: targetSource, field: "shape", expected: "[N] or [N, K ≥ 1]", found: "\(targets.shape)")
        }
        return (TensorDataset(inputs: tensor, targets: targets.tensor.reshaped([count, columns])), .regression, columns)
    }
    guard targets.shape.count == 1 else {
        throw BackpropError.malformed(
            path: targetSource, field: "shape", expected: "class labels [N] (or --task regression)", found: "\(targets.shape)")
    }
    if let bad = values.firstIndex(where: { !($0 >= 0 && $0 == $0.rounded() && $0 < Float(Limits.classes)) }) {
        throw BackpropError.malformed(
            path: targetSource, field: "label \(bad)", expected: "a class index in 0..<\(Limits.classes) (or --task regression)",
            found: "\(values[bad])")
    }
    return (TensorDataset(inputs: tensor, targets: targets.tensor), .classification, Int(values.max() ?? 0) + 1)
}

/// Model inputs from a NumPy array: bytes scaled to [0, 1], [N, H, W] images given a channel axis
/// when `addingChannel`, every value finite.
func inputTensor(_ array: NumPyArray, addingChannel: Bool, source: String) throws -> Tensor {
    var tensor = array.tensor
    if addingChannel { tensor = tensor.reshaped(Shape(array.shape + [1])) }
    if array.dtype.hasSuffix("u1") { tensor = tensor / 255 }
    try requireFinite(tensor, source: source, what: "input")
    return tensor
}

/// Which task numeric-or-not CSV targets mean.
private func resolveTask(_ requested: Task, numericTargets: Tensor?, path: String, field: String) throws -> Task {
    switch requested {
    case .classification: return .classification
    case .regression:
        guard numericTargets != nil else {
            throw BackpropError.malformed(path: path, field: field, expected: "numbers for --task regression", found: "text labels")
        }
        return .regression
    case .auto:
        guard let targets = numericTargets else { return .classification }
        return targets.scalars.allSatisfy { $0 == $0.rounded() && $0 >= 0 && $0 < 65_536 } ? .classification : .regression
    }
}

/// Throws naming the source and the first sample and value that is NaN or infinite.
func requireFinite(_ tensor: Tensor, source: String, what: String) throws {
    let perSample = max(tensor.shape.dropFirst().reduce(1, *), 1)
    let bad: Int? = tensor.withUnsafeBufferPointer { buffer in buffer.firstIndex { !$0.isFinite } }
    if let bad {
        let value = tensor.withUnsafeBufferPointer { $0[bad] }
        throw BackpropError.malformed(
            path: source, field: "sample \(bad / perSample), \(what) \(bad % perSample)", expected: "a finite number", found: "\(value)")
    }
}

/// `split(holdingOut:)` with its errors naming the option that asked for it.
func splitNamingTheOption(
    _ dataset: any Dataset, fraction: Double, stratified: Bool, seed: UInt64, option: String
) throws -> (SubsetDataset, SubsetDataset) {
    do {
        return try dataset.split(holdingOut: fraction, stratified: stratified, seed: seed)
    } catch BackpropError.invalidArgument(_, let expected, let found) {
        throw ValidationError("\(option) \(fraction): expected \(expected), found \(found)")
    }
}

/// CIFAR's class names from `batches.meta.txt` (CIFAR-10) or `fine_label_names.txt` (CIFAR-100),
/// when the folder has them.
private func cifarClassNames(in directory: String, classes: Int) -> [String]? {
    for name in ["batches.meta.txt", "fine_label_names.txt"] {
        let path = (directory as NSString).appendingPathComponent(name)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.count == classes { return names }
    }
    return nil
}

/// Recognizes a dataset by what the path holds.
func detectFormat(_ path: String) throws -> DataFormat {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw BackpropError.fileNotFound(path: path) }
    if isDirectory.boolValue {
        guard let names = try? manager.contentsOfDirectory(atPath: path) else {
            throw BackpropError.malformed(path: path, field: "folder", expected: "a readable folder", found: "permission denied")
        }
        let set = Set(names)
        if set.contains("train-images-idx3-ubyte") || set.contains("train-images-idx3-ubyte.gz") { return .idx }
        if set.contains("data_batch_1.bin") || set.contains("train.bin") { return .cifar }
        return .images
    }
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return .csv }
    if lower.hasSuffix(".npz") { return .npz }
    if lower.hasSuffix(".npy") { return .npy }
    guard let handle = FileHandle(forReadingAtPath: path) else { throw BackpropError.fileNotFound(path: path) }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: 6)) ?? Data()
    if head.prefix(2) == Data([0x50, 0x4B]) { return .npz }
    if head.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) { return .npy }
    throw BackpropError.malformed(
        path: path, field: "format", expected: "an IDX, CIFAR or image folder, a .csv, .npz or .npy file (or --format)",
        found: "an unrecognized file")
}
