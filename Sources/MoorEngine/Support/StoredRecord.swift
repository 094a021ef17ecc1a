import Foundation

/// Encodes and saves one record of the state store, with errors naming it
/// (`subject`: "container ID", "exec ID of container ID").
enum StoredRecord {
    static func save<Value: Encodable>(_ value: Value, subject: String, _ write: (Data) throws -> Void) throws {
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw EngineError.system("\(subject): encode its record: \(error)")
        }
        do {
            try write(data)
        } catch {
            throw EngineError.system("\(subject): save its record: \(error)")
        }
    }
}
