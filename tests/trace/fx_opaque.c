/* Fixture: fds whose other side has no name (a socket, an eventfd, a memfd) and one
 * that carries no data between processes (epoll). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
    return socket(AF_UNIX, SOCK_STREAM, 0) != 3 || eventfd(0, 0) != 4 ||
           memfd_create("fx", 0) != 5 || epoll_create1(0) != 6;
}
