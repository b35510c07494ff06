/* SPDX-License-Identifier: GPL-2.0 */
/* Well-formedness checks of ktap's JSON and JUnit output, for the fuzzer. */
#ifndef KTAP_FUZZ_CHECK_H
#define KTAP_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>

bool json_valid(const char *doc, size_t len);
bool xml_valid(const char *doc, size_t len);

#endif /* KTAP_FUZZ_CHECK_H */
