import Foundation
import MoorPluginKit
import MoorShimClient

extension ManagedContainer {
    /// `docker start`: refuses a running container (304), a removing one (409).
    func start() async throws {
        try await lock.run {
            switch await self.record.state.status {
            case .running, .paused: throw EngineError(.notModified, "container already started")
            case .removing, .dead: throw EngineError.conflict("Container \(self.id) is marked for removal and cannot be started")
            case .restarting:
                await self.cancelRestart()
            case .created, .exited: break
            }
            try await self.launch()
        }
    }

    /// Prepares everything, starts the shim, records the running state,
    /// then starts draining and watching. The shim's reconnect info is
    /// written first, so a daemon that dies in between finds the shim.
    func launch() async throws {
        if isRemoved { throw EngineError.noSuchContainer(id) }
        let configuration = context.configuration
        try prepareDirectories()
        let attachment = try await attachNetwork()
        do {
            // The spec reads the attachment (host network: no namespace).
            let shim = ShimInfo(stateDirectory: record.directory + "/shim", socketPath: configuration.shimSocket(id))
            try update {
                $0.network = attachment
                $0.shim = shim
            }
            let spec = try await buildSpec()
            try write(spec, to: record.directory + "/bundle/config.json")
            try update { $0.state.starting = true }
            let started = try await startShim(shim, binary: configuration.shimBinary)
            let session = try await connect(to: started.socket)
            let hello = try await session.hello()
            // The shim's own start time: the exit's finish time comes from it too.
            let initState = try await session.state(process: ShimProtocol.initProcess)
            generation += 1
            try update {
                $0.shim?.shimPid = started.shimPid
                $0.shim?.protocolMajor = hello.major
                $0.shim?.protocolMinor = hello.minor
                $0.shim?.build = hello.build
                $0.state.status = .running
                $0.state.starting = false
                $0.state.pid = started.pid
                $0.state.startedAtNs = initState.startedNs > 0 ? Int64(initState.startedNs) : nowNs()
                $0.state.finishedAtNs = 0
                $0.state.exitCode = 0
                $0.state.oomKilled = false
                $0.state.error = ""
                $0.state.stoppedByUser = false
            }
            await context.publish("start", container: record)
            try await attachRuntime(session)
        } catch {
            await failedStart(error, attachment: attachment)
            throw error
        }
    }

    /// Connects the drainer and the exit watcher to a running (or just
    /// exited) shim: used by start and by restore alike.
    func attachRuntime(_ session: ShimSession, moment: RestoreSituation.Moment = .exited) async throws {
        self.session = session
        let writer = try await openLogWriter()
        let drainer = LogDrainer(containerID: id, session: session, writer: writer, output: output,
                                 events: context.events, logger: logger,
                                 lossLedgerPath: context.configuration.containerDirectory(id) + "/log-loss.json")
        let drainTask = Task {
            do {
                try await drainer.run()
            } catch {
                if !Task.isCancelled { self.logger.warning("log drain stopped", metadata: ["container": "\(self.id)", "error": "\(error)"]) }
            }
        }
        self.drainTask = drainTask
        let run = generation
        watchTask = Task {
            do {
                let state = try await session.wait(process: ShimProtocol.initProcess)
                await self.handleExit(state, generation: run, moment: moment)
            } catch {
                await self.handleLostShim(error, generation: run, moment: moment)
            }
        }
    }

    func openLogWriter() async throws -> any LogWriter {
        if let logWriter { return logWriter }
        let driver = try context.plugins.single(.logging, id: record.logDriver)
        let writer = try await driver.openWriter(for: logContainer, options: record.logOptions)
        logWriter = writer
        return writer
    }

