import MoorPluginKit
import MoorShimClient
import Testing
@testable import MoorEngine

/// Spool records become log lines with the positions that make delivery
/// exactly-once across restarts.
struct LineAssemblerTests {
    func record(_ seq: UInt64, _ text: String, _ stream: SpoolStream = .stdout, time: UInt64 = 1000) throws -> SpoolRecord {
        try SpoolRecord(seq: seq, stream: stream, timeNs: time + seq, payload: Array(text.utf8))
    }

    func lines(_ entries: [LogEntry]) -> [String] { entries.map { String(decoding: $0.line, as: UTF8.self) } }

    /// Every entry of `records` from a fresh start, and after each record
    /// how far the spool could be acknowledged.
    func assembleFromStart(_ records: [SpoolRecord]) -> (entries: [LogEntry], acked: [UInt64]) {
        var assembler = LineAssembler(deliveredThrough: nil)
        var entries: [LogEntry] = []
        var acked: [UInt64] = []
        for r in records {
            entries += assembler.consume(r)
            acked.append(assembler.ackableSeq)
        }
        return (entries, acked)
    }

    @Test func oneRecordWithSeveralLinesGivesOneEntryEach() throws {
        var a = LineAssembler(deliveredThrough: nil)
        let out = a.consume(try record(1, "a\nbb\nccc\n"))
        #expect(lines(out) == ["a\n", "bb\n", "ccc\n"])
        #expect(out.map(\.position) == [LogPosition(seq: 1, offset: 2), LogPosition(seq: 1, offset: 5), LogPosition(seq: 1, offset: 9)])
        #expect(a.ackableSeq == 1)
    }

    @Test func aLineSplitAcrossRecordsIsJoinedAndTimedByItsFirstBytes() throws {
        var a = LineAssembler(deliveredThrough: nil)
        #expect(a.consume(try record(1, "hel", time: 100)).isEmpty)
        #expect(a.ackableSeq == 0, "record 1 still has bytes in an open line")
        let out = a.consume(try record(2, "lo\nx", time: 100))
        #expect(lines(out) == ["hello\n"])
        #expect(out.first?.timeNs == 101)
        #expect(out.first?.position == LogPosition(seq: 2, offset: 3))
        #expect(a.ackableSeq == 1, "record 2 holds the start of the open line x")
    }

    @Test func streamsKeepTheirOwnOpenLines() throws {
        var a = LineAssembler(deliveredThrough: nil)
        _ = a.consume(try record(1, "out-", .stdout))
        let err = a.consume(try record(2, "err\n", .stderr))
        #expect(lines(err) == ["err\n"])
        #expect(err.first?.source == .stderr)
        let out = a.consume(try record(3, "done\n", .stdout))
        #expect(lines(out) == ["out-done\n"])
        #expect(a.ackableSeq == 3)
    }

    @Test func longLinesAreCutInto16KiBPartialEntries() throws {
        var a = LineAssembler(deliveredThrough: nil)
        let text = String(repeating: "x", count: LineAssembler.maxLine + 10) + "\n"
        let out = a.consume(try record(1, text))
        #expect(out.count == 2)
        #expect(out[0].line.count == LineAssembler.maxLine && out[0].partial)
        #expect(out[1].line.count == 11 && !out[1].partial)
    }

    @Test func flushEndsOpenLinesAsPartialEntries() throws {
        var a = LineAssembler(deliveredThrough: nil)
        _ = a.consume(try record(1, "no newline"))
        let out = a.flush()
        #expect(lines(out) == ["no newline"])
        #expect(out.first?.partial == true)
        #expect(out.first?.position == LogPosition(seq: 1, offset: 10))
        #expect(a.ackableSeq == 1)
    }

    @Test func aLossRecordEndsOpenLinesAndBecomesAMarkerWithTheCount() throws {
        var a = LineAssembler(deliveredThrough: nil)
        _ = a.consume(try record(1, "half"))
        let loss = SpoolRecord(seq: 2, timeNs: 5, loss: LossRecord(bytes: 12345, records: 3, firstSeq: 10, lastSeq: 12))
        let out = a.consume(loss)
        #expect(lines(out).first == "half")
        #expect(out.count == 2)
        #expect(lines(out)[1].contains("12345 bytes"))
        #expect(out[1].source == .stderr)
    }

