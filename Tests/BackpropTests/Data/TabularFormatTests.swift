import Backprop
import Foundation
import Testing

struct TabularFormatTests {
    func write(_ text: String, _ name: String = "data.csv") -> String {
        let path = NSTemporaryDirectory() + "backprop-\(UUID().uuidString)-" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func readsFeaturesAndLabelsByNameOrIndex() throws {
        let path = write("a,b,species,c\n1,2,setosa,3\n4,5.5,virginica,6\n\"7\",-8,setosa,9e-1\n")
        let table = try CSVTable(contentsOf: path, labelColumn: .name("species"))
        #expect(table.features.shape == [3, 3] && table.features.scalars == [1, 2, 3, 4, 5.5, 6, 7, -8, 0.9])
        #expect(table.labels.scalars == [0, 1, 0] && table.classNames == ["setosa", "virginica"])
        #expect(table.featureNames == ["a", "b", "c"])
        let byIndex = try CSVTable(contentsOf: write("x,y\n0.5,2\n1.5,0\n"), labelColumn: .index(1))
        #expect(byIndex.labels.scalars == [2, 0] && byIndex.classNames.count == 3)
    }

    @Test func reportsBadRowsByNumberAndColumn() throws {
        let cases: [(String, String)] = [
            ("a,b,label\n1,2,0\n3,,1\n", "row 3, column b"),
            ("a,b,label\n1,2,0\n3,NA,1\n", "missing value"),
            ("a,b,label\n1,x7,0\n", "row 2, column b"),
            ("a,b,label\n1,2\n", "row 2"),
            ("a,b,label\n1,\"2,0\n", "closing quote"),
            ("a,b,label\n", "data row"),
        ]
        for (text, fragment) in cases {
            let path = write(text)
            #expect { try CSVTable(contentsOf: path) } throws: { "\($0)".contains(fragment) && "\($0)".contains(path) }
        }
        #expect(throws: BackpropError.self) { try CSVTable(contentsOf: write("a,b\n1,2\n"), labelColumn: .name("nope")) }
        // Huge integer labels are names, not class indices (no 10¹⁰-class table).
        let huge = try CSVTable(contentsOf: write("a,label\n1,10000000000\n2,9223372036854775807\n"))
        #expect(huge.classNames.count == 2)
    }

    @Test func readsCIFARRecordsIntoNHWC() throws {
        var record = [UInt8](repeating: 0, count: 3073 * 2)
        record[0] = 7
        record[1 + 0] = 255  // red of pixel 0
        record[1 + 1024 + 1] = 51  // green of pixel 1
        record[3073] = 2
        record[3073 + 1 + 2048 + 1023] = 102  // blue of the last pixel of image 2
        let path = write(String(decoding: [], as: UTF8.self), "batch.bin")
        _ = FileManager.default.createFile(atPath: path, contents: Data(record))
        let data = try CIFAR.read(contentsOf: path)
        #expect(data.inputs.shape == [2, 32, 32, 3] && data.labels.scalars == [7, 2])
        #expect(data.inputs[0, 0, 0, 0] == 1 && data.inputs[0, 0, 1, 1] == 0.2 && data.inputs[1, 31, 31, 2] == 0.4)
        _ = FileManager.default.createFile(atPath: path, contents: Data(record.prefix(5000)))
        #expect { try CIFAR.read(contentsOf: path) } throws: { "\($0)".contains("multiple of 3073") }
        record[0] = 10
        _ = FileManager.default.createFile(atPath: path, contents: Data(record))
        #expect { try CIFAR.read(contentsOf: path) } throws: { "\($0)".contains("label of record 0") }
        var hundredRecord = [UInt8](repeating: 0, count: 3074)
        hundredRecord[0] = 3  // coarse label
        hundredRecord[1] = 42  // fine label
        _ = FileManager.default.createFile(atPath: path, contents: Data(hundredRecord))
        let hundred = try CIFAR.read(contentsOf: path, variant: .cifar100(coarse: false))
        #expect(hundred.labels.scalars == [42])
    }
}
