import MoorShimClient
import Testing
@testable import MoorEngine

/// Loss records count only what the log driver lacks and was not reported.
struct LossAccountingTests {
    func consume(_ accounting: inout LossAccounting, _ seqs: ClosedRange<UInt64>, bytes: Int = 100) throws {
        for seq in seqs {
            accounting.consumed(try SpoolRecord(seq: seq, stream: .stdout, timeNs: seq,
                                                payload: [UInt8](repeating: 0x61, count: bytes)))
        }
    }

    @Test func recordsReadBeforeTheDropAreNotLost() throws {
        var accounting = LossAccounting()
        try consume(&accounting, 5...7)
        let missing = accounting.missing(LossRecord(bytes: 500, records: 5, firstSeq: 5, lastSeq: 9))
        #expect(missing?.bytes == 200 && missing?.records == 2)
    }

    @Test func aDropOfOnlyReadRecordsIsNoLoss() throws {
        var accounting = LossAccounting()
        try consume(&accounting, 1...3)
        #expect(accounting.missing(LossRecord(bytes: 300, records: 3, firstSeq: 1, lastSeq: 3)) == nil)
    }

    @Test func aGrownStubCountsOnlyTheDropsSinceItWasRead() throws {
        var accounting = LossAccounting()
        #expect(accounting.missing(LossRecord(bytes: 300, records: 3, firstSeq: 10, lastSeq: 12))?.bytes == 300)
        try consume(&accounting, 13...13)
        let grown = accounting.missing(LossRecord(bytes: 700, records: 7, firstSeq: 10, lastSeq: 16))
        #expect(grown == LossRecord(bytes: 300, records: 3, firstSeq: 13, lastSeq: 16))
        #expect(accounting.missing(LossRecord(bytes: 700, records: 7, firstSeq: 10, lastSeq: 16)) == nil)
        // Another stub (after the first was reclaimed): counted whole.
        #expect(accounting.missing(LossRecord(bytes: 50, records: 1, firstSeq: 30, lastSeq: 30))?.bytes == 50)
    }

    @Test func recordsAcknowledgedTwiceAgoAreForgotten() throws {
        var accounting = LossAccounting()
        try consume(&accounting, 1...3)
        accounting.acknowledged(3)
        try consume(&accounting, 4...6)
        accounting.acknowledged(6)
        // Records 1...3 can no longer be dropped; 4...6 still could be.
        #expect(accounting.missing(LossRecord(bytes: 600, records: 6, firstSeq: 1, lastSeq: 6)) == LossRecord(bytes: 300, records: 3, firstSeq: 1, lastSeq: 6))
    }

    @Test func diskFullLossesHaveNoRecordsAndCountWhole() {
        var accounting = LossAccounting()
        #expect(accounting.missing(LossRecord(bytes: 4096))?.bytes == 4096)
    }
}
