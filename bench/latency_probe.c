/*
 * latency_probe — a GET load that times every request, for bench/latency.py.
 *
 * Opens C connections to 127.0.0.1:PORT and keeps exactly one GET in flight on each: the key is
 * PREFIX followed by a random number below RANGE, zero-padded to 12 digits (the keys
 * bench/latency.py loads). Every request's start (CLOCK_MONOTONIC, ns) and latency are kept in
 * memory. The run is cut into windows: SIGUSR1 ends the current window and starts the next one,
 * SIGTERM/SIGINT (or the -d duration) ends the last one and the program. At the end of each
 * window one line goes to stdout:
 *
 *   window=K n=.. p50_us=.. p99_us=.. p999_us=.. max_us=.. max_at_ns=.. over_1ms=.. start_ns=..
 *   end_ns=.. worst=at_ns:us,at_ns:us,...   (the 5 slowest requests, slowest first)
 *
 * Times ending in _ns are CLOCK_MONOTONIC (Python's time.monotonic_ns()), so the caller can
 * place the slowest request relative to its trigger. A request is counted in the window in
 * which it started and completed; the few in flight across a cut are dropped (they also waited
 * for the probe's own sorting). Errors (connection lost, error reply) end the program with status 1.
 *
 *   latency_probe -p PORT [-c 4] [-P b:] [-r 500000] [-d 0] [-s SEED]
 *
 * Single-threaded: poll() over the connections; hiredis only formats and parses.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define MAX_CONNS 256
#define NWORST 5

typedef struct sample {
    uint64_t start_ns, lat_ns;
} sample;

typedef struct probe {
    redisContext *conn[MAX_CONNS];
    uint64_t sent_ns[MAX_CONNS];
    int nconn;
    const char *prefix;
    uint64_t range, rng;
    sample *s;
    size_t n, cap;
    uint64_t window_start;
    int window;
} probe;

static volatile sig_atomic_t cut_window, quit;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        cut_window = 1;
    else
        quit = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next_rand(probe *p)
{
    p->rng ^= p->rng << 13;
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return p->rng;
}

static int send_get(probe *p, int i)
{
    char key[128];
    int done = 0;
    snprintf(key, sizeof(key), "%s%012llu", p->prefix,
             (unsigned long long)(next_rand(p) % p->range));
    p->sent_ns[i] = now_ns();
    if (redisAppendCommand(p->conn[i], "GET %s", key) != REDIS_OK)
        return -1;
    while (!done)
        if (redisBufferWrite(p->conn[i], &done) != REDIS_OK)
            return -1;
    return 0;
}

static int record(probe *p, uint64_t start, uint64_t lat)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1 << 20;
        sample *s = realloc(p->s, cap * sizeof(*s));
        if (!s)
            return -1;
        p->s = s;
        p->cap = cap;
    }
    p->s[p->n++] = (sample){start, lat};
    return 0;
}

static int by_latency_desc(const void *a, const void *b)
{
    uint64_t x = ((const sample *)a)->lat_ns, y = ((const sample *)b)->lat_ns;
    return (x < y) - (x > y);
}

/* Nearest-rank percentile q (0..1) of samples sorted slowest first. */
static double pct_us(const probe *p, double q)
{
    size_t rank = (size_t)(q * (double)p->n + 0.5);
    rank = rank < 1 ? 1 : rank > p->n ? p->n : rank;
    return (double)p->s[p->n - rank].lat_ns / 1e3;
}

static void end_window(probe *p)
{
    uint64_t end = now_ns();
    size_t over = 0;
    qsort(p->s, p->n, sizeof(*p->s), by_latency_desc);
    for (size_t i = 0; i < p->n && p->s[i].lat_ns > 1000000; i++)
        over++;
    printf("window=%d n=%zu", p->window, p->n);
    if (p->n)
        printf(" p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f max_at_ns=%llu", pct_us(p, 0.5),
               pct_us(p, 0.99), pct_us(p, 0.999), (double)p->s[0].lat_ns / 1e3,
               (unsigned long long)p->s[0].start_ns);
    printf(" over_1ms=%zu start_ns=%llu end_ns=%llu worst=", over,
           (unsigned long long)p->window_start, (unsigned long long)end);
    for (size_t i = 0; i < p->n && i < NWORST; i++)
        printf("%s%llu:%.1f", i ? "," : "", (unsigned long long)p->s[i].start_ns,
               (double)p->s[i].lat_ns / 1e3);
    printf("\n");
    fflush(stdout);
    p->n = 0;
    p->window++;
    p->window_start = end;
}

