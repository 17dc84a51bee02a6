import Backprop
import Foundation
import Testing

/// Graph architectures through the tool: trained from a file (one input, or several read from one
/// table's columns), summarized as nodes, exported; models with several outputs are refused by
/// the commands that read one, with the reason.
@Suite(.serialized)
struct GraphCommandTests {
    static func write(_ text: String, _ name: String) -> String {
        let path = TinyData.root + "/" + name
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Two branches of the image that meet in a concatenation and a residual sum.
    static let imageGraph = write(
        """
        {"input_shape": [8, 8, 1], "layers": [
          {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
          {"type": "graph", "nodes": [
            {"name": "a", "layer": {"type": "conv2d", "filters": 2, "kernel_size": 1}, "inputs": ["input"]},
            {"name": "b", "layer": {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"}, "inputs": ["input"]},
            {"name": "ab", "layer": {"type": "concatenate"}, "inputs": ["a", "b"]},
            {"name": "sum", "layer": {"type": "add"}, "inputs": ["ab", "input"]}],
           "outputs": ["sum"]},
          {"type": "flatten"}, {"type": "dense", "units": 2}]}
        """, "image-graph.json")

    /// The table's three features as two inputs: f1 alone, f2 and f3 together.
    static let tableGraph = write(
        """
        {"input_shape": [3], "layers": [{"type": "graph",
          "inputs": [{"name": "first", "shape": [1]}, {"name": "rest", "shape": [2]}],
          "nodes": [
            {"name": "one", "layer": {"type": "dense", "units": 4, "activation": "tanh"}, "inputs": ["first"]},
            {"name": "two", "layer": {"type": "dense", "units": 4, "activation": "tanh"}, "inputs": ["rest"]},
            {"name": "both", "layer": {"type": "concatenate"}, "inputs": ["one", "two"]},
            {"name": "class", "layer": {"type": "dense", "units": 3}, "inputs": ["both"]}],
          "outputs": ["class"]}]}
        """, "table-graph.json")

    static let twoOutputs = write(
        """
        {"input_shape": [3], "layers": [{"type": "graph",
          "nodes": [
            {"name": "class", "layer": {"type": "dense", "units": 3}, "inputs": ["input"]},
            {"name": "score", "layer": {"type": "dense", "units": 1}, "inputs": ["input"]}],
          "outputs": ["class", "score"]}]}
        """, "two-outputs.json")

    @Test func graphArchitecturesTrainSummarizeAndExport() throws {
        let folder = ModelFileTests.folder()
        let train = Tool.run([
            "train", "--data", TinyData.imageFolder, "--model-file", Self.imageGraph, "--epochs", "3", "--save",
            folder + "/image.safetensors",
        ])
        #expect(train.status == 0, "\(train)")
        #expect(train.standardOutput.contains("Test loss"), "\(train)")
        let summary = Tool.run(["summary", "--model-file", Self.imageGraph])
        #expect(summary.status == 0 && summary.standardOutput.contains("sum (Add) ← ab, input"), "\(summary)")
        let export = Tool.run(["export", folder + "/image.safetensors", folder + "/torch"])
        #expect(export.status == 0, "\(export)")
        let source = try String(contentsOfFile: folder + "/torch/model.py", encoding: .utf8)
        #expect(source.contains("Graph({") && source.contains("torch.cat(["))

        // Several inputs from one table: its columns in order, normalized first.
        let table = Tool.run([
            "train", "--data", TinyData.classificationCSV, "--label-column", "species", "--model-file", Self.tableGraph, "--epochs", "40",
            "--lr", "0.05", "--save", folder + "/table.safetensors",
        ])
        #expect(table.status == 0, "\(table)")
        let accuracy = table.standardOutput.split(separator: "\n").first { $0.contains("test accuracy") }
        let value = accuracy.flatMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
        #expect((value ?? 0) > 0.9, "\(table)")
        let tableExport = Tool.run(["export", folder + "/table.safetensors", folder + "/table-torch"])
        #expect(tableExport.status == 0, "\(tableExport)")
        let tableSource = try String(contentsOfFile: folder + "/table-torch/model.py", encoding: .utf8)
        #expect(tableSource.contains("def forward(self, first, rest):"), "\(tableSource)")
    }

    @Test func severalOutputsAreRefusedWhereOneIsRead() throws {
        let train = Tool.run(["train", "--data", TinyData.classificationCSV, "--label-column", "species", "--model-file", Self.twoOutputs])
        #expect(train.status != 0 && train.errorLines.count == 1, "\(train)")
        #expect(train.standardError.contains("two-outputs.json") && train.standardError.contains("class, score"), "\(train)")
        // Trained from Swift, the model file exports (with both outputs) but does not predict through the tool.
        let folder = ModelFileTests.folder()
        seedGlobalRandom(1)
        let model = try Architecture(contentsOf: Self.twoOutputs).makeModel()
        try model.save(to: folder + "/two.safetensors")
        let predict = Tool.run(["predict", "--model", folder + "/two.safetensors", "--data", TinyData.classificationCSV])
        #expect(predict.status != 0 && predict.standardError.contains("several predicts from Swift"), "\(predict)")
        let export = Tool.run(["export", folder + "/two.safetensors", folder + "/torch"])
        #expect(export.status == 0, "\(export)")
        let source = try String(contentsOfFile: folder + "/torch/model.py", encoding: .utf8)
        #expect(source.contains("output_names = [\"class\", \"score\"]") && source.contains("x = (_g1_1, _g1_2)"), "\(source)")
    }
}
