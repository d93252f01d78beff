/*
 * loadgen — a minimal RESP load generator: N connections, pipeline depth P, GET or SET of
 * random keys from a keyspace, fixed value size. Prints requests per second, its own CPU time,
 * and how many replies were errors or of the wrong shape.
 *
 * Why: redis-benchmark is one thread doing much more per request (it formats every request,
 * keeps latency histograms), and on a 2-core machine shared with the server it can be the
 * bottleneck at -P 16, so its throughput ratios measure the client. This client does the least a
 * pipelining client can do: per connection, one write of P requests built from a template (only
 * the 12 key digits change), then it reads until P replies have arrived, then the next batch.
 *
 *   conn i:  write(P requests) ──► server ──► read … read (count P replies) ──► next batch
 *
 * Keys are redis-benchmark's -r keys, "key:%012d", drawn with splitmix64 from [0, keyspace), so
 * a keyspace loaded for redis-benchmark serves this client too. Replies are checked: SET wants
 * "+OK", GET a bulk of exactly the value size (or a nil, counted as a miss); anything else (an
 * error reply, another type, another length) counts as an error. The run ends after -n requests
 * or -s seconds, whichever comes first, so it always stops by itself.
 *
 *   build/bench/loadgen [-h 127.0.0.1] [-p 6379] [-c 50] [-P 16] [-n 1000000] [-t get|set]
 *                       [-d 3] [-r 1000000] [-s 60] [--csv]
 *
 * Output: one line, "requests=N seconds=S rps=R errors=E misses=M cpu_user=U cpu_sys=Y"
 * (--csv: "rps,errors,misses,cpu_seconds"). Exit status 1 on a setup failure or any error reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_DIGITS 12
#define RBUF_SIZE (256 * 1024)

typedef struct opts {
    const char *host;
    int port, conns, pipeline, secs;
    long long requests, keyspace;
    size_t vsize;
    bool set, csv;
} opts;

typedef struct conn {
    int fd;
    char *wbuf;       /* one batch: pipeline requests */
    size_t wlen, woff; /* batch length, bytes already written */
    char *rbuf;
    size_t rlen;
    int expect;       /* replies still due for the batch in flight */
} conn;

