import Foundation
import MoorEngine
import MoorPluginKit

/// Docker's JSON for containers: `inspect` (ContainerJSON) and `ps`
/// (the summary), rendered from the engine's view.
enum ContainerRender {
    static func inspect(_ view: ContainerView) -> JSONValue {
        let r = view.record
        let s = r.state
        let fields: [(String, JSONValue)] = [
            ("Id", .string(r.id)),
            ("Created", .string(DockerTime.rfc3339Nano(r.createdNs))),
            ("Path", .string(r.path)),
            ("Args", .strings(r.args)),
            ("State", [
                "Status": .string(s.status.rawValue),
                "Running": .bool(s.isRunning), "Paused": .bool(s.status == .paused),
                "Restarting": .bool(s.status == .restarting), "OOMKilled": .bool(s.oomKilled),
                "Dead": .bool(s.status == .dead), "Pid": .number(s.pid), "ExitCode": .number(s.exitCode),
                "Error": .string(s.error), "StartedAt": .string(DockerTime.rfc3339Nano(s.startedAtNs)),
                "FinishedAt": .string(DockerTime.rfc3339Nano(s.finishedAtNs)),
            ]),
            ("Image", .string(r.imageID)),
            ("ResolvConfPath", .string(r.directory + "/resolv.conf")),
            ("HostnamePath", .string(r.directory + "/hostname")),
            ("HostsPath", .string(r.directory + "/hosts")),
            ("LogPath", .string(r.logDriver == "json-file" ? r.directory + "/" + r.id + "-json.log" : "")),
            ("Name", .string("/" + r.name)),
            ("RestartCount", .number(s.restartCount)),
            ("Driver", .string(r.rootfs.driver)),
            ("Platform", "linux"),
            ("MountLabel", ""), ("ProcessLabel", ""), ("AppArmorProfile", ""),
            ("ExecIDs", view.execIDs.isEmpty ? .null : .strings(view.execIDs)),
            ("HostConfig", hostConfig(r)),
            // vfs has no layers to show: dockerd answers Data null for it.
            ("GraphDriver", [
                "Data": r.rootfs.lowerDirs.isEmpty ? .null : [
                    "LowerDir": .string(r.rootfs.lowerDirs.joined(separator: ":")),
                    "MergedDir": .string(r.rootfs.mountPoint), "UpperDir": .string(r.rootfs.upperDir),
                    "WorkDir": .string(r.rootfs.workDir),
                ],
                "Name": .string(r.rootfs.driver),
            ]),
            ("Mounts", mounts(r)),
            ("Config", config(r)),
            ("NetworkSettings", networkSettings(r)),
            ("Moor", moor(view)),
        ]
        return .object(fields)
    }

    /// moor's own facts: what it runs under, and what a restore found.
    static func moor(_ view: ContainerView) -> JSONValue {
        let r = view.record
        return [
            "ShimPid": .number(r.shim?.shimPid ?? 0),
            "ShimProtocol": .string(r.shim.map { "\($0.protocolMajor).\($0.protocolMinor)" } ?? ""),
            "ShimBuild": .string(r.shim?.build ?? ""),
            "SpoolMaxBytes": .number(Int64(r.spoolMaxBytes)),
            "CreatedUnder": [
                "StorageDriver": .string(r.settings.storageDriver), "DataRoot": .string(r.settings.dataRoot),
                "DaemonVersion": .string(r.settings.daemonVersion),
            ],
            "SettingsDrift": .strings(view.settingsDrift),
            "Unmanaged": .optional(view.unmanagedReason),
        ]
    }

    static func config(_ r: ContainerRecord) -> JSONValue {
        let c = r.config
        return [
            "Hostname": .string(SpecHostname.of(r)), "Domainname": .string(c.domainname ?? ""),
            "User": .string(c.user ?? ""), "AttachStdin": .bool(c.attachStdin ?? false),
            "AttachStdout": .bool(c.attachStdout ?? false), "AttachStderr": .bool(c.attachStderr ?? false),
            "ExposedPorts": .set(c.exposedPorts.map { Array($0.keys) }),
            "Tty": .bool(c.tty ?? false), "OpenStdin": .bool(c.openStdin ?? false), "StdinOnce": .bool(c.stdinOnce ?? false),
            "Env": .strings(c.env), "Cmd": .strings(c.cmd?.values), "Image": .string(r.imageReference),
            "Volumes": .set(c.volumes.map { Array($0.keys) }), "WorkingDir": .string(c.workingDir ?? ""),
            "Entrypoint": .strings(c.entrypoint?.values), "OnBuild": .strings(c.onBuild),
            "Labels": .stringMap(c.labels ?? [:]),
            "StopSignal": c.stopSignal.map { .string($0) } ?? .null,
            "StopTimeout": .optional(c.stopTimeout),
        ]
    }

