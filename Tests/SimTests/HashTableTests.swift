import Packets
import XCTest
@testable import Sim

/// A key whose hash puts many keys in the same bucket, to exercise probing and backward-shift deletion.
private struct Crowded: TableKey, Hashable {
    var v: UInt64
    var tableHash: UInt64 { v % 7 }
}

final class HashTableTests: XCTestCase {
    /// Random inserts, updates and removals, checked against Dictionary after every step.
    private func check<K: TableKey & Hashable>(_ make: (UInt64) -> K, range: UInt64, steps: Int) {
        var rng = SplitMix64(seed: 42)
        let table = HashTable<K, Int>()
        var reference: [K: Int] = [:]
        for step in 0..<steps {
            let k = make(rng.next() % range)
            switch rng.next() % 3 {
            case 0, 1:
                table[k] = step
                reference[k] = step
            default:
                XCTAssertEqual(table.removeValue(forKey: k), reference.removeValue(forKey: k))
            }
            XCTAssertEqual(table.count, reference.count)
            let probe = make(rng.next() % range)
            XCTAssertEqual(table[probe], reference[probe], "step \(step)")
        }
        var seen = 0
        table.forEach { k, v in
            XCTAssertEqual(reference[k], v)
            seen += 1
        }
        XCTAssertEqual(seen, reference.count)
        table.removeAll()
        XCTAssertTrue(table.isEmpty)
        for (k, _) in reference { XCTAssertNil(table[k]) }
    }

    func testMatchesDictionaryWithSpreadKeys() {
        check({ $0 << 32 | $0 }, range: 5_000, steps: 40_000)
    }

    func testMatchesDictionaryWhenKeysCollide() {
        check({ Crowded(v: $0) }, range: 300, steps: 20_000)
    }

    /// Values with references are released when removed and when the table goes.
    func testReleasesValues() {
        final class Box {}
        weak var gone: Box?
        weak var kept: Box?
        var table: HashTable<Int, Box>? = HashTable()
        do {
            let a = Box(), b = Box()
            gone = a
            kept = b
            table![1] = a
            table![2] = b
        }
        table!.removeValue(forKey: 1)
        XCTAssertNil(gone)
        XCTAssertNotNil(kept)
        table = nil
        XCTAssertNil(kept)
    }
}
