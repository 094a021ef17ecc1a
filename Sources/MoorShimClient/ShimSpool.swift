import CMoorProtocol

// Spool records (docs/shim-protocol.md, "Spool records"): the 24-byte header
// and payload the shim stores on disk and sends in SPOOL_READ replies.
// Decoding is total and strict about the header: a record that does not
// carry the record magic, a known stream and a length within 64 KiB means
// the data is torn or foreign, and nothing after it can be trusted.

public enum SpoolStream: UInt8, Sendable, CustomStringConvertible {
    case stdout = 1
    case stderr = 2
    /// A `LossRecord`: output that had to be dropped.
    case loss = 3

    public var description: String {
        switch self {
        case .stdout: "stdout"
        case .stderr: "stderr"
        case .loss: "loss"
        }
    }
}

/// The payload of a loss record: how much undelivered output was dropped.
public struct LossRecord: Equatable, Sendable {
    public static let size = Int(MOOR_LOSS_PAYLOAD_SIZE)

    /// Payload bytes dropped.
    public var bytes: UInt64
    /// Records dropped; 0 when the bytes never became records (disk full).
    public var records: UInt64
    /// First and last dropped seq; 0 when none had a seq.
    public var firstSeq: UInt64
    public var lastSeq: UInt64

    public init(bytes: UInt64, records: UInt64 = 0, firstSeq: UInt64 = 0, lastSeq: UInt64 = 0) {
        self.bytes = bytes
        self.records = records
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
    }

    public static func decode(_ payload: [UInt8], structure: String = "loss record") throws -> LossRecord {
        var r = ByteReader(payload, structure: structure)
        return LossRecord(bytes: try r.read(UInt64.self, "bytes"), records: try r.read(UInt64.self, "records"),
                          firstSeq: try r.read(UInt64.self, "first_seq"), lastSeq: try r.read(UInt64.self, "last_seq"))
    }

    public func encode() -> [UInt8] {
        var out = ByteWriter(capacity: Self.size)
        for value in [bytes, records, firstSeq, lastSeq] { out.put(value) }
        return out.bytes
    }
}

/// One record of a process's output.
public struct SpoolRecord: Equatable, Sendable {
    public static let headerSize = Int(MOOR_RECORD_HEADER_SIZE)
    public static let maxPayload = Int(MOOR_RECORD_MAX_PAYLOAD)
    static let magic = UInt16(MOOR_RECORD_MAGIC)

    /// 1, 2, 3, … per spool, never reused.
    public let seq: UInt64
    public let stream: SpoolStream
    /// CLOCK_REALTIME when the shim read the bytes, ns since the epoch.
    public let timeNs: UInt64
    /// The output bytes, or for a loss record its encoded `LossRecord`.
    public let payload: [UInt8]
    /// Set for `.loss` records, decoded when the record was.
    public let loss: LossRecord?

    public init(seq: UInt64, stream: SpoolStream, timeNs: UInt64, payload: [UInt8]) throws {
        self.seq = seq
        self.stream = stream
        self.timeNs = timeNs
        self.payload = payload
        if stream == .loss {
            loss = try LossRecord.decode(payload, structure: "loss record \(seq)")
        } else {
            loss = nil
        }
    }

    /// A loss record carrying `loss`.
    public init(seq: UInt64, timeNs: UInt64, loss: LossRecord) {
        self.seq = seq
        self.stream = .loss
        self.timeNs = timeNs
        self.payload = loss.encode()
        self.loss = loss
    }

    /// Header + payload, as on disk and on the wire.
    public func encode() -> [UInt8] {
        var out = ByteWriter(capacity: Self.headerSize + payload.count)
        out.put(UInt32(truncatingIfNeeded: payload.count))
        out.put(stream.rawValue)
        out.put(UInt8(0))
        out.put(Self.magic)
        out.put(seq)
        out.put(timeNs)
        out.put(payload)
        return out.bytes
    }

    /// Every record in `bytes`, which must hold whole records only (a
    /// SPOOL_READ reply after its `next_seq`, or a spool segment file).
    public static func decodeAll(_ bytes: ArraySlice<UInt8>, structure: String = "spool records") throws -> [SpoolRecord] {
        var r = ByteReader(bytes, structure: structure)
        var records: [SpoolRecord] = []
        while r.remaining > 0 {
            records.append(try decodeOne(&r, index: records.count))
        }
        return records
    }

    static func decodeOne(_ r: inout ByteReader, index: Int) throws -> SpoolRecord {
        let start = r.offset
        let length = try r.read(UInt32.self, "record \(index) length")
        let rawStream = try r.read(UInt8.self, "record \(index) stream")
        _ = try r.read(UInt8.self, "record \(index) flags")
        let magic = try r.read(UInt16.self, "record \(index) magic")
        guard magic == Self.magic else {
            throw r.invalid("record \(index) magic", at: start + 6,
                            "\(ShimCodec.hex(magic)), expected \(ShimCodec.hex(Self.magic))")
        }
        guard length <= maxPayload else {
            throw ShimError.tooLarge(
                "\(r.structure): record \(index) at offset \(start) announces \(length) bytes, over the \(maxPayload)-byte limit")
        }
        guard let stream = SpoolStream(rawValue: rawStream) else {
            throw r.invalid("record \(index) stream", at: start + 4, "unknown stream \(rawStream)")
        }
        let seq = try r.read(UInt64.self, "record \(index) seq")
        let timeNs = try r.read(UInt64.self, "record \(index) time")
        let payload = try r.read(count: Int(length), "record \(index) payload")
        return try SpoolRecord(seq: seq, stream: stream, timeNs: timeNs, payload: payload)
    }
}

/// The reply to SPOOL_READ: where to continue, and the records read.
public struct SpoolBatch: Equatable, Sendable {
    /// The `from` of the next SPOOL_READ.
    public var nextSeq: UInt64
    public var records: [SpoolRecord]

    public init(nextSeq: UInt64, records: [SpoolRecord]) {
        self.nextSeq = nextSeq
        self.records = records
    }

    public static func decode(_ payload: [UInt8]) throws -> SpoolBatch {
        var r = ByteReader(payload, structure: "SPOOL_READ reply")
        let nextSeq = try r.read(UInt64.self, "next_seq")
        var records: [SpoolRecord] = []
        while r.remaining > 0 {
            records.append(try SpoolRecord.decodeOne(&r, index: records.count))
        }
        return SpoolBatch(nextSeq: nextSeq, records: records)
    }

    public func encode() -> [UInt8] {
        var out = ByteWriter()
        out.put(nextSeq)
        for record in records { out.put(record.encode()) }
        return out.bytes
    }
}
