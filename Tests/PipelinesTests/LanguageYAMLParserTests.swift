import Testing

@testable import Pipelines

@Suite struct LanguageYAMLParserTests {
    @Test func keepsLocationsStylesAndTags() throws {
        let yaml = """
            name: demo
            stages:
              - id: 'quoted'
                with: { a: "double", b: !!str 12 }
              - text: |
                  line one
                  line two
                folded: >
                  folded
                  text
            """
        let root = try LanguageFixtures.parse(yaml).root
        #expect(root.place == "1:1")
        #expect(root["name"]?.scalarText == "demo")
        #expect(root["name"]?.place == "1:7")
        #expect(root["name"]?.style == .plain)
        let stages = root["stages"]?.items ?? []
        #expect(stages.count == 2)
        #expect(root["stages"]?.place == "3:3")
        #expect(stages[0].place == "3:5")
        #expect(stages[0]["id"]?.style == .singleQuoted)
        #expect(stages[0]["id"]?.place == "3:9")
        #expect(stages[0]["with"]?.place == "4:11")
        #expect(stages[0]["with"]?["a"]?.style == .doubleQuoted)
        #expect(stages[0]["with"]?["a"]?.place == "4:16")
        #expect(stages[0]["with"]?["b"]?.tag == "tag:yaml.org,2002:str")
        #expect(stages[0]["with"]?["b"]?.scalarText == "12")
        #expect(stages[1]["text"]?.style == .literal)
        #expect(stages[1]["text"]?.scalarText == "line one\nline two\n")
        #expect(stages[1]["folded"]?.style == .folded)
        #expect(stages[1]["folded"]?.scalarText == "folded text")
        #expect(stages[1]["folded"]?.place == "8:13")
    }

    @Test func yesAndNoStayText() throws {
        let root = try LanguageFixtures.parse("a: yes\nb: no\nc: on\nd: 010\n").root
        #expect(root["a"]?.scalarText == "yes")
        #expect(root["b"]?.scalarText == "no")
        #expect(root["c"]?.scalarText == "on")
        #expect(root["d"]?.scalarText == "010")
    }

    @Test func verbatimColumnOnlyForUnchangedSingleLineText() throws {
        let root = try LanguageFixtures.parse("a: plain text\nb: 'single'\nc: \"esc\\tape\"\nd: folded\n  plain\n").root
        #expect(root["a"]?.verbatimColumn == 4)
        #expect(root["b"]?.verbatimColumn == 5)
        #expect(root["c"]?.verbatimColumn == nil)
        #expect(root["d"]?.verbatimColumn == nil)
    }

    @Test func refusesAnchorsAndAliases() {
        let anchor = LanguageFixtures.parseError("a: &x 1\nb: 2\n")
        #expect(anchor?.description == "t.yaml:1:4: YAML anchors and aliases are not allowed")
        #expect(anchor?.code == .anchorOrAlias)
        let alias = LanguageFixtures.parseError("a: 1\nb: *x\n")
        #expect(alias?.description == "t.yaml:2:4: YAML anchors and aliases are not allowed")
    }

    @Test func billionLaughsFailsFast() {
        var yaml = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            yaml += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        let clock = ContinuousClock()
        var error: YAMLError?
        let elapsed = clock.measure { error = LanguageFixtures.parseError(yaml) }
        #expect(error?.description == "t.yaml:1:4: YAML anchors and aliases are not allowed")
        #expect(elapsed < .seconds(1))
    }

    @Test func reportsDuplicateKeysInEveryMapping() throws {
        let yaml = """
            a: 1
            nested:
              x: 1
              y: 2
              x: 3
            list:
              - k: 1
                k: 2
            a: 2
            """
        let document = try LanguageFixtures.parse(yaml)
        #expect(
            document.diagnostics.map(\.description) == [
                "t.yaml:5:3: duplicate key 'x' (first at line 3)",
                "t.yaml:8:5: duplicate key 'k' (first at line 7)",
                "t.yaml:9:1: duplicate key 'a' (first at line 1)",
            ])
    }

    @Test func syntaxErrorPointsAtTheProblem() {
        let error = LanguageFixtures.parseError("a: 1\nb: [1, 2\nc: 3\n")
        #expect(error?.code == .syntax)
        #expect(error?.location.line == 3)
        #expect(error?.message.hasPrefix("invalid YAML: ") == true)
        let indentation = LanguageFixtures.parseError("a: b: c\n")
        #expect(indentation?.description == "t.yaml:1:5: invalid YAML: mapping values are not allowed in this context")
    }

    @Test func invalidUTF8IsASyntaxError() {
        var bytes = Array("a: ok\nb: ".utf8)
        bytes += [0xFF, 0x0A]
        #expect(throws: YAMLError.self) { try YAMLParser.parse(bytes, file: "t.yaml") }
        do {
            _ = try YAMLParser.parse(bytes, file: "t.yaml")
        } catch {
            #expect(error.location.line == 2)
            #expect(error.location.column == 4)
        }
    }

    @Test func emptyFilesAndCommentsOnlyAreRefused() {
        #expect(LanguageFixtures.parseError("")?.description == "t.yaml:1:1: empty file: expected a YAML document")
        #expect(LanguageFixtures.parseError("# nothing\n\n")?.code == .empty)
        #expect(LanguageFixtures.parseError("---\n")?.code == .empty)
    }

    @Test func exactlyOneDocument() {
        let error = LanguageFixtures.parseError("a: 1\n---\nb: 2\n")
        #expect(error?.description == "t.yaml:2:1: expected exactly one YAML document, but another one starts here")
    }

    @Test func limitsDepthNodesAndSize() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(LanguageFixtures.parseError(deep)?.description == "t.yaml:1:65: nesting is deeper than the limit of 64 levels")
        let many = "[" + Array(repeating: "1", count: 20).joined(separator: ",") + "]"
        let small = YAMLLimits(maximumNodes: 10)
        #expect(LanguageFixtures.parseError(many, limits: small)?.message == "the document has more than the limit of 10 nodes")
        let tiny = YAMLLimits(maximumBytes: 8)
        #expect(LanguageFixtures.parseError("a: 123456789", limits: tiny)?.description == "t.yaml:1:1: file is larger than the limit of 8 bytes")
        let large = [UInt8](repeating: UInt8(ascii: " "), count: 4 * 1024 * 1024 + 1)
        #expect(throws: YAMLError.self) { try YAMLParser.parse(large, file: "t.yaml") }
    }
}