    /// A line longer than 16 KiB is cut where 16 KiB of it is in; a restart
    /// after such a cut, from the first unacknowledged record (the one the
    /// cut fell in), must not deliver that record's bytes before the cut
    /// again, nor cut the rest elsewhere.
    @Test(arguments: [[3, 20480, 4], [3, 4096, 4096, 4096, 4096, 4096, 4], [16390, 100, 4], [1, 40000, 4]])
    func resumingAfterACutInsideARecord(_ sizes: [Int]) throws {
        var records: [SpoolRecord] = []
        for (index, size) in sizes.enumerated() {
            let last = index == sizes.count - 1
            records.append(try record(UInt64(index + 1), last ? "def\n" : String(repeating: index == 0 ? "a" : "y", count: size)))
        }
        let (all, acked) = assembleFromStart(records)
        let whole = all.flatMap(\.line)
        #expect(whole.count == sizes.reduce(0, +))
        // The daemon dies after storing entry `cut`, having acknowledged
        // what the assembler allowed when that entry came out.
        for cut in 0..<all.count {
            let delivered = all[cut].position
            let ack = acked[Int(delivered.seq) - 1]
            var again = LineAssembler(deliveredThrough: delivered)
            var rest: [LogEntry] = []
            for r in records where r.seq > ack { rest += again.consume(r) }
            let replayed = Array(all[0...cut]) + rest
            #expect(replayed.flatMap(\.line) == whole, "cut after entry \(cut) at \(delivered), ack \(ack): \(replayed.map(\.line.count))")
            #expect(replayed.map(\.position) == all.map(\.position), "cut after entry \(cut)")
        }
    }

    /// The same, with the other stream's lines stored after the cut: the
    /// driver's last entry is then on stderr, and only each stream's own
    /// last position tells where its line resumes.
    @Test(arguments: [[3, 20480, 4], [3, 4096, 4096, 4096, 4096, 4096, 4], [16390, 100, 4], [1, 40000, 4]])
    func resumingAfterACutWhenTheOtherStreamWroteSince(_ sizes: [Int]) throws {
        var records: [SpoolRecord] = []
        for (index, size) in sizes.enumerated() {
            let last = index == sizes.count - 1
            records.append(try record(UInt64(records.count + 1), last ? "def\n" : String(repeating: index == 0 ? "a" : "y", count: size)))
            records.append(try record(UInt64(records.count + 1), "err \(index)\n", .stderr))
        }
        let (all, acked) = assembleFromStart(records)
        func stream(_ entries: [LogEntry], _ source: LogSource) -> [UInt8] {
            entries.filter { $0.source == source }.flatMap(\.line)
        }
        #expect(stream(all, .stdout).count == sizes.reduce(0, +))
        for cut in 0..<all.count {
            let delivered = all[cut].position
            let ack = acked[Int(delivered.seq) - 1]
            var streams: [LogSource: LogPosition] = [:]
            for entry in all[0...cut] where entry.position.seq > ack { streams[entry.source] = entry.position }
            var again = LineAssembler(deliveredThrough: delivered, streamsDeliveredThrough: streams)
            var rest: [LogEntry] = []
            for r in records where r.seq > ack { rest += again.consume(r) }
            let replayed = Array(all[0...cut]) + rest
            for source in [LogSource.stdout, .stderr] {
                #expect(stream(replayed, source) == stream(all, source), "\(source), cut after entry \(cut) at \(delivered), ack \(ack)")
            }
            #expect(replayed.map(\.position) == all.map(\.position), "cut after entry \(cut)")
        }
    }

    /// After a restart the drainer re-reads from the first unacknowledged
    /// record; what the driver already holds is dropped by position.
    @Test func resumingDropsExactlyWhatWasDelivered() throws {
        let records = [try record(1, "a\nb"), try record(2, "c\nd\n"), try record(3, "e\n")]
        var first = LineAssembler(deliveredThrough: nil)
        var all: [LogEntry] = []
        for r in records { all += first.consume(r) }
        #expect(lines(all) == ["a\n", "bc\n", "d\n", "e\n"])
        for cut in 0...all.count {
            let delivered = cut == 0 ? nil : all[cut - 1].position
            var again = LineAssembler(deliveredThrough: delivered)
            var rest: [LogEntry] = []
            for r in records { rest += again.consume(r) }
            #expect(lines(Array(all[0..<cut]) + rest) == lines(all), "cut after \(cut)")
        }
    }
}
