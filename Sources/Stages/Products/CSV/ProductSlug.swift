import Foundation

/// Vendure's `normalizeString(name, '-')`, which makes a slug from a name when the slug cell is empty:
/// canonical decomposition with the combining diacritics U+0300–U+036F removed, lower case, a fixed set
/// of punctuation dropped, and runs of white space replaced by `-`. Other scripts are kept as they are,
/// so a Chinese name is its own slug.
public enum ProductSlug {
    public static func fromName(_ name: String) -> String {
        var slug = ""
        var inWhitespace = false
        for scalar in name.decomposedStringWithCanonicalMapping.lowercased().unicodeScalars {
            if (0x300...0x36F).contains(scalar.value) || removedPunctuation.contains(scalar) { continue }
            if scalar.properties.isWhitespace {
                if !inWhitespace { slug.append("-") }
                inWhitespace = true
                continue
            }
            inWhitespace = false
            slug.unicodeScalars.append(scalar)
        }
        // Vendure lower-cases after decomposing; composing again keeps slugs in the usual NFC form.
        return slug.precomposedStringWithCanonicalMapping
    }

    private static let removedPunctuation = Set("!\"£$%^&*()+[]{};:@#~?\\/,|><`¬'=‘’©®™".unicodeScalars)
}
