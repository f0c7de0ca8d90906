import Testing
@testable import Pipelines
@Test func suggestion() { #expect(Suggestion.closest(to: "tabel.import", among: ["table.import"]) == "table.import") }

@Test func transpositionsAreOneEdit() {
    #expect(Suggestion.editDistance("stagse", "stages") == 1)
    #expect(Suggestion.closest(to: "stagse", among: ["state", "stages"]) == "stages")
    #expect(Suggestion.closest(to: "zzz", among: ["stages"]) == nil)
}
