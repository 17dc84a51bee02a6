import Foundation

/// A CSV file of numeric features and one label column (RFC 4180 quoting, comma-separated,
/// optional header). Labels may be class indices or names (names are numbered in sorted order).
public struct CSVTable: Sendable {
    /// Feature values [rows, features].
    public let features: Tensor
    /// Class indices [rows].
    public let labels: Tensor
    /// Names of the feature columns (from the header, or `column N`).
    public let featureNames: [String]
    /// Class names by index when the labels were text; the label values otherwise.
    public let classNames: [String]
    /// The label column as numbers [rows], when every label is a finite number (regression
    /// targets); nil when some label is text.
    public let numericTargets: Tensor?

    /// Which column holds the label.
    public enum LabelColumn: Sendable, Equatable {
        case name(String)
        case index(Int)
        /// The last column.
        case last
        /// No label: every column is a feature (inputs to predict on); `labels` are then zeros
        /// and `classNames` empty.
        case none
    }

    /// Reads `path`. Missing values (empty, `NA`, `NaN`, `?`) and non-numeric features are errors
    /// naming the row, the column and the value.
    public init(contentsOf path: String, labelColumn: LabelColumn = .last, hasHeader: Bool = true) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BackpropError.malformed(path: path, field: "encoding", expected: "UTF-8 text", found: "binary data")
        }
        var rows = try CSVTable.parse(text, path: path)
        guard let first = rows.first else {
            throw BackpropError.malformed(path: path, field: "rows", expected: "at least one row", found: "an empty file")
        }
        let header = hasHeader ? rows.removeFirst() : (0..<first.count).map { "column \($0)" }
        guard !rows.isEmpty else {
            throw BackpropError.malformed(path: path, field: "rows", expected: "at least one data row", found: "only a header")
        }
        let width = header.count
        let labelIndex: Int
        switch labelColumn {
        case .none: labelIndex = -1
        case .last: labelIndex = width - 1
        case .index(let index):
            guard index >= 0 && index < width else {
                throw BackpropError.invalidArgument(name: "label column", expected: "an index in 0..<\(width)", found: "\(index)")
            }
            labelIndex = index
        case .name(let name):
            guard let index = header.firstIndex(of: name) else {
                throw BackpropError.invalidArgument(name: "label column", expected: "one of \(header.joined(separator: ", "))", found: name)
            }
            labelIndex = index
        }
        guard width >= (labelIndex < 0 ? 1 : 2) else {
            throw BackpropError.malformed(
                path: path, field: "columns", expected: "a label and at least one feature", found: "\(width) column")
        }
        var values = [Float]()
        var rawLabels = [String]()
        let featureCount = labelIndex < 0 ? width : width - 1
        values.reserveCapacity(rows.count * featureCount)
        for (offset, row) in rows.enumerated() {
            let line = offset + (hasHeader ? 2 : 1)
            guard row.count == width else {
                throw BackpropError.malformed(
                    path: path, field: "row \(line)", expected: "\(width) fields like the header", found: "\(row.count)")
            }
            for (column, field) in row.enumerated() {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                if column == labelIndex {
                    guard !Self.isMissing(trimmed) else {
                        throw BackpropError.malformed(
                            path: path, field: "row \(line), column \(header[column])", expected: "a label", found: "a missing value")
                    }
                    rawLabels.append(trimmed)
                    continue
                }
                guard !Self.isMissing(trimmed) else {
                    throw BackpropError.malformed(
                        path: path, field: "row \(line), column \(header[column])", expected: "a number",
                        found: "a missing value '\(trimmed)'")
                }
                // BackpropError shows the field with its control characters escaped.
                if let control = trimmed.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                    throw BackpropError.malformed(
                        path: path, field: "row \(line), column \(header[column])", expected: "a number",
                        found: "control character U+\(String(format: "%04X", control.value)) in '\(trimmed)'")
                }
                guard let value = Float(trimmed), value.isFinite else {
                    throw BackpropError.malformed(
                        path: path, field: "row \(line), column \(header[column])", expected: "a finite number",
                        found: "'\(trimmed)'")
                }
                values.append(value)
            }
        }
        let numbers = rawLabels.compactMap { text -> Float? in
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 }), let value = Float(text), value.isFinite else { return nil }
            return value
        }
        numericTargets = numbers.count == rawLabels.count ? Tensor(numbers) : nil
        // Integer labels are class indices when they are small; anything else is a class name.
        let numeric = rawLabels.compactMap { Int($0) }
        if labelIndex < 0 {
            labels = .zeros([rows.count])
            classNames = []
        } else if numeric.count == rawLabels.count, numeric.allSatisfy({ $0 >= 0 && $0 < 65_536 }) {
            labels = Tensor(numeric.map(Float.init))
            classNames = (0...(numeric.max() ?? 0)).map(String.init)
        } else {
            let names = Array(Set(rawLabels)).sorted()
            let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
            labels = Tensor(rawLabels.map { Float(index[$0]!) })
            classNames = names
        }
        features = Tensor(values, shape: [rows.count, featureCount])
        featureNames = header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
    }

    /// The fields of the first row (the header), without reading the rest as numbers.
    public static func header(ofFileAt path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw BackpropError.malformed(path: path, field: "encoding", expected: "UTF-8 text", found: "binary data")
        }
        let end = text.firstIndex(where: \.isNewline) ?? text.endIndex
        return try parse(String(text[..<end]), path: path).first ?? []
    }

    static func isMissing(_ field: String) -> Bool { ["", "NA", "N/A", "NaN", "nan", "?", "null"].contains(field) }

    /// Splits text into rows of fields, honouring double quotes ("" is a literal quote).
    static func parse(_ text: String, path: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var atFieldStart = true
        var line = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRow() {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
            field = ""
            atFieldStart = true
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where atFieldStart:
                quoted = true
                atFieldStart = false
            case ",":
                row.append(field)
                field = ""
                atFieldStart = true
            case "\r":
                // CRLF ends a row; a bare CR is kept in the field, where it makes the value invalid
                // instead of silently joining two numbers.
                let next = iterator.next()
                if next == "\n" {
                    endRow()
                    line += 1
                } else {
                    field.unicodeScalars.append(scalar)
                    pending = next
                }
            case "\n":
                endRow()
                line += 1
            default:
                field.unicodeScalars.append(scalar)
                atFieldStart = false
            }
        }
        guard !quoted else {
            throw BackpropError.malformed(path: path, field: "line \(line)", expected: "a closing quote", found: "the end of the file")
        }
        if !field.isEmpty || !row.isEmpty { endRow() }
        return rows
    }
}
