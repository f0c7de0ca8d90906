#ifndef CCRYPTO_SHIM_H
#define CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* EVP_MAX_MD_SIZE is a macro; SHA-256 digests are 32 bytes. */
static inline int ccrypto_sha256_length(void) { return 32; }

/* The low-level SHA-256, deprecated since OpenSSL 3.0 in favour of EVP but kept in libcrypto 3: its
   state is a plain struct, so many short digests that share a beginning copy it in a few bytes, where
   EVP_MD_CTX_copy_ex allocates and EVP_DigestInit_ex fetches the algorithm every time. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/sha.h>
typedef struct { SHA256_CTX context; } ccrypto_sha256_state;
static inline int ccrypto_sha256_init(ccrypto_sha256_state *state) { return SHA256_Init(&state->context); }
static inline int ccrypto_sha256_update(ccrypto_sha256_state *state, const void *bytes, size_t count) {
    return SHA256_Update(&state->context, bytes, count);
}
static inline int ccrypto_sha256_final(ccrypto_sha256_state *state, unsigned char *digest) {
    return SHA256_Final(digest, &state->context);
}
#pragma clang diagnostic pop
#endif
