import Backprop
import Foundation
import Testing

/// `predict` and `evaluate` through the tool, on models `train --save` wrote.
@Suite(.serialized)
struct PredictCommandTests {
    /// Trains and saves a model; returns its path.
    static func trained(_ arguments: [String], _ name: String) -> String {
        let path = TinyData.root + "/\(name)-\(UUID().uuidString.prefix(6)).safetensors"
        let result = Tool.run(["train", "--quiet", "--save", path, "--checkpoint-dir", path + ".checkpoints"] + arguments)
        #expect(result.status == 0, "\(result)")
        return path
    }

    static let imageModel = trained(["--data", TinyData.imageFolder, "--hidden", "8", "--epochs", "30", "--batch-size", "8"], "images")
    static let tableModel = trained(
        ["--data", TinyData.classificationCSV, "--hidden", "8", "--epochs", "30", "--batch-size", "8", "--lr", "0.01"], "table")
    static let regressionModel = trained(
        ["--data", TinyData.regressionCSV, "--hidden", "16", "--epochs", "60", "--batch-size", "16", "--lr", "0.01"], "regression")

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    @Test func predictOnAFolderOfImagesPrintsClassNames() throws {
        // The class folders, and the same images as a flat folder without classes.
        let labelled = Tool.run(["predict", "--model", Self.imageModel, "--data", TinyData.imageFolder])
        #expect(labelled.status == 0, "\(labelled)")
        let rows = Self.lines(labelled.standardOutput)
        #expect(rows.first == "sample\tclass\tclass_index\tprobability" && rows.count == 25, "\(labelled.standardOutput.prefix(300))")
        #expect(rows.contains { $0.hasPrefix("left/0.png\tleft\t0\t") } && rows.contains { $0.hasPrefix("right/3.png\tright\t1\t") })
        let flat = TinyData.root + "/flat-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: flat, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TinyData.imageFolder + "/right/5.png", toPath: flat + "/a.png")
        try FileManager.default.copyItem(atPath: TinyData.imageFolder + "/left/5.png", toPath: flat + "/b.png")
        let unlabelled = Tool.run(["predict", "--model", Self.imageModel, "--data", flat])
        #expect(
            Self.lines(unlabelled.standardOutput).dropFirst().map { $0.split(separator: "\t").prefix(2).joined(separator: " ") } == [
                "a.png right", "b.png left",
            ], "\(unlabelled)")
        let single = Tool.run(["predict", "--model", Self.imageModel, "--data", flat + "/a.png"])
        #expect(Self.lines(single.standardOutput).count == 2 && single.standardOutput.contains("\tright\t1\t"), "\(single)")
    }

    @Test func npyOutputIsTheProbabilitiesInInputOrder() throws {
        let output = TinyData.root + "/probabilities-\(UUID().uuidString.prefix(6)).npy"
        let result = Tool.run(["predict", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--output", output])
        #expect(result.status == 0 && result.standardOutput.contains("Wrote 90 predictions"), "\(result)")
        let array = try NumPyArray(contentsOf: output)
        #expect(array.shape == [90, 3] && array.dtype == "<f4")
        // The same as the model's own softmax outputs, row by row.
        let (model, _) = try Model.load(from: Self.tableModel)
        let table = try CSVTable(contentsOf: TinyData.classificationCSV)
        let expected = model.predict(table.features).softmax().scalars
        #expect(array.values == expected)
        for row in 0..<90 { #expect(abs(array.values[(row * 3)..<(row * 3 + 3)].reduce(0, +) - 1) < 1e-5) }
    }

    @Test func csvAndJsonOutputs() throws {
        let csv = TinyData.root + "/p-\(UUID().uuidString.prefix(6)).csv"
        let json = TinyData.root + "/p-\(UUID().uuidString.prefix(6)).json"
        #expect(Tool.run(["predict", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--output", csv]).status == 0)
        #expect(Tool.run(["predict", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--output", json]).status == 0)
        let rows = Self.lines(try String(contentsOfFile: csv, encoding: .utf8))
        #expect(rows.first == "sample,class,class_index,probability" && rows.count == 91)
        #expect(rows[1].hasPrefix("sample 0,setosa,0,"), "\(rows[1])")
        let records = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [[String: Any]])
        #expect(
            records.count == 90 && records[1]["class"] as? String == "versicolor" && (records[1]["probabilities"] as? [Double])?.count == 3)
        // A CSV without the label column: every column is a feature.
        let features = TinyData.write("f1,f2,f3\n2,0,0\n0,0,2\n", "features-only.csv")
        let unlabelled = Tool.run(["predict", "--model", Self.tableModel, "--data", features])
        #expect(
            Self.lines(unlabelled.standardOutput).dropFirst().map { $0.split(separator: "\t")[1] } == ["setosa", "virginica"],
            "\(unlabelled)")
    }

    @Test func regressionPredictionsAreInTheTargetsUnits() throws {
        // y = 3a − 2b + 1: the saved standardization is undone.
        let inputs = TinyData.write("a,b\n0,0\n1,0\n0,1\n", "regression-inputs.csv")
        let result = Tool.run(["predict", "--model", Self.regressionModel, "--data", inputs])
        let values = Self.lines(result.standardOutput).dropFirst().compactMap { Float($0.split(separator: "\t")[1]) }
        #expect(values.count == 3, "\(result)")
        for (value, expected) in zip(values, [1, 4, -1] as [Float]) { #expect(abs(value - expected) < 0.6, "\(values)") }
        let evaluation = Tool.run(["evaluate", "--model", Self.regressionModel, "--data", TinyData.regressionCSV])
        #expect(evaluation.status == 0 && evaluation.standardOutput.contains("R²: 0.9"), "\(evaluation)")
    }

    @Test func evaluatePrintsTheReportAndJSON() throws {
        let text = Tool.run(["evaluate", "--model", Self.imageModel, "--data", TinyData.imageFolder])
        #expect(text.status == 0, "\(text)")
        #expect(text.standardOutput.contains("accuracy: 1.0000") && text.standardOutput.contains("Confusion matrix"), "\(text)")
        #expect(text.standardOutput.contains("[0] left") && text.standardOutput.contains("[1] right"))
        let json = Tool.run(["evaluate", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(object["samples"] as? Int == 90 && (object["accuracy"] as? Double ?? 0) > 0.9)
        #expect((object["confusion_matrix"] as? [[Int]])?.map { $0.reduce(0, +) } == [30, 30, 30])
        #expect((object["per_class"] as? [[String: Any]])?.first?["class"] as? String == "setosa")
        // A folder with only some of the classes still maps them by name.
        let partial = TinyData.root + "/partial-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: partial + "/right", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TinyData.imageFolder + "/right/1.png", toPath: partial + "/right/1.png")
        let one = Tool.run(["evaluate", "--model", Self.imageModel, "--data", partial, "--json"])
        let confusion = (try? JSONSerialization.jsonObject(with: Data(one.standardOutput.utf8)) as? [String: Any])?["confusion_matrix"]
        #expect(confusion as? [[Int]] == [[0, 0], [0, 1]], "\(one)")
    }

    @Test func problemsAreNamed() throws {
        func failure(_ arguments: [String], _ status: Int32, _ text: String) {
            let result = Tool.run(arguments)
            #expect(result.status == status && result.errorLines.count == 1 && result.standardError.contains(text), "\(result)")
        }
        failure(["predict", "--model", TinyData.root + "/none.safetensors", "--data", TinyData.imageFolder], 1, "none.safetensors")
        failure(["predict", "--model", Self.tableModel, "--data", TinyData.imageFolder], 64, "takes samples of shape [3]")
        failure(["predict", "--model", Self.imageModel, "--data", TinyData.classificationCSV], 64, "takes samples of shape [8, 8, 1]")
        failure(["predict", "--model", Self.tableModel, "--output", "x.txt"], 64, "--output")
        failure(
            ["predict", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--output", "/proc/x.npy"], 1, "cannot write")
        let other = TinyData.root + "/other-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: other + "/up", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TinyData.imageFolder + "/right/1.png", toPath: other + "/up/1.png")
        failure(["evaluate", "--model", Self.imageModel, "--data", other], 64, "class folder up")
        // predict reads no labels: a class the model does not know is just more images.
        let unknown = Tool.run(["predict", "--model", Self.imageModel, "--data", other])
        #expect(unknown.status == 0 && unknown.standardOutput.contains("up/1.png\t"), "\(unknown)")
        let otherCSV = TinyData.write("f1,f2,f3,species\n2,0,0,daisy\n", "unknown-class.csv")
        #expect(Tool.run(["predict", "--model", Self.tableModel, "--data", otherCSV]).status == 0)
        failure(["evaluate", "--model", Self.tableModel, "--data", otherCSV], 64, "daisy")
        let features = TinyData.write("f1,f2,f3\n2,0,0\n", "features-only-2.csv")
        failure(["evaluate", "--model", Self.tableModel, "--data", features], 64, "no targets")
        failure(["evaluate", "--model", Self.tableModel, "--data", TinyData.classificationCSV, "--top-k", "4"], 64, "--top-k")
        // Not a model file.
        failure(["predict", "--model", TinyData.classificationCSV, "--data", TinyData.classificationCSV], 1, "classes.csv")
    }
}
