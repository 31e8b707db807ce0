/* Fixture: creating opens: O_CREAT on a new file (created=1), on an existing file
 * (created=0), and O_CREAT|O_EXCL. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int a = open("new", O_WRONLY | O_CREAT, 0644);
    int b = open("old", O_WRONLY | O_CREAT, 0644);
    int c = open("excl", O_RDWR | O_CREAT | O_EXCL, 0644);
    return a < 0 || b < 0 || c < 0;
}
