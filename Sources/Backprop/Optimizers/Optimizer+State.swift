/// The optimizer's part of the state API: the step count, the learning rate (callbacks change it)
/// and every state buffer per parameter, named `<buffer>.<parameter path>` (`exp_avg.layers.0.weight`).
extension Optimizer {
    private struct Fields: Codable {
        var kind: String
        var iterations: Int
        var learningRate: Float
    }

    /// The state now. `names` gives each bound parameter its path (``Model/namedParameters``).
    public func state(names: [(name: String, parameter: Parameter)]) -> ComponentState {
        let fields = Fields(kind: String(describing: type(of: self)), iterations: iterations, learningRate: learningRate)
        guard let flat = flatParameters else { return ComponentState(fields) }
        let paths = pathNames(flat, names)
        var tensors: [String: Tensor] = [:]
        for (buffer, bufferName) in zip(state, stateBufferNames) {
            for (index, parameter) in flat.parameters.enumerated() {
                let copy = Tensor(uninitializedShape: parameter.shape)
                copy.storage.pointer.update(from: buffer.pointer + flat.offsets[index], count: parameter.elementCount)
                tensors["\(bufferName).\(paths[index])"] = copy
            }
        }
        return ComponentState(fields, tensors: tensors)
    }

    /// Restores a state made by ``state(names:)`` of an optimizer of the same kind bound to
    /// parameters of the same names and shapes. Everything is checked before anything changes.
    ///
    /// - Throws: ``BackpropError`` naming `source`, the buffer or field.
    public func restore(_ saved: ComponentState, names: [(name: String, parameter: Parameter)], source: String) throws {
        guard let flat = flatParameters else { preconditionFailure("Optimizer.restore: call bind(_:) first") }
        let fields = try saved.decode(Fields.self, source: source, component: "the optimizer")
        let kind = String(describing: type(of: self))
        guard fields.kind == kind else {
            throw BackpropError.malformed(
                path: source, field: "state of the optimizer", expected: "\(kind) (this run's optimizer)", found: fields.kind)
        }
        guard fields.iterations >= 0, fields.learningRate.isFinite, fields.learningRate >= 0 else {
            throw BackpropError.malformed(
                path: source, field: "state of the optimizer", expected: "iterations ≥ 0 and a finite learning rate ≥ 0",
                found: "\(fields.iterations) and \(fields.learningRate)")
        }
        let paths = pathNames(flat, names)
        var expected = Set<String>()
        var values: [(buffer: Int, offset: Int, tensor: Tensor)] = []
        for (bufferIndex, bufferName) in stateBufferNames.enumerated() {
            for (index, parameter) in flat.parameters.enumerated() {
                let name = "\(bufferName).\(paths[index])"
                expected.insert(name)
                let tensor = try saved.tensor(name, shape: parameter.shape, source: source, component: "the optimizer")
                values.append((bufferIndex, flat.offsets[index], tensor))
            }
        }
        if let extra = saved.tensors.keys.sorted().first(where: { !expected.contains($0) }) {
            throw BackpropError.malformed(
                path: source, field: "state of the optimizer, tensor \(extra)", expected: "one of \(kind)'s buffers",
                found: "a tensor this optimizer does not keep")
        }
        for (buffer, offset, tensor) in values {
            state[buffer].pointer.advanced(by: offset).update(from: tensor.storage.pointer, count: tensor.elementCount)
        }
        iterations = fields.iterations
        learningRate = fields.learningRate
    }

    private func pathNames(_ flat: FlatParameters, _ names: [(name: String, parameter: Parameter)]) -> [String] {
        let byIdentity = Dictionary(names.map { (ObjectIdentifier($0.parameter), $0.name) }, uniquingKeysWith: { first, _ in first })
        return flat.parameters.enumerated().map { byIdentity[ObjectIdentifier($1)] ?? "parameter\($0)" }
    }
}
