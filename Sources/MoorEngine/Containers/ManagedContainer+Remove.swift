import Foundation

extension ManagedContainer {
    /// `docker rm`: refuses a running container unless `force`, which kills
    /// it first. Removes the shim, its spool, logs, upper layer, record.
    func remove(force: Bool) async throws {
        try await lock.run {
            try await self.removeLocked(force: force)
        }
    }

    /// `--rm`: remove once the container exited for good.
    func removeAfterExit() async throws {
        try await lock.run {
            guard await self.record.state.status == .exited else { return }
            try await self.removeLocked(force: false)
        }
    }

    /// `--rm` and a start that failed: nothing ran, nothing to wait for.
    func removeAfterFailedStart() async throws {
        try await lock.run {
            let status = await self.record.state.status
            guard status == .created || status == .exited else { return }
            try await self.removeLocked(force: false)
        }
    }

    private func removeLocked(force: Bool) async throws {
        if isRemoved { return }
        if record.state.isRunning || record.state.status == .restarting {
            guard force else {
                throw EngineError.conflict("You cannot remove a running container \(id). Stop the container before attempting removal or force remove")
            }
            try update { $0.state.stoppedByUser = true }
            cancelRestart()
            if record.state.isRunning, let session {
                try? await session.signal(signal: SIGKILL, all: true)
                if record.state.status == .paused { try? await session.resume() }
                _ = await waitForExit(seconds: 30)
            } else if record.state.isRunning {
                // No connection to its shim (unmanaged): end it from its cgroup.
                await killUnmanaged()
            }
        }
        try update { $0.state.status = .removing }
        await tearDown()
    }

    /// Everything the container owns goes; the record goes last, so a crash
    /// in between leaves a `removing` record the next daemon finishes off.
    func tearDown() async {
        restartTask?.cancel()
        reattachTask?.cancel()
        reattachTask = nil
        execsAwaitingTakeBack = []
        if let session {
            try? await session.shutdown(kill: true)
            session.channel.close()
            await waitForShimExit()
        }
        session = nil
        drainTask?.cancel()
        watchTask?.cancel()
        await logWriter?.close()
        logWriter = nil
        await output.close()
        let fm = FileManager.default
        var paths = [record.directory, context.configuration.execRoot + "/containers/" + id]
        if let socket = record.shim?.socketPath { paths.append((socket as NSString).deletingLastPathComponent) }
        for path in paths where fm.fileExists(atPath: path) {
            do {
                try fm.removeItem(atPath: path)
            } catch {
                logger.error("removing container files", metadata: ["container": "\(id)", "path": "\(path)", "error": "\(error)"])
            }
        }
        do {
            try context.store.deleteContainer(id: id)
        } catch {
            logger.error("removing container record", metadata: ["container": "\(id)", "error": "\(error)"])
        }
        markRemoved()
        await context.publish("destroy", container: record)
        await onRemoved?(id)
    }
}
