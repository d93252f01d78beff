/*
 * harness — process and socket helpers for integration tests (see harness.h).
 *
 * Processes: each start makes a private mkdtemp directory under $TMPDIR (or /tmp) that holds the
 * process's log (stdout+stderr) and, for redis-server, its working directory. The child is
 * fork/exec'd; readiness is a connect() poll against the chosen port with a 10 s deadline, and a
 * child that exits before it is ready (e.g. the port was taken in the meantime) is retried on a
 * fresh port. fc_stop signals only the pid recorded in the fc_proc it is given.
 *
 * Replies: fc_read_reply never reads past the end of the reply it returns (header lines are read
 * byte by byte, bulk payloads by their exact length), so pipelined replies stay in the socket for
 * the next call. It understands RESP2 and RESP3 types, including nested aggregates and attributes.
 */
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_DEADLINE_MS 10000
#define STOP_DEADLINE_MS 10000
#define START_ATTEMPTS 3
#define MAX_ARGS 64

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int fc_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

int fc_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int fc_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fc_send_line(int fd, const char *line)
{
    char **argv;
    size_t *argvlen, len;
    int argc = fc_split_args(line, &argv, &argvlen);
    if (argc <= 0)
        return -1;
    char *req = fc_encode_cmd(argc, (const char *const *)argv, argvlen, &len);
    int r = req ? fc_send_all(fd, req, len) : -1;
    free(req);
    fc_free_args(argc, argv, argvlen);
    return r;
}

const char *fc_daemon_bin(void)
{
    const char *env = getenv("FASTCACHED_BIN");
    return env && *env ? env : "build/release/fastcached";
}

/* ---- processes ---- */

/* Makes a private directory for one process's files; dir gets its path. */
static int make_dir(char *dir, size_t cap, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    if ((size_t)snprintf(dir, cap, "%s/fc-%s.XXXXXX", tmp, tag) >= cap)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

/* fork/exec argv with stdout+stderr to logpath, stdin from /dev/null, cwd in dir. */
static pid_t spawn(char *const *argv, const char *logpath, const char *dir)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* A test that dies (crash, Criterion timeout) takes its servers with it: no orphans. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(127);
    int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (log < 0 || nul < 0)
        _exit(127);
    dup2(nul, 0);
    dup2(log, 1);
    dup2(log, 2);
    if (dir && chdir(dir) != 0)
        _exit(127);
    execvp(argv[0], argv);
    dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Polls connect() until the port accepts, the child exits, or the deadline passes. */
static int wait_ready(fc_proc *p)
{
    int64_t deadline = now_ms() + READY_DEADLINE_MS;
    while (now_ms() < deadline) {
        int fd = fc_connect(p->port);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        sleep_ms(5);
    }
    return -1;
}

static void kill_hard(fc_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
}

/* Builds argv = prefix (with "%PORT%" / "%DIR%" substituted) + extra, then starts and waits. */
static int start_proc(fc_proc *p, const char *tag, const char *const *prefix,
                      const char *const *extra_args)
{
    char dir[96];
    memset(p, 0, sizeof(*p));
    if (make_dir(dir, sizeof(dir), tag) != 0)
        return -1;
    snprintf(p->logpath, sizeof(p->logpath), "%s/%s.log", dir, tag);
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        char portbuf[16];
        const char *argv[MAX_ARGS + 1];
        int argc = 0;
        p->port = fc_free_port();
        if (p->port < 0)
            return -1;
        snprintf(portbuf, sizeof(portbuf), "%d", p->port);
        for (int i = 0; prefix[i] && argc < MAX_ARGS; i++)
            argv[argc++] = strcmp(prefix[i], "%PORT%") == 0  ? portbuf
                           : strcmp(prefix[i], "%DIR%") == 0 ? dir
                                                              : prefix[i];
        for (int i = 0; extra_args && extra_args[i] && argc < MAX_ARGS; i++)
            argv[argc++] = extra_args[i];
        argv[argc] = NULL;
        p->pid = spawn((char *const *)argv, p->logpath, dir);
        if (p->pid < 0) {
            p->pid = 0;
            return -1;
        }
        if (wait_ready(p) == 0)
            return 0;
        kill_hard(p);
    }
    return -1;
}

