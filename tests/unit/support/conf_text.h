/*
 * conf_text — loading configuration text in the conf/ unit tests: defaults, then the text as a
 * file named "t.conf", with Criterion assertions on failures. Each test runs in its own process,
 * so the scratch struct behind conf_load_fails is per test.
 */
#ifndef FC_TESTS_UNIT_SUPPORT_CONF_TEXT_H
#define FC_TESTS_UNIT_SUPPORT_CONF_TEXT_H

#include "conf/conf.h"

#define CONF_ERRLEN 512

/* Defaults into c, then text. Returns fc_conf_load_string's result; err (CONF_ERRLEN bytes)
 * holds the message, "" on success. */
int conf_load(fc_conf *c, const char *text, char *err);

/* Asserts that text fails to load with exactly the message want. */
void conf_load_fails(const char *text, const char *want);

/* fc_conf_print into a heap string (the caller frees it). */
char *conf_print_string(const fc_conf *c);

#endif
