import Foundation
import GRDB

/// The daemon's durable state: one SQLite database in WAL mode (GRDB),
/// `synchronous = FULL`, so every state change has reached the disk before
/// the API answers, and a SIGKILL at any moment leaves either the old or the
/// new row, never half of one.
///
/// Records are stored as JSON documents keyed by id; the engine owns their
/// shape (and versions it), the store only guarantees atomicity, name
/// uniqueness and durability.
public final class StateStore: Sendable {
    private let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.label = "moor state"
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.open(path: path, reason: "\(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE containers (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    document BLOB NOT NULL
                );
                CREATE TABLE execs (
                    id TEXT PRIMARY KEY NOT NULL,
                    container_id TEXT NOT NULL,
                    document BLOB NOT NULL
                );
                CREATE INDEX execs_by_container ON execs(container_id);
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                );
                """)
        }
        return migrator
    }

    // MARK: Containers

    /// Inserts or replaces a container. A name already used by another
    /// container is refused (`nameInUse`), whatever the caller checked.
    public func saveContainer(id: String, name: String, document: Data) throws {
        try write("save container \(id)") { db in
            if let owner = try String.fetchOne(db, sql: "SELECT id FROM containers WHERE name = ? AND id != ?",
                                               arguments: [name, id]) {
                throw StoreError.nameInUse(name: name, owner: owner)
            }
            try db.execute(sql: "INSERT OR REPLACE INTO containers (id, name, document) VALUES (?, ?, ?)",
                           arguments: [id, name, document])
        }
    }

    /// Removes a container and its execs in one transaction.
    public func deleteContainer(id: String) throws {
        try write("delete container \(id)") { db in
            try db.execute(sql: "DELETE FROM execs WHERE container_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM containers WHERE id = ?", arguments: [id])
        }
    }

    public func containers() throws -> [StoredDocument] {
        try read("load containers") { db in
            try Row.fetchAll(db, sql: "SELECT id, name, document FROM containers").map {
                StoredDocument(id: $0["id"], key: $0["name"], document: $0["document"])
            }
        }
    }

    // MARK: Execs

    /// Stores an exec of a stored container; one whose container is gone
    /// (an exit recorded just after the container's removal) is not
    /// stored, so no row outlives its container.
    public func saveExec(id: String, containerID: String, document: Data) throws {
        try write("save exec \(id)") { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO execs (id, container_id, document)
                SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM containers WHERE id = ?)
                """, arguments: [id, containerID, document, containerID])
        }
    }

    public func deleteExec(id: String) throws {
        try write("delete exec \(id)") { db in
            try db.execute(sql: "DELETE FROM execs WHERE id = ?", arguments: [id])
        }
    }

    public func execs() throws -> [StoredDocument] {
        try read("load execs") { db in
            try Row.fetchAll(db, sql: "SELECT id, container_id, document FROM execs").map {
                StoredDocument(id: $0["id"], key: $0["container_id"], document: $0["document"])
            }
        }
    }

    // MARK: Settings

    public func setSetting(_ key: String, _ value: Data) throws {
        try write("save setting \(key)") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", arguments: [key, value])
        }
    }

    public func setting(_ key: String) throws -> Data? {
        try read("read setting \(key)") { db in
            try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        }
    }

    // MARK: Plumbing

    private func write<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.failed(what: what, path: path, reason: "\(error)")
        }
    }

    private func read<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError.failed(what: what, path: path, reason: "\(error)")
        }
    }
}

/// A row: its id, its secondary key (container name, or an exec's container
/// id) and the JSON document.
public struct StoredDocument: Sendable {
    public let id: String
    public let key: String
    public let document: Data
}

public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case open(path: String, reason: String)
    case nameInUse(name: String, owner: String)
    case failed(what: String, path: String, reason: String)

    public var description: String {
        switch self {
        case let .open(path, reason): "open the state database \(path): \(reason)"
        case let .nameInUse(name, owner): "the name \"\(name)\" is already used by container \(owner)"
        case let .failed(what, path, reason): "\(what) in \(path): \(reason)"
        }
    }
}
