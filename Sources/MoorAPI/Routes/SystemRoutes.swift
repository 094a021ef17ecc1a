import Foundation
import MoorEngine
import MoorHTTP
import MoorPluginKit

/// `_ping`, `version`, `info`, `events`.
enum SystemRoutes {
    static let routes: [Route] = [
        Route("GET", "/_ping", ping),
        Route("GET", "/version", version),
        Route("GET", "/info", info),
        Route("GET", "/events", events),
    ]

    /// GET and HEAD, unversioned too; HEAD has no body (the server drops it).
    static func ping(_ r: APIRequest) async throws {
        let headers: HTTPFields = [
            "API-Version": APIRouter.apiVersion, "OSType": "linux", "Docker-Experimental": "false",
            "Builder-Version": "1", "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
            "Content-Type": "text/plain; charset=utf-8",
        ]
        try await r.response.send(status: .ok, headers: headers, bytes: Array("OK".utf8))
    }

    static func version(_ r: APIRequest) async throws {
        let facts = r.context.daemon
        let os = HostFacts.operatingSystem
        let details: JSONValue = [
            "ApiVersion": .string(APIRouter.apiVersion), "Arch": .string(HostFacts.goArch),
            "BuildTime": "", "Experimental": "false", "GitCommit": .string(facts.gitCommit),
            "GoVersion": "swift6", "KernelVersion": .string(HostFacts.kernelVersion),
            "MinAPIVersion": .string(APIRouter.minimumAPIVersion), "Os": "linux",
        ]
        try await r.send([
            "Platform": ["Name": .string("moor \(facts.version) (\(os.name))")],
            "Components": [["Name": "Engine", "Version": .string(facts.version), "Details": details]],
            "Version": .string(facts.version),
            "ApiVersion": .string(APIRouter.apiVersion),
            "MinAPIVersion": .string(APIRouter.minimumAPIVersion),
            "GitCommit": .string(facts.gitCommit),
            "GoVersion": "swift6",
            "Os": "linux",
            "Arch": .string(HostFacts.goArch),
            "KernelVersion": .string(HostFacts.kernelVersion),
            "BuildTime": "",
        ])
    }

