/* One runner for every suite: tests/test_<area>.c defines Suite *suite_<area>(void); the Makefile
 * lists them in build/suites.h. Exit status is non-zero if any check fails. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE(name) Suite *suite_##name(void);
#include "suites.h"
#undef SUITE

int main(int argc, char **argv)
{
    /* Optional argument: run only the suite with that name (e.g. test_runner gemm). */
    const char *only = argc > 1 ? argv[1] : NULL;
    SRunner *sr = NULL;
#define SUITE(name)                                                                                \
    if (!only || strcmp(only, #name) == 0) {                                                       \
        if (!sr)                                                                                   \
            sr = srunner_create(suite_##name());                                                   \
        else                                                                                       \
            srunner_add_suite(sr, suite_##name());                                                 \
    }
#include "suites.h"
#undef SUITE
    if (!sr) {
        fprintf(stderr, "test_runner: no suite named '%s'\n", only ? only : "");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