    static func hostConfig(_ r: ContainerRecord) -> JSONValue {
        let h = r.hostConfig
        let policy = r.restartPolicy
        return [
            "Binds": .strings(h.binds), "ContainerIDFile": "",
            "LogConfig": ["Type": .string(r.logDriver), "Config": .stringMap(h.logConfig?.config ?? [:])],
            "NetworkMode": .string(h.networkMode ?? "none"), "PortBindings": [:],
            "RestartPolicy": ["Name": .string(policy.name), "MaximumRetryCount": .number(policy.maximumRetryCount)],
            "AutoRemove": .bool(h.autoRemove ?? false), "VolumeDriver": "", "VolumesFrom": .strings(h.volumesFrom),
            "CapAdd": .strings(h.capAdd), "CapDrop": .strings(h.capDrop), "CgroupnsMode": "private",
            "Dns": .strings(h.dns ?? []), "DnsOptions": .strings(h.dnsOptions ?? []), "DnsSearch": .strings(h.dnsSearch ?? []),
            "ExtraHosts": .strings(h.extraHosts), "GroupAdd": .strings(h.groupAdd),
            "IpcMode": .string(h.ipcMode ?? "private"), "Cgroup": "", "Links": .strings(h.links),
            "OomScoreAdj": .number(h.oomScoreAdj ?? 0), "PidMode": .string(h.pidMode ?? ""),
            "Privileged": .bool(h.privileged ?? false), "PublishAllPorts": .bool(h.publishAllPorts ?? false),
            "ReadonlyRootfs": .bool(h.readonlyRootfs ?? false), "SecurityOpt": .strings(h.securityOpt),
            "Tmpfs": h.tmpfs.map { .stringMap($0) } ?? .null, "UTSMode": .string(h.utsMode ?? ""),
            "UsernsMode": "", "ShmSize": .number(h.shmSize.flatMap { $0 > 0 ? $0 : nil } ?? 67_108_864),
            "Sysctls": h.sysctls.map { .stringMap($0) } ?? .null, "Runtime": "moor-shim",
            "ConsoleSize": .array((h.consoleSize ?? [0, 0]).map { .number($0) }), "Isolation": "",
            "CpuShares": .number(h.cpuShares ?? 0), "Memory": .number(h.memory ?? 0), "NanoCpus": .number(h.nanoCpus ?? 0),
            "CgroupParent": .string(h.cgroupParent ?? ""), "BlkioWeight": 0, "BlkioWeightDevice": [],
            "BlkioDeviceReadBps": nil, "BlkioDeviceWriteBps": nil, "BlkioDeviceReadIOps": nil, "BlkioDeviceWriteIOps": nil,
            "CpuPeriod": .number(h.cpuPeriod ?? 0), "CpuQuota": .number(h.cpuQuota ?? 0), "CpuRealtimePeriod": 0,
            "CpuRealtimeRuntime": 0, "CpusetCpus": .string(h.cpusetCpus ?? ""), "CpusetMems": .string(h.cpusetMems ?? ""),
            "Devices": [], "DeviceCgroupRules": nil, "DeviceRequests": nil, "KernelMemory": 0, "KernelMemoryTCP": 0,
            "MemoryReservation": .number(h.memoryReservation ?? 0), "MemorySwap": .number(h.memorySwap ?? 0),
            "MemorySwappiness": nil, "OomKillDisable": .bool(h.oomKillDisable ?? false),
            "PidsLimit": h.pidsLimit.map { .number($0) } ?? .null,
            "Ulimits": h.ulimits.map { .array($0.map { ["Name": .string($0.name), "Soft": .number($0.soft), "Hard": .number($0.hard)] }) } ?? .null,
            "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
            "MaskedPaths": nil, "ReadonlyPaths": nil, "Init": .optional(h.`init`),
        ]
    }

