/// This build's version, as `pipeline --version`, traces and packages name it.
public enum ToolVersion {
    public static let current = "0.1.0"
}
