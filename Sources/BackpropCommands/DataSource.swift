import ArgumentParser
import Backprop
import Foundation

/// The data formats `--format` can name; `auto` looks at the path's contents.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case auto, idx, cifar, csv, npz, images
}

/// Training and test data as the CLI loads them.
struct LoadedData {
    let train: any Dataset
    let test: any Dataset
    let classes: Int
    /// The format and where the test split came from, for the log.
    let description: String
}

/// Loads `path` in `format`. Data without its own test split (CSV, an .npz with only x and y, image
/// folders) has `testSplit` of it held out (stratified, fixed by `seed`) and never trained on.
/// With `holdOut` false (previews), everything is returned as training data.
/// `imageSize` resizes the images of a folder (otherwise they must all have the first one's size).
func loadData(
    path: String, format: DataFormat, labelColumn: String?, testSplit: Double, seed: UInt64, holdOut: Bool = true,
    imageSize: (height: Int, width: Int)? = nil
) throws -> LoadedData {
    let resolved = format == .auto ? try detectFormat(path) : format
    func heldOut(_ dataset: any Dataset, classes: Int, _ what: String) throws -> LoadedData {
        guard holdOut else { return LoadedData(train: dataset, test: dataset, classes: classes, description: what) }
        let (train, test) = try dataset.split(holdingOut: testSplit, stratified: true, seed: seed)
        return LoadedData(
            train: train, test: test, classes: classes,
            description: "\(what); \(Int(testSplit * 100))% held out as the test split (stratified, seed \(seed))")
    }
    switch resolved {
    case .auto:
        preconditionFailure("detectFormat never answers auto")
    case .idx:
        let (train, test) = try FashionMNIST.load(from: path)
        return LoadedData(
            train: TensorDataset(inputs: train.inputs, targets: train.labels),
            test: TensorDataset(inputs: test.inputs, targets: test.labels), classes: 10, description: "IDX files")
    case .cifar:
        let (train, test, classes) = try CIFAR.load(from: path)
        return LoadedData(
            train: TensorDataset(inputs: train.inputs, targets: train.labels),
            test: TensorDataset(inputs: test.inputs, targets: test.labels), classes: classes, description: "CIFAR-\(classes) binary")
    case .csv:
        let column: CSVTable.LabelColumn = labelColumn.map { Int($0).map { .index($0) } ?? .name($0) } ?? .last
        let table = try CSVTable(contentsOf: path, labelColumn: column)
        return try heldOut(
            TensorDataset(inputs: table.features, targets: table.labels), classes: table.classNames.count,
            "CSV with \(table.featureNames.count) features and \(table.classNames.count) classes")
    case .npz:
        let arrays = try NumPyArchive.read(contentsOf: path)
        func pair(_ x: String, _ y: String) throws -> TensorDataset? {
            guard let inputs = arrays[x], let labels = arrays[y] else { return nil }
            var tensor = inputs.tensor
            if inputs.shape.count == 3 { tensor = tensor.reshaped(inputs.shape + [1]) }  // [N, H, W] images
            if inputs.dtype.hasSuffix("u1") { tensor = tensor / 255 }
            guard labels.shape.count == 1, labels.shape[0] == inputs.shape.first else {
                throw BackpropError.inconsistent(
                    path: path, otherPath: path,
                    detail: "\(x) has shape \(inputs.shape) but \(y) has shape \(labels.shape); expected [N, …] and [N]")
            }
            guard labels.values.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
                throw BackpropError.malformed(path: path, field: y, expected: "non-negative integer class labels", found: "other values")
            }
            return TensorDataset(inputs: tensor, targets: labels.tensor)
        }
        let classesOf = { (sets: [TensorDataset]) in Int(sets.map { $0.targets.max().item }.max() ?? 0) + 1 }
        if let train = try pair("x_train", "y_train"), let test = try pair("x_test", "y_test") {
            return LoadedData(
                train: train, test: test, classes: classesOf([train, test]), description: "NumPy archive (x_train, y_train, x_test, y_test)"
            )
        }
        if let all = try pair("x", "y") { return try heldOut(all, classes: classesOf([all]), "NumPy archive (x, y)") }
        throw BackpropError.malformed(
            path: path, field: "arrays", expected: "x_train, y_train, x_test, y_test or x, y",
            found: arrays.keys.sorted().joined(separator: ", "))
    case .images:
        let folder = try ImageFolderDataset(root: path, resizeTo: imageSize)
        return try heldOut(folder, classes: folder.classes.count, "\(folder.count) PNG images in \(folder.classes.count) class folders")
    }
}

/// Recognizes a dataset by what the path holds.
func detectFormat(_ path: String) throws -> DataFormat {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw BackpropError.fileNotFound(path: path) }
    if isDirectory.boolValue {
        let names = Set((try? manager.contentsOfDirectory(atPath: path)) ?? [])
        if names.contains("train-images-idx3-ubyte") || names.contains("train-images-idx3-ubyte.gz") { return .idx }
        if names.contains("data_batch_1.bin") || names.contains("train.bin") { return .cifar }
        return .images
    }
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return .csv }
    if lower.hasSuffix(".npz") { return .npz }
    let head = manager.contents(atPath: path)?.prefix(2) ?? Data()
    if head == Data([0x50, 0x4B]) { return .npz }
    throw BackpropError.malformed(
        path: path, field: "format", expected: "an IDX, CIFAR or image folder, a .csv or an .npz file (or --format)",
        found: "an unrecognized file")
}