    private func prepareDirectories() throws {
        let fm = FileManager.default
        let dir = record.directory
        let layered = !record.rootfs.lowerDirs.isEmpty
        let own = layered ? [record.rootfs.upperDir, record.rootfs.workDir, record.rootfs.mountPoint] : [record.rootfs.mountPoint]
        for path in [dir, dir + "/bundle", dir + "/shim"] + own {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            } catch {
                throw EngineError.system("container \(id): create directory \(path): \(error)")
            }
        }
        for layer in record.rootfs.lowerDirs where !fm.fileExists(atPath: layer) {
            throw EngineError.system("container \(id): image layer \(layer) is missing")
        }
    }

    private func attachNetwork() async throws -> NetworkAttachment {
        let mode = record.hostConfig.networkMode ?? "none"
        let driver = try context.plugins.single(.network, id: mode)
        do {
            return try await driver.attach(networkContainer)
        } catch {
            throw EngineError.system("container \(id): network \(mode): \(error)")
        }
    }

    private func buildSpec() async throws -> Data {
        let host = record.hostConfig
        let security = try SecurityOptions(host.securityOpt ?? [], daemonProfile: record.settings.seccompProfile)
        let key = BaseSpecCache.Key(
            capAdd: (host.capAdd ?? []).map(Self.capabilityName).sorted(),
            capDrop: (host.capDrop ?? []).map(Self.capabilityName).sorted(),
            privileged: host.privileged ?? false,
            seccomp: security.seccomp == .builtin)
        let base = try await context.specs.spec(for: key)
        let layers = record.rootfs.readableLayers
        let user = try UserResolver(layers: layers).resolve(record.config.user ?? "", groupAdd: host.groupAdd ?? [])
        let files = try writeIdentityFiles()
        return try SpecBuilder(record: record, security: security, user: user, hostnamePath: files.hostname,
                               hostsPath: files.hosts, resolvConfPath: files.resolvConf).build(base: base)
    }

    /// "net_admin" and "CAP_NET_ADMIN" alike become "CAP_NET_ADMIN"; "ALL" stays.
    static func capabilityName(_ name: String) -> String {
        let upper = name.uppercased()
        return upper == "ALL" || upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    /// /etc/hostname, /etc/hosts and /etc/resolv.conf, written by the daemon
    /// and bind-mounted, as Docker does.
    private func writeIdentityFiles() throws -> (hostname: String, hosts: String, resolvConf: String) {
        let dir = record.directory
        let hostname = SpecBuilder.hostname(of: record)
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        if let ip = record.network?.ipAddress { hosts += "\(ip)\t\(hostname)\n" }
        for extra in record.hostConfig.extraHosts ?? [] {
            let parts = extra.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 { hosts += "\(parts[1])\t\(parts[0])\n" }
        }
        var resolv = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        if let dns = record.hostConfig.dns, !dns.isEmpty {
            resolv = dns.map { "nameserver \($0)\n" }.joined()
            if let search = record.hostConfig.dnsSearch, !search.isEmpty { resolv += "search " + search.joined(separator: " ") + "\n" }
            if let options = record.hostConfig.dnsOptions, !options.isEmpty { resolv += "options " + options.joined(separator: " ") + "\n" }
        }
        let paths = (hostname: dir + "/hostname", hosts: dir + "/hosts", resolvConf: dir + "/resolv.conf")
        try write(Data((hostname + "\n").utf8), to: paths.hostname)
        try write(Data(hosts.utf8), to: paths.hosts)
        try write(Data(resolv.utf8), to: paths.resolvConf)
        return paths
    }

    func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw EngineError.system("container \(id): write \(path): \(error)")
        }
    }

    private func startShim(_ shim: ShimInfo, binary: String) async throws -> ShimStarted {
        var options = ShimStartOptions(id: id, bundle: record.directory + "/bundle", stateDir: shim.stateDirectory)
        options.socketPath = shim.socketPath
        options.spoolMax = record.spoolMaxBytes
        if !record.rootfs.lowerDirs.isEmpty {
            options.lowerDirs = record.rootfs.lowerDirs
            options.upperDir = record.rootfs.upperDir
            options.workDir = record.rootfs.workDir
        }
        options.stdin = record.config.openStdin ?? false
        options.shimCgroup = "/moor-shims/" + id
        options.seccompCache = context.configuration.execRoot + "/seccomp"
        let launcher = ShimLauncher(shimPath: binary)
        let request = options
        do {
            return try await offload { try launcher.start(request) }
        } catch let error as ShimError {
            throw Self.startError(error)
        }
    }

    /// Docker's CLI turns "executable file not found" / "no such file or
    /// directory" into exit status 127 and "permission denied" into 126:
    /// keep the shim's words, and answer 400 for them as dockerd does.
    static func startError(_ error: ShimError) -> EngineError {
        let message = "failed to start container: " + error.message
        if error.exitStatus == 126 || error.exitStatus == 127 {
            return EngineError.invalid(message)
        }
        return EngineError.system(message)
    }

    func connect(to socket: String) async throws -> ShimSession {
        ShimSession(channel: try await ShimChannel.connect(to: socket, group: context.group))
    }

    private func failedStart(_ error: any Error, attachment: NetworkAttachment) async {
        let code: Int32
        if let engineError = error as? EngineError, engineError.kind == .invalidParameter,
           engineError.message.contains("not found") || engineError.message.contains("no such file") {
            code = 127
        } else if let engineError = error as? EngineError, engineError.message.contains("ermission denied") {
            code = 126
        } else {
            code = 128
        }
        do {
            try update {
                $0.state.starting = false
                $0.state.error = "\(error)"
                $0.state.exitCode = code
            }
        } catch {
            logger.error("recording a failed start", metadata: ["container": "\(id)", "error": "\(error)"])
        }
        await detachNetwork(attachment)
        // dockerd removes an AutoRemove container whose start failed.
        if record.hostConfig.autoRemove ?? false {
            Task { try? await self.removeAfterFailedStart() }
        }
    }

    func detachNetwork(_ attachment: NetworkAttachment?) async {
        guard let attachment, let driver = try? context.plugins.single(.network, id: attachment.driver) else { return }
        do {
            try await driver.detach(networkContainer, attachment: attachment)
        } catch {
            logger.warning("network detach failed", metadata: ["container": "\(id)", "error": "\(error)"])
        }
    }
}
