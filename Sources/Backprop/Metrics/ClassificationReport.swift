import Foundation

/// What a classifier got right and wrong on a labelled set: accuracy, top-k accuracy, per-class
/// precision, recall, F1 and support, their macro averages, and the confusion matrix (rows: true
/// class, columns: predicted class), with class names.
public struct ClassificationReport: Sendable, Equatable {
    /// The class names, by index.
    public let classNames: [String]
    /// `confusion[t][p]`: samples of true class t predicted as p.
    public let confusion: [[Int]]
    /// Fraction of samples whose target is among the k highest scores, for each k asked for.
    public let topK: [Int: Double]

    /// Scores `scores` [N, C] (logits or probabilities) against integer `labels` [N]; with one
    /// column, the column is a binary logit (class 1 when > 0).
    public init(scores: Tensor, labels: Tensor, classNames: [String], topK: [Int] = []) {
        let rows = scores.shape.first ?? 0
        let columns = scores.rank == 2 ? scores.shape[1] : 1
        let classes = max(classNames.count, columns == 1 ? 2 : columns)
        let values = scores.scalars
        let truth = labels.scalars.map { Int($0) }
        precondition(truth.count == rows, "ClassificationReport: \(rows) score rows but \(truth.count) labels")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var hits = [Int: Int](uniqueKeysWithValues: topK.map { ($0, 0) })
        for row in 0..<rows {
            let label = truth[row]
            precondition(label >= 0 && label < classes, "ClassificationReport: label \(label) outside 0..<\(classes)")
            if columns == 1 {
                let predicted = values[row] > 0 ? 1 : 0
                confusion[label][predicted] += 1
                for k in topK where k >= 2 || predicted == label { hits[k, default: 0] += 1 }
                continue
            }
            let start = row * columns
            var best = 0
            for c in 1..<columns where values[start + c] > values[start + best] { best = c }
            confusion[label][best] += 1
            let score = values[start + label]
            var higher = 0
            for c in 0..<columns where values[start + c] > score { higher += 1 }
            for k in topK where higher < k { hits[k, default: 0] += 1 }
        }
        self.classNames = (0..<classes).map { $0 < classNames.count ? classNames[$0] : "\($0)" }
        self.confusion = confusion
        self.topK = hits.mapValues { Double($0) / Double(max(rows, 1)) }
    }

    /// Number of samples.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Fraction classified correctly.
    public var accuracy: Double {
        Double(confusion.indices.reduce(0) { $0 + confusion[$1][$1] }) / Double(max(count, 1))
    }
    /// Samples of each true class.
    public var support: [Int] { confusion.map { $0.reduce(0, +) } }
    /// Of the samples predicted as each class, the fraction that are (0 when none was predicted).
    public var precision: [Double] {
        confusion.indices.map { c in
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
        }
    }
    /// Of the samples of each class, the fraction found (0 for a class with no samples).
    public var recall: [Double] {
        confusion.indices.map { c in support[c] == 0 ? 0 : Double(confusion[c][c]) / Double(support[c]) }
    }
    /// The harmonic mean of precision and recall per class.
    public var f1: [Double] {
        zip(precision, recall).map { p, r in p + r == 0 ? 0 : 2 * p * r / (p + r) }
    }
    /// Unweighted means over the classes that have samples.
    public var macroAverage: (precision: Double, recall: Double, f1: Double) {
        let present = support.indices.filter { support[$0] > 0 }
        let mean = { (values: [Double]) in present.isEmpty ? 0 : present.reduce(0) { $0 + values[$1] } / Double(present.count) }
        return (mean(precision), mean(recall), mean(f1))
    }

    /// A per-class table and the confusion matrix, as text.
    public var formatted: String {
        let nameWidth = max(12, classNames.map(\.count).max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        func padRight(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines = [padRight("class", nameWidth) + pad("precision", 11) + pad("recall", 9) + pad("f1", 9) + pad("support", 9)]
        for c in classNames.indices {
            lines.append(
                padRight(classNames[c], nameWidth) + pad(String(format: "%.4f", precision[c]), 11)
                    + pad(String(format: "%.4f", recall[c]), 9)
                    + pad(String(format: "%.4f", f1[c]), 9) + pad("\(support[c])", 9))
        }
        let macro = macroAverage
        lines.append(
            padRight("macro avg", nameWidth) + pad(String(format: "%.4f", macro.precision), 11)
                + pad(String(format: "%.4f", macro.recall), 9)
                + pad(String(format: "%.4f", macro.f1), 9) + pad("\(count)", 9))
        lines.append("")
        lines.append("Confusion matrix (rows: true class, columns: predicted class)")
        let cell = max(6, (confusion.flatMap { $0 }.max() ?? 0).description.count + 2)
        let rowLabel = nameWidth + 3 + "\(classNames.count)".count
        lines.append(padRight("", rowLabel) + classNames.indices.map { pad("[\($0)]", cell) }.joined())
        for (c, row) in confusion.enumerated() {
            lines.append(padRight("[\(c)] " + classNames[c], rowLabel) + row.map { pad("\($0)", cell) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