int fc_start_daemon(fc_proc *p, const char *const *extra_args)
{
    char bin[PATH_MAX];
    const char *b = fc_daemon_bin();
    /* The child chdirs into its private directory, so a relative path must be made absolute. */
    if (b[0] != '/' && strchr(b, '/')) {
        if (!realpath(b, bin))
            return -1;
        b = bin;
    }
    const char *prefix[] = {b, "--port", "%PORT%", "--bind", "127.0.0.1", NULL};
    return start_proc(p, "fastcached", prefix, extra_args);
}

int fc_start_redis(fc_proc *p, const char *const *extra_args)
{
    const char *prefix[] = {"redis-server", "--port", "%PORT%", "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--daemonize", "no",
                            "--dir", "%DIR%", NULL};
    return start_proc(p, "redis", prefix, extra_args);
}

int fc_stop(fc_proc *p)
{
    if (p->pid <= 0)
        return -1;
    int st = 0;
    kill(p->pid, SIGTERM);
    int64_t deadline = now_ms() + STOP_DEADLINE_MS;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid)
            break;
        if (r < 0 && errno != EINTR) {
            p->pid = 0;
            return -1;
        }
        if (now_ms() >= deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            break;
        }
        sleep_ms(5);
    }
    p->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- replies ---- */

typedef struct rbuf {
    char *data;
    size_t len, cap;
    int fd;
    int64_t deadline;
} rbuf;

