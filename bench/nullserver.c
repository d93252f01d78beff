/*
 * nullserver — the transport's CPU floor: a RESP server that parses every request and answers
 * it without doing any work. bench.py --floor runs it beside fastcached and redis-server, so
 * each matrix row also shows the lowest CPU per request that any server doing its I/O this way
 * can reach on this machine, and that floor's ratio to Redis.
 *
 * It does its I/O the way Redis and fastcached do theirs: one level-triggered epoll loop, one
 * recv per readable connection (more only while reads fill the buffer), the batch's requests
 * parsed and answered into a per-connection output buffer, then one send per connection after
 * every read of the batch. It stores nothing: GET answers a bulk as long as the last SET's
 * value (so a load phase of SETs sets the size that loadgen's GETs check), ECHO its argument
 * (redis-cli --pipe ends with one), PING +PONG, everything else +OK.
 *
 *   build/bench/nullserver --port P [--bind 127.0.0.1]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define READ_CHUNK 16384
#define MAX_EVENTS 1024
#define MAX_ARGS 64

typedef struct {
    char *p;
    size_t len, cap;
} buf;

typedef struct {
    buf in, out;
    bool open, dirty, want_out;
} conn;

typedef struct {
    int ep, listen_fd;
    size_t value_len; /* the last SET's value length: what GET answers */
    char *value;      /* value_len bytes of 'x' */
    conn *conns;      /* by fd */
    int *dirty;       /* fds with replies to send after the batch */
    int ndirty;
} server;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror("nullserver: realloc");
        exit(1);
    }
    return p;
}

static void buf_reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    b->cap = b->len + more > 2 * b->cap ? b->len + more : 2 * b->cap;
    b->p = xrealloc(b->p, b->cap);
}

static void buf_put(buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_bulk(buf *b, const char *s, size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof(head), "$%zu\r\n", n);
    buf_put(b, head, (size_t)h);
    buf_put(b, s, n);
    buf_put(b, "\r\n", 2);
}

/* A "<c><digits>\r\n" line at p (n bytes available): its number, the bytes it used (0: incomplete),
 * or -1 for a malformed line. */
static long line_number(const char *p, size_t n, char c, size_t *used)
{
    *used = 0;
    const char *nl = memchr(p, '\n', n);
    if (!nl)
        return 0;
    if (p[0] != c || nl == p + 1 || nl[-1] != '\r')
        return -1;
    long v = 0;
    for (const char *q = p + 1; q < nl - 1; q++) {
        if (*q < '0' || *q > '9' || v > 1000000000)
            return -1;
        v = v * 10 + (*q - '0');
    }
    *used = (size_t)(nl - p) + 1;
    return v;
}

typedef struct {
    const char *p[MAX_ARGS];
    size_t len[MAX_ARGS];
    int argc;
} frame;

/* One multibulk frame at p: bytes used (0: incomplete), or -1 if malformed. */
static long parse_frame(const char *p, size_t n, frame *f)
{
    size_t used, off;
    long argc = line_number(p, n, '*', &used);
    if (argc < 0 || argc > MAX_ARGS || (argc == 0 && used))
        return -1;
    if (!used)
        return 0;
    off = used;
    for (f->argc = 0; f->argc < argc; f->argc++) {
        long len = line_number(p + off, n - off, '$', &used);
        if (len < 0)
            return -1;
        if (!used || n - off - used < (size_t)len + 2)
            return 0;
        f->p[f->argc] = p + off + used;
        f->len[f->argc] = (size_t)len;
        off += used + (size_t)len + 2;
    }
    return (long)off;
}

static bool is_cmd(const frame *f, const char *name)
{
    return f->len[0] == strlen(name) && strncasecmp(f->p[0], name, f->len[0]) == 0;
}

static void set_value_len(server *s, size_t n)
{
    if (n == s->value_len)
        return;
    s->value = xrealloc(s->value, n + 1);
    memset(s->value, 'x', n);
    s->value_len = n;
}

