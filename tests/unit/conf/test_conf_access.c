/*
 * Unit tests for the access keys of [server]: requirepass (and ${ENV}), protected_mode,
 * unixsocketperm, rename_commands (syntax and every error message) and invalidate_all, through
 * files and flags, and their --test-config round trip.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

#define ERRLEN 512

static int load(fc_conf *c, const char *text, char *err)
{
    fc_conf_defaults(c);
    err[0] = '\0';
    return fc_conf_load_string(c, "t.conf", text, err, ERRLEN);
}

static void load_fails(const char *text, const char *want)
{
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, text, err), -1, "accepted: %s", text);
    cr_assert_str_eq(err, want);
}

static void renames_fail(const char *value, const char *want)
{
    char text[512], full[600];
    snprintf(text, sizeof(text), "[server]\nrename_commands = %s\n", value);
    snprintf(full, sizeof(full), "t.conf:2: %s", want);
    load_fails(text, full);
}

Test(conf_access, defaults)
{
    fc_conf c;
    fc_conf_defaults(&c);
    cr_assert_str_eq(c.requirepass, "");
    cr_assert_eq(c.protected_mode, 1);
    cr_assert_eq(c.unixsocketperm, 0);
    cr_assert_eq(c.nrenames, 0);
    cr_assert_eq(c.invalidate_all, 1);
    char err[ERRLEN];
    cr_assert_eq(fc_conf_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(conf_access, every_key)
{
    fc_conf c;
    char err[ERRLEN];
    setenv("FC_TEST_ACCESS_PW", "from env", 1);
    cr_assert_eq(load(&c,
                      "[server]\n"
                      "requirepass = ${FC_TEST_ACCESS_PW}\n"
                      "protected_mode = NO\n"
                      "unixsocketperm = 0770\n"
                      "rename_commands = FLUSHALL:\"\"  config:Admin-Config\tshutdown:\n"
                      "invalidate_all = no\n",
                      err),
                 0, "%s", err);
    cr_assert_str_eq(c.requirepass, "from env");
    cr_assert_eq(c.protected_mode, 0);
    cr_assert_eq(c.unixsocketperm, 0770);
    cr_assert_eq(c.invalidate_all, 0);
    cr_assert_eq(c.nrenames, 3);
    cr_assert_str_eq(c.renames[0].from, "flushall");
    cr_assert_str_eq(c.renames[0].to, "");
    cr_assert_str_eq(c.renames[1].from, "config");
    cr_assert_str_eq(c.renames[1].to, "admin-config");
    cr_assert_str_eq(c.renames[2].from, "shutdown");
    cr_assert_str_eq(c.renames[2].to, "");
    cr_assert_eq(load(&c, "[server]\nunixsocketperm = 700\nrename_commands =\n", err), 0);
    cr_assert_eq(c.unixsocketperm, 0700);
    cr_assert_eq(c.nrenames, 0);
}

Test(conf_access, value_errors)
{
    load_fails("[server]\nprotected_mode = maybe\n",
               "t.conf:2: unknown protected_mode 'maybe' (expected no or yes)");
    load_fails("[server]\ninvalidate_all = 1\n",
               "t.conf:2: unknown invalidate_all '1' (expected no or yes)");
    load_fails("[server]\nunixsocketperm = 0789\n",
               "t.conf:2: invalid unixsocketperm '0789' (expected octal permissions such as 700 "
               "or 0770)");
    load_fails("[server]\nunixsocketperm = 1777\n",
               "t.conf:2: unixsocketperm must be between 0 and 0777 (got 1777)");
    load_fails("[server]\nunixsocketperm = -1\n",
               "t.conf:2: invalid unixsocketperm '-1' (expected octal permissions such as 700 or "
               "0770)");
    char longpw[400], text[500];
    memset(longpw, 'p', 300);
    longpw[300] = '\0';
    setenv("FC_TEST_ACCESS_LONG", longpw, 1);
    snprintf(text, sizeof(text), "[server]\nrequirepass = ${FC_TEST_ACCESS_LONG}\n");
    load_fails(text, "t.conf:2: requirepass is too long (max 255 bytes)");
}

Test(conf_access, rename_errors)
{
    renames_fail("flushall", "invalid rename_commands entry 'flushall' (expected command:newname, "
                             "or command:\"\" to disable)");
    renames_fail(":x", "invalid rename_commands entry ':x' (expected command:newname, or "
                       "command:\"\" to disable)");
    renames_fail("get:x", "rename_commands: 'get' cannot be renamed (only config, flushall, "
                          "flushdb, invalidate and shutdown)");
    renames_fail("config:a/b", "rename_commands: invalid new name 'a/b' for config (1 to 32 "
                               "letters, digits, '-', '_' or '.'; \"\" to disable)");
    renames_fail("config:\"x\"", "rename_commands: invalid new name '\"x\"' for config (1 to 32 "
                                 "letters, digits, '-', '_' or '.'; \"\" to disable)");
    renames_fail("config:abcdefghijabcdefghijabcdefghijabc",
                 "rename_commands: invalid new name 'abcdefghijabcdefghijabcdefghijabc' for "
                 "config (1 to 32 letters, digits, '-', '_' or '.'; \"\" to disable)");
    renames_fail("config:FLUSHDB",
                 "rename_commands: new name 'FLUSHDB' is the name of a renamable command");
    renames_fail("config:a flushall:\"\" CONFIG:b", "rename_commands: config is listed twice");
    renames_fail("config:x flushall:X",
                 "rename_commands: config and flushall are both renamed to 'x'");
    /* A failed set leaves the previous list. */
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, "[server]\nrename_commands = config:cfg\nrename_commands = get:x\n", err),
                 -1);
    cr_assert_eq(c.nrenames, 1);
    cr_assert_str_eq(c.renames[0].to, "cfg");
}

