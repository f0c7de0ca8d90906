/// One entry of `stages:` as written, before the dependency graph is checked.
struct StageDraft {
    var location: SourceLocation
    var id: String?
    var idLocation: SourceLocation
    var descriptor: StageDescriptor?
    var description: String?
    /// Nil when the stage does not say: it then needs the stage before it.
    var needs: [(id: String, location: SourceLocation)]?
    var settings = StageSettings()
    var binding: PipelineStage.Binding?
    var display: [(name: String, value: String)] = []
    var parameterLocations: [String: SourceLocation] = [:]
    var references: [StageOutputReference] = []
}

extension PipelineFileReader {
    static let stageKeys = ["id", "uses", "description", "needs", "with", "notify"] + StageSettings.keys

    mutating func readStages(
        _ entry: Entry?, missingAt location: SourceLocation, _ interpolator: Interpolator, workspace: Workspace
    ) -> [PipelineStage]? {
        guard let entry else {
            report(location, "missing required key 'stages'")
            return nil
        }
        guard case .sequence(let items) = entry.value.value, !items.isEmpty else {
            let found = entry.value.isNull ? "nothing" : entry.value.kindDescription
            report(entry.value.location, "'stages' must be a non-empty sequence of stages, found \(found)")
            return nil
        }
        let drafts = items.compactMap { readStage($0, interpolator, workspace: workspace) }
        return orderStages(drafts)
    }

    private mutating func readStage(_ node: YAMLNode, _ interpolator: Interpolator, workspace: Workspace) -> StageDraft? {
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
        draft.descriptor = descriptor
        draft.description = fields["description"].flatMap { optionalText($0, interpolator) }
        if let needs = fields["needs"], !needs.value.isNull { draft.needs = readNeeds(needs) }
        let context = ParameterContext(baseDirectory: baseDirectory, databaseNames: workspace.databases.keys.sorted())
        if let descriptor {
            draft.settings = readSettings(fields, of: descriptor, interpolator, context: context)
            if let id = draft.id { stageNotifyRules += readNotify(fields["notify"], stage: (id, descriptor), interpolator) }
        }

        let deferring = interpolator.with(stageOutputs: .deferred)
        let with = fields["with"].map { entry in
            let substitution = deferring.substitute(entry.value)
            diagnostics += substitution.diagnostics
            draft.references += substitution.references
            return substitution.node
        }
        if let descriptor {
            let bindingContext = BindingContext(
                parameters: context, workspace: workspace, stageLocation: node.location,
                usesLocation: fields["uses"]?.value.location ?? node.location)
            let binding = descriptor.bind(with, context: bindingContext)
            diagnostics += binding.diagnostics
            draft.display = binding.display
            if case .mapping(let pairs)? = with?.value {
                for (key, value) in pairs { if let name = key.scalarText { draft.parameterLocations[name] = value.location } }
            }
            draft.references += binding.stageReferences
            if let stage = binding.stage {
                draft.binding = .ready(stage)
            } else if !binding.deferred.isEmpty, binding.diagnostics.isEmpty {
                draft.binding = .deferred(
                    DeferredStage(
                        descriptor: descriptor, with: fields["with"]?.value, interpolator: interpolator,
                        context: bindingContext))
            }
        }
        return draft
    }

    /// `chunk_size` and `retries`, where the kind uses them.
    private mutating func readSettings(
        _ fields: [String: Entry], of descriptor: StageDescriptor, _ interpolator: Interpolator,
        context: ParameterContext
    ) -> StageSettings {
        var settings = StageSettings()
        for key in StageSettings.keys {
            guard let entry = fields[key] else { continue }
            if let problem = StageSettings.inapplicable(key, kind: descriptor.name, execution: descriptor.execution) {
                report(entry.key.location, problem)
                continue
            }
            let substitution = interpolator.substitute(entry.value)
            diagnostics += substitution.diagnostics
            guard substitution.diagnostics.isEmpty else { continue }
            do {
                try settings.assign(key, substitution.node, execution: descriptor.execution, context: context)
            } catch {
                report(error.location ?? substitution.node.location, "'\(key)': \(error.message)")
            }
        }
        return settings
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

    /// Checks ids, needs and output references, then puts the stages in run order; nil when anything is wrong.
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
        if blocked.isEmpty { checkReferences(of: nodes, graph: graph, nodeOfID: nodeOfID) }

        guard diagnostics.isEmpty else { return nil }
        var stages: [PipelineStage] = []
        for index in order {
            let draft = nodes[index]
            guard let id = draft.id, let descriptor = draft.descriptor, let binding = draft.binding else { return nil }
            stages.append(
                PipelineStage(
                    id: id, kind: descriptor.name, description: draft.description,
                    needs: edges[index].map { ids[$0.target] }, location: draft.location, settings: draft.settings,
                    descriptor: descriptor, binding: binding, resolvedParameters: draft.display,
                    parameterLocations: draft.parameterLocations, references: draft.references))
        }
        return stages
    }

    /// Each reference names a stage that exists, runs before the referring one (it is among its needs,
    /// directly or through others) and declares the output, of the type wanted.
    private mutating func checkReferences(of nodes: [StageDraft], graph: StageGraph, nodeOfID: [String: Int]) {
        let ids = nodes.compactMap(\.id)
        for (index, draft) in nodes.enumerated() where !draft.references.isEmpty {
            let ancestors = graph.ancestors(of: index)
            for reference in draft.references {
                guard let target = nodeOfID[reference.stage] else {
                    report(
                        reference.location,
                        "unknown stage '\(reference.stage)'" + Suggestion.hint(for: reference.stage, among: ids))
                    continue
                }
                guard ancestors.contains(target) else {
                    let problem =
                        target == index
                        ? "stage '\(reference.stage)' cannot use its own outputs"
                        : "stage '\(reference.stage)' does not run before '\(draft.id ?? "?")'; add it to needs"
                    report(reference.location, problem)
                    continue
                }
                guard let descriptor = nodes[target].descriptor else { continue }
                for wanted in reference.outputs {
                    checkOutput(wanted, of: reference.stage, descriptor: descriptor, at: reference.location)
                }
            }
        }
    }

    private mutating func checkOutput(
        _ wanted: OutputRequirement, of stage: String, descriptor: StageDescriptor, at location: SourceLocation
    ) {
        guard let declared = descriptor.output(named: wanted.name) else {
            let names = descriptor.outputs.map(\.name)
            let declaredList = names.isEmpty ? "\(descriptor.name) declares no outputs" : "it declares: \(names.joined(separator: ", "))"
            report(
                location,
                "stage '\(stage)' (\(descriptor.name)) has no output '\(wanted.name)'"
                    + Suggestion.hint(for: wanted.name, among: names) + "; \(declaredList)")
            return
        }
        if let type = wanted.type, declared.type != type, !(type == .path && declared.type == .file) {
            report(
                location,
                "output '\(wanted.name)' of stage '\(stage)' is a \(declared.type.rawValue), not the \(type.rawValue) needed here")
        }
    }
}
