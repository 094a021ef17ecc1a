import Foundation
import Logging
import MoorAPI
import MoorBuiltinPlugins
import MoorEngine
import MoorHTTP
import MoorImages
import MoorPluginKit
import MoorStore
import NIOCore
import NIOPosix
import UnixSignals

/// moord: settings, locks, store, plugins, images, the engine and the API
/// server, wired together; signals drive shutdown (SIGTERM/SIGINT) and
/// reload (SIGHUP).
public final class Daemon: Sendable {
    public static let version = "0.1.0"

    /// Runs until SIGTERM/SIGINT. Returns the process exit status.
    public static func run(flags: DaemonFlags) async -> Int32 {
        let settings: DaemonSettings
        do {
            settings = try DaemonSettings.load(flags: flags)
        } catch {
            FileHandle.standardError.write(Data("moord: \(error)\n".utf8))
            return 1
        }
        let level = DaemonLogLevel(DaemonLogLevel.parse(settings.effectiveLogLevel))
        let logger = Logger(label: "moord") { DaemonLogHandler(label: $0, level: level) }
        do {
            try await serve(settings: settings, flags: flags, level: level, logger: logger)
            return 0
        } catch {
            logger.critical("\(error)")
            FileHandle.standardError.write(Data("moord: \(error)\n".utf8))
            return 1
        }
    }

    private static func serve(settings: DaemonSettings, flags: DaemonFlags, level: DaemonLogLevel, logger: Logger) async throws {
        // Trapped before anything is set up: a SIGTERM that arrives while
        // the daemon starts (a client that stops it as soon as the socket
        // answers) is held until the daemon serves, and then stops it
        // cleanly, instead of killing it with its socket left behind.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        let fm = FileManager.default
        for dir in [settings.dataRoot, settings.execRoot] {
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
            } catch {
                throw DaemonConfigError("create \(dir): \(error)")
            }
        }
        let dataLock = try DaemonLock(directory: settings.dataRoot, what: "data-root")
        let execLock = try DaemonLock(directory: settings.execRoot, what: "exec-root")
        if socketIsLive(settings.socketPath) {
            throw DaemonConfigError("another daemon is listening on unix://\(settings.socketPath); stop it first")
        }
        if let pidfile = settings.pidfile {
            try? "\(getpid())\n".write(toFile: pidfile, atomically: true, encoding: .utf8)
        }
        defer {
            if let pidfile = settings.pidfile { try? fm.removeItem(atPath: pidfile) }
            withExtendedLifetime((dataLock, execLock)) {}
        }

        let shim = try locateShim(settings.shimBinary)
        let store = try StateStore(path: settings.dataRoot + "/moord.db")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        var registry = PluginRegistry()
        try registry.register(BuiltinPlugins.registrations)
        let plugins = try await registry.load(configuration: PluginLoadConfiguration(
            daemonConfiguration: settings.file, stateRoot: settings.dataRoot + "/plugins",
            runtimeRoot: settings.execRoot + "/plugins", logger: logger))
        for report in plugins.reports { logger.debug("plugin \(report)") }

        let imageStore = try ImageStore(root: settings.dataRoot, logger: logger)
        for removed in (try? await imageStore.sweepIncomplete()) ?? [] {
            logger.warning("removed an incomplete image import", metadata: ["path": "\(removed)"])
        }
        let events = EventBus()
        let imageService = ImageService(store: imageStore, events: events, logger: logger)
        let engine = Engine(
            configuration: EngineConfiguration(
                dataRoot: settings.dataRoot, execRoot: settings.execRoot, shimBinary: shim,
                liveRestore: settings.liveRestore, logDriver: settings.logDriver, logOptions: settings.logOpts,
                storageDriver: settings.storageDriver, defaultSpoolMaxBytes: settings.spoolMaxBytes,
                daemonVersion: version, seccompProfile: settings.seccompProfileContents,
                seccompProfileName: settings.seccompProfileContents == nil ? nil : settings.seccompProfile),
            plugins: plugins, images: imageService, store: store, events: events, group: group, logger: logger)
        await imageService.attach(engine)
        do {
            _ = try await engine.validateLogConfig(driver: settings.logDriver, options: settings.logOpts)
        } catch {
            throw DaemonConfigError("log-driver \(settings.logDriver): \(error)")
        }
        try await engine.load()

