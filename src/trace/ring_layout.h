/* The shared-memory event ring between the preload shim (producers) and the collector
 * (consumer): its byte layout, the control-socket messages, and the libc-only producer. */
#ifndef ROAR_TRACE_RING_LAYOUT_H
#define ROAR_TRACE_RING_LAYOUT_H

/* Included by the shim (libc only, no event.c, no roar_error) and by ring.c. Everything
 * here is header-only so both sides run the very same producer code (test_ring drives
 * it directly). Atomics are GCC __atomic builtins on plain integers: the header is a
 * byte layout shared by processes, not a C11 _Atomic object. */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "trace/event.h"

#define ROAR_RING_MAGIC 0x31474e4952524f52ull /* "RORRING1" little-endian */
/* 2: seq is derived from the slot position (version 1 took it from a shared counter),
 * so producers of both versions must never share a ring. 3: compact records
 * (struct roar_ring_small), which a version 2 consumer would refuse. */
#define ROAR_RING_VERSION 3u
/* The header occupies one page; the data area follows it. */
#define ROAR_RING_HDR_SIZE 4096u
#define ROAR_RING_DEFAULT_DATA (16u << 20)
/* Smallest data area ring.c accepts: must hold the largest record (two maximal paths). */
#define ROAR_RING_MIN_DATA (1u << 18)
/* Producers that find the ring empty past this offset start again at offset 0 (behind
 * a pad slot to the end), so a consumer that keeps up leaves the ring's traffic in a
 * cache-sized window: lines not touched for 16 MiB cost the producer a miss each. Only
 * for rings of at least 4 windows; the rest of the area is there for bursts. */
#define ROAR_RING_HOT (1u << 18)

/* Environment the collector sets for the shim. */
#define ROAR_ENV_RING "ROAR_RING"           /* path of the ring file */
#define ROAR_ENV_SOCK "ROAR_SOCK"           /* path of the collector's control socket */
#define ROAR_ENV_HASH_WAIT "ROAR_HASH_WAIT_MS" /* round-trip bound, ms (roar.hashWait) */
#define ROAR_ENV_PRELOAD "ROAR_PRELOAD"     /* the LD_PRELOAD token naming the shim */
/* "<fd>:<dev>:<ino>": the ring, also inherited as fd <fd> (a job started as root). A
 * process that switched to another user cannot open the ring's path (its directory is
 * root's, mode 0700); it maps the inherited fd instead, once fstat shows that dev/ino. */
#define ROAR_ENV_RING_FD "ROAR_RING_FD"

/* The header page. Cursors are byte counts since creation (never wrapped; 2^64 bytes
 * is out of reach), so `reserve - read` is the bytes in flight. Each hot cursor sits on
 * its own cache line so producers and the consumer do not false-share. */
struct roar_ring_hdr {
    uint64_t magic;
    uint32_t version;
    uint32_t hdr_size;      /* ROAR_RING_HDR_SIZE: offset of the data area */
    uint64_t data_size;     /* power of two, >= ROAR_RING_MIN_DATA */
    uint64_t collector_pid; /* producers drop events once this pid is gone */
    uint64_t names_gen;     /* bumped by producers after each rename (shim's cwd cache) */
    uint8_t pad0[24];
    uint64_t reserve; /* producers: next byte to reserve (CAS) */
    uint8_t pad1[56];
    uint64_t read; /* consumer: everything before it is consumed and zeroed */
    uint8_t pad2[56];
    uint64_t lost; /* events dropped by producers (ring full, collector gone) */
    uint8_t pad3[56];
};
_Static_assert(sizeof(struct roar_ring_hdr) == 256, "ring header layout");
_Static_assert(sizeof(struct roar_ring_hdr) <= ROAR_RING_HDR_SIZE, "ring header fits a page");