typedef struct run {
    opts o;
    conn *c;
    int ep;
    uint64_t rng;
    size_t reqlen;    /* bytes of one request */
    size_t keyoff;    /* offset of the key digits inside a request */
    long long sent, done, errors, misses;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: a different key every call, uniform enough for a keyspace draw. */
static uint64_t next_rand(run *r)
{
    uint64_t z = (r->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Writes one request template at dst; returns its length and sets *keyoff. */
static size_t format_request(const opts *o, char *dst, size_t *keyoff)
{
    int n = o->set ? sprintf(dst, "*3\r\n$3\r\nSET\r\n$%d\r\nkey:", 4 + KEY_DIGITS)
                   : sprintf(dst, "*2\r\n$3\r\nGET\r\n$%d\r\nkey:", 4 + KEY_DIGITS);
    *keyoff = (size_t)n;
    memset(dst + n, '0', KEY_DIGITS);
    n += KEY_DIGITS;
    n += sprintf(dst + n, "\r\n");
    if (o->set) {
        n += sprintf(dst + n, "$%zu\r\n", o->vsize);
        memset(dst + n, 'x', o->vsize);
        n += (int)o->vsize;
        n += sprintf(dst + n, "\r\n");
    }
    return (size_t)n;
}

static void put_key(char *p, uint64_t k)
{
    for (int i = KEY_DIGITS - 1; i >= 0; i--) {
        p[i] = (char)('0' + k % 10);
        k /= 10;
    }
}

static int connect_one(const opts *o)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Flushes the rest of the batch; EPOLLOUT is asked for only while the kernel refuses bytes. */
static int write_some(run *r, conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            return epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        if (n <= 0)
            return -1;
        c->woff += (size_t)n;
    }
    return 0;
}

/* Starts the next batch on c if requests remain. */
static int send_batch(run *r, conn *c)
{
    long long left = r->o.requests - r->sent;
    int p = left < r->o.pipeline ? (int)left : r->o.pipeline;
    if (p <= 0)
        return 0;
    for (int i = 0; i < p; i++)
        put_key(c->wbuf + (size_t)i * r->reqlen + r->keyoff,
                next_rand(r) % (uint64_t)r->o.keyspace);
    c->wlen = (size_t)p * r->reqlen;
    c->woff = 0;
    c->expect = p;
    r->sent += p;
    return write_some(r, c);
}

/* Length of the CRLF-terminated line at p[0..n), CRLF included; 0 if incomplete. */
static size_t line_len(const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    return lf ? (size_t)(lf - p) + 1 : 0;
}

/* Consumes one complete reply from c->rbuf at *off; false if it is not complete yet. */
static bool take_reply(run *r, conn *c, size_t *off)
{
    const char *p = c->rbuf + *off;
    size_t n = c->rlen - *off;
    size_t l = line_len(p, n);
    if (l == 0)
        return false;
    if (p[0] == '$') {
        long long blen = strtoll(p + 1, NULL, 10);
        if (blen < 0) {
            r->misses++;
            *off += l;
            return true;
        }
        if (n - l < (size_t)blen + 2)
            return false;
        if (r->o.set || (size_t)blen != r->o.vsize)
            r->errors++;
        *off += l + (size_t)blen + 2;
        return true;
    }
    bool ok = r->o.set && l == 5 && memcmp(p, "+OK\r\n", 5) == 0;
    if (!ok)
        r->errors++;
    *off += l;
    return true;
}

static int on_readable(run *r, conn *c)
{
    ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
    if (n <= 0)
        return n < 0 && errno == EAGAIN ? 0 : -1;
    c->rlen += (size_t)n;
    size_t off = 0;
    while (c->expect > 0 && off < c->rlen && take_reply(r, c, &off)) {
        c->expect--;
        r->done++;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->expect == 0 && c->rlen > 0) {
        r->errors++; /* bytes beyond the replies asked for */
        return -1;
    }
    if (c->rlen == RBUF_SIZE)
        return -1; /* one reply larger than the buffer: not a workload of this tool */
    if (c->expect == 0)
        return send_batch(r, c);
    return 0;
}

static int on_writable(run *r, conn *c)
{
    if (write_some(r, c) != 0)
        return -1;
    if (c->woff < c->wlen)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int setup(run *r)
{
    r->ep = epoll_create1(0);
    r->c = calloc((size_t)r->o.conns, sizeof(conn));
    if (r->ep < 0 || !r->c)
        return -1;
    char tmpl[128 + 4096];
    if (r->o.vsize > 4096)
        return -1;
    r->reqlen = format_request(&r->o, tmpl, &r->keyoff);
    for (int i = 0; i < r->o.conns; i++) {
        conn *c = &r->c[i];
        c->fd = connect_one(&r->o);
        c->wbuf = malloc(r->reqlen * (size_t)r->o.pipeline);
        c->rbuf = malloc(RBUF_SIZE);
        if (c->fd < 0 || !c->wbuf || !c->rbuf)
            return -1;
        for (int j = 0; j < r->o.pipeline; j++)
            memcpy(c->wbuf + (size_t)j * r->reqlen, tmpl, r->reqlen);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            return -1;
    }
    return 0;
}

static int loop(run *r, double deadline)
{
    struct epoll_event evs[256];
    for (int i = 0; i < r->o.conns; i++)
        if (send_batch(r, &r->c[i]) != 0)
            return -1;
    while (r->done < r->sent || r->sent < r->o.requests) {
        int n = epoll_wait(r->ep, evs, 256, 1000);
        if (n < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if ((evs[i].events & EPOLLOUT) && on_writable(r, c) != 0)
                return -1;
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && on_readable(r, c) != 0)
                return -1;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "loadgen: stopped at the %d s limit\n", r->o.secs);
            break;
        }
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: loadgen [-h host] [-p port] [-c conns] [-P pipeline] [-n requests]"
                    " [-t get|set] [-d value_size] [-r keyspace] [-s max_seconds] [--csv]\n");
    exit(1);
}

static void parse_args(opts *o, int argc, char **argv)
{
    *o = (opts){"127.0.0.1", 6379, 50, 1, 60, 1000000, 1000000, 3, false, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--csv") == 0) {
            o->csv = true;
            continue;
        }
        if (i + 1 >= argc || a[0] != '-' || strlen(a) != 2)
            usage();
        const char *v = argv[++i];
        switch (a[1]) {
        case 'h': o->host = v; break;
        case 'p': o->port = atoi(v); break;
        case 'c': o->conns = atoi(v); break;
        case 'P': o->pipeline = atoi(v); break;
        case 'n': o->requests = atoll(v); break;
        case 'd': o->vsize = (size_t)atoll(v); break;
        case 'r': o->keyspace = atoll(v); break;
        case 's': o->secs = atoi(v); break;
        case 't':
            if (strcmp(v, "set") != 0 && strcmp(v, "get") != 0)
                usage();
            o->set = strcmp(v, "set") == 0;
            break;
        default: usage();
        }
    }
    if (o->conns < 1 || o->pipeline < 1 || o->requests < 1 || o->keyspace < 1 || o->secs < 1)
        usage();
}

int main(int argc, char **argv)
{
    run r = {0};
    parse_args(&r.o, argc, argv);
    r.rng = (uint64_t)getpid();
    if (setup(&r) != 0) {
        fprintf(stderr, "loadgen: cannot connect to %s:%d: %s\n", r.o.host, r.o.port,
                strerror(errno));
        return 1;
    }
    double t0 = now_s();
    int rc = loop(&r, t0 + r.o.secs);
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    double cs = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    double rps = secs > 0 ? (double)r.done / secs : 0;
    if (rc != 0)
        fprintf(stderr, "loadgen: connection failed: %s\n", strerror(errno));
    if (r.o.csv)
        printf("%.0f,%lld,%lld,%.3f\n", rps, r.errors, r.misses, cu + cs);
    else
        printf("requests=%lld seconds=%.3f rps=%.0f errors=%lld misses=%lld cpu_user=%.3f "
               "cpu_sys=%.3f\n",
               r.done, secs, rps, r.errors, r.misses, cu, cs);
    return rc != 0 || r.errors > 0 || r.done < r.o.requests ? 1 : 0;
}
