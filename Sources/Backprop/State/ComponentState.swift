import Foundation

/// The state of one part of a run that must survive the process — an optimizer, a callback, the
/// position in the data: its scalars as a JSON object (from a `Codable` value) and its tensors
/// by name. Checkpoints (``TrainingCheckpoint``), early stopping, and later search and
/// data-parallel resume all save and restore through it.
public struct ComponentState: @unchecked Sendable {
    /// The scalars, a JSON object.
    public var fields: Data
    /// The tensors by name (moments, saved weights).
    public var tensors: [String: Tensor]

    /// Encodes `value` as the fields.
    public init<Fields: Encodable>(_ value: Fields, tensors: [String: Tensor] = [:]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            fields = try encoder.encode(value)
        } catch {
            preconditionFailure("ComponentState: \(Fields.self) does not encode as JSON: \(error)")
        }
        self.tensors = tensors
    }

    /// Fields and tensors as read from a file.
    public init(fields: Data, tensors: [String: Tensor]) {
        self.fields = fields
        self.tensors = tensors
    }

    /// The fields decoded as `Fields`.
    ///
    /// - Throws: ``BackpropError/malformed(path:field:expected:found:)`` naming `source` and the
    ///   component when the JSON does not hold the fields.
    public func decode<Fields: Decodable>(_ type: Fields.Type, source: String, component: String) throws -> Fields {
        do {
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try decoder.decode(Fields.self, from: fields)
        } catch {
            throw BackpropError.malformed(
                path: source, field: "state of \(component)", expected: "the fields of \(Fields.self)",
                found: String(decoding: fields.prefix(200), as: UTF8.self))
        }
    }

    /// The tensor `name`, which must exist with `shape`.
    public func tensor(_ name: String, shape: Shape, source: String, component: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw BackpropError.malformed(path: source, field: "state of \(component)", expected: "a tensor \(name)", found: "nothing")
        }
        guard tensor.shape == shape else {
            throw BackpropError.malformed(
                path: source, field: "state of \(component), tensor \(name)", expected: "shape \(shape)", found: "shape \(tensor.shape)")
        }
        return tensor
    }
}

/// A callback whose state a checkpoint keeps (a plateau's patience count, the best weights seen),
/// so a resumed run behaves as if it had never stopped.
public protocol StatefulCallback: Callback {
    /// The callback's state now.
    func state() -> ComponentState
    /// Restores a state made by ``state()`` (of a callback built with the same options, watching
    /// `model`). Everything is checked before anything changes.
    ///
    /// - Throws: ``BackpropError`` naming `source` when the state does not fit.
    func restore(_ state: ComponentState, model: Model, source: String) throws
}

/// A 64-bit value as 16 hex digits in JSON (JSON numbers lose integers above 2⁵³).
struct HexWord: Codable, Equatable {
    var value: UInt64

    init(_ value: UInt64) { self.value = value }

    init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard text.count == 16, let value = UInt64(text, radix: 16) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not 16 hex digits: \(text)"))
        }
        self.value = value
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        let digits = String(value, radix: 16)
        try container.encode(String(repeating: "0", count: 16 - digits.count) + digits)
    }
}
