// Unit tests of the output spool (spool.c, spool-scan.c), called directly
// through MoorShimCore. Records are parsed here byte by byte, independently
// of the C decoder, so a framing mistake on either side shows.
import Foundation
import Glibc
import MoorShimCore
import Testing

// MARK: - Helpers

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private let stdoutStream = UInt8(MOOR_STREAM_STDOUT.rawValue)
private let stderrStream = UInt8(MOOR_STREAM_STDERR.rawValue)
private let lossStream = UInt8(MOOR_STREAM_LOSS.rawValue)
private let headerSize = Int(MOOR_RECORD_HEADER_SIZE)
private let lossRecordSize = Int(MOOR_RECORD_HEADER_SIZE + MOOR_LOSS_PAYLOAD_SIZE)
private let readMin = Int(MOOR_RECORD_HEADER_SIZE + MOOR_RECORD_MAX_PAYLOAD)

private struct SpoolTestError: Error, CustomStringConvertible {
    var description: String
}

private func le(_ b: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
    (0..<size).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
}

private struct Loss: Equatable {
    var bytes: UInt64
    var records: UInt64
    var firstSeq: UInt64
    var lastSeq: UInt64
}

private struct Record: Equatable {
    var length: UInt32
    var stream: UInt8
    var flags: UInt8
    var magic: UInt16
    var seq: UInt64
    var timeNs: UInt64
    var payload: [UInt8]

    var isData: Bool { stream == stdoutStream || stream == stderrStream }
    var loss: Loss? {
        guard stream == lossStream, payload.count >= 32 else { return nil }
        return Loss(bytes: le(payload, 0, 8), records: le(payload, 8, 8),
                    firstSeq: le(payload, 16, 8), lastSeq: le(payload, 24, 8))
    }
}

/// Parses concatenated records; `rest` is what did not frame as a whole record.
private func parseRecords(_ b: [UInt8]) -> (records: [Record], rest: Int) {
    var out: [Record] = []
    var at = 0
    while at + headerSize <= b.count {
        let length = Int(le(b, at, 4))
        guard at + headerSize + length <= b.count else { break }
        out.append(Record(
            length: UInt32(length), stream: b[at + 4], flags: b[at + 5],
            magic: UInt16(le(b, at + 6, 2)), seq: le(b, at + 8, 8), timeNs: le(b, at + 16, 8),
            payload: Array(b[(at + headerSize)..<(at + headerSize + length)])))
        at += headerSize + length
    }
    return (out, b.count - at)
}

private func bytes(_ n: Int, _ seed: UInt8 = 0) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
}

private func segmentName(_ index: UInt64) -> String {
    let hex = String(index, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex + ".seg"
}

/// A spool in its own temp directory. `cleanup()` closes it, unmounts what
/// the test mounted and removes the directory.
private final class TempSpool {
    let root: String
    let dir: String
    let sp: UnsafeMutablePointer<moor_spool_t>
    private var mountPoint: String?

    init() throws {
        var template = Array("/tmp/moor-spool-test-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw SpoolTestError(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        root = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        dir = root + "/spool"
        sp = .allocate(capacity: 1)
        sp.initialize(to: moor_spool_t())
        sp.pointee.dir_fd = -1
        sp.pointee.write_fd = -1
    }

    func cleanup() {
        moor_spool_close(sp)
        if let mountPoint {
            umount2(mountPoint, Int32(MNT_DETACH))
        }
        try? FileManager.default.removeItem(atPath: root)
        sp.deallocate()
    }

    /// Mounts a tmpfs of `size` (e.g. "512k") on root/disk; the spool then lives there.
    func mountSmallDisk(size: String) throws -> String {
        let point = root + "/disk"
        try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: false)
        let rc = mount("tmpfs", point, "tmpfs", 0, "size=\(size)")
        guard rc == 0 else {
            throw SpoolTestError(description: "mount tmpfs on \(point): \(String(cString: strerror(errno)))")
        }
        mountPoint = point
        return point + "/spool"
    }

    func open(max: UInt64, dir path: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var err = moor_err_t()
        let rc = moor_spool_open(sp, path ?? dir, max, &err)
        try #require(rc == 0, "open: \(message(err))", sourceLocation: sourceLocation)
    }

    func close() { moor_spool_close(sp) }

    @discardableResult
    func append(_ data: [UInt8], stream: UInt8 = stdoutStream, time: UInt64 = 7,
                sourceLocation: SourceLocation = #_sourceLocation) -> Int32 {
        var err = moor_err_t()
        let rc = data.withUnsafeBytes {
            moor_spool_append(sp, stream, time, $0.baseAddress, $0.count, &err)
        }
        #expect(rc == 0, "append: \(message(err))", sourceLocation: sourceLocation)
        return rc
    }

    /// One moor_spool_read; the buffer is as big as the API asks (max(cap, one record)).
    func read(from: UInt64, cap: Int = 1 << 20,
              sourceLocation: SourceLocation = #_sourceLocation) -> (records: [Record], next: UInt64, count: Int) {
        var buf = [UInt8](repeating: 0, count: max(cap, readMin))
        var got = 0
        var next: UInt64 = 0
        var err = moor_err_t()
        let rc = buf.withUnsafeMutableBytes {
            moor_spool_read(sp, from, $0.baseAddress, cap, &got, &next, &err)
        }
        #expect(rc == 0, "read: \(message(err))", sourceLocation: sourceLocation)
        let parsed = parseRecords(Array(buf[0..<got]))
        #expect(parsed.rest == 0, "a read returned a part of a record", sourceLocation: sourceLocation)
        return (parsed.records, next, got)
    }

    /// Every record from `from` on, read the way a client does.
    func readAll(from: UInt64 = 1) -> [Record] {
        var out: [Record] = []
        var seq = from
        while true {
            let batch = read(from: seq)
            if batch.records.isEmpty { break }
            out += batch.records
            seq = batch.next
        }
        return out
    }

    func ack(_ seq: UInt64) -> (rc: Int32, message: String) {
        var err = moor_err_t()
        let rc = moor_spool_ack(sp, seq, &err)
        return (rc, message(err))
    }

    func flushLoss(sourceLocation: SourceLocation = #_sourceLocation) {
        var err = moor_err_t()
        #expect(moor_spool_flush_loss(sp, &err) == 0, "flush: \(message(err))", sourceLocation: sourceLocation)
    }

    var segments: [moor_spool_segment_t] {
        withUnsafeBytes(of: &sp.pointee.segments) { raw in
            Array(raw.bindMemory(to: moor_spool_segment_t.self).prefix(Int(sp.pointee.n_segments)))
        }
    }

    func segmentFiles(in path: String? = nil) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path ?? dir)) ?? []
        return names.filter { $0.hasSuffix(".seg") }.sorted()
    }

    func fileBytes(_ name: String, in path: String? = nil) -> [UInt8] {
        (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: (path ?? dir) + "/" + name)))) ?? []
    }

    func writeFile(_ name: String, _ content: [UInt8]) throws {
        try Data(content).write(to: URL(fileURLWithPath: dir + "/" + name))
    }

    func appendToFile(_ name: String, _ content: [UInt8]) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/" + name))
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data(content))
    }
}

