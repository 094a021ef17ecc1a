import MoorPluginKit
import Testing

/// Registration, ordering and loading, through the registry's public API.
@Suite struct PluginRegistryTests {
    private struct Failure: Error, CustomStringConvertible {
        var description: String { "no socket at /run/example.sock" }
    }

    private struct FakeNetwork: NetworkDriver {
        func attach(_ container: NetworkContainer) async throws -> NetworkAttachment {
            NetworkAttachment(driver: "fake", namespace: .new)
        }
        func restore(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}
        func detach(_ container: NetworkContainer, attachment: NetworkAttachment) async throws {}
    }

    private struct FakeLog: LogDriver {
        func validate(options: [String: String]) throws {}
        func openWriter(for container: LogContainer, options: [String: String]) async throws -> any LogWriter {
            throw LogDriverError.storage("unused")
        }
        func openReader(for container: LogContainer, options: [String: String]) async throws -> (any LogReader)? { nil }
    }

    private func network(_ id: String, requires: [PluginType] = []) -> PluginRegistration {
        PluginRegistration(.network, id: id, requires: requires) { _ in FakeNetwork() }
    }

    private func logging(_ id: String, requires: [PluginType] = []) -> PluginRegistration {
        PluginRegistration(.logging, id: id, requires: requires) { _ in FakeLog() }
    }

    @Test func refusesAnEmptyID() {
        var registry = PluginRegistry()
        #expect(throws: PluginError.emptyID(.network)) { try registry.register(network("")) }
        #expect(registry.ids.isEmpty)
    }

    @Test func refusesADuplicateOfTypeAndID() throws {
        var registry = PluginRegistry()
        try registry.register(network("bridge"))
        #expect(throws: PluginError.duplicate(PluginID(type: .network, id: "bridge"))) {
            try registry.register(network("bridge"))
        }
        // The same id under another type is another plugin.
        try registry.register(logging("bridge"))
        #expect(registry.ids.count == 2)
    }

    @Test func ordersPluginsAfterTheTypesTheyRequire() async throws {
        var registry = PluginRegistry()
        try registry.register(network("bridge", requires: [.logging]))
        try registry.register(logging("json-file"))
        let order = try registry.initialisationOrder()
        #expect(order == [PluginID(type: .logging, id: "json-file"), PluginID(type: .network, id: "bridge")])

        // The dependant's initialiser finds what it required, already up.
        var withLookup = PluginRegistry()
        try withLookup.register(PluginRegistration(.network, id: "bridge", requires: [.logging]) { context in
            guard context.plugin(.logging, id: "json-file") != nil else { throw Failure() }
            return FakeNetwork()
        })
        try withLookup.register(logging("json-file"))
        let loaded = try await withLookup.load(configuration: loadConfiguration())
        #expect(loaded.reports.map(\.id.id) == ["json-file", "bridge"])
        #expect(loaded.reports.map(\.status) == [.ready, .ready])
    }

    @Test func detectsACycleAndNamesItsPlugins() throws {
        var registry = PluginRegistry()
        try registry.register(network("bridge", requires: [.logging]))
        try registry.register(logging("json-file", requires: [.network]))
        do {
            _ = try registry.initialisationOrder()
            Issue.record("a cycle was not detected")
        } catch let PluginError.cycle(ids) {
            #expect(Set(ids) == [PluginID(type: .network, id: "bridge"), PluginID(type: .logging, id: "json-file")])
            let message = PluginError.cycle(ids).description
            #expect(message.contains("moor.network.v1/bridge") && message.contains("moor.logging.v1/json-file"))
        }
    }

    @Test func detectsAPluginRequiringItsOwnType() throws {
        var registry = PluginRegistry()
        try registry.register(logging("json-file", requires: [.logging]))
        #expect(throws: PluginError.self) { try registry.initialisationOrder() }
    }

    @Test func reportsSkippedAndFailedWithTypeIDAndReason() async throws {
        var registry = PluginRegistry()
        try registry.register(PluginRegistration(.network, id: "overlay") { _ -> (any NetworkDriver)? in nil })
        try registry.register(PluginRegistration(.logging, id: "syslog") { _ -> (any LogDriver)? in throw Failure() })
        let loaded = try await registry.load(configuration: loadConfiguration())

        let overlay = PluginID(type: .network, id: "overlay")
        let syslog = PluginID(type: .logging, id: "syslog")
        #expect(loaded.status(of: overlay) == .skipped(reason: "not configured"))
        #expect(loaded.status(of: syslog) == .failed(reason: "no socket at /run/example.sock"))
        #expect(loaded.reports.map(\.description) == [
            "moor.network.v1/overlay: skipped: not configured",
            "moor.logging.v1/syslog: failed: no socket at /run/example.sock",
        ])
    }

    @Test func aDependantOfAFailedTypeFailsAndOthersStillLoad() async throws {
        var registry = PluginRegistry()
        try registry.register(PluginRegistration(.logging, id: "syslog") { _ -> (any LogDriver)? in throw Failure() })
        try registry.register(network("bridge", requires: [.logging]))
        try registry.register(network("host"))
        let loaded = try await registry.load(configuration: loadConfiguration())

        let bridge = PluginID(type: .network, id: "bridge")
        let expected = PluginError.missingRequirement(bridge, requires: .logging).description
        #expect(loaded.status(of: bridge) == .failed(reason: expected))
        #expect(expected.contains("moor.network.v1/bridge") && expected.contains("moor.logging.v1"))
        #expect(loaded.status(of: PluginID(type: .network, id: "host")) == .ready)
        #expect(loaded.all(.network).keys.sorted() == ["host"])
    }

    @Test func looksPluginsUpByKind() async throws {
        var registry = PluginRegistry()
        try registry.register(network("host"))
        try registry.register(logging("json-file"))
        let loaded = try await registry.load(configuration: loadConfiguration())

        let driver: any NetworkDriver = try loaded.single(.network, id: "host")
        #expect(try await driver.attach(NetworkContainer(id: "c", name: "n", hostname: "h", runtimeDirectory: "/r"))
            == NetworkAttachment(driver: "fake", namespace: .new))
        #expect(loaded.all(.logging).keys.sorted() == ["json-file"])
        #expect(loaded.all(.restore).isEmpty)
        // An id is looked up within its kind only.
        #expect(throws: PluginError.notFound(.network, id: "json-file")) {
            try loaded.single(.network, id: "json-file")
        }
    }
}
