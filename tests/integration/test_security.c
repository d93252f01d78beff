/*
 * test_security — access control end to end, compared byte for byte with a real redis-server
 * 7.0.15 started with the same settings: requirepass (AUTH, HELLO AUTH, NOAUTH, RESET, the
 * unauthenticated frame limits) on both drivers, protected mode (a peer address other than
 * 127.0.0.1 — 127.0.0.2 on loopback, and this machine's own non-loopback address when it has
 * one), unixsocketperm, rename_commands (memory and proxy: a renamed FLUSHDB must reach the
 * upstream under its real name) and invalidate_all.
 *
 * Processes: daemons through daemon_util (stopped by dt_fini); redis-servers are recorded here
 * and stopped by the suite's fini.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/daemon_util.h"

#define IO_MS 3000
#define IDLE_MS 300
#define MAX_REDIS 4
#define PW "s3cret"

static fc_proc *reds[MAX_REDIS];
static int nreds;

static void security_fini(void)
{
    dt_fini();
    for (int i = 0; i < nreds; i++)
        if (reds[i]->pid > 0)
            fc_stop(reds[i]);
    nreds = 0;
}

TestSuite(test_security, .fini = security_fini, .timeout = 60);

static void start_redis(fc_proc *r, const char *const *extra)
{
    cr_assert_eq(fc_start_redis(r, extra), 0, "redis-server did not start");
    cr_assert_lt(nreds, MAX_REDIS);
    reds[nreds++] = r;
}

/* ---- raw exchanges -------------------------------------------------------------------- */

/* Connects to ip:port from src_ip (NULL: any). Returns the fd; asserts. */
static int connect_from(const char *src_ip, const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    if (src_ip) {
        struct sockaddr_in s = {.sin_family = AF_INET};
        cr_assert_eq(inet_pton(AF_INET, src_ip, &s.sin_addr), 1);
        cr_assert_eq(bind(fd, (struct sockaddr *)&s, sizeof(s)), 0, "bind %s", src_ip);
    }
    cr_assert_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "connect %s:%d", ip, port);
    return fd;
}

/* Everything the peer sends until it closes, or goes quiet (IO_MS before the first byte,
 * IDLE_MS after); *closed says which. */
static char *read_until_close(int fd, size_t *len, bool *closed)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    cr_assert_not_null(buf);
    *closed = false;
    while (n < cap && dt_wait_readable(fd, n ? IDLE_MS : IO_MS)) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* Masks the integer after "id" in a HELLO reply (client ids differ between servers). */
static void mask_id(char *p, size_t n)
{
    char *at = memmem(p, n, "$2\r\nid\r\n:", 9);
    if (!at)
        return;
    for (char *d = at + 9; d < p + n && *d != '\r'; d++)
        *d = 'N';
}

/* A command line in redis-cli quoting, or "@raw <bytes with \r \n escapes>" (protocol errors:
 * everything up to the close is compared). Returns the reply bytes (malloc'd). */
static char *exchange(int fd, const char *line, size_t *len, bool *closed)
{
    *closed = false;
    if (strncmp(line, "@raw ", 5) == 0) {
        char bytes[256];
        size_t n = 0;
        for (const char *s = line + 5; *s && n < sizeof(bytes); s++) {
            if (s[0] == '\\' && (s[1] == 'r' || s[1] == 'n')) {
                bytes[n++] = s[1] == 'r' ? '\r' : '\n';
                s++;
            } else {
                bytes[n++] = *s;
            }
        }
        cr_assert_eq(fc_send_all(fd, bytes, n), 0);
        return read_until_close(fd, len, closed);
    }
    char **av;
    size_t *al, flen;
    int ac = fc_split_args(line, &av, &al);
    cr_assert_gt(ac, 0, "bad line %s", line);
    char *frame = fc_encode_cmd(ac, (const char *const *)av, al, &flen);
    fc_free_args(ac, av, al);
    cr_assert_eq(fc_send_all(fd, frame, flen), 0);
    free(frame);
    char *rep = fc_read_reply(fd, len, IO_MS);
    cr_assert_not_null(rep, "no reply to %s", line);
    mask_id(rep, *len);
    return rep;
}

/* Runs the same lines on one connection to each server; replies must be identical bytes.
 * A line "@reconnect" opens fresh connections. Returns the number of lines compared. */