/* Reads what connection i has; on a complete reply records it and sends the next GET. */
static int on_readable(probe *p, int i)
{
    void *reply = NULL;
    redisContext *c = p->conn[i];
    if (redisBufferRead(c) != REDIS_OK || redisGetReplyFromReader(c, &reply) != REDIS_OK)
        return -1;
    if (!reply)
        return 0;
    uint64_t t = now_ns();
    int bad = ((redisReply *)reply)->type == REDIS_REPLY_ERROR;
    if (bad)
        fprintf(stderr, "latency_probe: error reply: %s\n", ((redisReply *)reply)->str);
    freeReplyObject(reply);
    if (bad)
        return -1;
    /* A request in flight across a cut also waited for end_window's sort: not counted. */
    if (p->sent_ns[i] >= p->window_start && record(p, p->sent_ns[i], t - p->sent_ns[i]) != 0)
        return -1;
    return send_get(p, i);
}

static int connect_all(probe *p, int port)
{
    for (int i = 0; i < p->nconn; i++) {
        redisContext *c = redisConnect("127.0.0.1", port);
        if (!c || c->err) {
            fprintf(stderr, "latency_probe: connect: %s\n", c ? c->errstr : "out of memory");
            return -1;
        }
        int fl = fcntl(c->fd, F_GETFL);
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return -1;
        c->flags &= ~REDIS_BLOCK; /* hiredis 0.14: EAGAIN on read means "try again later" */
        p->conn[i] = c;
    }
    return 0;
}

static int run(probe *p, uint64_t deadline)
{
    struct pollfd fds[MAX_CONNS];
    for (int i = 0; i < p->nconn; i++) {
        fds[i] = (struct pollfd){.fd = p->conn[i]->fd, .events = POLLIN};
        if (send_get(p, i) != 0)
            return -1;
    }
    while (!quit && (!deadline || now_ns() < deadline)) {
        if (cut_window) {
            cut_window = 0;
            end_window(p);
        }
        int r = poll(fds, (nfds_t)p->nconn, 100);
        if (r < 0 && errno != EINTR)
            return -1;
        for (int i = 0; r > 0 && i < p->nconn; i++)
            if (fds[i].revents && on_readable(p, i) != 0) {
                fprintf(stderr, "latency_probe: connection %d: %s\n", i,
                        p->conn[i]->err ? p->conn[i]->errstr : "bad reply");
                return -1;
            }
    }
    end_window(p);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: latency_probe -p PORT [-c CONNS] [-P PREFIX] [-r RANGE] [-d SECONDS]"
                    " [-s SEED]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    probe p = {.nconn = 4, .prefix = "b:", .range = 500000, .rng = 88172645463325252ull};
    int port = 0, opt;
    double secs = 0;
    while ((opt = getopt(argc, argv, "p:c:P:r:d:s:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'c': p.nconn = atoi(optarg); break;
        case 'P': p.prefix = optarg; break;
        case 'r': p.range = strtoull(optarg, NULL, 10); break;
        case 'd': secs = atof(optarg); break;
        case 's': p.rng ^= strtoull(optarg, NULL, 10) * 0x9E3779B97F4A7C15ull; break;
        default: usage();
        }
    }
    if (port <= 0 || p.nconn < 1 || p.nconn > MAX_CONNS || p.range == 0 || !p.rng)
        usage();
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (connect_all(&p, port) != 0)
        return 1;
    p.window_start = now_ns();
    uint64_t deadline = secs > 0 ? p.window_start + (uint64_t)(secs * 1e9) : 0;
    int rc = run(&p, deadline) == 0 ? 0 : 1;
    for (int i = 0; i < p.nconn; i++)
        redisFree(p.conn[i]);
    free(p.s);
    return rc;
}