private func withSpool(_ body: (TempSpool) throws -> Void) throws {
    let t = try TempSpool()
    defer { t.cleanup() }
    try body(t)
}

/// A record header, encoded here by hand as the format says.
private func header(length: Int, stream: UInt8, seq: UInt64, time: UInt64, magic: UInt16 = 0x4d52) -> [UInt8] {
    var h: [UInt8] = []
    h += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    h += [stream, 0, UInt8(magic & 0xff), UInt8(magic >> 8)]
    h += (0..<8).map { UInt8(truncatingIfNeeded: seq >> (8 * UInt64($0))) }
    h += (0..<8).map { UInt8(truncatingIfNeeded: time >> (8 * UInt64($0))) }
    return h
}

/// Sums over records: payload bytes kept, loss reported, data records kept.
private func tally(_ records: [Record]) -> (kept: UInt64, lost: UInt64, dataRecords: UInt64, lostRecords: UInt64) {
    var t: (kept: UInt64, lost: UInt64, dataRecords: UInt64, lostRecords: UInt64) = (0, 0, 0, 0)
    for r in records {
        if let loss = r.loss {
            t.lost += loss.bytes
            t.lostRecords += loss.records
        } else if r.isData {
            t.kept += UInt64(r.payload.count)
            t.dataRecords += 1
        }
    }
    return t
}

// MARK: - Framing

