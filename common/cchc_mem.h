/* cchc_mem.h: allocation that never returns NULL.
 *
 * Running out of memory aborts with a message (as Redis zmalloc does), so
 * call sites need no NULL checks. Untrusted sizes must be bounded before they
 * get here. */
#ifndef CCHC_MEM_H
#define CCHC_MEM_H

#include <stddef.h>

void *cchc_malloc(size_t n);
void *cchc_calloc(size_t n, size_t size);
void *cchc_realloc(void *p, size_t n);
char *cchc_strdup(const char *s);
char *cchc_strndup(const char *s, size_t n);
/* printf into a new string. */
char *cchc_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
