/* Placeholder main until the CLI skeleton lands. */
#include <stdio.h>
int main(void)
{
    puts("git-roar " ROAR_VERSION);
    return 0;
}
