import Testing
@testable import Pipelines
@Test func suggestion() { #expect(Suggestion.closest(to: "tabel.import", among: ["table.import"]) == "table.import") }
