/// The model's part of the state API: every parameter and buffer by its path name.
extension Model {
    /// Copies of every parameter and buffer (batch-norm and normalization statistics are
    /// non-trainable parameters) by path, e.g. `layers.0.weight`, in the model's order.
    public func stateDict() -> [(name: String, value: Tensor)] {
        namedParameters.map { ($0.name, $0.parameter.value.copy()) }
    }

    /// Replaces parameters and buffers by name. Everything is checked before anything changes, so
    /// a failed load leaves the model as it was.
    ///
    /// - Parameters:
    ///   - state: tensors by path name.
    ///   - strict: every parameter of the model must be given and nothing else (otherwise the
    ///     given subset is loaded and unknown names are ignored).
    ///   - source: names the file in errors.
    /// - Throws: ``BackpropError`` naming the tensor and the problem (missing, unexpected, shape).
    public func load(_ state: [String: Tensor], strict: Bool = true, source: String = "state") throws {
        try check(state, strict: strict, source: source)
        for (name, parameter) in namedParameters { if let value = state[name] { parameter.assign(value) } }
    }

    /// Whether ``load(_:strict:source:)`` would take `state`, without changing anything.
    ///
    /// - Throws: the error `load` would throw.
    public func check(_ state: [String: Tensor], strict: Bool = true, source: String = "state") throws {
        let parameters = namedParameters
        let known = Set(parameters.map(\.name))
        if strict {
            if let missing = parameters.first(where: { state[$0.name] == nil }) {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(missing.name)", expected: "present (the model has it)", found: "nothing")
            }
            if let extra = state.keys.sorted().first(where: { !known.contains($0) }) {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(extra)", expected: "one of the model's parameters",
                    found: "a tensor the model does not have")
            }
        }
        for (name, parameter) in parameters {
            guard let value = state[name] else { continue }
            guard value.shape == parameter.shape else {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(name)", expected: "shape \(parameter.shape)", found: "shape \(value.shape)")
            }
        }
    }
}
