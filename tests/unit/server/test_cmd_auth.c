/*
 * Unit tests for access control in the command layer, without sockets: the constant-time
 * comparison, AUTH / HELLO AUTH / NOAUTH / RESET with Redis 7.0.15's exact texts (checked against
 * a real redis-server by tests/integration/test_security.c), rename_commands resolved into the
 * core, and invalidate_all. A real core backs each test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "server/cmd_impl.h"
#include "server/commands.h"

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled.\r\n"

static fc_conf conf;
static fc_core core;
static fc_session sess;
static fc_buf out;
static fc_replyq q;
static bool started;

/* Starts a core for the configuration text given as [server] lines (may be ""). */
static void start(const char *server_lines)
{
    char text[1024], err[512];
    snprintf(text, sizeof(text), "[server]\n%s", server_lines);
    fc_conf_defaults(&conf);
    cr_assert_eq(fc_conf_load_string(&conf, "t", text, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(fc_core_init(&core, &conf, 1000000), 0);
    cr_assert_eq(fc_command_renames_apply(&core, err, sizeof(err)), 0, "%s", err);
    fc_session_init(&sess, 1000000);
    fc_core_attach(&core, &sess);
    fc_buf_init(&out, 0);
    fc_replyq_init(&q, &out, NULL, NULL);
    started = true;
}

static void teardown(void)
{
    if (!started)
        return;
    fc_core_detach(&core, &sess);
    fc_session_deinit(&sess);
    fc_core_deinit(&core);
    fc_buf_deinit(&out);
}

static const char *run(int argc, const char *const *words)
{
    fc_arg argv[16];
    for (int i = 0; i < argc; i++) {
        argv[i].p = words[i];
        argv[i].len = strlen(words[i]);
    }
    out.len = 0;
    fc_request req = {argv, argc, NULL, 0};
    fc_dispatch(&core, &sess, &q, &req, 1000000);
    fc_buf_append(&out, "", 1);
    return out.data;
}

#define RUN(...) run(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *), \
                     (const char *[]){__VA_ARGS__})

TestSuite(cmd_auth, .fini = teardown);

Test(cmd_auth, secure_equal)
{
    cr_assert(fc_secure_equal("s3cret", 6, "s3cret", 6));
    cr_assert_not(fc_secure_equal("s3creT", 6, "s3cret", 6));
    cr_assert_not(fc_secure_equal("x3cret", 6, "s3cret", 6));
    cr_assert_not(fc_secure_equal("s3cre", 5, "s3cret", 6), "prefix");
    cr_assert_not(fc_secure_equal("s3crets3cret", 12, "s3cret", 6), "repetition of the secret");
    cr_assert_not(fc_secure_equal("s3crett", 7, "s3cret", 6));
    cr_assert_not(fc_secure_equal("", 0, "s3cret", 6));
    cr_assert(fc_secure_equal("", 0, "", 0));
    cr_assert_not(fc_secure_equal("a", 1, "", 0));
    cr_assert(fc_secure_equal("a\0b", 3, "a\0b", 3), "binary-safe");
    cr_assert_not(fc_secure_equal("a\0c", 3, "a\0b", 3));
}

Test(cmd_auth, noauth_until_auth)
{
    start("requirepass = s3cret\n");
    cr_assert_str_eq(RUN("GET", "k"), NOAUTH);
    cr_assert_str_eq(RUN("PING"), NOAUTH);
    cr_assert_str_eq(RUN("CLIENT", "GETNAME"), NOAUTH);
    /* Unknown command and arity errors come before NOAUTH, as in Redis. */
    cr_assert_str_eq(RUN("FOO", "bar"),
                     "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n");
    cr_assert_str_eq(RUN("GET"), "-ERR wrong number of arguments for 'get' command\r\n");
    cr_assert_str_eq(RUN("AUTH"), "-ERR wrong number of arguments for 'auth' command\r\n");
    cr_assert_str_eq(RUN("AUTH", "a", "b", "c"), "-ERR syntax error\r\n");
    cr_assert_str_eq(RUN("AUTH", "wrong"), WRONGPASS);
    cr_assert_str_eq(RUN("AUTH", "s3cre"), WRONGPASS);
    cr_assert_str_eq(RUN("AUTH", "bob", "s3cret"), WRONGPASS);
    cr_assert_str_eq(RUN("AUTH", "DEFAULT", "s3cret"), WRONGPASS, "user names are case-sensitive");
    cr_assert_str_eq(RUN("GET", "k"), NOAUTH);
    cr_assert_str_eq(RUN("auth", "s3cret"), "+OK\r\n");
    cr_assert_str_eq(RUN("GET", "k"), "$-1\r\n");
    cr_assert_str_eq(RUN("AUTH", "wrong"), WRONGPASS);
    cr_assert_str_eq(RUN("GET", "k"), "$-1\r\n", "a failed AUTH keeps the session authenticated");
    cr_assert_str_eq(RUN("RESET"), "+RESET\r\n");
    cr_assert_str_eq(RUN("GET", "k"), NOAUTH, "RESET de-authenticates");
    cr_assert_str_eq(RUN("AUTH", "default", "s3cret"), "+OK\r\n");
    cr_assert_str_eq(RUN("GET", "k"), "$-1\r\n");
    cr_assert_str_eq(RUN("QUIT"), "+OK\r\n");
}

Test(cmd_auth, hello_auth)
{
    start("requirepass = s3cret\n");
    cr_assert_str_eq(RUN("HELLO", "3"),
                     "-NOAUTH HELLO must be called with the client already authenticated, "
                     "otherwise the HELLO AUTH <user> <pass> option can be used to authenticate "
                     "the client and select the RESP protocol version at the same time\r\n");
    cr_assert_eq(sess.proto, 2);
    cr_assert_str_eq(RUN("HELLO", "3", "AUTH", "default", "nope"), WRONGPASS);
    cr_assert_str_eq(RUN("HELLO", "4"), "-NOPROTO unsupported protocol version\r\n");
    cr_assert_str_eq(RUN("HELLO", "3", "AUTH", "default", "s3cret"),
                     "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
                     "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
                     "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
    cr_assert_eq(sess.proto, 3);
    cr_assert_str_eq(RUN("GET", "k"), "_\r\n");
}

Test(cmd_auth, no_password_configured)
{
    start("");
    cr_assert_str_eq(RUN("GET", "k"), "$-1\r\n");
    cr_assert_str_eq(RUN("AUTH", "x"),
                     "-ERR AUTH <password> called without any password configured for the default "
                     "user. Are you sure your configuration is correct?\r\n");
    cr_assert_str_eq(RUN("AUTH", "default", "anything"), "+OK\r\n");
    cr_assert_str_eq(RUN("AUTH", "bob", "x"), WRONGPASS);
    cr_assert_str_eq(RUN("HELLO", "2", "AUTH", "bob", "x"), WRONGPASS);
    cr_assert_str_eq(RUN("HELLO", "2", "AUTH", "DEFAULT", "x"), WRONGPASS);
}

Test(cmd_auth, rename_and_disable)
{
    start("rename_commands = flushall:\"\" config:Admin-Config flushdb:\n");
    cr_assert_eq(core.nrenames, 3);
    RUN("SET", "k", "v");
    cr_assert_str_eq(RUN("FLUSHALL"),
                     "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n");
    cr_assert_str_eq(RUN("flushdb", "async"),
                     "-ERR unknown command 'flushdb', with args beginning with: 'async' \r\n");
    cr_assert_str_eq(RUN("CONFIG", "GET", "save"),
                     "-ERR unknown command 'CONFIG', with args beginning with: 'GET' 'save' \r\n");
    cr_assert_str_eq(RUN("admin-config", "GET", "databases"),
                     "*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
    /* As Redis: the arity error names the real command, the subcommand error the name sent. */
    cr_assert_str_eq(RUN("ADMIN-CONFIG"),
                     "-ERR wrong number of arguments for 'config' command\r\n");
    cr_assert_str_eq(RUN("admin-config", "foo"),
                     "-ERR unknown subcommand 'foo'. Try ADMIN-CONFIG HELP.\r\n");
    cr_assert_str_eq(RUN("DBSIZE"), ":1\r\n", "nothing was flushed");
    cr_assert_str_eq(RUN("GET", "k"), "$1\r\nv\r\n", "other commands are untouched");
}

Test(cmd_auth, rename_apply_rejects_a_clash)
{
    char err[256];
    start("");
    conf.nrenames = 1;
    strcpy(conf.renames[0].from, "config");
    strcpy(conf.renames[0].to, "get");
    cr_assert_eq(fc_command_renames_apply(&core, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "rename_commands: new name 'get' of config is already a command");
    strcpy(conf.renames[0].from, "nosuch");
    cr_assert_eq(fc_command_renames_apply(&core, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "rename_commands: unknown command 'nosuch'");
    cr_assert_eq(core.nrenames, 0);
}

Test(cmd_auth, invalidate_all_off)
{
    start("invalidate_all = no\n");
    RUN("MSET", "users:1", "a", "orders:1", "b");
    const char *refused =
        "-ERR INVALIDATE of the whole keyspace is disabled (invalidate_all = no)\r\n";
    cr_assert_str_eq(RUN("INVALIDATE", "*"), refused);
    cr_assert_str_eq(RUN("INVALIDATE", "***"), refused);
    cr_assert_str_eq(RUN("DBSIZE"), ":2\r\n");
    cr_assert_str_eq(RUN("INVALIDATE", "users:*"), ":1\r\n");
    cr_assert_str_eq(RUN("INVALIDATE", "*:1"), ":1\r\n");
}

Test(cmd_auth, invalidate_all_on_by_default)
{
    start("");
    RUN("MSET", "a", "1", "b", "2");
    cr_assert_str_eq(RUN("INVALIDATE", "*"), ":2\r\n");
}
