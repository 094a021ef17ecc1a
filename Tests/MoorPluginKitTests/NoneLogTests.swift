import MoorPluginKit
import Testing

@Suite struct NoneLogTests {
    @Test func remembersTheLastPositionAcrossReopening() async throws {
        try await withTemporaryDirectory { dir in
            let driver = try await logDriver("none")
            let writer = try await driver.openWriter(for: container(dir), options: [:])
            #expect(try await writer.lastPosition() == nil)
            try await writer.write([entry("dropped\n", 4, offset: 8), entry("dropped too\n", 5, offset: 12)])
            #expect(try await writer.lastPosition() == LogPosition(seq: 5, offset: 12))
            #expect(try fileText("\(dir)/none-log.position") == "5:12\n")
            #expect(!fileExists("\(dir)/none-log.position.tmp"))
            await writer.close()

            let reopened = try await driver.openWriter(for: container(dir), options: [:])
            #expect(try await reopened.lastPosition() == LogPosition(seq: 5, offset: 12))
            try await reopened.write([])
            #expect(try await reopened.lastPosition() == LogPosition(seq: 5, offset: 12))
        }
    }

    @Test func treatsAnUnreadableStateFileAsNoPosition() async throws {
        try await withTemporaryDirectory { dir in
            try createFile("\(dir)/none-log.position", Array("5:1".utf8))
            let writer = try await logDriver("none").openWriter(for: container(dir), options: [:])
            #expect(try await writer.lastPosition() == nil)
        }
    }

    @Test func hasNoReaderAndTakesNoOptions() async throws {
        try await withTemporaryDirectory { dir in
            let driver = try await logDriver("none")
            #expect(try await driver.openReader(for: container(dir), options: [:]) == nil)
            try driver.validate(options: [:])
            let error = await logDriverError { try driver.validate(options: ["max-size": "1m"]) }
            #expect(invalidOptionName(error) == "max-size")
            let writerError = await logDriverError { _ = try await driver.openWriter(for: container(dir), options: ["tag": "x"]) }
            #expect(invalidOptionName(writerError) == "tag")
        }
    }
}
