/// Container counts by state, for `info`.
public struct ContainerCounts: Sendable, Equatable {
    public var total: Int
    public var running: Int
    public var paused: Int
    public var stopped: Int
}

extension Engine {
    public func containerCounts() async -> ContainerCounts {
        var counts = ContainerCounts(total: 0, running: 0, paused: 0, stopped: 0)
        for container in containers.values {
            let status = await container.snapshot().state.status
            counts.total += 1
            switch status {
            case .running, .restarting: counts.running += 1
            case .paused: counts.paused += 1
            default: counts.stopped += 1
            }
        }
        return counts
    }

    /// Containers created under other daemon settings than the current
    /// ones, with what differs.
    public func settingsDrift() async -> [String: [String]] {
        var out: [String: [String]] = [:]
        for container in containers.values {
            if let view = try? await view(container), !view.settingsDrift.isEmpty {
                out[view.record.id] = view.settingsDrift
            }
        }
        return out
    }
}

extension Engine {
    /// Containers created from `imageID`, and whether each runs (`docker rmi`).
    public func imageUsers(_ imageID: String) async -> [(id: String, running: Bool)] {
        var out: [(id: String, running: Bool)] = []
        for container in containers.values {
            let record = await container.snapshot()
            if record.imageID == imageID { out.append((record.id, record.state.isRunning)) }
        }
        return out
    }

    /// Whether a container's root uses the layer `diffID`
    /// (DATA_ROOT/layers/sha256/HEX/diff among its lower directories).
    public func layerInUse(_ diffID: String) async -> Bool {
        let hex = diffID.hasPrefix("sha256:") ? String(diffID.dropFirst(7)) : diffID
        for container in containers.values {
            if await container.snapshot().rootfs.lowerDirs.contains(where: { $0.hasSuffix("/" + hex + "/diff") }) {
                return true
            }
        }
        return false
    }
}
