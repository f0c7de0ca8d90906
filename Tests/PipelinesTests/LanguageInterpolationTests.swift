import Testing

@testable import Pipelines

@Suite struct LanguageInterpolationTests {
    let here = SourceLocation(file: "x.yaml", line: 3, column: 7)
    let interpolator = Interpolator(
        params: ["day": "2024-01-31", "empty": ""], environment: ["HOME": "/home/me", "day": "env-day"])

    func substitute(_ text: String, verbatimColumn: Int? = nil) -> (String, [String]) {
        let (result, diagnostics) = interpolator.substitute(text, at: here, verbatimColumn: verbatimColumn)
        return (result, diagnostics.map(\.description))
    }

    @Test func paramsComeBeforeEnvironment() {
        #expect(substitute("d=${day} h=${HOME}").0 == "d=2024-01-31 h=/home/me")
    }

    @Test func defaults() {
        #expect(substitute("${MISSING:-fallback}").0 == "fallback")
        #expect(substitute("${day:-fallback}").0 == "2024-01-31")
        #expect(substitute("${empty:-fallback}").0 == "fallback")
        #expect(substitute("${MISSING:-}").0 == "")
        #expect(substitute("${MISSING:-a:-b}").0 == "a:-b")
        #expect(substitute("${empty}").1.isEmpty)
    }

    @Test func dollarDollarIsALiteralDollar() {
        #expect(substitute("cost: $$5, $${day}, $x, end$").0 == "cost: $5, ${day}, $x, end$")
    }

    @Test func resultsAreNotScannedAgain() {
        let tricky = Interpolator(params: ["a": "${b}", "b": "no"], environment: [:])
        #expect(tricky.substitute("${a}", at: here).text == "${b}")
    }

    @Test func undefinedVariable() {
        let (_, problems) = substitute("x ${NOPE} y")
        #expect(problems == ["x.yaml:3:7: undefined variable 'NOPE'"])
        #expect(substitute("${dya}").1 == ["x.yaml:3:7: undefined variable 'dya' (did you mean 'day'?)"])
    }

    @Test func pointsAtTheReferenceInVerbatimText() {
        #expect(substitute("ab ${NOPE}", verbatimColumn: 10).1 == ["x.yaml:3:13: undefined variable 'NOPE'"])
    }

    @Test func unterminatedAndInvalidReferences() {
        let (text, problems) = substitute("a ${day")
        #expect(text == "a ${day")
        #expect(problems == ["x.yaml:3:7: unterminated '${' (missing '}')"])
        #expect(substitute("${}").1 == ["x.yaml:3:7: invalid variable reference '${}': names use letters, digits and '_'"])
        #expect(substitute("${1x}").1.count == 1)
        #expect(substitute("${a b}").1.count == 1)
    }

    @Test func substitutesEveryScalarButNotKeys() throws {
        let document = try LanguageFixtures.parse("${day}: [\"${day}\", { k: '${HOME}' }]\n")
        let substitution = interpolator.substitute(document.root)
        let node = substitution.node
        #expect(substitution.diagnostics.isEmpty)
        guard case .mapping(let pairs) = node.value else {
            Issue.record("expected a mapping")
            return
        }
        #expect(pairs[0].key.scalarText == "${day}")
        #expect(pairs[0].value.items.first?.scalarText == "2024-01-31")
        #expect(pairs[0].value.items.first?.style == .doubleQuoted)
        #expect(pairs[0].value.items.last?["k"]?.scalarText == "/home/me")
    }

    @Test func undefinedInsideANodePointsAtTheDollar() throws {
        let document = try LanguageFixtures.parse("a: x ${NOPE}\n")
        let problems = interpolator.substitute(document.root).diagnostics
        #expect(problems.map(\.description) == ["t.yaml:1:6: undefined variable 'NOPE'"])
    }
}
