/* A 64-bit content hash (FNV-1a): for cache keys, file names and the data's
 * fingerprint, where what matters is that the same bytes give the same
 * value on every run and machine, not resistance to attack. */
#ifndef MN_HASH_H
#define MN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MN_HASH_INIT 0xcbf29ce484222325ULL

/* h continued over n bytes at p (start with MN_HASH_INIT). */
uint64_t mn_hash_bytes(uint64_t h, const void *p, size_t n);

#endif
