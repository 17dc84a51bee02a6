import Foundation

/// A labelled split: inputs and integer class labels.
public struct LabeledData: Sendable {
    /// Inputs, e.g. [N, 28, 28, 1] images scaled to [0, 1].
    public let inputs: Tensor
    /// Class indices [N] as Float values.
    public let labels: Tensor
    /// Number of samples.
    public var count: Int { inputs.shape[0] }

    public init(inputs: Tensor, labels: Tensor) {
        precondition(
            inputs.shape.first == labels.shape.first, "LabeledData: \(inputs.shape) inputs and \(labels.shape) labels differ in count")
        self.inputs = inputs
        self.labels = labels
    }
}

/// Fashion-MNIST (Xiao et al. 2017) and MNIST-format datasets: 28×28 grayscale images in 10
/// classes, as four IDX files (optionally .gz) in one directory.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// The class names, by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
        "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads the training and test splits from `directory`, with images as [N, 28, 28, 1] in [0, 1].
    public static func load(from directory: String = defaultDirectory) throws -> (train: LabeledData, test: LabeledData) {
        let train = try loadSplit(directory: directory, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte")
        let test = try loadSplit(directory: directory, images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte")
        return (train, test)
    }

    /// Loads one split from an images file and a labels file (each raw or .gz) in `directory`.
    public static func loadSplit(directory: String, images: String, labels: String, classes: Int = 10) throws -> LabeledData {
        let imagesPath = try locate(images, in: directory)
        let labelsPath = try locate(labels, in: directory)
        let imageFile = try IDXFile(contentsOf: imagesPath)
        let labelFile = try IDXFile(contentsOf: labelsPath)
        guard imageFile.shape.count == 3 else {
            throw BackpropError.malformed(
                path: imagesPath, field: "rank", expected: "3 (count, rows, columns)", found: "\(imageFile.shape.count)")
        }
        guard labelFile.shape.count == 1 else {
            throw BackpropError.malformed(path: labelsPath, field: "rank", expected: "1 (count)", found: "\(labelFile.shape.count)")
        }
        guard imageFile.shape[0] == labelFile.shape[0] else {
            throw BackpropError.inconsistent(
                path: imagesPath, otherPath: labelsPath,
                detail: "\(imageFile.shape[0]) images but \(labelFile.shape[0]) labels")
        }
        if let bad = labelFile.bytes.firstIndex(where: { Int($0) >= classes }) {
            throw BackpropError.malformed(
                path: labelsPath, field: "label \(bad)", expected: "a class in 0..<\(classes)", found: "\(labelFile.bytes[bad])")
        }
        let inputs = Tensor(bytes: imageFile.bytes, shape: Shape(imageFile.shape + [1]), dividedBy: 255)
        let labelTensor = Tensor(bytes: labelFile.bytes, shape: [labelFile.shape[0]])
        return LabeledData(inputs: inputs, labels: labelTensor)
    }

    /// The path of `name` or `name.gz` in `directory`.
    static func locate(_ name: String, in directory: String) throws -> String {
        let base = (directory as NSString).appendingPathComponent(name)
        for candidate in [base, base + ".gz"] where FileManager.default.isReadableFile(atPath: candidate) {
            return candidate
        }
        throw BackpropError.fileNotFound(path: base + "[.gz]")
    }
}
