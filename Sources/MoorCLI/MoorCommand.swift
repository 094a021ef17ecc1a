import ArgumentParser

/// `moor`: the verbs of the docker CLI that moor's users need, talking to
/// moord over its unix socket with the Docker Engine API.
struct MoorCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "moor",
        abstract: "A docker-compatible CLI for the moor container runtime",
        discussion: "The daemon is found with -H, then MOOR_HOST, then DOCKER_HOST (unix:// only), then unix:///run/moor.sock.",
        version: "moor version \(version)",
        subcommands: [
            RunCommand.self, PsCommand.self, LogsCommand.self, ExecCommand.self, StopCommand.self,
            KillCommand.self, RmCommand.self, ImagesCommand.self, ImportCommand.self, LoadCommand.self, SaveCommand.self,
            InspectCommand.self,
            InfoCommand.self, VersionCommand.self,
        ]
    )
}
