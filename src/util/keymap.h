/* A small open-addressing hash map from byte-string keys to pointers: fdstate's tables,
 * the scope's memos, the status and lineage walks. Generic, so it lives in util. */
#ifndef ROAR_UTIL_KEYMAP_H
#define ROAR_UTIL_KEYMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *key;       /* owned copy of the key plus a NUL; NULL = empty slot */
    size_t klen;
    uint64_t hash;
    void *value;     /* borrowed: the map never frees values */
} roar_keymap_slot;

typedef struct {
    roar_keymap_slot *slots;
    size_t cap;   /* 0 or a power of two */
    size_t count;
} roar_keymap;

#define ROAR_KEYMAP_INIT {NULL, 0, 0}

/* Frees the slots and key copies (not the values). NULL-safe. */
void roar_keymap_dispose(roar_keymap *m);

/* The value stored under key, or NULL. */
void *roar_keymap_get(const roar_keymap *m, const void *key, size_t klen);

/* Stores value under key (copied), replacing any previous value. ROAR_ENOMEM. */
int roar_keymap_put(roar_keymap *m, const void *key, size_t klen, void *value);

/* Removes key; returns its value, or NULL if absent. */
void *roar_keymap_remove(roar_keymap *m, const void *key, size_t klen);

/* Convenience for NUL-terminated string keys and integer keys. */
#define roar_keymap_gets(m, s) roar_keymap_get((m), (s), strlen(s))
#define roar_keymap_puts(m, s, v) roar_keymap_put((m), (s), strlen(s), (v))
#define roar_keymap_removes(m, s) roar_keymap_remove((m), (s), strlen(s))

#endif
