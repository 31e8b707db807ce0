/* roar_keymap: linear probing with backward-shift deletion (no tombstones, so a long
 * run of opens and closes never degrades lookups). A word-at-a-time hash, then mixed. */
#include "util/keymap.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

/* Eight bytes a step (a byte a step was most of a lookup for 40-byte ids and paths, at
 * millions of lookups in a status), then MurmurHash3's finaliser, so that keys that
 * differ only in their last bytes (data/part-0001.csv, data/part-0002.csv) do not
 * cluster in the low bits that pick the slot. */
static uint64_t hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len, w;

    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = mix(h, w);
    }
    if (len) {
        w = 0;
        memcpy(&w, p, len);
        h = mix(h, w);
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

void roar_keymap_dispose(roar_keymap *m)
{
    size_t i;
    if (!m)
        return;
    for (i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static size_t find_slot(const roar_keymap *m, const void *key, size_t klen, uint64_t h,
                        bool *found)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    for (;;) {
        const roar_keymap_slot *s = &m->slots[i];
        if (!s->key) {
            *found = false;
            return i;
        }
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

void *roar_keymap_get(const roar_keymap *m, const void *key, size_t klen)
{
    bool found;
    size_t i;
    if (m->count == 0)
        return NULL;
    i = find_slot(m, key, klen, hash_bytes(key, klen), &found);
    return found ? m->slots[i].value : NULL;
}

static int resize(roar_keymap *m, size_t cap)
{
    roar_keymap_slot *old = m->slots, *slots;
    size_t oldcap = m->cap, i;

    slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    m->slots = slots;
    m->cap = cap;
    for (i = 0; i < oldcap; i++) {
        bool found;
        size_t j;
        if (!old[i].key)
            continue;
        j = find_slot(m, old[i].key, old[i].klen, old[i].hash, &found);
        m->slots[j] = old[i];
    }
    free(old);
    return 0;
}

int roar_keymap_put(roar_keymap *m, const void *key, size_t klen, void *value)
{
    uint64_t h = hash_bytes(key, klen);
    bool found;
    size_t i;
    char *copy;
    int error;

    /* Keep the load under 1/2: a miss (the common case of a memo) probes ~2.5 slots,
     * against ~8.5 at 3/4. */
    if ((m->count + 1) * 2 > m->cap &&
        (error = resize(m, m->cap ? m->cap * 2 : 16)) < 0)
        return error;
    i = find_slot(m, key, klen, h, &found);
    if (found) {
        m->slots[i].value = value;
        return 0;
    }
    /* One spare byte keeps string keys usable as C strings when iterating. */
    copy = malloc(klen + 1);
    if (!copy)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    memcpy(copy, key, klen);
    copy[klen] = '\0';
    m->slots[i].key = copy;
    m->slots[i].klen = klen;
    m->slots[i].hash = h;
    m->slots[i].value = value;
    m->count++;
    return 0;
}

void *roar_keymap_remove(roar_keymap *m, const void *key, size_t klen)
{
    bool found;
    size_t i, j, mask;
    void *value;

    if (m->count == 0)
        return NULL;
    i = find_slot(m, key, klen, hash_bytes(key, klen), &found);
    if (!found)
        return NULL;
    value = m->slots[i].value;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;

    /* Backward shift: move later members of the probe run into the hole when their
     * home slot does not lie (cyclically) between the hole and their position. */
    mask = m->cap - 1;
    j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        home = (size_t)m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return value;
}