@Suite struct SpoolFramingTests {
    @Test func recordsAreFramedOnDiskWithSeqStreamTimeAndPayload() throws {
        try withSpool { t in
            try t.open(max: 0)
            let big = bytes(65536, 3)
            t.append(Array("hello".utf8), stream: stdoutStream, time: 111)
            t.append(Array("oops!\n".utf8), stream: stderrStream, time: 1_700_000_000_123_456_789)
            t.append(big, stream: stdoutStream, time: 333)

            #expect(t.segmentFiles() == ["0000000000000001.seg"])
            let raw = t.fileBytes("0000000000000001.seg")
            #expect(raw.count == 3 * headerSize + 5 + 6 + 65536)
            // The first header, byte by byte.
            #expect(Array(raw[0..<24]) == [5, 0, 0, 0, 1, 0, 0x52, 0x4d, 1, 0, 0, 0, 0, 0, 0, 0,
                                            111, 0, 0, 0, 0, 0, 0, 0])
            let parsed = parseRecords(raw)
            #expect(parsed.rest == 0)
            let recs = parsed.records
            try #require(recs.count == 3)
            #expect(recs.map(\.seq) == [1, 2, 3])
            #expect(recs.map(\.stream) == [stdoutStream, stderrStream, stdoutStream])
            #expect(recs.map(\.timeNs) == [111, 1_700_000_000_123_456_789, 333])
            #expect(recs.allSatisfy { $0.magic == 0x4d52 && $0.flags == 0 })
            #expect(recs[0].payload == Array("hello".utf8))
            #expect(recs[1].payload == Array("oops!\n".utf8))
            #expect(recs[2].payload == big)
            #expect(t.sp.pointee.next_seq == 4)
            #expect(t.sp.pointee.total_bytes == UInt64(raw.count))
            #expect(moor_spool_first_seq(t.sp) == 1)
            // The same bytes come out of a read.
            #expect(t.read(from: 1).records == recs)
        }
    }

    @Test func appendRefusesWhatIsNotARecordAndSkipsEmptyData() throws {
        try withSpool { t in
            try t.open(max: 0)
            var err = moor_err_t()
            let tooBig = bytes(Int(MOOR_RECORD_MAX_PAYLOAD) + 1)
            var rc = tooBig.withUnsafeBytes { moor_spool_append(t.sp, stdoutStream, 1, $0.baseAddress, $0.count, &err) }
            #expect(rc == -EINVAL)
            #expect(message(err).contains(t.dir))
            rc = moor_spool_append(t.sp, lossStream, 1, "x", 1, &err)
            #expect(rc == -EINVAL)
            #expect(message(err).contains("stream 3"))
            rc = moor_spool_append(t.sp, stdoutStream, 1, nil, 0, &err)
            #expect(rc == 0)
            #expect(t.sp.pointee.next_seq == 1)
            #expect(t.sp.pointee.total_bytes == 0)
            #expect(t.sp.pointee.lost_bytes_total == 0)
        }
    }

    @Test(arguments: [
        (UInt64(0), UInt64(1) << 30, UInt64(32) << 20),
        (UInt64(16) << 20, UInt64(16) << 20, UInt64(512) << 10),
        (UInt64(1), UInt64(256) << 10, UInt64(64) << 10),
        (UInt64(2) << 30, UInt64(2) << 30, UInt64(64) << 20),
        (UInt64(64) << 30, UInt64(64) << 30, UInt64(2) << 30),
    ])
    func theBoundSetsTheSegmentSize(requested: UInt64, bound: UInt64, segment: UInt64) throws {
        try withSpool { t in
            try t.open(max: requested)
            #expect(t.sp.pointee.max_bytes == bound)
            #expect(t.sp.pointee.segment_max == segment)
        }
    }
}

// MARK: - Reading

@Suite struct SpoolReadTests {
    @Test func readReturnsWholeRecordsFromASeqWithinTheCap() throws {
        try withSpool { t in
            try t.open(max: 0)
            for i in 0..<10 { t.append(bytes(100, UInt8(i))) }
            let rec = headerSize + 100
            // 1000 bytes hold 8 records of 124.
            var r = t.read(from: 1, cap: 1000)
            #expect(r.records.map(\.seq) == Array(1...8))
            #expect(r.count == 8 * rec)
            #expect(r.next == 9)
            #expect(r.records[3].payload == bytes(100, 3))
            r = t.read(from: r.next, cap: 1000)
            #expect(r.records.map(\.seq) == [9, 10])
            #expect(r.next == 11)
            // At the end: nothing, and the cursor stays.
            r = t.read(from: 11, cap: 1000)
            #expect(r.records.isEmpty)
            #expect(r.next == 11)
            // A cap of exactly one record, then one smaller than a record:
            // always at least one whole record.
            r = t.read(from: 5, cap: rec)
            #expect(r.records.map(\.seq) == [5])
            r = t.read(from: 5, cap: 10)
            #expect(r.records.map(\.seq) == [5])
            #expect(r.next == 6)
            // seq 0 means from the start.
            #expect(t.read(from: 0, cap: 1000).records.first?.seq == 1)
        }
    }

    @Test func aLargeFirstRecordIsReturnedWhateverTheCap() throws {
        try withSpool { t in
            try t.open(max: 0)
            t.append(bytes(65536, 1))
            t.append(bytes(10, 2))
            let r = t.read(from: 1, cap: 64 * 1024)
            #expect(r.records.map(\.seq) == [1])
            #expect(r.records.first?.payload == bytes(65536, 1))
            #expect(r.next == 2)
        }
    }

    @Test func sequentialReadsResumeFromTheCachedPositionWithoutRescanning() throws {
        try withSpool { t in
            try t.open(max: 0)
            for i in 0..<6 { t.append(bytes(100, UInt8(i))) }
            let first = t.read(from: 1, cap: 3 * (headerSize + 100))
            #expect(first.next == 4)
            #expect(t.sp.pointee.cache_seq == 4)
            #expect(t.sp.pointee.cache_offset == UInt64(3 * (headerSize + 100)))
            // Spoil record 1's magic on disk: a read that rescanned the
            // segment from its start would stop there.
            let name = "0000000000000001.seg"
            var raw = t.fileBytes(name)
            raw[6] = 0
            try t.writeFile(name, raw)
            #expect(t.read(from: 4).records.map(\.seq) == [4, 5, 6])
            // A read from elsewhere does rescan, and stops at the bad record.
            #expect(t.read(from: 2).records.isEmpty)
        }
    }

