import Foundation
import Pipelines

/// How a feed served over HTTP says where its next page is (`pagination: { next: ... }`):
/// - `link-header`: the `Link: <URL>; rel="next"` header; no such link ends the feed;
/// - `field:NAME`: the JSON response's member NAME (`a.b` reaches into an object) holds the next page's
///   URL, absolute or relative to the current one; null, empty or absent ends the feed;
/// - `page-param:NAME`: the query parameter NAME counts pages (from its value in `url`, else 1) until a
///   page comes back without records.
enum FeedPagination: ParameterValue, Equatable {
    case linkHeader
    case field(String)
    case pageParameter(String)

    static var typeName: String { "pagination" }
    static var typeDescription: String { "{ next: link-header | field:NAME | page-param:NAME }" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> FeedPagination {
        let fields = try ParameterFields(node, allowed: ["next"], in: context)
        guard let next = try fields.value("next", as: String.self) else {
            throw ParameterProblem("pagination needs next: link-header, field:NAME or page-param:NAME")
        }
        if next == "link-header" { return .linkHeader }
        if next.hasPrefix("field:"), next.count > 6 { return .field(String(next.dropFirst(6))) }
        if next.hasPrefix("page-param:"), next.count > 11 { return .pageParameter(String(next.dropFirst(11))) }
        throw ParameterProblem("next must be link-header, field:NAME or page-param:NAME, found '\(next)'")
    }

    var parameterDisplay: String {
        switch self {
        case .linkHeader: "{next: link-header}"
        case .field(let name): "{next: field:\(name)}"
        case .pageParameter(let name): "{next: page-param:\(name)}"
        }
    }

    /// The first page's URL: for `page-param`, `url` with the parameter set to its starting value.
    func firstPage(of url: String) -> (url: String, page: Int) {
        guard case .pageParameter(let name) = self else { return (url, 1) }
        let start = URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value.flatMap { Int($0) } ?? 1
        return (Self.setting(name, to: start, in: url), start)
    }

    /// The next page's URL after `response` (of page number `page`, which had `records` records), or nil
    /// at the end of the feed.
    func next(after url: String, page: Int, response: HTTPResponse, document: JSONValue?, records: Int) throws -> String? {
        switch self {
        case .linkHeader:
            guard let header = response.headers["link"], let target = Self.nextLink(in: header) else { return nil }
            return try Self.resolve(target, against: url)
        case .field(let name):
            guard let value = document.flatMap({ FeedJSON.member(name, of: $0) }) else { return nil }
            guard case .string(let target) = value else {
                if value == .null { return nil }
                throw PipelineError(.data, "\(Transfer.peer(of: url)): the next-page field '\(name)' is not a URL")
            }
            return target.isEmpty ? nil : try Self.resolve(target, against: url)
        case .pageParameter(let name):
            return records == 0 ? nil : Self.setting(name, to: page + 1, in: url)
        }
    }

    /// The target of the `rel="next"` link in a `Link` header.
    static func nextLink(in header: String) -> String? {
        for link in header.split(separator: ",") {
            let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = parts.dropFirst().contains { parameter in
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "rel" else { return false }
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased().split(separator: " ").contains("next")
            }
            if isNext { return String(target.dropFirst().dropLast()) }
        }
        return nil
    }

    /// `target` made absolute against `base`; only http(s) URLs on any host are followed.
    static func resolve(_ target: String, against base: String) throws -> String {
        guard let baseURL = URL(string: base), let resolved = URL(string: target, relativeTo: baseURL)?.absoluteString,
            let url = WebURL(resolved)
        else {
            throw PipelineError(.data, "\(Transfer.peer(of: base)): the next page's link is not an http(s) URL")
        }
        return url.text
    }

    static func setting(_ name: String, to value: Int, in url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        var items = components.queryItems ?? []
        if let index = items.firstIndex(where: { $0.name == name }) {
            items[index].value = String(value)
        } else {
            items.append(URLQueryItem(name: name, value: String(value)))
        }
        components.queryItems = items
        return components.string ?? url
    }
}
