/* util/keymap: the map every walk and table leans on. Keys are bytes (NULs and all),
 * of any length; removal shifts entries back, so lookups after many removals must
 * still find every key that is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/keymap.h"

#define MANY 50000

static void *value_of(size_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

/* Keys that differ only in their last bytes, as runs of file names do. */
static size_t name_key(char *out, size_t cap, size_t i)
{
    return (size_t)snprintf(out, cap, "data/shards/part-%07zu.csv", i);
}

static void test_put_get_remove_many(void **state)
{
    roar_keymap m = ROAR_KEYMAP_INIT;
    char key[64];
    size_t i, len;

    (void)state;
    for (i = 0; i < MANY; i++) {
        len = name_key(key, sizeof(key), i);
        assert_int_equal(roar_keymap_put(&m, key, len, value_of(i)), 0);
    }
    assert_int_equal(m.count, MANY);
    assert_true(m.count * 2 <= m.cap); /* the load stays at or under 1/2 */
    for (i = 0; i < MANY; i++) {
        len = name_key(key, sizeof(key), i);
        assert_ptr_equal(roar_keymap_get(&m, key, len), value_of(i));
    }
    /* Every other key removed: the rest are all still found, the removed ones not. */
    for (i = 0; i < MANY; i += 2) {
        len = name_key(key, sizeof(key), i);
        assert_ptr_equal(roar_keymap_remove(&m, key, len), value_of(i));
    }
    assert_int_equal(m.count, MANY / 2);
    for (i = 0; i < MANY; i++) {
        len = name_key(key, sizeof(key), i);
        assert_ptr_equal(roar_keymap_get(&m, key, len), i % 2 ? value_of(i) : NULL);
    }
    /* Replacing keeps one entry. */
    len = name_key(key, sizeof(key), 1);
    assert_int_equal(roar_keymap_put(&m, key, len, value_of(7)), 0);
    assert_int_equal(m.count, MANY / 2);
    assert_ptr_equal(roar_keymap_get(&m, key, len), value_of(7));
    roar_keymap_dispose(&m);
    assert_int_equal(m.count, 0);
    assert_null(roar_keymap_get(&m, key, len));
}

/* Every length from 0 to 24 bytes (the hash reads 8 at a time, then a tail), with
 * NULs inside: a key is its bytes, not a C string. */
static void test_binary_keys_of_every_length(void **state)
{
    roar_keymap m = ROAR_KEYMAP_INIT;
    unsigned char key[24];
    size_t len, i;

    (void)state;
    memset(key, 0, sizeof(key));
    for (len = 0; len <= sizeof(key); len++)
        assert_int_equal(roar_keymap_put(&m, key, len, value_of(len)), 0);
    assert_int_equal(m.count, sizeof(key) + 1);
    for (len = 0; len <= sizeof(key); len++)
        assert_ptr_equal(roar_keymap_get(&m, key, len), value_of(len));
    /* One byte changed anywhere is another key. */
    for (i = 0; i < sizeof(key); i++) {
        key[i] = 1;
        assert_null(roar_keymap_get(&m, key, sizeof(key)));
        key[i] = 0;
    }
    assert_ptr_equal(roar_keymap_gets(&m, ""), value_of(0));
    roar_keymap_dispose(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_remove_many),
        cmocka_unit_test(test_binary_keys_of_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