/* Each slot in the data area starts with one 64-bit word, written last (release) by the
 * producer, read first (acquire) by the consumer. Zero = reserved, not yet published.
 *   bits 0..31  slot length in bytes (word included, multiple of 8)
 *   bits 32..61 tag: (slot position / 8) mod 2^30, so stale or scribbled bytes are not
 *               taken for a slot header
 *   bit 62      pad: no record; skip to the end of the data area (records never wrap)
 *   bit 63      published */
#define ROAR_SLOT_PUBLISHED (1ull << 63)
#define ROAR_SLOT_PAD (1ull << 62)
#define ROAR_SLOT_TAG(pos) ((((uint64_t)(pos) >> 3) & 0x3fffffffull) << 32)
#define ROAR_SLOT_LEN(word) ((uint32_t)((word)&0xffffffffull))
#define ROAR_SLOT_WORD 8u

/* The compact record: an fd-only event (no path, no identity, no arg) in 32 bytes
 * instead of a 120-byte header, so that the common close costs the producer and the
 * consumer one cache line instead of two or three. Told apart from a full record by the
 * slot length alone (a full one is at least ROAR_EVENT_HDR_SIZE). The consumer expands
 * it to the full header (seq from the slot position, like the producer's) and then
 * decodes it like any record; it refuses a type not in ROAR_RING_SMALL_TYPES. */
struct roar_ring_small {
    int64_t ret;
    uint32_t flags; /* the header's flags (every type here has them in 32 bits) */
    uint32_t tgid;
    uint32_t tid;
    int32_t fd;
    int32_t fd2;
    uint16_t type;
    uint16_t version; /* ROAR_EVENT_VERSION */
};
#define ROAR_RING_SMALL_SIZE 32u
_Static_assert(sizeof(struct roar_ring_small) == ROAR_RING_SMALL_SIZE,
               "roar_ring_small must have no hidden padding");
#define ROAR_RING_SMALL_TYPES                                                             \
    ((1u << ROAR_EV_CLOSE) | (1u << ROAR_EV_DUP) | (1u << ROAR_EV_SETFD) |                \
     (1u << ROAR_EV_FDNEW) | (1u << ROAR_EV_READ) | (1u << ROAR_EV_WRITE) |               \
     (1u << ROAR_EV_FALLOCATE) | (1u << ROAR_EV_COPY))

/* Largest record: header + two maximal paths, plus the slot word. */
#define ROAR_RING_RECORD_MAX                                                              \
    (ROAR_SLOT_WORD + ROAR_EVENT_HDR_SIZE + 2 * ROAR_EVENT_PATH_MAX + ROAR_EVENT_ALIGN)

/* Control socket (SOCK_STREAM): the shim sends a request after publishing a
 * ROAR_EV_ABOUT_TO_DESTROY record and waits for a reply echoing its seq. */
#define ROAR_CTL_MAGIC 0x52434131u /* "1ACR" */
struct roar_ctl_req {
    uint32_t magic;
    uint32_t tgid;
    uint64_t seq; /* the ROAR_EV_ABOUT_TO_DESTROY record's seq */
};
struct roar_ctl_rep {
    uint64_t seq;
};

/* ---- producer (the shim; test_ring) ------------------------------------------------ */

/* A producer's view of one mapped ring. data_size is copied at map time, never re-read
 * from shared memory (a scribbled header must not send a producer out of bounds).
 * read_seen is a private copy of hdr->read (0 at first): the consumer writes that cache
 * line after every record, so reading it on every reserve would cost a cross-core miss
 * each time. The copy lags behind the real cursor, which only grows, so it can only
 * make the ring look fuller than it is; the real cursor is read when it looks full. */
struct roar_ringp {
    struct roar_ring_hdr *hdr;
    unsigned char *data;
    uint64_t size;
    uint32_t full_wait_ms; /* bound on waiting for space before dropping */
    uint64_t read_seen;    /* <= hdr->read; shared by this process's threads */
};

/* A reserved slot: the record goes to rec[0..cap), then roar_ringp_commit. */
struct roar_ringp_slot {
    uint64_t *word;
    unsigned char *rec;
    uint64_t pos;
    uint32_t len;
};