static int compare_lines(int port_a, int port_b, const char *const *lines)
{
    int fa = fc_connect(port_a), fb = fc_connect(port_b), compared = 0;
    cr_assert(fa >= 0 && fb >= 0);
    for (int i = 0; lines[i]; i++) {
        if (strcmp(lines[i], "@reconnect") == 0) {
            close(fa);
            close(fb);
            fa = fc_connect(port_a);
            fb = fc_connect(port_b);
            cr_assert(fa >= 0 && fb >= 0);
            continue;
        }
        size_t la, lb;
        bool ca, cb;
        char *ra = exchange(fa, lines[i], &la, &ca);
        char *rb = exchange(fb, lines[i], &lb, &cb);
        cr_expect(la == lb && memcmp(ra, rb, la) == 0 && ca == cb,
                  "%s:\n  fastcached: %.*s (closed %d)\n  redis:      %.*s (closed %d)", lines[i],
                  (int)la, ra, ca, (int)lb, rb, cb);
        free(ra);
        free(rb);
        compared++;
    }
    close(fa);
    close(fb);
    return compared;
}

/* What both servers must answer alike when requirepass is PW. */
static const char *const auth_lines[] = {
    "GET k", "PING", "ECHO x", "CLIENT GETNAME", "FOO bar", "GET", "AUTH", "AUTH a b c",
    "AUTH wrong", "AUTH " PW "x", "AUTH bob " PW, "AUTH DEFAULT " PW, "HELLO 3",
    "HELLO 2 SETNAME early", "HELLO 3 AUTH default wrong", "HELLO 3 AUTH bob " PW, "HELLO 4",
    "HELLO 2 FOO", "HELLO abc", "GET k", "AUTH " PW, "CLIENT GETNAME", "SET k v", "GET k",
    "AUTH wrong", "GET k", "RESET", "GET k", "AUTH default " PW, "GET k", "QUIT",
    "@reconnect", "HELLO 3 AUTH default " PW " SETNAME lib", "GET k", "CLIENT GETNAME",
    "HELLO 2", "@reconnect", "HELLO 2 AUTH default " PW, "DEL k",
    /* Unauthenticated frame limits: the error, then the connection is closed. */
    "@reconnect", "@raw *11\\r\\n", "@reconnect", "@raw *2\\r\\n$16385\\r\\n", "@reconnect",
    "@raw *2\\r\\n$99999999999999999999999\\r\\n", "@reconnect", "@raw *3000000000\\r\\n",
    "@reconnect", "@raw *-1\\r\\n*0\\r\\nPING a b c d e f g h i j k l\\r\\n", "@reconnect",
    "AUTH " PW, "@raw *11\\r\\n$4\\r\\nPING\\r\\n", NULL};

Test(test_security, requirepass_texts_match_redis)
{
    fc_proc d, r;
    dt_start(&d, (const char *const[]){"--requirepass", PW, NULL});
    start_redis(&r, (const char *const[]){"--requirepass", PW, NULL});
    cr_assert_gt(compare_lines(d.port, r.port, auth_lines), 40);
    dt_stop_ok(&d);
}

/* Reads exactly n bytes (or fails the test). */
static void read_exactly(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        cr_assert(dt_wait_readable(fd, IO_MS), "timeout after %zu of %zu bytes", got, n);
        ssize_t r = read(fd, buf + got, n - got);
        cr_assert_gt(r, 0);
        got += (size_t)r;
    }
}

/* After a 40 KB SET (so the daemon's input buffer can take a whole pipeline in one read), one
 * write pipelines GETs, a RESET (unauthenticated again) and then a 16385-byte bulk: the daemon
 * parses pipelined frames ahead of running them (to prefetch their keys), and that must not let
 * the last frame escape the unauthenticated bulk limit that RESET brought back. Replies and the
 * close are compared with Redis byte for byte. */