Test(conf_access, a_32_byte_name_is_accepted)
{
    fc_conf c;
    char err[ERRLEN];
    cr_assert_eq(load(&c, "[server]\nrename_commands = config:abcdefghijabcdefghijabcdefghijab\n",
                      err),
                 0, "%s", err);
    cr_assert_eq(strlen(c.renames[0].to), 32);
}

Test(conf_access, flags)
{
    fc_conf c;
    fc_conf_action action;
    char err[ERRLEN];
    char *argv[] = {"fastcached",        "--requirepass",     "pw",
                    "--protected-mode",  "no",                "--unixsocketperm",
                    "755",               "--rename-commands", "flushdb: invalidate:inv",
                    "--invalidate-all",  "no",                NULL};
    cr_assert_eq(fc_conf_from_args(&c, 11, argv, &action, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(action, FC_CONF_RUN);
    cr_assert_str_eq(c.requirepass, "pw");
    cr_assert_eq(c.protected_mode, 0);
    cr_assert_eq(c.unixsocketperm, 0755);
    cr_assert_eq(c.nrenames, 2);
    cr_assert_str_eq(c.renames[1].from, "invalidate");
    cr_assert_str_eq(c.renames[1].to, "inv");
    cr_assert_eq(c.invalidate_all, 0);
}

/* --test-config prints the keys so that they read back (the password masked). */
Test(conf_access, print_round_trip)
{
    fc_conf c, back;
    char err[ERRLEN];
    cr_assert_eq(load(&c,
                      "[server]\nrequirepass = pw\nprotected_mode = no\nunixsocketperm = 750\n"
                      "rename_commands = flushall:\"\" config:cfg\ninvalidate_all = no\n",
                      err),
                 0, "%s", err);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fc_conf_print(&c, f);
    fclose(f);
    cr_assert(strstr(text, "requirepass = ********\n"), "%s", text);
    cr_assert(strstr(text, "protected_mode = no\n"), "%s", text);
    cr_assert(strstr(text, "unixsocketperm = 0750\n"), "%s", text);
    cr_assert(strstr(text, "rename_commands = flushall:\"\" config:cfg\n"), "%s", text);
    cr_assert(strstr(text, "invalidate_all = no\n"), "%s", text);
    cr_assert_eq(load(&back, text, err), 0, "%s", err);
    cr_assert_eq(back.protected_mode, 0);
    cr_assert_eq(back.unixsocketperm, 0750);
    cr_assert_eq(back.invalidate_all, 0);
    cr_assert_eq(back.nrenames, 2);
    cr_assert_str_eq(back.renames[0].from, "flushall");
    cr_assert_str_eq(back.renames[0].to, "");
    cr_assert_str_eq(back.renames[1].to, "cfg");
    free(text);
}