    static func mounts(_ r: ContainerRecord) -> JSONValue {
        var out: [JSONValue] = []
        for bind in r.hostConfig.binds ?? [] {
            let parts = bind.split(separator: ":").map(String.init)
            guard parts.count >= 2 else { continue }
            let mode = parts.count > 2 ? parts[2] : ""
            out.append(["Type": "bind", "Source": .string(parts[0]), "Destination": .string(parts[1]), "Mode": .string(mode),
                        "RW": .bool(!mode.split(separator: ",").contains("ro")), "Propagation": "rprivate"])
        }
        for (destination, _) in (r.hostConfig.tmpfs ?? [:]).sorted(by: { $0.key < $1.key }) {
            out.append(["Type": "tmpfs", "Source": "", "Destination": .string(destination), "Mode": "", "RW": true, "Propagation": ""])
        }
        return .array(out)
    }

    static func network(_ r: ContainerRecord) -> JSONValue {
        let a = r.network
        return [
            "IPAMConfig": nil, "Links": nil, "Aliases": nil, "NetworkID": .string(r.hostConfig.networkMode ?? "none"),
            "EndpointID": "", "Gateway": .string(a?.gateway ?? ""), "IPAddress": .string(a?.ipAddress ?? ""),
            "IPPrefixLen": .number(a?.prefixLength ?? 0), "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "MacAddress": .string(a?.macAddress ?? ""), "DriverOpts": nil,
        ]
    }

    static func networkSettings(_ r: ContainerRecord) -> JSONValue {
        let mode = r.hostConfig.networkMode ?? "none"
        return [
            "Bridge": "", "SandboxID": "", "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": [:], "SandboxKey": "", "SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil, "EndpointID": "",
            "Gateway": .string(r.network?.gateway ?? ""), "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "IPAddress": .string(r.network?.ipAddress ?? ""), "IPPrefixLen": .number(r.network?.prefixLength ?? 0),
            "IPv6Gateway": "", "MacAddress": .string(r.network?.macAddress ?? ""),
            "Networks": .object([(mode, network(r))]),
        ]
    }

    static func summary(_ view: ContainerView) -> JSONValue {
        let r = view.record
        // dockerd's form: the path as is, arguments with a space in single quotes.
        let command = ([r.path] + r.args.map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
        return [
            "Id": .string(r.id), "Names": .strings(["/" + r.name]), "Image": .string(r.imageReference), "ImageID": .string(r.imageID),
            "Command": .string(command), "Created": .number(r.createdNs / 1_000_000_000), "Ports": [],
            "Labels": .stringMap(r.config.labels ?? [:]), "State": .string(r.state.status.rawValue),
            "Status": .string(status(r)), "HostConfig": ["NetworkMode": .string(r.hostConfig.networkMode ?? "none")],
            "NetworkSettings": ["Networks": .object([(r.hostConfig.networkMode ?? "none", network(r))])],
            "Mounts": mounts(r),
        ]
    }

    /// `docker ps`'s STATUS column, as dockerd words it.
    static func status(_ r: ContainerRecord) -> String {
        let s = r.state
        let now = nowNs()
        switch s.status {
        case .running: return "Up " + DockerTime.humanDuration(now - s.startedAtNs)
        case .paused: return "Up " + DockerTime.humanDuration(now - s.startedAtNs) + " (Paused)"
        case .restarting: return "Restarting (\(s.exitCode)) " + DockerTime.humanDuration(now - s.finishedAtNs) + " ago"
        case .removing: return "Removal In Progress"
        case .dead: return "Dead"
        case .created: return "Created"
        case .exited:
            return s.finishedAtNs > 0 ? "Exited (\(s.exitCode)) " + DockerTime.humanDuration(now - s.finishedAtNs) + " ago" : "Exited (\(s.exitCode))"
        }
    }
}

enum SpecHostname {
    static func of(_ r: ContainerRecord) -> String {
        if let name = r.config.hostname, !name.isEmpty { return name }
        return r.shortID
    }
}
