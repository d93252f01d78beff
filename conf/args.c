/*
 * args — command-line flags: defaults, then the -c/--config file, then the flags over it.
 *
 *   argv ──pass 1──► syntax checked, config path found, --help/--version short-circuit
 *        ──pass 2──► defaults → file → each value flag, in order, through fc_conf_set → validate
 *
 * Two passes make "flag > file > default" hold whatever order the flags are given in. A hand
 * loop instead of getopt_long: no global state (optind) survives a call, so tests may call it
 * any number of times. Every key of the table has a flag (its `flag` column); a value is given as
 * "--flag VALUE" or "--flag=VALUE"; a flag given twice: the last one wins.
 */
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_internal.h"

typedef enum { OPT_CONFIG, OPT_KEY, OPT_TEST, OPT_VERSION, OPT_HELP } opt_kind;

typedef struct {
    opt_kind kind;
    const char *name;         /* the flag as written, without "=value" */
    size_t name_len;
    const char *value;        /* NULL for switches */
    const fc_conf_key *key;   /* OPT_KEY */
} opt;

static int classify(const char *a, size_t n, opt *o)
{
    static const struct {
        const char *name;
        opt_kind kind;
    } fixed[] = {{"-c", OPT_CONFIG},       {"--config", OPT_CONFIG}, {"--test-config", OPT_TEST},
                 {"--version", OPT_VERSION}, {"--help", OPT_HELP},    {"-h", OPT_HELP}};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strlen(fixed[i].name) == n && memcmp(fixed[i].name, a, n) == 0) {
            o->kind = fixed[i].kind;
            return 0;
        }
    }
    o->key = fc_conf_key_by_flag(a, n);
    o->kind = OPT_KEY;
    return o->key ? 0 : -1;
}

/* Reads the option at argv[*i] (and its value), leaving *i on the last word it used. */
static int next_opt(int argc, char **argv, int *i, opt *o, char *err, size_t errlen)
{
    const char *a = argv[*i];
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    memset(o, 0, sizeof(*o));
    o->name = a;
    o->name_len = eq ? (size_t)(eq - a) : strlen(a);
    if (a[0] != '-') {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
        return -1;
    }
    if (classify(a, o->name_len, o) < 0) {
        snprintf(err, errlen, "%.*s: unknown option (see --help)", (int)o->name_len, a);
        return -1;
    }
    bool wants_value = o->kind == OPT_CONFIG || o->kind == OPT_KEY;
    if (!wants_value && eq) {
        snprintf(err, errlen, "%.*s: takes no value", (int)o->name_len, a);
        return -1;
    }
    if (wants_value && eq) {
        o->value = eq + 1;
    } else if (wants_value) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "%s: missing value", a);
            return -1;
        }
        o->value = argv[++*i];
    }
    return 0;
}

/* Pass 1: syntax, the config path (last one wins), and the action. */
static int scan(int argc, char **argv, const char **path, fc_conf_action *action, char *err,
                size_t errlen)
{
    opt o;
    for (int i = 1; i < argc; i++) {
        if (next_opt(argc, argv, &i, &o, err, errlen) < 0)
            return -1;
        if (o.kind == OPT_HELP || o.kind == OPT_VERSION) {
            *action = o.kind == OPT_HELP ? FC_CONF_HELP : FC_CONF_VERSION;
            return 0;
        }
        if (o.kind == OPT_CONFIG)
            *path = o.value;
        if (o.kind == OPT_TEST)
            *action = FC_CONF_TEST;
    }
    return 0;
}

/* Pass 2: every value flag, in order. Pass 1 already checked the syntax. */
static int apply_flags(fc_conf *c, int argc, char **argv, char *err, size_t errlen)
{
    char msg[512];
    opt o;
    for (int i = 1; i < argc; i++) {
        if (next_opt(argc, argv, &i, &o, err, errlen) < 0)
            return -1;
        if (o.kind != OPT_KEY)
            continue;
        if (fc_conf_set(c, o.key->section, o.key->name, o.value, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%.*s: %s", (int)o.name_len, o.name, msg);
            return -1;
        }
    }
    return 0;
}

int fc_conf_from_args(fc_conf *c, int argc, char **argv, fc_conf_action *action, char *err,
                      size_t errlen)
{
    const char *path = NULL;
    *action = FC_CONF_RUN;
    fc_conf_defaults(c);
    if (scan(argc, argv, &path, action, err, errlen) < 0)
        return -1;
    if (*action == FC_CONF_HELP || *action == FC_CONF_VERSION)
        return 0;
    if (path && fc_conf_load_file(c, path, err, errlen) < 0)
        return -1;
    if (apply_flags(c, argc, argv, err, errlen) < 0)
        return -1;
    return fc_conf_validate(c, err, errlen);
}

void fc_conf_usage(FILE *out, const char *prog)
{
    fprintf(out,
            "Usage: %s [-c FILE] [options]\n"
            "\n"
            "fastcached %s: a cache daemon that speaks the Redis protocol.\n"
            "\n"
            "  -c, --config FILE     read this INI file (flags override it)\n"
            "      --test-config     print the effective configuration and exit\n"
            "      --version         print the version and exit\n"
            "  -h, --help            print this help and exit\n"
            "\n"
            "Every configuration key is also a flag (--flag VALUE or --flag=VALUE):\n",
            prog, FC_VERSION);
    for (size_t i = 0; i < fc_conf_nkeys; i++) {
        const fc_conf_key *k = &fc_conf_keys[i];
        char where[64];
        snprintf(where, sizeof(where), "[%s] %s", k->section, k->name);
        fprintf(out, "  %-28s %-37s %s (default: %s)\n", k->flag, where, k->help,
                k->def[0] ? k->def : "empty");
    }
    fprintf(out, "\nValues may use ${NAME} and ${NAME:-default} (environment variables).\n");
}