    @Test func readsSpanSegmentsAndAnOldSeqStartsAtTheOldestKept() throws {
        try withSpool { t in
            // 256 KiB bound, 64 KiB segments: records of 30000 bytes, 2 a segment.
            try t.open(max: 1)
            for i in 0..<20 { t.append(bytes(30000, UInt8(i))) }
            let first = moor_spool_first_seq(t.sp)
            #expect(first > 1, "the bound dropped the oldest records")
            #expect(t.segmentFiles().count > 2)
            let r = t.read(from: 1, cap: 1 << 20)
            #expect(r.records.first?.seq == first)
            let seqs = r.records.map(\.seq)
            #expect(seqs == Array(first..<t.sp.pointee.next_seq), "every kept record, in order")
            #expect(r.next == t.sp.pointee.next_seq)
        }
    }
}

// MARK: - The bound and loss

@Suite struct SpoolBoundTests {
    @Test func theFirstDropLeavesALossRecordWithTheExactCountWhereTheRecordsWere() throws {
        try withSpool { t in
            // 60000-byte records: one per 64 KiB segment; the 256 KiB bound
            // holds four with room for a loss record, so the fifth drops seq 1.
            try t.open(max: 1)
            for i in 0..<4 { t.append(bytes(60000, UInt8(i)), time: UInt64(100 + i)) }
            #expect(t.segmentFiles().count == 4)
            t.append(bytes(60000, 4), time: 104)
            let recs = t.readAll()
            // The loss takes the dropped record's place (and seq): a reader
            // meets it before the first record kept.
            #expect(recs.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(recs[0].stream == lossStream)
            #expect(recs[0].loss == Loss(bytes: 60000, records: 1, firstSeq: 1, lastSeq: 1))
            #expect(recs[0].timeNs == 100, "timed when the dropped output was read")
            #expect(recs[4].payload == bytes(60000, 4))
            #expect(t.sp.pointee.lost_bytes_total == 60000)
            #expect(t.sp.pointee.pending_loss_bytes == 0)
            #expect(t.sp.pointee.total_bytes <= t.sp.pointee.max_bytes)
            #expect(t.fileBytes(segmentName(1)).count == lossRecordSize, "segment 1 is now the stub")
        }
    }

