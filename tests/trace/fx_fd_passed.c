/* Fixture: read a file on fd 6 and close it; then fd 6 comes back as a pipe's write end
 * passed over a socket (SCM_RIGHTS, which no tracer sees create an fd), and is written.
 * The write must not be charged to the file the number last named. */
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

static int send_fd(int sock, int fd)
{
    char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                       .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                       .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c;
    int fd;
    if (recvmsg(sock, &m, 0) != 1 || !(c = CMSG_FIRSTHDR(&m)) || c->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

int main(void)
{
    char b[8];
    int s[2], p[2], fd;
    /* socketpair: 3, 4; pipe: 5, 6 */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0 || pipe(p) < 0 || p[1] != 6)
        return 1;
    if (send_fd(s[0], p[1]) < 0 || close(p[1]) < 0)
        return 1;
    fd = open("in", O_RDONLY);
    if (fd != 6 || read(fd, b, sizeof(b)) < 0 || close(fd) < 0)
        return 1;
    if (recv_fd(s[1]) != 6)
        return 1;
    return write(6, "x", 1) != 1;
}