Test(test_security, unauthenticated_limit_after_reset_in_one_pipeline)
{
    fc_proc d, r;
    dt_start(&d, (const char *const[]){"--requirepass", PW, NULL});
    start_redis(&r, (const char *const[]){"--requirepass", PW, NULL});
    static char setup[41000], pipe[17000];
    size_t sn = (size_t)snprintf(setup, 200, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n%s\r\n"
                                             "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$40000\r\n",
                                 strlen(PW), PW);
    memset(setup + sn, 'v', 40000);
    memcpy(setup + sn + 40000, "\r\n", 2);
    sn += 40002;
    size_t n = (size_t)snprintf(pipe, 200, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n"
                                           "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"
                                           "*1\r\n$5\r\nRESET\r\n"
                                           "*2\r\n$4\r\nECHO\r\n$16385\r\n");
    memset(pipe + n, 'x', 16385);
    memcpy(pipe + n + 16385, "\r\n", 2);
    n += 16387;
    int ports[2] = {d.port, r.port};
    char *rep[2];
    size_t len[2];
    bool closed[2];
    for (int i = 0; i < 2; i++) {
        char ok[10];
        int fd = fc_connect(ports[i]);
        cr_assert(fd >= 0);
        cr_assert_eq(fc_send_all(fd, setup, sn), 0);
        read_exactly(fd, ok, sizeof(ok));
        cr_assert(memcmp(ok, "+OK\r\n+OK\r\n", 10) == 0);
        cr_assert_eq(fc_send_all(fd, pipe, n), 0);
        rep[i] = read_until_close(fd, &len[i], &closed[i]);
        close(fd);
    }
    cr_expect(len[0] == len[1] && memcmp(rep[0], rep[1], len[0]) == 0 && closed[0] == closed[1],
              "fastcached: %.*s (closed %d)\nredis:      %.*s (closed %d)", (int)len[0], rep[0],
              closed[0], (int)len[1], rep[1], closed[1]);
    cr_expect(memmem(rep[0], len[0], "unauthenticated bulk length", 27) != NULL, "%.*s",
              (int)len[0], rep[0]);
    free(rep[0]);
    free(rep[1]);
    dt_stop_ok(&d);
}

/* Proxy mode: the daemon's own password, unrelated to the upstream's ([redis] password). */
Test(test_security, requirepass_through_the_proxy)
{
    fc_proc d, up, r;
    start_redis(&up, (const char *const[]){"--requirepass", "upstream-pw", NULL});
    char port[16];
    snprintf(port, sizeof(port), "%d", up.port);
    dt_start(&d, (const char *const[]){"--driver", "redis", "--redis-host", "127.0.0.1",
                                       "--redis-port", port, "--redis-password", "upstream-pw",
                                       "--requirepass", PW, NULL});
    start_redis(&r, (const char *const[]){"--requirepass", PW, NULL});
    cr_assert_gt(compare_lines(d.port, r.port, auth_lines), 40);
    /* The upstream password is not the daemon's. */
    redisContext *c = dt_connect(&d);
    dt_expect(c, "WRONGPASS invalid username-password pair or user is disabled.",
              "AUTH upstream-pw");
    dt_expect(c, "OK", "AUTH %s", PW);
    dt_expect(c, "OK", "SET through proxy");
    redisFree(c);
    dt_stop_ok(&d);
}

/* Real clients: redis-cli -a (AUTH), and --user/--pass with RESP3 (HELLO 3 AUTH). */
Test(test_security, redis_cli_authenticates)
{
    fc_proc d;
    dt_start(&d, (const char *const[]){"--requirepass", PW, NULL});
    char cmd[256];
    int st;
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -a %s --no-auth-warning SET a 1", d.port, PW);
    char *out = fc_run_capture(cmd, &st);
    cr_assert_str_eq(out, "OK\n");
    free(out);
    snprintf(cmd, sizeof(cmd), "redis-cli -3 -p %d --user default --pass %s --no-auth-warning GET a",
             d.port, PW);
    out = fc_run_capture(cmd, &st);
    cr_assert_str_eq(out, "1\n");
    free(out);
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d GET a", d.port);
    out = fc_run_capture(cmd, &st);
    cr_assert(strncmp(out, "NOAUTH Authentication required.", 31) == 0, "%s", out);
    free(out);
    dt_stop_ok(&d);
}

/* ---- protected mode ------------------------------------------------------------------- */

/* This machine's first non-loopback IPv4 address that is up, or false. */
static bool local_non_loopback(char *ip, size_t n)
{
    struct ifaddrs *ifs, *i;
    bool found = false;
    if (getifaddrs(&ifs) != 0)
        return false;
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        found = inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
                          (socklen_t)n) != NULL;
    }
    freeifaddrs(ifs);
    return found;
}

