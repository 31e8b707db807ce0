/* Fixture: stdio opens "r", "w" and "a": the opens are seen, the stdio I/O is not. */
#include <stdio.h>
int main(void)
{
    FILE *r = fopen("in", "r"), *w = fopen("out", "w"), *a = fopen("app", "a");
    if (!r || !w || !a || fgetc(r) == EOF || fputs("w\n", w) < 0 || fputs("a\n", a) < 0)
        return 1;
    return (fclose(r) | fclose(w) | fclose(a)) != 0;
}
