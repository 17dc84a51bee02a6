import Backprop
import Foundation
import Testing

struct SafeTensorsTests {
    /// A file built byte by byte from the format's description: F16 [1, −2.5] and BF16 [1].
    static func handMade(header: String, data: [UInt8]) -> Data {
        let json = Array(header.utf8)
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Data($0) } + json + data
    }

    static let valid = handMade(
        header:
            #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},"__metadata__":{"format":"pt"}}"#,
        data: [0x00, 0x3C, 0x00, 0xC1, 0x80, 0x3F])

    @Test func readsAHandMadeFile() throws {
        let file = try SafeTensors(data: Self.valid, path: "hand.safetensors")
        #expect(file.tensors["a"]?.values == [1, -2.5] && file.tensors["a"]?.dataType == .f16)
        #expect(file.tensors["b"]?.values == [1] && file.tensors["b"]?.shape == [1, 1])
        #expect(file.metadata == ["format": "pt"])
    }

    @Test func roundTripsThroughAFile() throws {
        let path = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).safetensors"
        let original = SafeTensors(
            tensors: [
                "w": .init(shape: [2, 3], values: [1, -2, 3.5, .pi, -0, 1e-30]), "empty": .init(shape: [0, 4], values: []),
                "steps": .init(shape: [], values: [42], dataType: .i64),
            ], metadata: ["architecture": "{\"layers\": []}"])
        try original.write(to: path)
        let read = try SafeTensors(contentsOf: path)
        #expect(read.tensors == original.tensors)
        #expect(read.metadata == original.metadata)
        // The header is padded to 8 bytes, so the data is aligned.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Int(bytes[0]) % 8 == 0)
    }

    @Test(
        arguments: [
            (Data([1, 2, 3]), "header length"),
            (handMade(header: "", data: []).prefix(8) + Data([0xff]), "header"),
            (Data([0x00, 0xc2, 0xeb, 0x0b, 0, 0, 0, 0]) + Data("{}".utf8), "at most 100000000"),
            (Data([0x40, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8), "header"),
            (handMade(header: "{not json", data: []), "a JSON object"),
            (handMade(header: "[1, 2]", data: []), "a JSON object"),
            (handMade(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "tensor a: data_offsets"),
            (handMade(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "8 bytes for F32"),
            (handMade(header: #"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "tensor a: dtype"),
            (handMade(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "tensor a: shape"),
            (handMade(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "tensor a: data_offsets"),
            (
                handMade(
                    header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#,
                    data: [0, 0, 0]), "overlap"
            ),
            (
                handMade(
                    header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}"#,
                    data: [0, 0, 0]), "gap"
            ),
            (handMade(header: #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, data: [0, 9, 9]), "data"),
            (handMade(header: #"{"__metadata__":{"n":3}}"#, data: []), "__metadata__.n"),
            (handMade(header: #"{"a":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1]}}"#, data: [0]), "tensor a: shape"),
        ] as [(Data, String)])
    func malformedFilesAreClearErrors(_ bytes: Data, fragment: String) {
        #expect {
            _ = try SafeTensors(data: bytes, path: "bad.safetensors")
        } throws: { error in
            "\(error)".contains("bad.safetensors") && "\(error)".contains(fragment)
        }
    }

    @Test func mutatedFilesParseOrThrowNeverCrash() {
        let path = NSTemporaryDirectory() + "fuzz-\(UUID().uuidString).safetensors"
        let good = SafeTensors(tensors: ["x": .init(shape: [3, 2], values: [1, 2, 3, 4, 5, 6]), "y": .init(shape: [2], values: [7, 8])])
        let original = [UInt8](good.encoded())
        var generator = RandomGenerator(seed: 21)
        var parsed = 0
        for round in 0..<3_000 {
            var bytes = original
            switch round % 4 {
            case 0: bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(1 << (generator.next() % 8))
            case 1: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 2: bytes[Int(generator.next() % 8)] = 0xff
            default: bytes[8 + Int(generator.next() % UInt64(bytes.count - 8))] = UInt8(generator.next() % 256)
            }
            if (try? SafeTensors(data: Data(bytes), path: path)) != nil { parsed += 1 }
        }
        #expect(parsed < 3_000)
    }

    /// The reference implementation (PyPI `safetensors`, installed by scripts/test.sh) reads what
    /// Backprop writes, and Backprop reads what it writes, F16 and F64 included.
    @Test func theReferenceImplementationAgrees() throws {
        let folder = NSTemporaryDirectory() + "backprop-st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try SafeTensors(tensors: ["w": .init(shape: [2, 2], values: [1, 2, 3, 4])], metadata: ["k": "v"]).write(
            to: folder + "/ours.safetensors")
        let script = """
            import sys, numpy as np
            from safetensors.numpy import load_file, save_file
            from safetensors import safe_open
            folder = sys.argv[1]
            ours = load_file(folder + "/ours.safetensors")
            assert ours["w"].dtype == np.float32 and ours["w"].tolist() == [[1, 2], [3, 4]], ours
            with safe_open(folder + "/ours.safetensors", "np") as f:
                assert f.metadata() == {"k": "v"}, f.metadata()
            save_file({"h": np.array([0.5, -3], dtype=np.float16), "d": np.array([[1e-3]], dtype=np.float64),
                       "n": np.array(7, dtype=np.int64)}, folder + "/theirs.safetensors", metadata={"by": "numpy"})
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the safetensors package rejected our file (is it installed? scripts/test.sh installs it)")
        let theirs = try SafeTensors(contentsOf: folder + "/theirs.safetensors")
        #expect(theirs.tensors["h"]?.values == [0.5, -3] && theirs.tensors["h"]?.dataType == .f16)
        #expect(theirs.tensors["d"]?.values == [Float(1e-3)] && theirs.tensors["d"]?.shape == [1, 1])
        #expect(theirs.tensors["n"]?.values == [7] && theirs.tensors["n"]?.shape == [])
        #expect(theirs.metadata == ["by": "numpy"])
    }
}

struct ModelStateTests {
    static func model(seed: UInt64) -> Model {
        seedGlobalRandom(seed)
        return Model(inputShape: [4]) {
            Dense(4, 3)
            BatchNorm(channels: 3)
            Dense(3, 2)
        }
    }

    @Test func stateDictRoundTripsBitForBit() throws {
        let source = Self.model(seed: 1)
        let target = Self.model(seed: 2)
        let state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.value) })
        #expect(
            state.keys.sorted()
                == [
                    "layers.0.bias", "layers.0.weight", "layers.1.beta", "layers.1.gamma", "layers.1.runningMean",
                    "layers.1.runningVariance", "layers.2.bias", "layers.2.weight",
                ].sorted())
        try target.load(state)
        let x = Tensor((0..<20).map { Float($0) / 7 }, shape: [5, 4])
        #expect(target.predict(x).scalars == source.predict(x).scalars)
    }

    @Test func aBadStateChangesNothing() throws {
        let model = Self.model(seed: 1)
        let before = model.stateDict().map(\.value.scalars)
        var state = Dictionary(uniqueKeysWithValues: Self.model(seed: 3).stateDict().map { ($0.name, $0.value) })
        state["layers.2.weight"] = Tensor.zeros([2, 3])
        #expect { try model.load(state, source: "m.safetensors") } throws: {
            "\($0)".contains("layers.2.weight") && "\($0)".contains("[3, 2]")
        }
        #expect(model.stateDict().map(\.value.scalars) == before, "a failed load must not half-load")
        state["layers.2.weight"] = nil
        #expect { try model.load(state) } throws: { "\($0)".contains("layers.2.weight") }
        #expect(throws: Never.self) { try model.load(state, strict: false) }
        state["layers.9.weight"] = Tensor.zeros([1])
        #expect { try model.load(state.merging(["layers.2.weight": Tensor.zeros([3, 2])]) { a, _ in a }) } throws: {
            "\($0)".contains("layers.9.weight")
        }
    }
}
