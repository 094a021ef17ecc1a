/// Why an image cannot be deleted, as Docker words it. A hard conflict
/// (a running container) holds even with force.
struct DeleteConflict {
    var message: String
    var hard: Bool
    /// A container uses the image (as opposed to other tags holding it).
    var used: Bool

    func error(_ id: String) -> ImagesError {
        let force = hard ? "cannot be forced" : "must be forced"
        return .conflict("conflict: unable to delete \(ImageStore.shortID(id)) (\(force)) - \(message)")
    }
}

/// The tag side of one `docker rmi`: works on a copy of the tags, collects
/// the response items, and decides whether the image itself goes.
struct ImageRemoval {
    let id: String
    let force: Bool
    let containers: [ImageUser]
    var tags: [String: String]
    var items = [ImageDeleteItem]()
    /// Set when the last tag was removed by name: conflicts with
    /// containers then only keep the image, silently (as Docker does).
    private var quiet = false

    init(id: String, force: Bool, containers: [ImageUser], tags: [String: String]) {
        self.id = id
        self.force = force
        self.containers = containers
        self.tags = tags
    }

    var references: [String] { tags.filter { $0.value == id }.keys.sorted() }

    /// Handles the reference given; returns whether the image may go on to
    /// be deleted.
    mutating func untag(reference: String) throws -> Bool {
        let byID = id.hasPrefix(reference) || StoreLayout.hex(id).hasPrefix(reference)
        guard !byID else {
            if isSingleReference(references) {
                let soft = force ? [] : [Check.stoppedContainer]
                if let conflict = conflict(checking: [.runningContainer] + soft) { throw conflict.error(id) }
                untagAll()
            }
            return true
        }
        let key = try ImageReference.parse(reference).withDefaultTag.description
        if !force && isSingleReference(references), let user = containers.first {
            throw ImagesError.conflict("conflict: unable to remove repository reference \"\(reference)\" "
                + "(must force) - container \(ImageStore.shortID(user.containerID)) is using its referenced image "
                + ImageStore.shortID(id))
        }
        tags[key] = nil
        items.append(.untagged(key))
        quiet = true
        return references.isEmpty
    }

    /// Whether the image can be deleted now; throws the conflict unless the
    /// removal was by name and only a container stands in the way.
    func checkDelete() throws -> Bool {
        let soft: [Check] = force ? [] : [.activeReference, .stoppedContainer]
        guard let conflict = conflict(checking: [.runningContainer] + soft) else { return true }
        if quiet && (!references.isEmpty || conflict.used) { return false }
        throw conflict.error(id)
    }

    mutating func untagAll() {
        for reference in references {
            tags[reference] = nil
            items.append(.untagged(reference))
        }
    }

    private enum Check { case runningContainer, activeReference, stoppedContainer }

    private func conflict(checking checks: [Check]) -> DeleteConflict? {
        for check in checks {
            switch check {
            case .runningContainer:
                if let user = containers.first(where: \.running) {
                    return DeleteConflict(message: "image is being used by running container "
                        + ImageStore.shortID(user.containerID), hard: true, used: true)
                }
            case .activeReference:
                if !references.isEmpty {
                    return DeleteConflict(message: "image is referenced in multiple repositories", hard: false, used: false)
                }
            case .stoppedContainer:
                if let user = containers.first(where: { !$0.running }) {
                    return DeleteConflict(message: "image is being used by stopped container "
                        + ImageStore.shortID(user.containerID), hard: false, used: true)
                }
            }
        }
        return nil
    }

    /// Docker's test for "one name": a single tag, plus digests of that
    /// same repository only.
    private func isSingleReference(_ references: [String]) -> Bool {
        guard references.count > 1 else { return references.count == 1 }
        let parsed = references.compactMap { try? ImageReference.parse($0) }
        let tagged = parsed.filter { $0.digest == nil }
        guard tagged.count <= 1, let single = tagged.first ?? parsed.first else { return false }
        let digestNames = Set(parsed.filter { $0.digest != nil }.map(\.familiarName))
        return digestNames.count == 1 && digestNames.contains(single.familiarName)
    }
}
