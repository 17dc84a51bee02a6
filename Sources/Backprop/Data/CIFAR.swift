import Foundation

/// CIFAR-10 and CIFAR-100 in their binary version (cs.toronto.edu/~kriz/cifar.html): records of a
/// label byte (CIFAR-100: coarse then fine) and 3,072 bytes of a 32×32 image stored channel by
/// channel, converted here to NHWC [N, 32, 32, 3] in [0, 1].
public enum CIFAR {
    /// Which dataset, which fixes the record layout and the number of classes.
    public enum Variant: Sendable {
        case cifar10
        /// Fine labels (100 classes) unless `coarse` (20 superclasses).
        case cifar100(coarse: Bool)

        var labelBytes: Int { if case .cifar10 = self { 1 } else { 2 } }
        var classes: Int {
            switch self {
            case .cifar10: 10
            case .cifar100(let coarse): coarse ? 20 : 100
            }
        }
    }

    /// Reads one batch file.
    public static func read(contentsOf path: String, variant: Variant = .cifar10) throws -> LabeledData {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        let record = variant.labelBytes + 3072
        guard data.count > 0, data.count % record == 0 else {
            throw BackpropError.malformed(
                path: path, field: "file size", expected: "a multiple of \(record) bytes (one record per image)",
                found: "\(data.count) bytes")
        }
        let count = data.count / record
        let bytes = [UInt8](data)
        let images = Tensor(uninitializedShape: [count, 32, 32, 3])
        var labels = [Float](repeating: 0, count: count)
        let labelOffset: Int = if case .cifar100(coarse: false) = variant { 1 } else { 0 }
        for index in 0..<count {
            let base = index * record
            let label = Int(bytes[base + labelOffset])
            guard label < variant.classes else {
                throw BackpropError.malformed(
                    path: path, field: "label of record \(index) (offset \(base + labelOffset))",
                    expected: "a class in 0..<\(variant.classes)", found: "\(label)")
            }
            labels[index] = Float(label)
            let pixels = base + variant.labelBytes
            let out = images.storage.pointer + index * 3072
            for channel in 0..<3 {
                for position in 0..<1024 { out[position * 3 + channel] = Float(bytes[pixels + channel * 1024 + position]) / 255 }
            }
        }
        return LabeledData(inputs: images, labels: Tensor(labels))
    }

    /// Loads the training and test batches from a CIFAR-10 (`data_batch_1.bin` … `test_batch.bin`)
    /// or CIFAR-100 (`train.bin`, `test.bin`) folder.
    public static func load(from directory: String) throws -> (train: LabeledData, test: LabeledData, classes: Int) {
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        let manager = FileManager.default
        if manager.fileExists(atPath: path("train.bin")) {
            let variant = Variant.cifar100(coarse: false)
            return (
                try read(contentsOf: path("train.bin"), variant: variant), try read(contentsOf: path("test.bin"), variant: variant), 100
            )
        }
        let batches = try (1...5).map { try read(contentsOf: path("data_batch_\($0).bin")) }
        let train = LabeledData(inputs: Tensor.concatenate(batches.map(\.inputs)), labels: Tensor.concatenate(batches.map(\.labels)))
        return (train, try read(contentsOf: path("test_batch.bin")), 10)
    }
}
