import Foundation
import Testing
import MoorStore

/// The store keeps what it was given across reopenings, enforces name
/// uniqueness itself, and removes a container with its execs at once.
struct StateStoreTests {
    private func withStore(_ body: (StateStore, String) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "moor-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(try StateStore(path: dir + "/moor.db"), dir)
    }

    @Test func containersSurviveReopening() throws {
        try withStore { store, dir in
            try store.saveContainer(id: "a", name: "web", document: Data("{\"x\":1}".utf8))
            try store.saveContainer(id: "a", name: "web2", document: Data("{\"x\":2}".utf8))
            let reopened = try StateStore(path: dir + "/moor.db")
            let rows = try reopened.containers()
            #expect(rows.count == 1)
            #expect(rows.first?.key == "web2")
            #expect(rows.first?.document == Data("{\"x\":2}".utf8))
        }
    }

    @Test func aNameUsedByAnotherContainerIsRefused() throws {
        try withStore { store, _ in
            try store.saveContainer(id: "a", name: "web", document: Data())
            #expect(throws: StoreError.nameInUse(name: "web", owner: "a")) {
                try store.saveContainer(id: "b", name: "web", document: Data())
            }
        }
    }

    @Test func deletingAContainerDeletesItsExecs() throws {
        try withStore { store, _ in
            try store.saveContainer(id: "a", name: "web", document: Data())
            try store.saveContainer(id: "b", name: "db", document: Data())
            try store.saveExec(id: "e1", containerID: "a", document: Data())
            try store.saveExec(id: "e2", containerID: "b", document: Data())
            try store.deleteContainer(id: "a")
            #expect(try store.containers().map(\.id) == ["b"])
            #expect(try store.execs().map(\.id) == ["e2"])
        }
    }

    @Test func anExecOfARemovedContainerIsNotStored() throws {
        try withStore { store, _ in
            try store.saveContainer(id: "a", name: "web", document: Data())
            try store.saveExec(id: "e1", containerID: "a", document: Data())
            try store.deleteContainer(id: "a")
            try store.saveExec(id: "e1", containerID: "a", document: Data("exited".utf8))
            #expect(try store.execs().isEmpty)
        }
    }

    @Test func settingsRoundTrip() throws {
        try withStore { store, _ in
            #expect(try store.setting("boot") == nil)
            try store.setSetting("boot", Data("1".utf8))
            #expect(try store.setting("boot") == Data("1".utf8))
        }
    }

    @Test func aCorruptDatabaseIsReportedWithItsPath() throws {
        try withStore { _, dir in
            let path = dir + "/bad.db"
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
            #expect {
                _ = try StateStore(path: path)
            } throws: { error in
                "\(error)".contains(path)
            }
        }
    }
}