static int rbuf_reserve(rbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

/* Reads exactly n bytes onto the end of b before the deadline. */
static int read_exact(rbuf *b, size_t n)
{
    if (rbuf_reserve(b, n) != 0)
        return -1;
    while (n > 0) {
        int left = (int)(b->deadline - now_ms());
        if (left <= 0)
            return -1;
        struct pollfd pfd = {b->fd, POLLIN, 0};
        int r = poll(&pfd, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t got = recv(b->fd, b->data + b->len, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        b->len += (size_t)got;
        n -= (size_t)got;
    }
    return 0;
}

/* Reads one header line ("<type>...\r\n"); *start gets its offset in b. */
static int read_line(rbuf *b, size_t *start)
{
    *start = b->len;
    for (;;) {
        if (read_exact(b, 1) != 0)
            return -1;
        if (b->data[b->len - 1] == '\n' && b->len - *start >= 2 && b->data[b->len - 2] == '\r')
            return 0;
        if (b->len - *start > 64 * 1024)
            return -1;
    }
}

/* Parses the decimal after the type byte of the line at off (may be -1). */
static int line_int(const rbuf *b, size_t off, long long *v)
{
    char tmp[32];
    size_t n = b->len - off - 3; /* type byte and CRLF */
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, b->data + off + 1, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    *v = strtoll(tmp, &end, 10);
    return errno == 0 && *end == 0 ? 0 : -1;
}

static int read_one(rbuf *b, int depth)
{
    size_t off;
    long long n;
    if (depth > 64 || read_line(b, &off) != 0)
        return -1;
    char type = b->data[off];
    switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        return 0;
    case '$': case '=': case '!':
        if (line_int(b, off, &n) != 0)
            return -1;
        return n < 0 ? 0 : read_exact(b, (size_t)n + 2);
    case '*': case '~': case '>': case '%': case '|':
        if (line_int(b, off, &n) != 0)
            return -1;
        if (type == '%' || type == '|')
            n *= 2;
        for (long long i = 0; i < n; i++)
            if (read_one(b, depth + 1) != 0)
                return -1;
        /* An attribute annotates the reply that follows it. */
        return type == '|' ? read_one(b, depth + 1) : 0;
    default:
        return -1;
    }
}

char *fc_read_reply(int fd, size_t *len, int timeout_ms)
{
    rbuf b = {NULL, 0, 0, fd, now_ms() + timeout_ms};
    if (read_one(&b, 0) != 0) {
        free(b.data);
        return NULL;
    }
    b.data[b.len] = 0;
    *len = b.len;
    return b.data;
}

char *fc_encode_cmd(int argc, const char *const *argv, const size_t *argvlen, size_t *len)
{
    size_t cap = 32;
    for (int i = 0; i < argc; i++)
        cap += argvlen[i] + 32;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t n = (size_t)snprintf(out, cap, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        n += (size_t)snprintf(out + n, cap - n, "$%zu\r\n", argvlen[i]);
        memcpy(out + n, argv[i], argvlen[i]);
        n += argvlen[i];
        out[n++] = '\r';
        out[n++] = '\n';
    }
    out[n] = 0;
    *len = n;
    return out;
}

/* ---- argument splitting (redis-cli / sdssplitargs rules) ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

/* Decodes the escape at *p inside "..." into *out; advances *p past it. */
static char dquote_escape(const char **p)
{
    const char *s = *p; /* s[0] == '\\' */
    if (s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
        *p = s + 4;
        return (char)(hexval(s[2]) * 16 + hexval(s[3]));
    }
    *p = s + 2;
    switch (s[1]) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return s[1];
    }
}

/* Parses one token starting at *p (not whitespace) into tok; -1 on unbalanced quotes. */
static int split_token(const char **p, char *tok, size_t *toklen)
{
    const char *s = *p;
    size_t n = 0;
    int inq = 0; /* 1: "...", 2: '...' */
    for (;;) {
        if (inq == 1) {
            if (*s == 0)
                return -1;
            if (*s == '\\' && s[1]) {
                tok[n++] = dquote_escape(&s);
                continue;
            }
            if (*s == '"') {
                if (s[1] && !is_space(s[1]))
                    return -1;
                s++;
                break;
            }
            tok[n++] = *s++;
        } else if (inq == 2) {
            if (*s == 0)
                return -1;
            if (*s == '\\' && s[1] == '\'') {
                tok[n++] = '\'';
                s += 2;
                continue;
            }
            if (*s == '\'') {
                if (s[1] && !is_space(s[1]))
                    return -1;
                s++;
                break;
            }
            tok[n++] = *s++;
        } else {
            if (*s == 0 || is_space(*s))
                break;
            if (*s == '"' || *s == '\'') {
                inq = *s == '"' ? 1 : 2;
                s++;
                continue;
            }
            tok[n++] = *s++;
        }
    }
    *p = s;
    *toklen = n;
    return 0;
}

int fc_split_args(const char *line, char ***argv, size_t **argvlen)
{
    size_t linelen = strlen(line);
    int argc = 0, cap = 8;
    char **av = malloc(sizeof(char *) * (size_t)cap);
    size_t *al = malloc(sizeof(size_t) * (size_t)cap);
    const char *p = line;
    if (!av || !al)
        goto fail;
    for (;;) {
        while (*p && is_space(*p))
            p++;
        if (*p == 0)
            break;
        if (argc == cap) {
            cap *= 2;
            char **nav = realloc(av, sizeof(char *) * (size_t)cap);
            if (nav)
                av = nav;
            size_t *nal = realloc(al, sizeof(size_t) * (size_t)cap);
            if (nal)
                al = nal;
            if (!nav || !nal)
                goto fail;
        }
        char *tok = malloc(linelen + 1);
        if (!tok)
            goto fail;
        size_t tl;
        if (split_token(&p, tok, &tl) != 0) {
            free(tok);
            goto fail;
        }
        tok[tl] = 0;
        av[argc] = tok;
        al[argc] = tl;
        argc++;
    }
    *argv = av;
    *argvlen = al;
    return argc;
fail:
    fc_free_args(argc, av, al);
    *argv = NULL;
    *argvlen = NULL;
    return -1;
}

void fc_free_args(int argc, char **argv, size_t *argvlen)
{
    for (int i = 0; argv && i < argc; i++)
        free(argv[i]);
    free(argv);
    free(argvlen);
}

char *fc_run_capture(const char *cmdline, int *status)
{
    FILE *f = popen(cmdline, "r");
    if (!f) {
        *status = -1;
        return NULL;
    }
    size_t len = 0, cap = 1024;
    char *out = malloc(cap);
    while (out) {
        if (len + 512 + 1 > cap) {
            char *n = realloc(out, cap * 2);
            if (!n) {
                free(out);
                out = NULL;
                break;
            }
            out = n;
            cap *= 2;
        }
        size_t got = fread(out + len, 1, 512, f);
        if (got == 0)
            break;
        len += got;
    }
    int st = pclose(f);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (out)
        out[len] = 0;
    return out;
}
