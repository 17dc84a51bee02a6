import Foundation

/// Everything a run needs to continue exactly where it was: the model's parameters and buffers,
/// the optimizer's state, every stateful callback's state, and the progress (data position,
/// epoch figures so far, random generator).
///
/// On disk it is a model file (``Model/save(to:metadata:)``) with more in it: the training state's
/// tensors are named `training/optimizer/<buffer>.<parameter>` and `training/callback/<key>/<name>`,
/// and `__metadata__` holds `backprop.checkpoint` (the progress) and `backprop.state.*` (each
/// component's fields). ``Model/load(from:)`` reads a checkpoint as the model it holds.
public struct TrainingCheckpoint: @unchecked Sendable {
    /// The model's state (``Model/stateDict()``).
    public var model: [(name: String, value: Tensor)]
    public var optimizer: ComponentState
    /// Stateful callbacks' states by key (the type name, `#2`… for repeats), in the run's order.
    public var callbacks: [(key: String, state: ComponentState)]
    public var progress: TrainingProgress
    /// The model file's metadata (architecture, class names, options of the run).
    public var metadata: [String: String]

    public static let progressKey = "backprop.checkpoint"
    static let optimizerKey = "backprop.state.optimizer"
    static let callbackKeysKey = "backprop.state.callbacks"
    static let tensorPrefix = "training/"

    /// Writes the checkpoint atomically (temporary file, fsync, rename, fsync of the folder).
    public func write(to path: String) throws {
        var entries: [String: SafeTensors.Entry] = [:]
        func add(_ name: String, _ value: Tensor) {
            entries[name] = SafeTensors.Entry(shape: value.shape.dimensions, values: value.scalars)
        }
        for (name, value) in model { add(name, value) }
        for (name, value) in optimizer.tensors { add(Self.tensorPrefix + "optimizer/" + name, value) }
        var all = metadata
        all[Self.optimizerKey] = String(decoding: optimizer.fields, as: UTF8.self)
        for (key, state) in callbacks {
            for (name, value) in state.tensors { add(Self.tensorPrefix + "callback/\(key)/" + name, value) }
            all["backprop.state.callback.\(key)"] = String(decoding: state.fields, as: UTF8.self)
        }
        all[Self.callbackKeysKey] = String(decoding: ComponentState(callbacks.map(\.key)).fields, as: UTF8.self)
        all[Self.progressKey] = String(decoding: ComponentState(progress).fields, as: UTF8.self)
        try SafeTensors(tensors: entries, metadata: all).write(to: path)
    }

    /// Reads a checkpoint, checking that every part is there (what each part holds is checked
    /// when it is restored into a run).
    ///
    /// - Throws: ``BackpropError`` naming the file and the field.
    public init(contentsOf path: String) throws {
        let file = try SafeTensors(contentsOf: path)
        func text(_ key: String, _ what: String) throws -> Data {
            guard let value = file.metadata[key] else {
                throw BackpropError.malformed(
                    path: path, field: "__metadata__.\(key)", expected: what,
                    found: "nothing (is it a model file rather than a checkpoint?)")
            }
            return Data(value.utf8)
        }
        progress = try ComponentState(fields: try text(Self.progressKey, "the progress of a training checkpoint"), tensors: [:])
            .decode(TrainingProgress.self, source: path, component: "the progress")
        guard progress.randomGenerator != nil, progress.epoch >= 0, progress.stepsDone >= 0, progress.batchSize > 0 else {
            throw BackpropError.malformed(
                path: path, field: "__metadata__.\(Self.progressKey)", expected: "a valid position and random state",
                found: String(decoding: try text(Self.progressKey, ""), as: UTF8.self))
        }
        var tensorsByComponent: [String: [String: Tensor]] = [:]
        var model: [(String, Tensor)] = []
        for (name, entry) in file.tensors.sorted(by: { $0.key < $1.key }) {
            guard name.hasPrefix(Self.tensorPrefix) else {
                model.append((name, entry.tensor))
                continue
            }
            let rest = name.dropFirst(Self.tensorPrefix.count)
            if rest.hasPrefix("optimizer/") {
                tensorsByComponent["optimizer", default: [:]][String(rest.dropFirst("optimizer/".count))] = entry.tensor
            } else if rest.hasPrefix("callback/"), let slash = rest.dropFirst("callback/".count).firstIndex(of: "/") {
                let key = String(rest[rest.index(rest.startIndex, offsetBy: "callback/".count)..<slash])
                tensorsByComponent["callback/" + key, default: [:]][String(rest[rest.index(after: slash)...])] = entry.tensor
            } else {
                throw BackpropError.malformed(
                    path: path, field: "tensor \(name)", expected: "training/optimizer/… or training/callback/<key>/…", found: name)
            }
        }
        self.model = model
        optimizer = ComponentState(
            fields: try text(Self.optimizerKey, "the optimizer's state"), tensors: tensorsByComponent["optimizer"] ?? [:])
        let keys = try ComponentState(fields: try text(Self.callbackKeysKey, "the list of callback states"), tensors: [:])
            .decode([String].self, source: path, component: "the callback list")
        callbacks = try keys.map { key in
            (
                key,
                ComponentState(
                    fields: try text("backprop.state.callback.\(key)", "the state of \(key)"),
                    tensors: tensorsByComponent["callback/" + key] ?? [:])
            )
        }
        if let stray = tensorsByComponent.keys.first(where: { $0.hasPrefix("callback/") && !keys.contains(String($0.dropFirst(9))) }) {
            throw BackpropError.malformed(
                path: path, field: "tensors training/\(stray)/…", expected: "a listed callback", found: "tensors of an unlisted one")
        }
        metadata = file.metadata.filter { !$0.key.hasPrefix("backprop.state.") && $0.key != Self.progressKey }
    }

    /// Builds a checkpoint from its parts.
    public init(
        model: [(name: String, value: Tensor)], optimizer: ComponentState, callbacks: [(key: String, state: ComponentState)],
        progress: TrainingProgress, metadata: [String: String]
    ) {
        self.model = model
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.progress = progress
        self.metadata = metadata
    }
}
