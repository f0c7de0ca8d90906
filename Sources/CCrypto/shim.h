#ifndef CCRYPTO_SHIM_H
#define CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* EVP_MAX_MD_SIZE is a macro; SHA-256 digests are 32 bytes. */
static inline int ccrypto_sha256_length(void) { return 32; }
#endif