    @Test func consecutiveDropsMergeIntoOneLossRecordAtTheGap() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<3 { t.append(bytes(1000, UInt8(i))) }
            #expect(t.ack(3).rc == 0) // delivered before the "downtime"
            for i in 0..<2000 { t.append(bytes(1000, UInt8(i % 256)), time: UInt64(1000 + i)) }
            let recs = t.readAll(from: 4)
            let losses = recs.filter { $0.loss != nil }
            try #require(losses.count == 1, "one marker for one downtime")
            #expect(recs.first?.loss != nil, "the marker comes first, where the output is missing")
            let lost = try #require(losses[0].loss)
            #expect(lost.firstSeq == 4)
            #expect(losses[0].timeNs == 1000, "the gap begins with the first record dropped")
            let data = recs.filter(\.isData)
            #expect(lost.lastSeq == data[0].seq - 1)
            #expect(lost.records + UInt64(data.count) == 2000)
            #expect(lost.bytes + UInt64(data.count) * 1000 == 2_000_000)
            // Seqs of what was kept run without a hole up to the last.
            #expect(data.map(\.seq) == Array(data[0].seq...data[0].seq + UInt64(data.count) - 1))
            // Acknowledging the marker reclaims the stub.
            #expect(t.ack(lost.lastSeq).rc == 0)
            #expect(!moor_spool_head_is_stub(t.sp))
            #expect(t.readAll(from: 4).first?.isData == true)
        }
    }

    @Test func aStubThatCannotBeWrittenLeavesTheLossForTheNextRecord() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<4 { t.append(bytes(60000, UInt8(i))) }
            // A directory where the stub's temp file goes: its creation fails.
            try FileManager.default.createDirectory(atPath: t.dir + "/" + segmentName(1) + ".stub",
                                                    withIntermediateDirectories: false)
            t.append(bytes(60000, 4))
            let recs = t.readAll()
            #expect(recs.map(\.seq) == [2, 3, 4, 5, 6])
            #expect(recs[3].loss == Loss(bytes: 60000, records: 1, firstSeq: 1, lastSeq: 1))
            #expect(t.sp.pointee.lost_bytes_total == 60000)
        }
    }

    @Test func oneGiBThroughA16MiBSpoolKeepsOrCountsEveryByte() throws {
        try withSpool { t in
            let bound: UInt64 = 16 << 20
            try t.open(max: bound)
            let chunk = bytes(65536, 9)
            let count = 16384 // 1 GiB
            var overBound = 0
            for i in 0..<count {
                if t.append(chunk, time: UInt64(i)) != 0 { break }
                if t.sp.pointee.total_bytes > bound { overBound += 1 }
            }
            t.flushLoss()
            #expect(overBound == 0, "the spool went over its bound")
            #expect(t.sp.pointee.total_bytes <= bound)
            #expect(t.segmentFiles().count == Int(t.sp.pointee.n_segments))
            let recs = t.readAll()
            let sum = tally(recs)
            #expect(sum.lost > 0)
            #expect(sum.kept + sum.lost == UInt64(count) * 65536,
                    "kept \(sum.kept) + lost \(sum.lost) must be exactly what was appended")
            #expect(sum.dataRecords + sum.lostRecords == UInt64(count))
            #expect(t.sp.pointee.lost_bytes_total == sum.lost)
            // Seqs only increase, and every data seq not kept is in a loss range.
            let seqs = recs.map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            let losses = recs.compactMap(\.loss)
            let keptData = Set(recs.filter(\.isData).map(\.seq))
            let lossSeqs = Set(recs.filter { $0.loss != nil }.map(\.seq))
            for lost in 1..<seqs.first! where !keptData.contains(lost) && !lossSeqs.contains(lost) {
                let covered = losses.contains { $0.firstSeq <= lost && lost <= $0.lastSeq }
                if !covered {
                    Issue.record("dropped seq \(lost) is in no loss record")
                    break
                }
            }
        }
    }

    @Test func acknowledgedRecordsThatAreDroppedAreNotCountedAsLoss() throws {
        try withSpool { t in
            // 1000-byte records: 63 per 64 KiB segment.
            try t.open(max: 1)
            for i in 0..<100 { t.append(bytes(1000, UInt8(i % 256))) }
            let oldest = t.segments[0]
            #expect(oldest.first_seq == 1 && oldest.last_seq > 30)
            #expect(t.ack(30).rc == 0)
            #expect(t.segmentFiles().first == "0000000000000001.seg", "a partly acked segment stays")
            // Push on until that segment goes (its file becomes the stub).
            var n = 100
            while !moor_spool_head_is_stub(t.sp) && n < 2000 {
                t.append(bytes(1000, 1))
                n += 1
            }
            let recs = t.readAll()
            let losses = recs.compactMap(\.loss)
            try #require(losses.count == 1)
            let expected = oldest.last_seq - 30
            #expect(losses[0] == Loss(bytes: expected * 1000, records: expected, firstSeq: 31,
                                      lastSeq: oldest.last_seq))
            // Nothing acked shows up again.
            #expect(recs.first.map { $0.seq > 30 } == true)
        }
    }

    @Test func laterDropsMergeIntoTheStubNobodyRead() throws {
        try withSpool { t in
            try t.open(max: 1)
            // As above: the fifth 60000-byte record turns segment 1 into the stub (loss seq 1).
            for i in 0..<5 { t.append(bytes(60000, UInt8(i))) }
            #expect(t.fileBytes(segmentName(1)).count == lossRecordSize, "segment 1 is now the stub")
            // Keep going: the segments after the stub go too, into the stub.
            for i in 5..<12 { t.append(bytes(60000, UInt8(i))) }
            t.flushLoss()
            let recs = t.readAll()
            let sum = tally(recs)
            #expect(sum.kept + sum.lost == 12 * 60000)
            #expect(sum.dataRecords + sum.lostRecords == 12)
            #expect(recs.compactMap(\.loss).count == 1, "the drops merged into the stub")
            #expect(recs.first?.loss?.firstSeq == 1, "seq 1's loss still reported, first")
        }
    }

    /// A reader that was given records and died before acknowledging them
    /// may have stored them: the bound drops the segments behind them, so
    /// the loss record counts only output no reader had, and the next
    /// reader gets those records again (and skips what its driver holds).
    @Test func theBoundDropsBehindRecordsAReaderWasGivenButDidNotAcknowledge() throws {
        try withSpool { t in
            try t.open(max: 1)
            // 60000-byte records: one per 64 KiB segment, four fit.
            for i in 0..<4 { t.append(bytes(60000, UInt8(i)), time: UInt64(100 + i)) }
            #expect(t.read(from: 1, cap: 1).records.map(\.seq) == [1], "seq 1 handed out, not acknowledged")
            #expect(moor_spool_held(t.sp) == 1)
            t.append(bytes(60000, 4), time: 104)
            let recs = t.readAll()
            #expect(recs.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(recs[0].payload == bytes(60000, 0), "the record handed out is kept")
            #expect(recs[1].loss == Loss(bytes: 60000, records: 1, firstSeq: 2, lastSeq: 2))
            #expect(recs[1].timeNs == 101, "timed when the dropped output was read")
            #expect(t.sp.pointee.total_bytes <= t.sp.pointee.max_bytes)
        }
    }

    /// A stub a reader was given is not grown any more: later drops go into
    /// a new one behind it, so each loss record's count stays what the
    /// reader saw (no count is reported twice by a reader that restarts).
    @Test func dropsAfterAStubWasHandedOutGoIntoANewStub() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<5 { t.append(bytes(60000, UInt8(i))) }
            let handedOut: [Loss] = t.read(from: 1, cap: 1).records.compactMap(\.loss)
            #expect(handedOut == [Loss(bytes: 60000, records: 1, firstSeq: 1, lastSeq: 1)])
            for i in 5..<12 { t.append(bytes(60000, UInt8(i))) }
            t.flushLoss()
            let recs = t.readAll()
            let losses: [Loss] = recs.compactMap(\.loss)
            try #require(losses.count == 2)
            #expect(losses[0] == handedOut[0], "the stub handed out kept its count")
            #expect(losses[1].firstSeq > losses[0].lastSeq, "the new stub covers later seqs")
            let sum = tally(recs)
            #expect(sum.kept + sum.lost == 12 * 60000)
            #expect(sum.dataRecords + sum.lostRecords == 12)
        }
    }

    /// When the records handed out leave nothing else to drop, the bound
    /// still holds: they go, counted, as before.
    @Test func theBoundStillHoldsWhenEverythingWasHandedOut() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<4 { t.append(bytes(60000, UInt8(i))) }
            #expect(t.readAll().count == 4)
            t.append(bytes(60000, 4))
            #expect(t.sp.pointee.total_bytes <= t.sp.pointee.max_bytes)
            let recs = t.readAll()
            #expect(recs.map(\.seq) == [1, 2, 3, 4, 5])
            #expect(recs[0].loss == Loss(bytes: 60000, records: 1, firstSeq: 1, lastSeq: 1))
        }
    }

    @Test func aShrunkBoundIsAppliedOnReopenAndCounted() throws {
        try withSpool { t in
            try t.open(max: 2 << 20)
            for i in 0..<20 { t.append(bytes(60000, UInt8(i))) }
            t.close()
            try t.open(max: 1)
            #expect(t.sp.pointee.total_bytes <= 256 << 10)
            t.flushLoss()
            let sum = tally(t.readAll())
            #expect(sum.kept + sum.lost == 20 * 60000)
            #expect(sum.dataRecords + sum.lostRecords == 20)
        }
    }
}

