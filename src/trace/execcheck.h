/* Whether the preload shim can load into a program: the ELF/script check that both the
 * collector (before the first exec) and the shim (before every later exec) make. */
#ifndef ROAR_TRACE_EXECCHECK_H
#define ROAR_TRACE_EXECCHECK_H

/* Header-only because the shim links nothing but libc: it cannot call into roar_trace,
 * yet the two sides must judge a program the very same way. Opening a file is left to
 * the caller, since the shim must use raw syscalls and the collector plain libc. */

#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "trace/event.h"

#if defined(__x86_64__)
#define ROAR_EXECCHECK_CLASS ELFCLASS64
#define ROAR_EXECCHECK_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define ROAR_EXECCHECK_CLASS ELFCLASS64
#define ROAR_EXECCHECK_MACHINE EM_AARCH64
#elif defined(__i386__)
#define ROAR_EXECCHECK_CLASS ELFCLASS32
#define ROAR_EXECCHECK_MACHINE EM_386
#else
#error "teach trace/execcheck.h this architecture's ELF class and machine"
#endif

/* Returned by roar_execcheck_fd for a "#!" script: judge its interpreter instead. */
#define ROAR_EXECCHECK_SCRIPT (-1)
/* Size of the buffer roar_execcheck_fd reads the file's head into. */
#define ROAR_EXECCHECK_HEAD 256

/* 0 when our library can load into the program behind fd, else the ROAR_INC_* reason:
 * no PT_INTERP (static), setuid/setgid (the loader's secure mode ignores us), or
 * another ELF class or machine. For a "#!" script, returns ROAR_EXECCHECK_SCRIPT with
 * *interp pointing at the interpreter's path inside head (caller-owned, so no
 * allocation); the caller decides how deep to follow it. fd is borrowed. */
static inline int roar_execcheck_fd(int fd, unsigned char head[ROAR_EXECCHECK_HEAD],
                                    const char **interp)
{
    Elf64_Ehdr eh;
    struct stat st;
    ssize_t n;
    int i;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
        ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
        return ROAR_INC_SETUID;
    n = pread(fd, head, ROAR_EXECCHECK_HEAD - 1, 0);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        char *p = (char *)head + 2, *end;
        head[n] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strcspn(p, " \t\n");
        *end = '\0';
        *interp = p;
        return ROAR_EXECCHECK_SCRIPT;
    }
    if (n < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0)
        return 0;
    if (head[EI_CLASS] != ROAR_EXECCHECK_CLASS)
        return ROAR_INC_FOREIGN_ARCH;
    if (n < (ssize_t)sizeof(eh))
        return 0;
    memcpy(&eh, head, sizeof(eh));
    if (eh.e_machine != ROAR_EXECCHECK_MACHINE)
        return ROAR_INC_FOREIGN_ARCH;
    if (eh.e_phentsize < sizeof(Elf64_Phdr))
        return 0;
    for (i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
            (ssize_t)sizeof(ph))
            return 0;
        if (ph.p_type == PT_INTERP)
            return 0;
    }
    return ROAR_INC_STATIC_BINARY;
}

#endif
