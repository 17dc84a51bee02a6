import ArgumentParser
import Backprop
import Foundation

/// What `export` writes.
enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    /// model.py (the module) and model.safetensors (its state_dict).
    case pytorch
    /// model.npz: the same state_dict as NumPy arrays.
    case npz
}

/// `backprop export`: a saved model for PyTorch, or its weights for NumPy.
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a saved model for PyTorch (model.py and model.safetensors) or its weights as .npz.",
        discussion: """
            model.py defines class Model(torch.nn.Module), built with no arguments, that takes the same input as the \
            Backprop model (NHWC images or [N, features], its normalization included) and returns its outputs; \
            model.safetensors holds exactly that module's state_dict (Linear [out, in], Conv2d [out, in, kh, kw], BatchNorm \
            weight, bias, running_mean, running_var, num_batches_tracked), so \
            model.load_state_dict(safetensors.torch.load_file("model.safetensors"), strict=True) succeeds. \
            --format npz writes the same tensors (without num_batches_tracked) as model.npz.
            """)

    @Argument(help: "The model file to export.")
    var model: String

    @Argument(help: "The folder to write into (created when missing).")
    var folder: String

    @Option(name: .long, help: "pytorch (model.py and model.safetensors) or npz (model.npz).")
    var format: ExportFormat = .pytorch

    public init() {}

    public func validate() throws {
        for (value, name) in [(model, "MODEL"), (folder, "FOLDER")] where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("\(name) needs a value, got an empty one")
        }
    }

    public func run() throws {
        let saved = try SavedModel(path: model, severalOutputs: true)
        guard let architecture = saved.model.architecture else { preconditionFailure("a loaded model has its architecture") }
        let module = try PyTorchModule(architecture)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw BackpropError.unwritable(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        let state = module.stateDict(of: saved.model)
        switch format {
        case .pytorch:
            try AtomicFile.write(Data(module.source.utf8), to: folder + "/model.py")
            var metadata = ["format": "pt", "backprop.source": model]
            metadata["backprop.class_names"] = saved.metadata["backprop.class_names"]
            try SafeTensors(tensors: state, metadata: metadata).write(to: folder + "/model.safetensors")
            print("Wrote \(folder)/model.py and \(folder)/model.safetensors (\(state.count) tensors)")
            print(
                "In PyTorch: from model import Model; m = Model(); m.load_state_dict(safetensors.torch.load_file(\"\(folder)/model.safetensors\")); m.eval()"
            )
        case .npz:
            var arrays: [String: NumPyArray] = [:]
            for (name, entry) in state where entry.dataType != .i64 { arrays[name] = NumPyArray(shape: entry.shape, values: entry.values) }
            try NumPyArchive.write(arrays, to: folder + "/model.npz")
            print("Wrote \(folder)/model.npz (\(arrays.count) arrays in PyTorch's names and layouts)")
        }
    }
}

/// `backprop import`: PyTorch weights into a Backprop model file.
public struct ImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read PyTorch weights (a state_dict in .safetensors or .npz) into a Backprop model file.",
        discussion: """
            The weights must be the state_dict of the module `backprop export` writes for the architecture (the same keys, \
            shapes and layouts). Every key, shape and element type is checked; F32, F16, BF16 and F64 are converted. \
            The architecture comes from --model-file, or from --like, a Backprop model whose metadata (class names, task) \
            is kept too.
            """)

    @Argument(help: "The weights: a .safetensors (safetensors.torch.save_file) or .npz file.")
    var weights: String

    @Option(name: .customLong("model-file"), help: "The architecture (JSON) the weights are for.")
    var modelFile: String?

    @Option(name: .long, help: "A Backprop model file with the same architecture; its metadata is kept.")
    var like: String?

    @Option(name: .customLong("class-names"), help: "Names of the classes in output order, comma-separated.")
    var classNames: String?

    @Option(name: .long, help: "Where to write the Backprop model file.")
    var save: String

    public init() {}

    public func validate() throws {
        guard (modelFile == nil) != (like == nil) else {
            throw ValidationError("give the architecture with exactly one of --model-file and --like")
        }
        if let classNames, parseClassNames(classNames).isEmpty {
            throw ValidationError.option("--class-names", "names separated by commas", got: classNames)
        }
        for (value, name) in [(weights, "WEIGHTS"), (save, "--save"), (like ?? "x", "--like"), (modelFile ?? "x", "--model-file")]
        where value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("\(name) needs a value, got an empty one")
        }
    }

    public func run() throws {
        try checkWritable(save, option: "--save")
        var metadata: [String: String] = [:]
        let architecture: Architecture
        if let like {
            let saved = try SavedModel(path: like, severalOutputs: true)
            architecture = saved.model.architecture!
            metadata = saved.metadata.filter { !$0.key.hasPrefix("backprop.state.") && $0.key != TrainingCheckpoint.progressKey }
        } else {
            architecture = try Architecture(contentsOf: modelFile!)
        }
        let module = try PyTorchModule(architecture)
        let model = try architecture.makeModel()
        try module.load(try Self.readWeights(weights), into: model, source: weights)
        if let classNames {
            let names = parseClassNames(classNames)
            let outputs = try architecture.plan().outputShape.elementCount
            guard names.count == max(outputs, 2) else {
                throw ValidationError("--class-names lists \(names.count) names, but the model has \(max(outputs, 2)) classes")
            }
            metadata["backprop.class_names"] = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
            metadata["backprop.task"] = "classification"
        }
        metadata[TrainingRun.argumentsKey] = nil
        metadata["backprop.imported_from"] = weights
        try model.save(to: save, metadata: metadata)
        print("Imported \(weights) (\(model.network.parameterCount) parameters) into \(save)")
    }

    /// A state dict from .safetensors or .npz, with each tensor's element type.
    static func readWeights(_ path: String) throws -> [String: SafeTensors.Entry] {
        guard path.lowercased().hasSuffix(".npz") else { return try SafeTensors(contentsOf: path).tensors }
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, array) in try NumPyArchive.read(contentsOf: path) {
            let type: SafeTensors.DataType =
                switch array.dtype {
                case "<f4": .f32
                case "<f8": .f64
                case "<i8": .i64
                case "<i4": .i32
                default: .u8
                }
            entries[name] = SafeTensors.Entry(shape: array.shape, values: array.values, dataType: type)
        }
        return entries
    }
}