// MARK: - Acknowledgement

@Suite struct SpoolAckTests {
    @Test func ackDeletesFullyAcknowledgedSegmentsButNeverTheNewest() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<3 { t.append(bytes(60000, UInt8(i))) }
            #expect(t.segmentFiles() == (1...3).map { segmentName($0) })
            #expect(t.ack(2).rc == 0)
            #expect(t.segmentFiles() == [segmentName(3)])
            #expect(t.sp.pointee.acked_seq == 2)
            #expect(t.read(from: 1).records.map(\.seq) == [3])
            #expect(t.ack(3).rc == 0)
            #expect(t.segmentFiles() == [segmentName(3)], "the newest segment stays")
            #expect(t.sp.pointee.total_bytes == UInt64(headerSize + 60000))
            // Backwards: nothing changes.
            #expect(t.ack(1).rc == 0)
            #expect(t.sp.pointee.acked_seq == 3)
            // Past the last record: refused, nothing changes.
            let beyond = t.ack(4)
            #expect(beyond.rc == -EINVAL)
            #expect(beyond.message.contains("seq 4") && beyond.message.contains(t.dir))
            #expect(t.sp.pointee.acked_seq == 3)
            #expect(t.sp.pointee.lost_bytes_total == 0)
        }
    }
}

// MARK: - Recovery

@Suite struct SpoolRecoveryTests {
    @Test func aTornLastRecordIsCutAwayCountedAndSeqContinues() throws {
        try withSpool { t in
            try t.open(max: 0)
            for i in 0..<3 { t.append(bytes(50, UInt8(i))) }
            t.close()
            let name = segmentName(1)
            let good = t.fileBytes(name)
            // A crash in the middle of record 4: header whole, payload cut short.
            try t.appendToFile(name, header(length: 100, stream: stdoutStream, seq: 4, time: 9) + bytes(10))
            try t.open(max: 0)
            #expect(t.fileBytes(name) == good)
            #expect(t.sp.pointee.next_seq == 5)
            #expect(t.sp.pointee.acked_seq == 0)
            t.flushLoss()
            t.append(Array("after".utf8))
            let recs = t.readAll()
            #expect(recs.map(\.seq) == [1, 2, 3, 5, 6])
            #expect(recs[3].loss == Loss(bytes: 100, records: 1, firstSeq: 4, lastSeq: 4))
            #expect(recs[4].payload == Array("after".utf8))
        }
    }