/* Connects from src to dst on both servers: same bytes, and whether each closed. */
static void compare_connect(const char *src, const char *dst, int port_a, int port_b,
                            const char *send, bool want_denied)
{
    size_t la, lb;
    bool ca, cb;
    int fa = connect_from(src, dst, port_a), fb = connect_from(src, dst, port_b);
    if (send) {
        cr_assert_eq(fc_send_all(fa, send, strlen(send)), 0);
        cr_assert_eq(fc_send_all(fb, send, strlen(send)), 0);
    }
    char *ra = want_denied ? read_until_close(fa, &la, &ca) : fc_read_reply(fa, &la, IO_MS);
    char *rb = want_denied ? read_until_close(fb, &lb, &cb) : fc_read_reply(fb, &lb, IO_MS);
    cr_assert(ra && rb);
    cr_expect(la == lb && memcmp(ra, rb, la) == 0, "from %s to %s:\n  fastcached: %.*s\n  redis: %.*s",
              src ? src : "any", dst, (int)la, ra, (int)lb, rb);
    if (want_denied) {
        cr_expect(ca && cb, "both close the connection");
        cr_expect(la > 8 && memcmp(ra, "-DENIED ", 8) == 0, "%.*s", (int)la, ra);
    }
    free(ra);
    free(rb);
    close(fa);
    close(fb);
}

Test(test_security, protected_mode_denies_non_loopback_peers)
{
    char ip[64], bind_list[128];
    bool have_ip = local_non_loopback(ip, sizeof(ip));
    snprintf(bind_list, sizeof(bind_list), "127.0.0.1%s%s", have_ip ? " " : "", have_ip ? ip : "");
    fc_proc d, r;
    char *dir = dt_tmpdir();
    char sock[200];
    snprintf(sock, sizeof(sock), "%s/fc.sock", dir);
    dt_start(&d, (const char *const[]){"--bind", bind_list, "--unixsocket", sock, NULL});
    start_redis(&r, have_ip ? (const char *const[]){"--bind", "127.0.0.1", ip, NULL} : NULL);
    /* 127.0.0.1 is allowed; 127.0.0.2 is not (Redis compares the address, not the interface). */
    compare_connect(NULL, "127.0.0.1", d.port, r.port, "PING\r\n", false);
    compare_connect("127.0.0.2", "127.0.0.1", d.port, r.port, NULL, true);
    compare_connect("127.0.0.2", "127.0.0.1", d.port, r.port, "PING\r\n", true);
    if (have_ip)
        compare_connect(ip, ip, d.port, r.port, NULL, true);
    else
        cr_log_warn("no non-loopback IPv4 address here: only 127.0.0.2 was checked");
    /* Unix socket clients are always accepted. */
    char cmd[300];
    int st;
    snprintf(cmd, sizeof(cmd), "redis-cli -s %s PING", sock);
    char *out = fc_run_capture(cmd, &st);
    cr_assert_str_eq(out, "PONG\n");
    free(out);
    dt_stop_ok(&d);
    free(dir);
}

Test(test_security, protected_mode_off_or_with_a_password)
{
    fc_proc off, pw, roff, rpw;
    dt_start(&off, (const char *const[]){"--protected-mode", "no", NULL});
    dt_start(&pw, (const char *const[]){"--requirepass", PW, NULL});
    start_redis(&roff, (const char *const[]){"--protected-mode", "no", NULL});
    start_redis(&rpw, (const char *const[]){"--requirepass", PW, NULL});
    compare_connect("127.0.0.2", "127.0.0.1", off.port, roff.port, "PING\r\n", false);
    compare_connect("127.0.0.2", "127.0.0.1", pw.port, rpw.port, "GET k\r\n", false);
    dt_stop_ok(&off);
    dt_stop_ok(&pw);
}

/* ---- unix socket permissions ---------------------------------------------------------- */

Test(test_security, unixsocketperm)
{
    char *dir = dt_tmpdir();
    char sock[200];
    snprintf(sock, sizeof(sock), "%s/perm.sock", dir);
    fc_proc d;
    dt_start(&d, (const char *const[]){"--unixsocket", sock, "--unixsocketperm", "0701", NULL});
    struct stat stt;
    cr_assert_eq(stat(sock, &stt), 0);
    cr_assert(S_ISSOCK(stt.st_mode));
    cr_assert_eq(stt.st_mode & 07777, 0701, "mode %o", (unsigned)(stt.st_mode & 07777));
    dt_stop_ok(&d);
    free(dir);
}

