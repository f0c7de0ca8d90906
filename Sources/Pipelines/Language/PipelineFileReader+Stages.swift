/// One entry of `stages:` as written, before the dependency graph is checked.
struct StageDraft {
    var location: SourceLocation
    var id: String?
    var idLocation: SourceLocation
    var kind: String?
    var description: String?
    /// Nil when the stage does not say: it then needs the stage before it.
    var needs: [(id: String, location: SourceLocation)]?
    var settings = StageSettings()
    var stage: (any BoundStage)?
}

extension PipelineFileReader {
    static let stageKeys = ["id", "uses", "description", "needs", "with"] + StageSettings.keys

    mutating func readStages(_ entry: Entry?, missingAt location: SourceLocation, _ interpolator: Interpolator)
        -> [PipelineStage]?
    {
        guard let entry else {
            report(location, "missing required key 'stages'")
            return nil
        }
        guard case .sequence(let items) = entry.value.value, !items.isEmpty else {
            let found = entry.value.isNull ? "nothing" : entry.value.kindDescription
            report(entry.value.location, "'stages' must be a non-empty sequence of stages, found \(found)")
            return nil
        }
        let drafts = items.compactMap { readStage($0, interpolator) }
        return orderStages(drafts)
    }

    private mutating func readStage(_ node: YAMLNode, _ interpolator: Interpolator) -> StageDraft? {
        guard case .mapping(let pairs) = node.value else {
            report(node.location, "each stage must be a mapping with 'id' and 'uses', found \(node.kindDescription)")
            return nil
        }
        let writtenID = pairs.first { $0.key.scalarText == "id" }?.value.scalarText
        let place = writtenID.map { " in stage '\($0)'" } ?? " in stage"
        let fields = entries(of: pairs, allowed: Self.stageKeys, place: place)
        var draft = StageDraft(location: node.location, idLocation: fields["id"]?.value.location ?? node.location)
        draft.id = requiredWord(
            fields["id"], missing: ("missing required key 'id' in stage", node.location),
            allowedPunctuation: ["_", "-"], what: "stage id")
        let descriptor = readKind(fields["uses"], missing: ("missing required key 'uses'\(place)", node.location))
        draft.kind = descriptor?.name
        draft.description = fields["description"].flatMap { optionalText($0, interpolator) }
        if let needs = fields["needs"], !needs.value.isNull { draft.needs = readNeeds(needs) }
        for key in StageSettings.keys {
            guard let entry = fields[key] else { continue }
            let (node, problems) = interpolator.substitute(entry.value)
            diagnostics += problems
            guard problems.isEmpty else { continue }
            do {
                try draft.settings.assign(key, node, context: ParameterContext(baseDirectory: baseDirectory))
            } catch {
                report(node.location, "'\(key)': \(error.message)")
            }
        }

        let with = fields["with"].map { entry in
            let (node, problems) = interpolator.substitute(entry.value)
            diagnostics += problems
            return node
        }
        if let descriptor {
            let context = ParameterContext(baseDirectory: baseDirectory)
            let (stage, problems) = descriptor.bind(with, context: context, stageLocation: node.location)
            diagnostics += problems
            draft.stage = stage
        }
        return draft
    }

    private mutating func readKind(_ entry: Entry?, missing: (String, SourceLocation)) -> StageDescriptor? {
        guard let entry else {
            report(missing.1, missing.0)
            return nil
        }
        guard let name = text(entry) else { return nil }
        guard let descriptor = catalog[name] else {
            let message = name.isEmpty ? "'uses' must not be empty" : "unknown stage kind '\(name)'" + Suggestion.hint(for: name, among: kindNames)
            report(entry.value.location, message)
            return nil
        }
        return descriptor
    }

    private mutating func readNeeds(_ entry: Entry) -> [(id: String, location: SourceLocation)] {
        guard case .sequence(let items) = entry.value.value else {
            report(entry.value.location, "'needs' must be a sequence of stage ids, e.g. [load], found \(entry.value.kindDescription)")
            return []
        }
        var needs: [(id: String, location: SourceLocation)] = []
        for item in items {
            guard let id = item.scalarText else {
                report(item.location, "'needs' must list stage ids, found \(item.kindDescription)")
                continue
            }
            if needs.contains(where: { $0.id == id }) {
                report(item.location, "stage '\(id)' is listed twice in needs")
                continue
            }
            needs.append((id, item.location))
        }
        return needs
    }

    /// Checks ids and needs, then puts the stages in run order; nil when anything is wrong.
    private mutating func orderStages(_ drafts: [StageDraft]) -> [PipelineStage]? {
        var nodeOfID: [String: Int] = [:]
        var nodes: [StageDraft] = []
        for draft in drafts {
            guard let id = draft.id else { continue }
            if let first = nodeOfID[id] {
                report(draft.idLocation, "duplicate stage id '\(id)' (first at line \(nodes[first].idLocation.line))")
                continue
            }
            nodeOfID[id] = nodes.count
            nodes.append(draft)
        }
        let ids = nodes.compactMap(\.id)

        var edges: [[StageGraph.Edge]] = Array(repeating: [], count: nodes.count)
        var previousID: String?
        for draft in drafts {
            defer { previousID = draft.id }
            guard let id = draft.id, let node = nodeOfID[id], nodes[node].location == draft.location else { continue }
            guard let needs = draft.needs else {
                if let previousID, let target = nodeOfID[previousID] {
                    edges[node].append(StageGraph.Edge(target: target, location: nil))
                }
                continue
            }
            for (needed, location) in needs {
                guard let target = nodeOfID[needed] else {
                    report(location, "unknown stage '\(needed)' in needs" + Suggestion.hint(for: needed, among: ids))
                    continue
                }
                edges[node].append(StageGraph.Edge(target: target, location: location))
            }
        }

        let graph = StageGraph(edges: edges)
        let (order, blocked) = graph.topologicalOrder()
        for cycle in graph.cycles(among: blocked) {
            let path = (cycle + [cycle[0]]).map { ids[$0] }.joined(separator: " -> ")
            let edge = edges[cycle[0]].first { $0.target == (cycle.count > 1 ? cycle[1] : cycle[0]) }
            report(edge?.location ?? nodes[cycle[0]].location, "dependency cycle: \(path)")
        }

        guard diagnostics.isEmpty else { return nil }
        var stages: [PipelineStage] = []
        for index in order {
            let draft = nodes[index]
            guard let id = draft.id, let kind = draft.kind, let stage = draft.stage else { return nil }
            stages.append(
                PipelineStage(
                    id: id, kind: kind, description: draft.description, needs: edges[index].map { ids[$0.target] },
                    location: draft.location, settings: draft.settings, stage: stage))
        }
        return stages
    }
}