    @Test(arguments: [
        ("a short header", Array(repeating: UInt8(0x4d), count: 10)),
        ("a bad magic", header(length: 5, stream: 1, seq: 4, time: 1, magic: 0x1234) + bytes(5)),
        ("an unknown stream", header(length: 5, stream: 9, seq: 4, time: 1) + bytes(5)),
        ("a seq going backwards", header(length: 5, stream: 1, seq: 2, time: 1) + bytes(5)),
        ("a length past the maximum", header(length: 70000, stream: 1, seq: 4, time: 1) + bytes(10)),
    ])
    func anUnframedTailIsCutWithoutCountingALoss(what: String, tail: [UInt8]) throws {
        try withSpool { t in
            try t.open(max: 0)
            for i in 0..<3 { t.append(bytes(50, UInt8(i))) }
            t.close()
            let name = segmentName(1)
            let good = t.fileBytes(name)
            try t.appendToFile(name, tail)
            try t.open(max: 0)
            #expect(t.fileBytes(name) == good, "\(what) was not cut away")
            #expect(t.sp.pointee.next_seq == 4)
            #expect(t.sp.pointee.pending_loss_bytes == 0)
            t.append(Array("x".utf8))
            #expect(t.readAll().map(\.seq) == [1, 2, 3, 4])
        }
    }

    @Test func seqNeverRepeatsAfterEverythingWasAcknowledgedAndReclaimed() throws {
        try withSpool { t in
            // Four 60000-byte records, one per segment, all within the bound.
            try t.open(max: 1)
            for i in 0..<4 { t.append(bytes(60000, UInt8(i))) }
            #expect(t.ack(4).rc == 0)
            #expect(t.segmentFiles() == [segmentName(4)])
            t.close()
            try t.open(max: 1)
            #expect(t.sp.pointee.next_seq == 5)
            #expect(t.sp.pointee.acked_seq == 3, "after a restart only what was reclaimed counts as delivered")
            t.append(Array("next".utf8))
            #expect(t.readAll().map(\.seq) == [4, 5])
        }
    }

    @Test func anEmptySegmentStillTellsWhereSeqNumberingStands() throws {
        try withSpool { t in
            try FileManager.default.createDirectory(atPath: t.dir, withIntermediateDirectories: true)
            try t.writeFile(segmentName(0x10), [])
            try t.open(max: 0)
            #expect(t.sp.pointee.next_seq == 0x10)
            #expect(moor_spool_first_seq(t.sp) == 0)
            #expect(t.read(from: 1).records.isEmpty)
            t.append(Array("x".utf8))
            #expect(t.readAll().map(\.seq) == [0x10])
        }
    }

    @Test func foreignDataInAMiddleSegmentIsCutAndOtherFilesAreLeftAlone() throws {
        try withSpool { t in
            // Three segments of two 30000-byte records each.
            try t.open(max: 1)
            for i in 0..<6 { t.append(bytes(30000, UInt8(i))) }
            #expect(t.segmentFiles() == [segmentName(1), segmentName(3), segmentName(5)])
            t.close()
            // Scribble over record 4 (the second one of segment 3).
            var middle = t.fileBytes(segmentName(3))
            let second = headerSize + 30000
            for i in second..<(second + 40) { middle[i] = 0x41 }
            try t.writeFile(segmentName(3), middle)
            try t.writeFile("notes.txt", Array("not a segment".utf8))
            try t.writeFile("zz.seg", Array("nor this".utf8))
            try t.open(max: 1)
            #expect(t.fileBytes(segmentName(3)).count == second)
            #expect(t.readAll().map(\.seq) == [1, 2, 3, 5, 6])
            #expect(t.sp.pointee.next_seq == 7)
            #expect(t.fileBytes("notes.txt") == Array("not a segment".utf8))
            #expect(t.fileBytes("zz.seg") == Array("nor this".utf8))
            // A scan of each segment now finds it framed to its end.
            for name in t.segmentFiles() where name != "zz.seg" {
                let fd = Glibc.open(t.dir + "/" + name, O_RDONLY)
                defer { Glibc.close(fd) }
                var scan = moor_spool_scan_t()
                var err = moor_err_t()
                #expect(moor_spool_scan_segment(fd, UInt64.max, 0, 0, &scan, &err) == 0)
                #expect(scan.valid_size == scan.file_size, "\(name)")
            }
        }
    }

    @Test func aSegmentWhoseSeqsGoBackwardsIsEmptied() throws {
        try withSpool { t in
            try t.open(max: 0)
            for i in 0..<3 { t.append(bytes(50, UInt8(i))) }
            t.close()
            // A copy of segment 1 under a later number holds seqs 1..3 again.
            try t.writeFile(segmentName(9), t.fileBytes(segmentName(1)))
            try t.open(max: 0)
            #expect(t.fileBytes(segmentName(9)).isEmpty)
            #expect(t.readAll().map(\.seq) == [1, 2, 3])
            #expect(t.sp.pointee.next_seq == 9)
        }
    }
}

// MARK: - Disk full, removal

