/*
 * conf_text — see conf_text.h.
 */
#include "tests/unit/support/conf_text.h"

#include <criterion/criterion.h>
#include <stdio.h>

/* fc_conf is large (its [ttl] table): kept off the stack. */
static fc_conf scratch;

int conf_load(fc_conf *c, const char *text, char *err)
{
    fc_conf_defaults(c);
    err[0] = '\0';
    return fc_conf_load_string(c, "t.conf", text, err, CONF_ERRLEN);
}

void conf_load_fails(const char *text, const char *want)
{
    char err[CONF_ERRLEN];
    cr_assert_eq(conf_load(&scratch, text, err), -1, "accepted: %s", text);
    cr_assert_str_eq(err, want);
}

char *conf_print_string(const fc_conf *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    fc_conf_print(c, f);
    fclose(f);
    return buf;
}
