/// Docker's `ps --filter`s over container records.
struct ContainerFilter {
    var filters: [String: [String]]
    private var before: Int64?
    private var since: Int64?

    static let known: Set<String> = ["id", "name", "label", "status", "ancestor", "exited", "before", "since", "network", "volume", "health", "until"]
    static let statuses: Set<String> = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]

    init(_ filters: [String: [String]], engine: isolated Engine) throws {
        for key in filters.keys where !Self.known.contains(key) {
            throw EngineError.invalid("invalid filter '\(key)'")
        }
        for status in filters["status"] ?? [] where !Self.statuses.contains(status) {
            throw EngineError.invalid("invalid filter 'status=\(status)'")
        }
        for code in filters["exited"] ?? [] where Int32(code) == nil {
            throw EngineError.invalid("invalid filter 'exited=\(code)'")
        }
        self.filters = filters
        if let ref = filters["before"]?.first {
            before = try engine.container(ref).createdNs
        }
        if let ref = filters["since"]?.first {
            since = try engine.container(ref).createdNs
        }
    }

    func admits(_ record: ContainerRecord) -> Bool {
        if let ids = filters["id"], !ids.contains(where: { record.id.hasPrefix($0) }) { return false }
        if let names = filters["name"], !names.contains(where: { record.name.contains($0.hasPrefix("/") ? String($0.dropFirst()) : $0) }) { return false }
        if let statuses = filters["status"], !statuses.contains(record.state.status.rawValue) { return false }
        if let codes = filters["exited"] {
            guard record.state.status == .exited, codes.contains(String(record.state.exitCode)) else { return false }
        }
        if let labels = filters["label"] {
            let have = record.config.labels ?? [:]
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 ? have[parts[0]] != parts[1] : have[parts[0]] == nil { return false }
            }
        }
        if let ancestors = filters["ancestor"] {
            let matches = ancestors.contains { ancestor in
                record.imageReference == ancestor || record.imageReference == ancestor + ":latest"
                    || record.imageID == ancestor || record.imageID.hasPrefix("sha256:" + ancestor)
                    || record.imageID.hasPrefix(ancestor)
            }
            if !matches { return false }
        }
        if let networks = filters["network"], !networks.contains(record.hostConfig.networkMode ?? "none") { return false }
        if let before, record.createdNs >= before { return false }
        if let since, record.createdNs <= since { return false }
        return true
    }
}
