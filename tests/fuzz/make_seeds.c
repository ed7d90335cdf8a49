/* make_seeds.c: writes seed frames for fuzz_frame into a directory.
 *
 *   make_seeds OUTDIR FIXTURES_DIR
 *
 * One Envelope per fixture report (periodic, remediation, task progress), a Hello,
 * an Ack with a warning, a Nack with findings, a MetaRequest, a newer protocol version
 * and a body this build does not know. Built only with CCHC_FUZZ; the outputs are
 * kept in tests/fuzz/corpus/frame/. */
#include "cchc_err.h"
#include "cchc_report.h"
#include "cchc_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_out;

static void s_write(const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_out, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

static void s_envelope(const char *name, cchc_envelope_t *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_encode(env, &buf, &len) != CCHC_OK) {
        fprintf(stderr, "make_seeds: encode %s failed\n", name);
        exit(1);
    }
    s_write(name, buf, len);
    free(buf);
}

static void s_fixture(const char *fixtures, const char *name)
{
    char path[4096], *text;
    snprintf(path, sizeof path, "%s/%s.json", fixtures, name);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "make_seeds: cannot read %s\n", path);
        exit(1);
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, fp) != (size_t)n) {
        fprintf(stderr, "make_seeds: cannot read %s\n", path);
        exit(1);
    }
    fclose(fp);
    cchc_report_t *r = NULL;
    cchc_findings_t f = CCHC_FINDINGS_INIT;
    if (cchc_report_from_text(text, (size_t)n, &r, &f) != CCHC_OK) {
        fprintf(stderr, "make_seeds: fixture %s does not parse\n", path);
        exit(1);
    }
    cchc_findings_clear(&f);
    free(text);

    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    env.protocol_version = 1;
    env.unit = r->unit;
    env.agent_epoch = 0x1122334455667788ULL;
    env.msg_id = 7;
    env.sent_at_ms = 1727740800000LL;
    env.body_case = CCHC__V1__ENVELOPE__BODY_REPORT;
    env.report = r;
    char out[256];
    snprintf(out, sizeof out, "report_%s.bin", name);
    s_envelope(out, &env);

    /* The report alone, as the payload column keeps it (also a valid prefix shape). */
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_pack_report(r, &buf, &len) == CCHC_OK) {
        snprintf(out, sizeof out, "payload_%s.bin", name);
        s_write(out, buf, len);
        free(buf);
    }
    cchc_report_free(&r);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUTDIR FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    s_out = argv[1];
    s_fixture(argv[2], "periodic");
    s_fixture(argv[2], "remediation");
    s_fixture(argv[2], "task_progress");

    Cchc__V1__Envelope env = CCHC__V1__ENVELOPE__INIT;
    Cchc__V1__Hello hello = CCHC__V1__HELLO__INIT;
    env.protocol_version = 1;
    env.unit = "xa-van-son";
    env.agent_epoch = 0x1122334455667788ULL;
    env.msg_id = 1;
    env.sent_at_ms = 1727740800000LL;
    env.body_case = CCHC__V1__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    hello.agent_version = "0.1.0";
    hello.queue_depth = 3;
    s_envelope("hello.bin", &env);

    Cchc__V1__MetaRequest mr = CCHC__V1__META_REQUEST__INIT;
    env.body_case = CCHC__V1__ENVELOPE__BODY_META_REQUEST;
    env.meta_request = &mr;
    s_envelope("meta_request.bin", &env);

    cchc_findings_t f = CCHC_FINDINGS_INIT;
    cchc_findings_add(&f, "W014", "$.dossiers[0]", "Số liệu không khớp", "Figures do not add up");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cchc_wire_pack_ack("xa-van-son", 0x1122334455667788ULL, 7, 42, 0, &f, &buf, &len) != 0)
        return 1;
    s_write("ack.bin", buf, len);
    free(buf);
    cchc_findings_add(&f, "E016", "$.overdue_dossiers[0].cause", "Thiếu nguyên nhân",
                      "Cause missing");
    if (cchc_wire_pack_nack("xa-van-son", 0x1122334455667788ULL, 8,
                            CCHC__V1__NACK_REASON__NACK_INVALID, "validation", &f, &buf,
                            &len) != 0)
        return 1;
    s_write("nack.bin", buf, len);
    free(buf);
    cchc_findings_clear(&f);

    const uint8_t unknown[] = {0x08, 0x01, 0x20, 0x07, 0xf2, 0x01, 0x02, 0x08, 0x01};
    s_write("unknown_body.bin", unknown, sizeof unknown);
    const uint8_t v2[] = {0x08, 0x02, 0x20, 0x07};
    s_write("version2.bin", v2, sizeof v2);
    return 0;
}