static inline int roar_ringp_collector_alive(const struct roar_ringp *r)
{
    pid_t pid = (pid_t)__atomic_load_n(&r->hdr->collector_pid, __ATOMIC_RELAXED);
    /* EPERM means it exists (another user): only ESRCH proves it gone. */
    return pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH;
}

static inline uint64_t roar_ringp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Counts one dropped event; the collector turns it into `incomplete events-lost N`. */
static inline void roar_ringp_lose(struct roar_ringp *r)
{
    __atomic_fetch_add(&r->hdr->lost, 1, __ATOMIC_RELAXED);
}

/* roar_ringp_reserve's general case (below): any pad, the hot window, a full ring. Kept
 * out of line so that the common case costs no register spills. */
static __attribute__((noinline, unused)) int
roar_ringp_reserve_slow(struct roar_ringp_slot *out, struct roar_ringp *r, size_t rec_len)
{
    struct roar_ring_hdr *h = r->hdr;
    uint64_t need = ROAR_SLOT_WORD + rec_len, pos, total, off, tail, rd, deadline = 0;
    unsigned spins = 0;
    int saved = 0;

    if (rec_len == 0 || rec_len % ROAR_EVENT_ALIGN || need > r->size / 2)
        return -1;
    for (;;) {
        pos = __atomic_load_n(&h->reserve, __ATOMIC_ACQUIRE);
        off = pos & (r->size - 1);
        tail = r->size - off;
        /* A record that would cross the end is placed at offset 0 behind a pad slot. */
        total = tail < need ? tail + need : need;
        /* Acquire pairs with the release below (or the consumer's): the consumer zeroed
         * what lies before that cursor before it published it. */
        rd = __atomic_load_n(&r->read_seen, __ATOMIC_ACQUIRE);
        if (total == need && off >= ROAR_RING_HOT && r->size >= 4 * ROAR_RING_HOT) {
            /* Past the window: go back to offset 0 if nothing is in flight (then the
             * whole area is still free for a burst after this record). */
            rd = __atomic_load_n(&h->read, __ATOMIC_ACQUIRE);
            __atomic_store_n(&r->read_seen, rd, __ATOMIC_RELEASE);
            if (rd == pos)
                total = tail + need;
        }
        if (pos + total - rd > r->size) {
            rd = __atomic_load_n(&h->read, __ATOMIC_ACQUIRE);
            __atomic_store_n(&r->read_seen, rd, __ATOMIC_RELEASE);
        }
        if (pos + total - rd <= r->size) {
            if (__atomic_compare_exchange_n(&h->reserve, &pos, pos + total, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        /* Full: wait for the consumer in short sleeps, never past the bound. */
        if (++spins == 1) {
            saved = errno; /* only this slow path makes system calls */
            deadline = roar_ringp_now_ms() + r->full_wait_ms;
        } else if (roar_ringp_now_ms() > deadline || !roar_ringp_collector_alive(r)) {
            errno = saved;
            return -1;
        }
        {
            struct timespec ts = {0, spins < 20 ? 50000 : 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (total != need) {
        uint64_t *pad = (uint64_t *)(r->data + off);
        __atomic_store_n(pad, ROAR_SLOT_PUBLISHED | ROAR_SLOT_PAD | ROAR_SLOT_TAG(pos) | tail,
                         __ATOMIC_RELEASE);
        pos += tail;
        off = 0;
    }
    out->word = (uint64_t *)(r->data + off);
    out->rec = r->data + off + ROAR_SLOT_WORD;
    out->pos = pos;
    out->len = (uint32_t)need;
    if (spins)
        errno = saved;
    return 0;
}

/* Reserves a slot for a record of rec_len bytes (a multiple of ROAR_EVENT_ALIGN).
 * Returns 0 and fills *out, or -1 when the event must be dropped (the caller counts it
 * with roar_ringp_lose): the ring stayed full past full_wait_ms, or the collector is
 * gone. Preserves errno. Never blocks without bound, never allocates. */
static inline int roar_ringp_reserve(struct roar_ringp_slot *out, struct roar_ringp *r,
                                     size_t rec_len)
{
    uint64_t need = ROAR_SLOT_WORD + rec_len, size = r->size;
    uint64_t pos = __atomic_load_n(&r->hdr->reserve, __ATOMIC_ACQUIRE);
    uint64_t off = pos & (size - 1);

    /* The common case, in one attempt: the record fits before the end (no pad), lies
     * inside the hot window and has room by our copy of the consumer's cursor. Anything
     * else, a lost race included, is the general case's, from the start. */
    if (rec_len != 0 && rec_len % ROAR_EVENT_ALIGN == 0 && need <= size / 2 &&
        size - off >= need && (off < ROAR_RING_HOT || size < 4 * ROAR_RING_HOT) &&
        pos + need - __atomic_load_n(&r->read_seen, __ATOMIC_ACQUIRE) <= size &&
        __atomic_compare_exchange_n(&r->hdr->reserve, &pos, pos + need, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        out->word = (uint64_t *)(r->data + off);
        out->rec = r->data + off + ROAR_SLOT_WORD;
        out->pos = pos;
        out->len = (uint32_t)need;
        return 0;
    }
    return roar_ringp_reserve_slow(out, r, rec_len);
}

/* Publishes a reserved slot whose record has been written. */
static inline void roar_ringp_commit(struct roar_ringp_slot *s)
{
    __atomic_store_n(s->word, ROAR_SLOT_PUBLISHED | ROAR_SLOT_TAG(s->pos) | s->len,
                     __ATOMIC_RELEASE);
}

/* The sequence number of the record in a reserved slot: its position in the ring (in
 * 8-byte units, from 1). Unique across every traced process and increasing in ring
 * order, with no shared counter to bump. The collector only matches round trips by it. */
static inline uint64_t roar_ringp_slot_seq(const struct roar_ringp_slot *s)
{
    return (s->pos >> 3) + 1;
}

/* Publishes one compact record (type in ROAR_RING_SMALL_TYPES; version is set here).
 * Returns 0, or -1 when it was dropped (already counted as lost). Preserves errno. */
static inline int roar_ringp_publish_small(struct roar_ringp *r, struct roar_ring_small *sm)
{
    struct roar_ringp_slot s;

    if (roar_ringp_reserve(&s, r, ROAR_RING_SMALL_SIZE) < 0) {
        roar_ringp_lose(r);
        return -1;
    }
    sm->version = ROAR_EVENT_VERSION;
    memcpy(s.rec, sm, sizeof(*sm));
    roar_ringp_commit(&s);
    return 0;
}

/* Encodes and publishes one event; hdr->seq is set here. Returns 0, or -1 when the
 * event was dropped (already counted as lost). Preserves errno. l1 and l2 are the
 * paths' strlen (roar_ringp_publish measures them). */
static inline int roar_ringp_publish_len(struct roar_ringp *r, struct roar_event_hdr *hdr,
                                         const char *path, size_t l1, const char *path2,
                                         size_t l2)
{
    size_t len = roar_event_wire_size(l1, l2, path != NULL, path2 != NULL);
    struct roar_ringp_slot s;

    if (len == 0 || roar_ringp_reserve(&s, r, len) < 0) {
        roar_ringp_lose(r);
        return -1;
    }
    hdr->seq = roar_ringp_slot_seq(&s);
    roar_event_encode_len(s.rec, len, hdr, path, l1, path2, l2);
    roar_ringp_commit(&s);
    return 0;
}

static inline int roar_ringp_publish(struct roar_ringp *r, struct roar_event_hdr *hdr,
                                     const char *path, const char *path2)
{
    return roar_ringp_publish_len(r, hdr, path, path ? strlen(path) : 0, path2,
                                  path2 ? strlen(path2) : 0);
}

#endif
