#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The store's JSON: keys sorted so equal content gives equal bytes (and
/// equal image IDs), slashes left unescaped as Go writes them.
enum JSONCoding {
    static func encode(_ value: some Encodable, subject: String) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw ImagesError.system("\(subject): cannot encode JSON: \(error)", errno: 0)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], subject: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ImagesError.system("\(subject): invalid JSON: \(error)", errno: 0)
        }
    }
}
