import Foundation
import MoorPluginKit
import MoorShimClient
import Testing
@testable import MoorEngine

/// The loss records a daemon reported, as the next daemon reads them back.
struct LossLedgerTests {
    func withLedger(_ body: (inout LossLedger) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moor-ledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var ledger = LossLedger(path: dir + "/log-loss.json")
        try body(&ledger)
    }

    let first = LossRecord(bytes: 300, records: 3, firstSeq: 10, lastSeq: 12)
    let grown = LossRecord(bytes: 700, records: 7, firstSeq: 10, lastSeq: 16)

    @Test func theLossOfTheLastBatchTheDriverHoldsIsTheOneReported() throws {
        try withLedger { ledger in
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 99, offset: 0)) == nil, "nothing recorded yet")
            try ledger.record(first, through: LogPosition(seq: 20, offset: 5))
            try ledger.record(grown, through: LogPosition(seq: 30, offset: 0))
            ledger = LossLedger(path: ledger.path) // as the next daemon reads it
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 30, offset: 0)) == grown)
            // The daemon died while storing the newer batch: the older one is held.
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 29, offset: 100)) == first)
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 20, offset: 4)) == nil)
            #expect(ledger.reported(deliveredThrough: nil) == nil)
        }
    }

    @Test func onlyTheTwoNewestAreKept() throws {
        try withLedger { ledger in
            for seq in UInt64(1)...5 {
                try ledger.record(LossRecord(bytes: seq, records: 1, firstSeq: seq, lastSeq: seq),
                                  through: LogPosition(seq: seq * 10, offset: 0))
            }
            #expect(LossLedger(path: ledger.path).entries.map(\.firstSeq) == [4, 5])
        }
    }

    @Test func aSeededAccountingCountsOnlyTheGrowthOfTheStubReportedBefore() throws {
        var accounting = LossAccounting(resumingAfter: first)
        #expect(accounting.missing(grown) == LossRecord(bytes: 400, records: 4, firstSeq: 13, lastSeq: 16))
    }

    @Test func anUnreadableLedgerCountsAsNothingReported() throws {
        try withLedger { ledger in
            try Data("{not json".utf8).write(to: URL(fileURLWithPath: ledger.path))
            ledger = LossLedger(path: ledger.path)
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 1, offset: 0)) == nil)
            try ledger.record(first, through: LogPosition(seq: 20, offset: 0))
            #expect(ledger.reported(deliveredThrough: LogPosition(seq: 20, offset: 0)) == first)
        }
    }
}