    static func info(_ r: APIRequest) async throws {
        let engine = r.engine
        let settings = await engine.configuration
        let counts = await engine.containerCounts()
        let plugins = await engine.plugins
        let images = try await r.context.images.count()
        let os = HostFacts.operatingSystem
        var warnings: [JSONValue] = []
        for report in await engine.restoreReports {
            switch report.result {
            case let .unmanaged(reason), let .failed(reason):
                warnings.append(.string("WARNING: container \(report.containerID) is not managed: \(reason)"))
            default: break
            }
        }
        let drift = await engine.settingsDrift()
        for (id, items) in drift.sorted(by: { $0.key < $1.key }) {
            warnings.append(.string("WARNING: container \(id) runs under other daemon settings than now: \(items.joined(separator: "; "))"))
        }
        let pluginNames = { (type: PluginType) in
            JSONValue.array(plugins.reports.filter { $0.id.type == type && $0.status == .ready }.map { .string($0.id.id) })
        }
        try await r.send([
            "ID": .string(r.context.daemon.id),
            "Containers": .number(counts.total), "ContainersRunning": .number(counts.running),
            "ContainersPaused": .number(counts.paused), "ContainersStopped": .number(counts.stopped),
            "Images": .number(images),
            "Driver": .string(settings.storageDriver),
            "DriverStatus": [["Backing Filesystem", "extfs"]],
            "Plugins": ["Volume": [], "Network": pluginNames(.network), "Authorization": nil, "Log": pluginNames(.logging)],
            "MemoryLimit": true, "SwapLimit": true, "KernelMemory": false, "CpuCfsPeriod": true, "CpuCfsQuota": true,
            "CPUShares": true, "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": true, "BridgeNfIptables": false,
            "BridgeNfIp6tables": false, "Debug": .bool(r.context.daemon.debug()), "NFd": .number(HostFacts.openFileCount),
            "OomKillDisable": false, "NGoroutines": 0, "SystemTime": .string(DockerTime.rfc3339Nano(nowNs())),
            "LoggingDriver": .string(settings.logDriver), "CgroupDriver": "cgroupfs",
            "CgroupVersion": .string(HostFacts.cgroupVersion), "NEventsListener": 0,
            "KernelVersion": .string(HostFacts.kernelVersion), "OperatingSystem": .string(os.name),
            "OSVersion": .string(os.version), "OSType": "linux", "Architecture": .string(HostFacts.architecture),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": ["AllowNondistributableArtifactsCIDRs": [], "AllowNondistributableArtifactsHostnames": [],
                               "InsecureRegistryCIDRs": [], "IndexConfigs": [:], "Mirrors": []],
            "NCPU": .number(HostFacts.cpuCount), "MemTotal": .number(HostFacts.memoryTotal), "GenericResources": nil,
            "DockerRootDir": .string(settings.dataRoot), "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
            "Name": .string(HostFacts.hostname), "Labels": [], "ExperimentalBuild": false,
            "ServerVersion": .string(r.context.daemon.version),
            "Runtimes": ["moor-shim": ["path": .string(settings.shimBinary)]], "DefaultRuntime": "moor-shim",
            "Swarm": ["NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false,
                      "Error": "", "RemoteManagers": nil],
            "LiveRestoreEnabled": .bool(settings.liveRestore), "Isolation": "", "InitBinary": "",
            "ContainerdCommit": ["ID": "", "Expected": ""], "RuncCommit": ["ID": "", "Expected": ""],
            "InitCommit": ["ID": "", "Expected": ""],
            "SecurityOptions": [.string("name=seccomp,profile=\(settings.seccompProfileName ?? "default")"), "name=cgroupns"],
            "Warnings": .array(warnings),
        ])
    }

    /// JSON lines, one per event, until the client leaves or `until` passes.
    static func events(_ r: APIRequest) async throws {
        let since = try r.query.string("since").map { text -> Int64 in
            guard let ns = DockerTime.parseTimestamp(text) else { throw APIError(400, "invalid value for since: \(text)") }
            return ns
        }
        let until = try r.query.string("until").map { text -> Int64 in
            guard let ns = DockerTime.parseTimestamp(text) else { throw APIError(400, "invalid value for until: \(text)") }
            return ns
        }
        let filter = try EventFilter(r.filters())
        let stream = await r.engine.events.subscribe(sinceNs: since, untilNs: until)
        let writer = try await r.response.startStream(status: .ok, headers: ["Content-Type": "application/json"])
        let task = Task {
            for await event in stream where filter.admits(event) {
                do {
                    try await writer.write(bytes: EventRender.json(event).serialized() + [0x0a])
                } catch {
                    return
                }
            }
        }
        r.response.onClientClose { task.cancel() }
        await task.value
        try? await writer.finish()
    }
}

/// `events --filter`: type, container, image, event, label, daemon.
struct EventFilter {
    let filters: [String: [String]]

    init(_ filters: [String: [String]]) throws {
        let known: Set<String> = ["type", "container", "image", "event", "label", "daemon", "scope", "network", "volume", "plugin", "node", "service", "secret", "config"]
        for key in filters.keys where !known.contains(key) { throw APIError(400, "invalid filter '\(key)'") }
        self.filters = filters
    }

    func admits(_ event: EngineEvent) -> Bool {
        if let types = filters["type"], !types.contains(event.type) { return false }
        if let actions = filters["event"], !actions.contains(where: { event.action == $0 || event.action.hasPrefix($0 + ":") }) { return false }
        if let containers = filters["container"] {
            guard event.type == "container",
                  containers.contains(where: { event.actorID.hasPrefix($0) || event.attributes["name"] == $0 }) else { return false }
        }
        if let images = filters["image"] {
            let image = event.type == "image" ? event.actorID : (event.attributes["image"] ?? "")
            guard images.contains(where: { image == $0 || image.hasPrefix($0) || event.attributes["name"] == $0 }) else { return false }
        }
        if let labels = filters["label"] {
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 ? event.attributes[parts[0]] != parts[1] : event.attributes[parts[0]] == nil { return false }
            }
        }
        return true
    }
}

enum EventRender {
    static func json(_ event: EngineEvent) -> JSONValue {
        var fields: [(String, JSONValue)] = []
        if event.type == "container" || event.type == "image" {
            fields.append(("status", .string(event.action)))
            fields.append(("id", .string(event.actorID)))
            if let from = event.attributes["image"], event.type == "container" { fields.append(("from", .string(from))) }
        }
        fields += [
            ("Type", .string(event.type)), ("Action", .string(event.action)),
            ("Actor", ["ID": .string(event.actorID), "Attributes": .stringMap(event.attributes)]),
            ("scope", "local"), ("time", .number(event.timeNs / 1_000_000_000)), ("timeNano", .number(event.timeNs)),
        ]
        return .object(fields)
    }
}