@Suite struct SpoolDiskTests {
    @Test func aFullDiskDropsAndCountsTheBytesAndWritingResumesWhenSpaceReturns() throws {
        try withSpool { t in
            let dir = try t.mountSmallDisk(size: "512k")
            // A 2 MiB bound on a 512 KiB disk: the disk fills first.
            // 64 KiB segments of two 30000-byte records each.
            try t.open(max: 2 << 20, dir: dir)
            var appended: UInt64 = 0
            var failedBytes: UInt64 = 0
            for i in 0..<30 {
                let before = t.sp.pointee.next_seq
                t.append(bytes(30000, UInt8(i)))
                appended += 30000
                if t.sp.pointee.next_seq == before { failedBytes += 30000 }
            }
            #expect(failedBytes > 0, "the disk never filled")
            #expect(t.sp.pointee.pending_loss_bytes == failedBytes)
            #expect(t.sp.pointee.pending_loss_records == 0)
            // Every file is still framed, partial writes cut away.
            var onDisk: UInt64 = 0
            for name in t.segmentFiles(in: dir) {
                let raw = t.fileBytes(name, in: dir)
                onDisk += UInt64(raw.count)
                #expect(parseRecords(raw).rest == 0, "\(name) ends in a partial record")
            }
            #expect(onDisk == t.sp.pointee.total_bytes)
            // A reader takes everything and acknowledges it: space returns.
            let delivered = t.readAll()
            #expect(t.ack(delivered.last!.seq).rc == 0)
            t.append(Array("back".utf8))
            appended += 4
            let recs = t.readAll(from: delivered.last!.seq + 1)
            #expect(recs.count == 2)
            #expect(recs.first?.loss == Loss(bytes: failedBytes, records: 0, firstSeq: 0, lastSeq: 0))
            #expect(recs.last?.payload == Array("back".utf8))
            let sum = tally(delivered + recs)
            #expect(sum.kept + sum.lost == appended)
            #expect(t.sp.pointee.lost_bytes_total == failedBytes)
        }
    }

    @Test func flushLossOnAFullDiskKeepsTheLossPending() throws {
        try withSpool { t in
            let dir = try t.mountSmallDisk(size: "128k")
            // 64 KiB segments of 4096-byte records: files stay page-sized, so
            // a full disk has no slack at the end of a segment either.
            try t.open(max: 2 << 20, dir: dir)
            var failed: UInt64 = 0
            for i in 0..<40 {
                let before = t.sp.pointee.next_seq
                t.append(bytes(4096 - headerSize, UInt8(i)))
                if t.sp.pointee.next_seq == before { failed += UInt64(4096 - headerSize) }
            }
            #expect(failed > 0, "the disk never filled")
            // Whatever is left goes to another file, so not even a loss record fits.
            let fill = dir + "/fill"
            let fd = Glibc.open(fill, O_WRONLY | O_CREAT, 0o600)
            var one: UInt8 = 0
            while Glibc.write(fd, &one, 1) == 1 {}
            Glibc.close(fd)
            var err = moor_err_t()
            #expect(moor_spool_flush_loss(t.sp, &err) == -ENOSPC)
            #expect(message(err).contains(dir))
            #expect(t.sp.pointee.pending_loss_bytes == failed)
            // Space returns: the loss record goes out alone.
            unlink(fill)
            let delivered = t.readAll()
            #expect(t.ack(delivered.last!.seq).rc == 0)
            t.flushLoss()
            #expect(t.sp.pointee.pending_loss_bytes == 0)
            let recs = t.readAll(from: delivered.last!.seq + 1)
            #expect(recs.map(\.seq) == [delivered.last!.seq + 1])
            #expect(recs.first?.loss == Loss(bytes: failed, records: 0, firstSeq: 0, lastSeq: 0))
        }
    }

    @Test func removeDeletesEverySegmentAndTheDirectoryAndCloseIsIdempotent() throws {
        try withSpool { t in
            try t.open(max: 1)
            for i in 0..<6 { t.append(bytes(30000, UInt8(i))) }
            try t.writeFile(segmentName(0x100), [])
            #expect(t.segmentFiles().count == 4)
            var err = moor_err_t()
            #expect(moor_spool_remove(t.sp, &err) == 0, "\(message(err))")
            #expect(!FileManager.default.fileExists(atPath: t.dir))
            #expect(t.sp.pointee.write_fd == -1 && t.sp.pointee.dir_fd == -1)
            moor_spool_close(t.sp)
            #expect(moor_spool_remove(t.sp, &err) == 0, "removing twice is fine")
        }
    }

    @Test func removeFailsNamingTheDirectoryWhenForeignFilesRemain() throws {
        try withSpool { t in
            try t.open(max: 0)
            t.append(Array("x".utf8))
            try t.writeFile("keep.txt", [1])
            var err = moor_err_t()
            #expect(moor_spool_remove(t.sp, &err) == -ENOTEMPTY)
            #expect(message(err).contains(t.dir))
            #expect(t.segmentFiles().isEmpty)
        }
    }
}
