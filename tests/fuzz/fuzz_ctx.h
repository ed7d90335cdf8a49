/* fuzz_ctx.h: what the fuzz harnesses share: the validation contexts and the
 * libFuzzer entry point (declared here so the replay driver can call it). */
#ifndef CCHC_FUZZ_CTX_H
#define CCHC_FUZZ_CTX_H

#include "cchc_report.h"
#include "cchc_validate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The empty context {} and a realistic one (xa-van-son, today 2024-10-01).
 * Built once on first use, kept for the life of the process. */
const cchc_vctx_t *cchc_fuzz_ctx_empty(void);
const cchc_vctx_t *cchc_fuzz_ctx_real(void);

/* Runs cchc_validate of r against both contexts and frees the findings. */
void cchc_fuzz_validate_both(const cchc_report_t *r);

/* A programmer-level invariant: never compiled out (unlike assert under NDEBUG). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
