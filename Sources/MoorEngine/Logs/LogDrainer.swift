import Logging
import MoorPluginKit
import MoorShimClient

/// Moves one container's output from its shim's spool into its log driver,
/// exactly once: it starts at the first unacknowledged record, drops lines
/// the driver already holds (by position), writes, then acknowledges only
/// records whose every byte is stored, so the shim can reclaim them.
/// Returns when the container's init has finished and everything is stored.
struct LogDrainer: Sendable {
    let containerID: String
    let session: ShimSession
    let writer: any LogWriter
    let output: ContainerOutput
    let events: EventBus
    let logger: Logger
    /// Where the markers already reported are kept, across daemon restarts.
    let lossLedgerPath: String

    /// Drains until the process finished; throws if the shim goes away.
    func run() async throws {
        let delivered = try await writer.lastPosition()
        var from = try await session.state(process: 0).spoolAckedSeq + 1
        var assembler = LineAssembler(deliveredThrough: delivered,
                                      streamsDeliveredThrough: try await writer.lastPositions(since: from))
        var acked = from - 1
        var ledger = LossLedger(path: lossLedgerPath)
        var losses = LossAccounting(resumingAfter: ledger.reported(deliveredThrough: delivered))
        while !Task.isCancelled {
            let (batch, idle) = try await session.pollSpool(process: 0, from: from)
            if idle { continue }
            if batch.records.isEmpty {
                let state = try await session.state(process: 0)
                if state.status == .exited && batch.nextSeq >= state.spoolNextSeq {
                    try await store(assembler.flush())
                    if state.spoolNextSeq > 1 && state.spoolNextSeq - 1 > acked {
                        try await session.ack(process: 0, seq: state.spoolNextSeq - 1)
                    }
                    return
                }
                from = max(from, batch.nextSeq)
                continue
            }
            var entries: [LogEntry] = []
            var chunks: [OutputChunk] = []
            var readLoss = false
            for record in batch.records {
                if record.seq < from { continue }
                // A new run's shim reopens the spool of the runs before it:
                // attach subscribers get only what the driver does not hold.
                let fresh = Self.undelivered(record, after: delivered)
                switch record.stream {
                case .stdout: if !fresh.isEmpty { chunks.append(OutputChunk(source: .stdout, bytes: fresh)) }
                case .stderr: if !fresh.isEmpty { chunks.append(OutputChunk(source: .stderr, bytes: fresh)) }
                case .loss:
                    readLoss = true
                    guard let loss = record.loss.flatMap({ losses.missing($0) }) else {
                        // Every dropped record had been read, or was reported.
                        assembler.skip(record)
                        continue
                    }
                    let lost = loss == record.loss ? record
                        : try SpoolRecord(seq: record.seq, stream: .loss, timeNs: record.timeNs, payload: loss.encode())
                    if record.seq > delivered?.seq ?? 0 { await reportLoss(lost) }
                    entries += assembler.consume(lost)
                    continue
                }
                losses.consumed(record)
                entries += assembler.consume(record)
            }
            await output.publish(chunks)
            if readLoss, let loss = losses.lastLoss, let end = entries.last?.position {
                ledger = await noteReported(loss, through: end, in: ledger)
            }
            try await store(entries)
            let ackable = assembler.ackableSeq
            if ackable > acked {
                try await session.ack(process: 0, seq: ackable)
                acked = ackable
                losses.acknowledged(ackable)
            }
            from = batch.nextSeq
        }
    }

    /// The bytes of `record` past the driver's last stored position.
    static func undelivered(_ record: SpoolRecord, after delivered: LogPosition?) -> [UInt8] {
        guard let delivered, record.seq <= delivered.seq else { return record.payload }
        guard record.seq == delivered.seq, Int(delivered.offset) < record.payload.count else { return [] }
        return Array(record.payload[Int(delivered.offset)...])
    }

    /// Writes with retries: a failing driver (disk full) must not lose
    /// lines; the spool keeps them meanwhile, so the container never blocks.
    private func store(_ entries: [LogEntry]) async throws {
        guard !entries.isEmpty else { return }
        var delay: UInt64 = 100_000_000
        while true {
            do {
                try await writer.write(entries)
                await output.publish(entries)
                return
            } catch {
                logger.error("log driver write failed; retrying", metadata: ["container": "\(containerID)", "error": "\(error)"])
                try await Task.sleep(nanoseconds: delay)
                delay = min(delay * 2, 10_000_000_000)
            }
        }
    }

    /// Before the batch is stored: a ledger that cannot be written costs
    /// at most a marker counted twice after a restart, so delivery goes on.
    /// (An fsync: on a thread of its own, not one of the cooperative ones.)
    private func noteReported(_ loss: LossRecord, through end: LogPosition, in ledger: LossLedger) async -> LossLedger {
        let next = ledger.adding(loss, through: end)
        do {
            try await offload { try next.write() }
        } catch {
            logger.warning("log loss ledger not written", metadata: ["container": "\(containerID)", "error": "\(error)"])
        }
        return next
    }

    private func reportLoss(_ record: SpoolRecord) async {
        guard let loss = record.loss else { return }
        logger.warning("container output dropped", metadata: ["container": "\(containerID)", "bytes": "\(loss.bytes)"])
        await events.publish(EngineEvent(type: "container", action: "log-loss", actorID: containerID,
                                         attributes: ["bytes": "\(loss.bytes)", "records": "\(loss.records)"]))
    }
}
