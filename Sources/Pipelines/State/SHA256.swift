import CCrypto

/// SHA-256 through libcrypto.
public enum SHA256 {
    public static func hex(of text: String) throws -> String {
        var digest = [UInt8](repeating: 0, count: Int(ccrypto_sha256_length()))
        var length: UInt32 = 0
        let status = Array(text.utf8).withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
        }
        guard status == 1 else { throw PipelineError(.internal, "libcrypto could not compute a SHA-256 digest") }
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
