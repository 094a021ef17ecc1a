#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import MoorHTTP

/// `moor save`: one archive of the images named (`GET /images/get`), to a
/// file (written whole or not at all: a temporary file renamed at the end)
/// or to stdout, which must not be a terminal. A progress bar on a
/// terminal when writing to a file.
struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save", abstract: "Save one or more images to a tar archive (streamed to STDOUT by default)",
        usage: "moor save [OPTIONS] IMAGE [IMAGE...]"
    )

    @OptionGroup var global: GlobalOptions
    @Option(name: .shortAndLong, help: "Write to a file, instead of STDOUT")
    var output: String?
    @Argument(help: "IMAGE")
    var images: [String] = []

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("\"moor save\" requires at least 1 argument.") }
    }

    func run() async throws {
        if output == nil && Terminal.isTerminal(Output.stdout) {
            throw CLIError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        }
        let client = try global.client()
        let query = HTTPQuery(images.map { ("names", $0) })
        let response = try await client.send("GET", "/images/get", query: query)
        let target = try SaveTarget(path: output)
        let bar = output != nil && Terminal.isTerminal(Output.stdout) ? TransferBar(label: "Saving", total: nil) : nil
        do {
            var received = 0
            for try await chunk in response.body {
                try target.write(chunk.readableBytesView)
                received += chunk.readableBytes
                bar?.update(received)
            }
            try target.commit()
            bar?.clear()
        } catch {
            bar?.clear()
            target.abandon()
            if let error = error as? CLIError { throw error }
            throw client.describe(error)
        }
    }
}

/// Where `moor save` writes: stdout, or a temporary file beside the target.
final class SaveTarget {
    private let path: String?
    private let temporary: String?
    private let fd: Int32

    init(path: String?) throws(CLIError) {
        self.path = path
        guard let path else {
            temporary = nil
            fd = Output.stdout
            return
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let temp = (directory.isEmpty ? "" : directory) + "/.moor-save-\(UInt32.random(in: .min ... .max))"
        var opened: Int32
        repeat { opened = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) } while opened < 0 && errno == EINTR
        guard opened >= 0 else { throw CLIError("failed to save image: open \(path): \(String(cString: strerror(errno)))") }
        temporary = temp
        fd = opened
    }

    deinit {
        if temporary != nil { close(fd) }
    }

    func write(_ bytes: some Collection<UInt8>) throws(CLIError) {
        guard Output.write(bytes, to: fd) else {
            throw CLIError("failed to save image: write \(path ?? "stdout"): \(String(cString: strerror(errno)))")
        }
    }

    /// The file is complete: on disk, under its name.
    func commit() throws(CLIError) {
        guard let temporary, let path else { return }
        guard fsync(fd) == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            abandon()
            throw CLIError("failed to save image: \(path): \(reason)")
        }
    }

    func abandon() {
        if let temporary { unlink(temporary) }
    }
}