/* ---- renamed and disabled commands ---------------------------------------------------- */

static const char *const rename_lines[] = {
    "SET k v", "FLUSHALL", "flushall async", "CONFIG GET save", "config", "admin-config",
    "ADMIN-CONFIG GET save", "admin-config foo", "DBSIZE", "GET k", NULL};

Test(test_security, rename_commands_match_redis)
{
    fc_proc d, r;
    dt_start(&d, (const char *const[]){"--rename-commands", "flushall:\"\" config:admin-config",
                                       NULL});
    start_redis(&r, (const char *const[]){"--rename-command", "flushall", "",
                                          "--rename-command", "config", "admin-config", NULL});
    cr_assert_eq(compare_lines(d.port, r.port, rename_lines), 10);
    dt_stop_ok(&d);
}

/* Through the proxy, a renamed command reaches the upstream under its real name. */
Test(test_security, rename_commands_through_the_proxy)
{
    fc_proc d, up;
    start_redis(&up, NULL);
    char port[16];
    snprintf(port, sizeof(port), "%d", up.port);
    dt_start(&d, (const char *const[]){"--driver", "redis", "--redis-host", "127.0.0.1",
                                       "--redis-port", port, "--rename-commands",
                                       "flushdb:wipe invalidate:drop shutdown:", NULL});
    redisContext *c = dt_connect(&d);
    dt_expect(c, "OK", "MSET a:1 x a:2 y b:1 z");
    dt_expect(c, "ERR unknown command 'FLUSHDB', with args beginning with: ", "FLUSHDB");
    dt_expect(c, "ERR unknown command 'INVALIDATE', with args beginning with: 'a:*' ",
              "INVALIDATE a:*");
    dt_expect(c, "ERR unknown command 'shutdown', with args beginning with: ", "shutdown");
    cr_assert_eq(dt_int(c, "DROP a:*"), 2);
    cr_assert_eq(dt_int(c, "DBSIZE"), 1);
    dt_expect(c, "OK", "wipe");
    cr_assert_eq(dt_int(c, "DBSIZE"), 0);
    redisFree(c);
    redisContext *u = redisConnect("127.0.0.1", up.port);
    cr_assert(u && !u->err);
    cr_assert_eq(dt_int(u, "DBSIZE"), 0, "the upstream was flushed");
    redisFree(u);
    dt_stop_ok(&d);
}

Test(test_security, a_rename_clash_stops_start_up)
{
    char *dir = dt_tmpdir();
    char cmd[512];
    int st;
    snprintf(cmd, sizeof(cmd), "%s --port 0 --unixsocket %s/x.sock --rename-commands config:get 2>&1",
             fc_daemon_bin(), dir);
    char *out = fc_run_capture(cmd, &st);
    cr_assert_neq(st, 0);
    cr_assert(strstr(out, "rename_commands: new name 'get' of config is already a command"), "%s",
              out);
    free(out);
    free(dir);
}

/* ---- invalidate_all ------------------------------------------------------------------- */

static void check_invalidate_all_off(const fc_proc *d)
{
    redisContext *c = dt_connect(d);
    dt_expect(c, "OK", "MSET users:1 a users:2 b orders:1 c");
    dt_expect(c, "ERR INVALIDATE of the whole keyspace is disabled (invalidate_all = no)",
              "INVALIDATE *");
    cr_assert_eq(dt_int(c, "DBSIZE"), 3);
    cr_assert_eq(dt_int(c, "INVALIDATE users:*"), 2);
    cr_assert_eq(dt_int(c, "INVALIDATE *:1"), 1);
    redisFree(c);
}

Test(test_security, invalidate_all_off_both_drivers)
{
    fc_proc mem, px, up;
    dt_start(&mem, (const char *const[]){"--invalidate-all", "no", NULL});
    check_invalidate_all_off(&mem);
    dt_stop_ok(&mem);
    start_redis(&up, NULL);
    char port[16];
    snprintf(port, sizeof(port), "%d", up.port);
    dt_start(&px, (const char *const[]){"--driver", "redis", "--redis-host", "127.0.0.1",
                                        "--redis-port", port, "--invalidate-all", "no", NULL});
    check_invalidate_all_off(&px);
    dt_stop_ok(&px);
}
