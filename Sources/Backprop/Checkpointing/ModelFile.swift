import Foundation

/// A model file: one safetensors file whose tensors are the model's parameters and buffers by path
/// name (Backprop's own layouts: Dense `[in, out]`, kernels HWIO), and whose `__metadata__` holds
/// the architecture JSON (`backprop.architecture`) and whatever else the caller keeps with it
/// (class names, preprocessing, training options).
extension Model {
    /// The metadata key of the architecture JSON.
    public static let architectureMetadataKey = "backprop.architecture"

    /// Writes the model atomically to `path`.
    ///
    /// - Throws: ``BackpropError/unwritable(path:reason:)``; traps when the model was not built from
    ///   an ``Architecture`` (there would be nothing to rebuild it from).
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        guard let architecture else {
            preconditionFailure("Model.save: the model was not built from an Architecture, so it could not be rebuilt from the file")
        }
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, value) in stateDict() { entries[name] = SafeTensors.Entry(shape: value.shape.dimensions, values: value.scalars) }
        var all = metadata
        all[Self.architectureMetadataKey] = String(decoding: architecture.jsonData(), as: UTF8.self)
        try SafeTensors(tensors: entries, metadata: all).write(to: path)
    }

    /// Reads a model file: rebuilds the architecture and loads every tensor, checking names and
    /// shapes (nothing missing, nothing extra). Returns the model and the file's metadata.
    ///
    /// - Throws: ``BackpropError`` naming the file and the field or tensor.
    public static func load(from path: String) throws -> (model: Model, metadata: [String: String]) {
        let file = try SafeTensors(contentsOf: path)
        guard let json = file.metadata[architectureMetadataKey] else {
            throw BackpropError.malformed(
                path: path, field: "__metadata__.\(architectureMetadataKey)", expected: "the architecture JSON of a Backprop model file",
                found: "nothing")
        }
        let architecture = try Architecture(json: Data(json.utf8), source: "\(path) (__metadata__.\(architectureMetadataKey))")
        let model: Model
        do {
            model = try architecture.makeModel()
        } catch let error as BackpropError {
            throw BackpropError.malformed(path: path, field: "architecture", expected: "layers that fit together", found: "\(error)")
        }
        // A checkpoint is a model file with the training state beside the model's tensors.
        let tensors = file.tensors.filter { !$0.key.hasPrefix(TrainingCheckpoint.tensorPrefix) }
        try model.load(tensors.mapValues(\.tensor), strict: true, source: path)
        return (model, file.metadata)
    }
}
