/*
 * conf_internal — the key table shared by the files of conf/ (not part of the public API).
 *
 *   conf.c   the table, one setter and one printer per value type, defaults, validate, print
 *   load.c   INI text -> fc_conf_set() through inih, with "name:line: " on errors
 *   env.c    ${NAME} / ${NAME:-default} expansion
 *   args.c   argv -> defaults, file, then flags through the same table
 *   ttl.c    the [ttl] section (prefix = seconds): not table rows, its lines bypass inih
 *   namespaces.c  [cache] namespaces, a list of key prefixes
 *
 * Every key is one row of fc_conf_keys: the file and the flags both reach a field only through
 * the row's setter, so bounds and messages are the same whichever way a value arrives.
 */
#ifndef FC_CONF_CONF_INTERNAL_H
#define FC_CONF_CONF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/conf.h"

typedef struct fc_conf_key fc_conf_key;

/* Parses value (already expanded) into the row's field. Returns 0 or -1 with a message. */
typedef int fc_conf_setter(fc_conf *c, const fc_conf_key *k, const char *value, char *err,
                           size_t errlen);
/* Writes the field's value into out[0..len) as the file syntax accepts it (truncated to fit). */
typedef void fc_conf_printer(const fc_conf *c, const fc_conf_key *k, char *out, size_t len);

struct fc_conf_key {
    const char *section;       /* "server", "cache" or "redis" */
    const char *name;          /* key in the section */
    const char *flag;          /* command-line flag, "--port" */
    const char *def;           /* default, in file syntax */
    fc_conf_setter *set;
    fc_conf_printer *print;
    int64_t min, max;          /* numbers: bounds; strings: max is the longest accepted length */
    size_t off, width;         /* the field: offsetof and sizeof in fc_conf */
    const char *const *names;  /* enums: names indexed by value, NULL-terminated */
    const char *help;          /* one line for --help */
};

extern const fc_conf_key fc_conf_keys[];
extern const size_t fc_conf_nkeys;

/* The row for section/name, or NULL. */
const fc_conf_key *fc_conf_key_find(const char *section, const char *name);

/* The row whose flag is flag[0..len), or NULL. */
const fc_conf_key *fc_conf_key_by_flag(const char *flag, size_t len);

/* True when name[0..len) is one of the sections of the table. */
bool fc_conf_section_known(const char *name, size_t len);

/* [server] rename_commands (rename.c): "cmd:newname cmd:\"\" ..." into c->renames, all or
 * nothing; and back into that syntax. */
int fc_conf_set_renames(fc_conf *c, const fc_conf_key *k, const char *value, char *err,
                        size_t errlen);
void fc_conf_print_renames(const fc_conf *c, const fc_conf_key *k, char *out, size_t len);

/* [cache] namespaces (namespaces.c): "users:, session: cart:" (commas and/or blanks) into
 * c->namespaces, all or nothing; back as "users:, session:, cart:"; bounds of a struct filled by
 * hand (0 or -1 with a message). */
int fc_conf_set_namespaces(fc_conf *c, const fc_conf_key *k, const char *value, char *err,
                           size_t errlen);
void fc_conf_print_namespaces(const fc_conf *c, const fc_conf_key *k, char *out, size_t len);
int fc_conf_validate_namespaces(const fc_conf *c, char *err, size_t errlen);

/* [ttl] (ttl.c). One line of the section (indentation already stripped, no newline): cuts the
 * inline comment, splits at the last '=', trims, unquotes the prefix, then
 * fc_conf_set_ttl_prefix. Returns 0 or -1 with a message. */
int fc_conf_ttl_line(fc_conf *c, const char *line, size_t len, char *err, size_t errlen);
/* Writes "\n[ttl]\n" and one "prefix = value" line per entry; nothing when there are none. */
void fc_conf_print_ttl(const fc_conf *c, FILE *out);
/* Bounds of the [ttl] entries of a struct possibly filled by hand. Returns 0 or -1. */
int fc_conf_validate_ttl(const fc_conf *c, char *err, size_t errlen);

#endif
