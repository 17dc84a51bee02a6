/// A differentiable function with parameters: the building block of networks.
///
/// A layer is a `final class` whose parameters are `let` properties of type ``Parameter`` (or
/// sub-layers); they are found by reflection, so nothing else needs to be declared.
///
/// ```swift
/// final class Residual: Layer {
///     let inner = Dense(64, 64, activation: .relu)
///     func callAsFunction(_ x: Tensor) -> Tensor { x + inner(x) }
/// }
/// ```
public protocol Layer: AnyObject {
    /// Applies the layer to a batch (the first axis is the batch).
    func callAsFunction(_ input: Tensor) -> Tensor
}

extension Layer {
    /// Every parameter of this layer and its sub-layers with its path, e.g. `layers.0.weight`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        var seen = Set<ObjectIdentifier>()
        collectParameters(of: self, prefix: "", into: &result, seen: &seen)
        return result
    }

    /// Every parameter of this layer and its sub-layers.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Total number of scalars in the parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.elementCount } }

    /// The layer's type name for summaries.
    public var typeName: String { String(describing: type(of: self)) }
}

private func collectParameters(
    of value: Any, prefix: String, into result: inout [(String, Parameter)], seen: inout Set<ObjectIdentifier>
) {
    for child in Mirror(reflecting: value).children {
        guard let label = child.label else { continue }
        let name = prefix + label.trimmingPrefix("_")
        collectParameters(in: child.value, name: name, into: &result, seen: &seen)
    }
}

private func collectParameters(
    in value: Any, name: String, into result: inout [(String, Parameter)], seen: inout Set<ObjectIdentifier>
) {
    switch value {
    case let parameter as Parameter:
        if seen.insert(ObjectIdentifier(parameter)).inserted { result.append((name, parameter)) }
    case let layer as any Layer:
        if seen.insert(ObjectIdentifier(layer)).inserted { collectParameters(of: layer, prefix: name + ".", into: &result, seen: &seen) }
    case let layers as [any Layer]:
        for (index, layer) in layers.enumerated() { collectParameters(in: layer, name: "\(name).\(index)", into: &result, seen: &seen) }
    case let parameters as [Parameter]:
        for (index, parameter) in parameters.enumerated() {
            collectParameters(in: parameter, name: "\(name).\(index)", into: &result, seen: &seen)
        }
    default:
        // Optionals (an optional bias) unwrap through reflection.
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional, let wrapped = mirror.children.first {
            collectParameters(in: wrapped.value, name: name, into: &result, seen: &seen)
        }
    }
}

extension String {
    fileprivate func trimmingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
