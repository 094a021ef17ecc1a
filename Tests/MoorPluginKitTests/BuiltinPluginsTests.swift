import MoorBuiltinPlugins
import MoorPluginKit
import Testing

@Suite struct BuiltinPluginsTests {
    @Test func registerCleanlyAndAllLoadReady() async throws {
        var registry = PluginRegistry()
        try registry.register(BuiltinPlugins.registrations)
        let loaded = try await registry.load(configuration: loadConfiguration())

        #expect(loaded.reports.allSatisfy { $0.status == .ready }, "\(loaded.reports)")
        #expect(loaded.all(.logging).keys.sorted() == ["json-file", "local", "none"])
        #expect(loaded.all(.network).keys.sorted() == ["host", "none"])
        #expect(loaded.all(.restore).keys.sorted() == ["always", "no", "on-failure", "unless-stopped"])
        #expect(loaded.reports.count == 9)
    }

    @Test func basicNetworkDriversAttachAndRestoreIdempotently() async throws {
        let loaded = try await loadBuiltins()
        let container = NetworkContainer(id: "c0ffee", name: "web", hostname: "web", runtimeDirectory: "/nonexistent")

        let none = try loaded.single(.network, id: "none")
        let isolated = try await none.attach(container)
        #expect(isolated == NetworkAttachment(driver: "none", namespace: .new))

        let host = try loaded.single(.network, id: "host")
        let shared = try await host.attach(container)
        #expect(shared == NetworkAttachment(driver: "host", namespace: .host))

        for _ in 0..<2 {
            try await none.restore(container, attachment: isolated)
            try await host.restore(container, attachment: shared)
        }
        for _ in 0..<2 {
            try await none.detach(container, attachment: isolated)
            try await host.detach(container, attachment: shared)
        }
    }
}
