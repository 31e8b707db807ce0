/* Civil-date arithmetic for timefmt.h (Howard Hinnant's days_from_civil), so neither
 * direction depends on the TZ environment or on timegm's range. */
#include "util/timefmt.h"
#include "util/err.h"

#include <stdbool.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The representable range: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
static const int64_t min_ms = INT64_C(-62167219200000);
static const int64_t max_ms = INT64_C(253402300799999);

int roar_time_format(roar_buf *out, int64_t ms)
{
    int64_t days, rem, y;
    unsigned m, d;

    if (ms < min_ms || ms > max_ms)
        return roar_error_set(ROAR_EINVALID, "time %lld ms is outside years 0000..9999",
                              (long long)ms);
    days = ms / MS_PER_DAY;
    rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    return roar_buf_printf(out, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                           (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                           (int)(rem % 1000));
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

int roar_time_parse(int64_t *out, const char *s, size_t len)
{
    unsigned y, mo, d, h, mi, sec, frac;

    if (len != ROAR_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != '.' || s[23] != 'Z' || !digits(s, 4, &y) ||
        !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) || !digits(s + 20, 3, &frac))
        return roar_error_set(ROAR_EINVALID,
                              "not a UTC time of the form YYYY-MM-DDTHH:MM:SS.mmmZ");
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return roar_error_set(ROAR_EINVALID, "no such date %.10s", s);
    if (h > 23 || mi > 59 || sec > 59)
        return roar_error_set(ROAR_EINVALID, "no such time of day %.8s", s + 11);
    *out = days_from_civil(y, mo, d) * MS_PER_DAY + (int64_t)h * 3600000 + (int64_t)mi * 60000 +
           (int64_t)sec * 1000 + frac;
    return 0;
}

int64_t roar_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t roar_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
