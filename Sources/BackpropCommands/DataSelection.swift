import ArgumentParser
import Backprop
import Foundation

/// Another dataset whose class labels are renumbered (`--only-classes`): label l becomes
/// `mapping[l]`.
struct RelabeledDataset: Dataset {
    let base: any Dataset
    let mapping: [Int: Int]

    var count: Int { base.count }
    var inputShape: Shape { base.inputShape }
    var targetShape: Shape { base.targetShape }

    func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
        try base.read(index, input: input, target: target)
        target[0] = Float(mapping[Int(target[0])] ?? -1)
    }
}

/// Every sample's first target value (the class label of classification data), in order.
func labels(of dataset: any Dataset) throws -> [Int] {
    var input = [Float](repeating: 0, count: dataset.inputShape.elementCount)
    var target = [Float](repeating: 0, count: max(dataset.targetShape.elementCount, 1))
    return try (0..<dataset.count).map { index in
        try input.withUnsafeMutableBufferPointer { inputs in
            try target.withUnsafeMutableBufferPointer { targets in
                try dataset.read(index, input: inputs, target: targets)
                return Int(targets[0])
            }
        }
    }
}

/// The classes `--only-classes` names (indices or names of the data's classes), in its order.
func selectedClasses(_ text: String, names: [String]) throws -> [Int] {
    var picked: [Int] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
        guard let index = Int(item).flatMap({ (0..<names.count).contains($0) ? $0 : nil }) ?? names.firstIndex(of: item) else {
            throw ValidationError(
                "--only-classes: \"\(item)\" is neither a class index in 0..<\(names.count) nor one of the classes (\(names.prefix(20).joined(separator: ", ")))"
            )
        }
        guard !picked.contains(index) else { throw ValidationError("--only-classes names class \(item) twice") }
        picked.append(index)
    }
    guard picked.count >= 2 else { throw ValidationError("--only-classes needs at least 2 classes, got \(picked.count)") }
    return picked
}

/// The samples of `dataset` whose labels are in `classes`, renumbered 0..<classes.count.
func keepingClasses(_ dataset: any Dataset, _ classes: [Int]) throws -> any Dataset {
    let wanted = Set(classes)
    let indices = try labels(of: dataset).enumerated().filter { wanted.contains($0.element) }.map(\.offset)
    let mapping = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    return RelabeledDataset(base: dataset.subset(indices), mapping: mapping)
}

/// `count` samples of `dataset` drawn with `seed`; for classes, as evenly over the classes as they
/// allow (round robin over each class's shuffled samples).
func subsample(_ dataset: any Dataset, count: Int, classification: Bool, seed: UInt64) throws -> any Dataset {
    guard count < dataset.count else { return dataset }
    var generator = RandomGenerator(seed: seed ^ 0x7472_6169_6E5F_6E00)
    guard classification else {
        return dataset.subset(Array(Array(0..<dataset.count).shuffled(using: &generator).prefix(count)).sorted())
    }
    var groups = Dictionary(grouping: try labels(of: dataset).enumerated(), by: \.element).sorted { $0.key < $1.key }
        .map { $0.value.map(\.offset).shuffled(using: &generator) }
    var picked: [Int] = []
    var round = 0
    while picked.count < count {
        for index in groups.indices where round < groups[index].count && picked.count < count { picked.append(groups[index][round]) }
        round += 1
    }
    groups.removeAll()
    return dataset.subset(picked.sorted())
}
