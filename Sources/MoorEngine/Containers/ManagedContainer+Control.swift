import Foundation
import MoorShimClient

extension ManagedContainer {
    /// `docker stop`: the stop signal, then SIGKILL to every process after
    /// `timeout` seconds (-1: wait forever). 304 if it is not running.
    /// `byUser` false: the daemon itself stops it (shutdown without live
    /// restore), which restart policies must not take for a user's stop.
    func stop(timeout: Int?, signal: String?, byUser: Bool = true) async throws {
        try await lock.run {
            try await self.stopLocked(timeout: timeout, signal: signal, byUser: byUser)
        }
    }

    func stopLocked(timeout: Int?, signal: String?, byUser: Bool = true) async throws {
        if isUnmanaged {
            if byUser { try update { $0.state.stoppedByUser = true } }
            await killUnmanaged()
            return
        }
        if record.state.status == .restarting {
            if byUser { try update { $0.state.stoppedByUser = true } }
            cancelRestart()
            return
        }
        guard record.state.isRunning else { throw EngineError(.notModified, "container already stopped") }
        let session = try requireSession()
        if byUser { try update { $0.state.stoppedByUser = true } }
        let number = try Signals.number(signal ?? record.config.stopSignal ?? "SIGTERM")
        let grace = timeout ?? record.config.stopTimeout ?? 10
        try? await session.signal(signal: number, all: false)
        if record.state.status == .paused { try? await session.resume() }
        await context.publish("kill", container: record, extra: ["signal": "\(number)"])
        if await waitForExit(seconds: grace < 0 ? nil : Double(grace)) {
            await context.publish("stop", container: record)
            return
        }
        try? await session.signal(signal: SIGKILL, all: true)
        if !(await waitForExit(seconds: 30)) {
            throw EngineError.system("container \(id) did not exit after SIGKILL")
        }
        await context.publish("stop", container: record)
    }

    /// `docker kill`: one signal to the container's init.
    func kill(signal: String?) async throws {
        let number = try Signals.number(signal ?? "SIGKILL")
        if isUnmanaged {
            guard number == SIGKILL else {
                throw EngineError.conflict("Container \(id) is not managed by this daemon (\(unmanagedReason ?? "")); only SIGKILL can end it")
            }
            try update { $0.state.stoppedByUser = true }
            await killUnmanaged()
            return
        }
        guard record.state.isRunning, let session else {
            throw EngineError.conflict("Container \(id) is not running")
        }
        if record.state.status == .paused && number != SIGKILL {
            throw EngineError.conflict("Container \(id) is paused. Unpause the container before stopping or killing")
        }
        try update { $0.state.stoppedByUser = true }
        do {
            try await session.signal(signal: number, all: number == SIGKILL)
        } catch let error as ShimError {
            throw EngineError.system("Cannot kill container: \(id): \(error.message)")
        }
        if record.state.status == .paused && number == SIGKILL { try? await session.resume() }
        await context.publish("kill", container: record, extra: ["signal": "\(number)"])
    }

    func pause() async throws {
        try await lock.run {
            guard await self.record.state.status == .running else {
                let status = await self.record.state.status
                throw EngineError.conflict(status == .paused ? "Container \(self.id) is already paused"
                                                             : "Container \(self.id) is not running")
            }
            try await self.requireSession().pause()
            try await self.update { $0.state.status = .paused }
            await self.context.publish("pause", container: await self.record)
        }
    }

    func unpause() async throws {
        try await lock.run {
            guard await self.record.state.status == .paused else {
                throw EngineError.conflict("Container \(self.id) is not paused")
            }
            try await self.requireSession().resume()
            try await self.update { $0.state.status = .running }
            await self.context.publish("unpause", container: await self.record)
        }
    }

    /// `docker restart`: stop (if running), then start.
    func restart(timeout: Int?, signal: String?) async throws {
        try await lock.run {
            let state = await self.record.state
            if state.isRunning || state.status == .restarting {
                try await self.stopLocked(timeout: timeout, signal: signal)
            }
            try await self.launch()
            await self.context.publish("restart", container: await self.record)
        }
    }

    func resize(height: Int, width: Int, process: UInt32 = 0) async throws {
        let session = try requireSession()
        guard height > 0, width > 0, height <= Int(UInt16.max), width <= Int(UInt16.max) else {
            throw EngineError.invalid("invalid terminal size \(height)x\(width)")
        }
        do {
            try await session.resize(process: process, rows: UInt16(height), cols: UInt16(width))
        } catch let error as ShimError where error.code == ENOTTY {
            throw EngineError.conflict("Container \(id) has no terminal to resize")
        }
    }
}

/// Signal names as Docker accepts them: "SIGTERM", "TERM", "15".
enum Signals {
    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "IOT": SIGIOT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV,
        "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT,
        "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU,
        "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF,
        "WINCH": SIGWINCH, "IO": SIGIO, "POLL": SIGPOLL, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    static func number(_ text: String) throws -> Int32 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let value = Int32(trimmed) {
            guard value > 0, value < 65 else { throw EngineError.invalid("Invalid signal: \(text)") }
            return value
        }
        var name = trimmed.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        // glibc's SIGRTMIN/SIGRTMAX are functions, not constants: 34 and 64 on Linux.
        if name.hasPrefix("RTMIN+"), let offset = Int32(name.dropFirst(6)), 34 + offset <= 64 {
            return 34 + offset
        }
        guard let value = names[name] else { throw EngineError.invalid("Invalid signal: \(text)") }
        return value
    }
}