static void answer(server *s, conn *c, const frame *f)
{
    if (is_cmd(f, "GET")) {
        put_bulk(&c->out, s->value, s->value_len);
    } else if (is_cmd(f, "ECHO") && f->argc == 2) {
        put_bulk(&c->out, f->p[1], f->len[1]);
    } else if (is_cmd(f, "PING")) {
        buf_put(&c->out, "+PONG\r\n", 7);
    } else {
        if (is_cmd(f, "SET") && f->argc >= 3)
            set_value_len(s, f->len[2]);
        buf_put(&c->out, "+OK\r\n", 5);
    }
}

static void close_conn(server *s, int fd)
{
    conn *c = &s->conns[fd];
    free(c->in.p);
    free(c->out.p);
    memset(c, 0, sizeof(*c));
    close(fd); /* also leaves the epoll set; a dirty-list entry sees !open */
}

/* Answers every complete frame in the input; false on a protocol error. */
static bool run_input(server *s, conn *c)
{
    size_t off = 0;
    frame f;
    for (;;) {
        while (off < c->in.len && (c->in.p[off] == '\r' || c->in.p[off] == '\n'))
            off++; /* empty lines (redis-cli --pipe sends one before its closing ECHO) */
        long used = parse_frame(c->in.p + off, c->in.len - off, &f);
        if (used < 0)
            return false;
        if (used == 0)
            break;
        if (f.argc > 0)
            answer(s, c, &f);
        off += (size_t)used;
    }
    memmove(c->in.p, c->in.p + off, c->in.len - off);
    c->in.len -= off;
    return true;
}

static void on_readable(server *s, int fd)
{
    conn *c = &s->conns[fd];
    for (;;) {
        buf_reserve(&c->in, READ_CHUNK);
        ssize_t n = recv(fd, c->in.p + c->in.len, READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            close_conn(s, fd);
            return;
        }
        c->in.len += (size_t)n;
        if (n < READ_CHUNK)
            break;
    }
    if (!run_input(s, c)) {
        close_conn(s, fd);
        return;
    }
    if (c->out.len > 0 && !c->dirty) {
        c->dirty = true;
        s->dirty[s->ndirty++] = fd;
    }
}

static void watch(server *s, int fd, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.fd = fd};
    s->conns[fd].want_out = out;
    epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
}

/* Sends what the kernel takes; the rest waits for EPOLLOUT. */
static void flush_conn(server *s, int fd)
{
    conn *c = &s->conns[fd];
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t n = send(fd, c->out.p + off, c->out.len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            close_conn(s, fd);
            return;
        }
        off += (size_t)n;
    }
    memmove(c->out.p, c->out.p + off, c->out.len - off);
    c->out.len -= off;
    if ((c->out.len > 0) != c->want_out)
        watch(s, fd, c->out.len > 0);
}

static void on_accept(server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (fd >= MAX_FDS) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        s->conns[fd].open = true;
    }
}

static void flush_dirty(server *s)
{
    for (int i = 0; i < s->ndirty; i++) {
        int fd = s->dirty[i];
        if (!s->conns[fd].open)
            continue;
        s->conns[fd].dirty = false;
        flush_conn(s, fd);
    }
    s->ndirty = 0;
}

static void serve(server *s)
{
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(s->ep, evs, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == s->listen_fd)
                on_accept(s);
            else if (s->conns[fd].open && (evs[i].events & EPOLLOUT))
                flush_conn(s, fd);
            if (fd != s->listen_fd && s->conns[fd].open &&
                (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(s, fd);
        }
        flush_dirty(s);
    }
}

static int listen_on(const char *host, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "nullserver: bad --bind address %s\n", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 511) != 0) {
        perror("nullserver: listen");
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--bind") == 0)
            host = argv[i + 1];
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: nullserver --port P [--bind 127.0.0.1]\n");
        return 2;
    }
    server s = {.ep = epoll_create1(EPOLL_CLOEXEC), .listen_fd = listen_on(host, port)};
    if (s.ep < 0 || s.listen_fd < 0)
        return 1;
    s.conns = calloc(MAX_FDS, sizeof(conn));
    s.dirty = calloc(MAX_FDS, sizeof(int));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s.listen_fd};
    if (!s.conns || !s.dirty || epoll_ctl(s.ep, EPOLL_CTL_ADD, s.listen_fd, &ev) != 0) {
        perror("nullserver: setup");
        return 1;
    }
    set_value_len(&s, 3);
    serve(&s);
}
