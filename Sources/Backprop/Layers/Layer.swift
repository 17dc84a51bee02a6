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
        walkModel(self) { path, item in if case .parameter(let parameter) = item { result.append((path, parameter)) } }
        return result
    }

    /// This layer (path `""`) and every layer inside it, depth first, each with its path
    /// (`layers.0`, `layers.2.layer`…): the one walk that parameter names, summaries, monitors and
    /// the model files share, so nested layers are never missed.
    public var namedLayers: [(path: String, layer: any Layer)] {
        var result: [(String, any Layer)] = []
        walkModel(self) { path, item in if case .layer(let layer) = item { result.append((path, layer)) } }
        return result
    }

    /// Every parameter of this layer and its sub-layers.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// Total number of scalars in the parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.elementCount } }

    /// The layer's type name for summaries.
    public var typeName: String { String(describing: type(of: self)) }
}

/// What the model walk meets.
private enum ModelItem {
    case layer(any Layer)
    case parameter(Parameter)
}

/// Visits `root` and everything reachable through its stored properties (layers, parameters,
/// arrays of them, optionals), each once, in declaration order.
private func walkModel(_ root: any Layer, _ visit: (String, ModelItem) -> Void) {
    var seen = Set<ObjectIdentifier>([ObjectIdentifier(root)])
    visit("", .layer(root))
    walkChildren(of: root, prefix: "", visit, &seen)
}

private func walkChildren(of value: Any, prefix: String, _ visit: (String, ModelItem) -> Void, _ seen: inout Set<ObjectIdentifier>) {
    for child in Mirror(reflecting: value).children {
        guard let label = child.label else { continue }
        walk(child.value, name: prefix + label.trimmingPrefix("_"), visit, &seen)
    }
}

private func walk(_ value: Any, name: String, _ visit: (String, ModelItem) -> Void, _ seen: inout Set<ObjectIdentifier>) {
    switch value {
    case let parameter as Parameter:
        if seen.insert(ObjectIdentifier(parameter)).inserted { visit(name, .parameter(parameter)) }
    case let layer as any Layer:
        if seen.insert(ObjectIdentifier(layer)).inserted {
            visit(name, .layer(layer))
            walkChildren(of: layer, prefix: name + ".", visit, &seen)
        }
    case let layers as [any Layer]:
        for (index, layer) in layers.enumerated() { walk(layer, name: "\(name).\(index)", visit, &seen) }
    case let parameters as [Parameter]:
        for (index, parameter) in parameters.enumerated() { walk(parameter, name: "\(name).\(index)", visit, &seen) }
    default:
        // Optionals (an optional bias) unwrap through reflection.
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional, let wrapped = mirror.children.first { walk(wrapped.value, name: name, visit, &seen) }
    }
}

extension String {
    fileprivate func trimmingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