        let facts = DaemonFacts(version: version, gitCommit: "", id: try daemonID(settings.dataRoot),
                                startedNs: nowNs(), debug: { level.level == .debug })
        let router = APIRouter(context: APIContext(engine: engine, images: imageService, logger: logger, daemon: facts))
        let server = HTTPServer(configuration: HTTPServer.Configuration(socketPath: settings.socketPath),
                                responder: router, group: group, logger: logger)
        try await server.start()
        logger.info("moord \(version) serving", metadata: ["socket": "unix://\(settings.socketPath)", "live-restore": "\(settings.liveRestore)"])

        // A load killed between moving its layers in and writing its image
        // left layers nothing holds; the containers are known now. In the
        // background: the API answers at once, whatever there is to delete.
        Task { await imageService.removeUnusedLayers() }
        let restore = Task {
            let outcomes = await engine.restoreAll()
            logger.info("restore finished", metadata: ["containers": "\(outcomes.count)"])
        }
        var current = settings
        for await signal in signals {
            if signal == .sighup {
                current = await reload(current, flags: flags, engine: engine, level: level, logger: logger)
                continue
            }
            let live = await engine.configuration.liveRestore
            logger.info("shutting down", metadata: ["signal": "\(signal)", "live-restore": "\(live)"])
            break
        }
        restore.cancel()
        // Long streams (events followers) end first, so the server's
        // graceful shutdown does not wait out its grace period for them.
        await events.finishAll()
        await server.shutdown()
        await engine.shutdown()
        // The event loops are not shut down: the process exits next, and a
        // background task still ending (a retry connecting to a shim, an
        // exec's output pump) would otherwise schedule work on a closed
        // loop, which NIO reports by trapping on the leaked promise.
        logger.info("moord stopped")
    }

    /// SIGHUP: re-reads daemon.json; applies live-restore, log level and the
    /// default log driver and options; logs what changed. An invalid file
    /// changes nothing.
    static func reload(_ current: DaemonSettings, flags: DaemonFlags, engine: Engine, level: DaemonLogLevel, logger: Logger) async -> DaemonSettings {
        let next: DaemonSettings
        do {
            next = try DaemonSettings.load(flags: flags)
        } catch {
            logger.error("reload refused: the running settings stay", metadata: ["reason": "\(error)"])
            return current
        }
        let fixed = next.fixedDifferences(from: current)
        if !fixed.isEmpty {
            logger.warning("reload: these settings need a restart and were not applied", metadata: ["settings": "\(fixed.joined(separator: ", "))"])
        }
        var applied = next
        applied.dataRoot = current.dataRoot
        applied.execRoot = current.execRoot
        applied.socketPath = current.socketPath
        applied.storageDriver = current.storageDriver
        applied.seccompProfile = current.seccompProfile
        applied.seccompProfileContents = current.seccompProfileContents
        applied.pidfile = current.pidfile
        do {
            _ = try await engine.validateLogConfig(driver: applied.logDriver, options: applied.logOpts)
        } catch {
            logger.error("reload refused: the running settings stay", metadata: ["reason": "\(error)"])
            return current
        }
        level.level = DaemonLogLevel.parse(applied.effectiveLogLevel)
        var changes = await engine.reload(liveRestore: applied.liveRestore, logDriver: applied.logDriver, logOptions: applied.logOpts)
        if applied.effectiveLogLevel != current.effectiveLogLevel {
            changes.append("log-level: \(current.effectiveLogLevel) -> \(applied.effectiveLogLevel)")
        }
        logger.info("reloaded configuration", metadata: ["changes": "\(changes.isEmpty ? "none" : changes.joined(separator: "; "))"])
        return applied
    }

    /// The static moor-shim: the configured path, else beside moord, else
    /// the install locations.
    static func locateShim(_ configured: String?) throws -> String {
        var candidates: [String] = []
        if let configured { candidates.append(configured) }
        if let env = ProcessInfo.processInfo.environment["MOOR_SHIM"] { candidates.append(env) }
        let invoked = URL(fileURLWithPath: CommandLine.arguments[0])
        for dir in [invoked.deletingLastPathComponent().path, invoked.resolvingSymlinksInPath().deletingLastPathComponent().path] {
            candidates.append(dir + "/moor-shim")
        }
        candidates += ["/usr/local/bin/moor-shim", "/usr/bin/moor-shim"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw DaemonConfigError("cannot find the moor-shim binary (looked in \(candidates.joined(separator: ", "))); set shim-binary in daemon.json or --shim-binary")
    }

    /// A stable id for this daemon, kept in the data-root.
    static func daemonID(_ dataRoot: String) throws -> String {
        let path = dataRoot + "/engine-id"
        if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let id = UUID().uuidString.lowercased()
        try id.write(toFile: path, atomically: true, encoding: .utf8)
        return id
    }
}
