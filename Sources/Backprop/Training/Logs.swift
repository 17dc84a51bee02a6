import Foundation

/// Named metric values in a fixed order (`loss`, `accuracy`, …), as shown in progress lines.
public struct Logs: Sendable, Equatable, CustomStringConvertible, Codable {
    /// The values, in insertion order.
    public private(set) var entries: [(name: String, value: Double)] = []

    public init() {}

    /// The value named `name`, if present.
    public subscript(name: String) -> Double? {
        get { entries.first { $0.name == name }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    /// The same values with every name prefixed (`val_loss`).
    public func prefixed(_ prefix: String) -> Logs {
        var result = Logs()
        for entry in entries { result[prefix + entry.name] = entry.value }
        return result
    }

    public var description: String {
        entries.map { "\($0.name): \(formatMetric($0.value))" }.joined(separator: " - ")
    }

    private struct Entry: Codable {
        var name: String
        var value: Double
    }

    /// Encoded as a JSON array of `{"name", "value"}` objects, in order.
    public init(from decoder: Decoder) throws {
        entries = try [Entry](from: decoder).map { ($0.name, $0.value) }
    }

    public func encode(to encoder: Encoder) throws {
        try entries.map { Entry(name: $0.name, value: $0.value) }.encode(to: encoder)
    }

    public static func == (lhs: Logs, rhs: Logs) -> Bool {
        lhs.entries.map(\.name) == rhs.entries.map(\.name) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }
}

/// Four decimals, as Keras prints metrics.
func formatMetric(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    return String(format: "%.4f", value)
}
