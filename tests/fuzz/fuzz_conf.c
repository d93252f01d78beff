/*
 * fuzz_conf — libFuzzer target for conf/: fc_conf_load_string on arbitrary text.
 *
 * Errors are fine; crashes, sanitizer reports and unterminated messages are not. A text that
 * loads is also validated and printed (the printer walks every field). The input is cut at its
 * first NUL, as a file's text would be by the C string API.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    if (n > 64 * 1024)
        return 0;
    char *text = malloc(n + 1);
    if (!text)
        abort();
    memcpy(text, in, n);
    text[n] = '\0';
    fc_conf c;
    char err[256];
    memset(err, 'x', sizeof(err));
    fc_conf_defaults(&c);
    int rc = fc_conf_load_string(&c, "fuzz.conf", text, err, sizeof(err));
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && memchr(err, '\0', sizeof(err)) == NULL)
        abort(); /* the message must be terminated */
    if (rc == 0) {
        memset(err, 'x', sizeof(err));
        if (fc_conf_validate(&c, err, sizeof(err)) != 0 && memchr(err, '\0', sizeof(err)) == NULL)
            abort();
        char *printed = NULL;
        size_t plen = 0;
        FILE *f = open_memstream(&printed, &plen);
        if (f) {
            fc_conf_print(&c, f);
            fclose(f);
            free(printed);
        }
    }
    free(text);
    return 0;
}
