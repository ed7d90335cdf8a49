/* cchc_config.c: INI loading through a declarative table (see cchc_config.h).
 *
 * libinih reads the file and calls s_handler per key; the handler looks the
 * key up in the table, converts and checks the value, and stores it. inih
 * reports the line of the first key the handler refused, which is how errors
 * carry "FILE:LINE". Cost: linear search of a table of a few dozen entries. */
#include "cchc_config.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <ini.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const cchc_cfg_entry_t *table;
    size_t n;
    void *out;
    const char *path;
    char *dir; /* directory of the file, for relative paths */
    char *err; /* first error message, without the line prefix */
    unsigned char *seen;
    FILE *file;
    int line;     /* line being read (the reader counts) */
    int err_line; /* line of ctx.err */
} s_ctx_t;

/* fgets that counts lines, so the handler knows where it is (inih built
 * without INI_HANDLER_LINENO does not tell). */
static char *s_reader(char *str, int num, void *stream)
{
    s_ctx_t *ctx = stream;
    char *r = fgets(str, num, ctx->file);
    if (r)
        ctx->line++;
    return r;
}

static char *s_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return cchc_strdup(".");
    if (slash == path)
        return cchc_strdup("/");
    return cchc_strndup(path, (size_t)(slash - path));
}

/* Converts text for entry e and stores it in out. On failure returns
 * CCHC_EINVAL with a message in err (no file/line: the caller adds them). */
static int s_store(const cchc_cfg_entry_t *e, void *out, const char *dir, const char *value,
                   char *err, size_t errlen)
{
    char *slot = (char *)out + e->offset;
    switch (e->type) {
    case CCHC_CFG_STRING:
    case CCHC_CFG_PATH: {
        char **sp = (char **)(void *)slot;
        char *v;
        if (e->type == CCHC_CFG_PATH && value[0] && value[0] != '/' && dir)
            v = cchc_asprintf("%s/%s", dir, value);
        else
            v = cchc_strdup(value);
        free(*sp);
        *sp = v;
        return CCHC_OK;
    }
    case CCHC_CFG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end != '\0' || v < e->min || v > e->max) {
            snprintf(err, errlen,
                     "bad value for '%s' in [%s]: '%s' (expected an integer from %lld to %lld)",
                     e->name, e->section, value, (long long)e->min, (long long)e->max);
            return CCHC_EINVAL;
        }
        *(int64_t *)(void *)slot = v;
        return CCHC_OK;
    }
    case CCHC_CFG_BOOL: {
        static const char *yes[] = {"true", "yes", "on", "1"};
        static const char *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(value, yes[i]) == 0) {
                *(int *)(void *)slot = 1;
                return CCHC_OK;
            }
            if (strcasecmp(value, no[i]) == 0) {
                *(int *)(void *)slot = 0;
                return CCHC_OK;
            }
        }
        snprintf(err, errlen, "bad value for '%s' in [%s]: '%s' (expected true or false)", e->name,
                 e->section, value);
        return CCHC_EINVAL;
    }
    case CCHC_CFG_LOGLEVEL: {
        int lvl = cchc_log_parse_level(value);
        if (lvl < 0) {
            snprintf(err, errlen,
                     "bad value for '%s' in [%s]: '%s' (expected debug, info, warn or error)",
                     e->name, e->section, value);
            return CCHC_EINVAL;
        }
        *(int *)(void *)slot = lvl;
        return CCHC_OK;
    }
    }
    snprintf(err, errlen, "internal: unknown config type");
    return CCHC_EINVAL;
}

static const cchc_cfg_entry_t *s_find(const cchc_cfg_entry_t *table, size_t n, const char *section,
                                      const char *name, size_t *idx)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].section, section) == 0 && strcmp(table[i].name, name) == 0) {
            if (idx)
                *idx = i;
            return &table[i];
        }
    }
    return NULL;
}

static int s_section_known(const cchc_cfg_entry_t *table, size_t n, const char *section)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].section, section) == 0)
            return 1;
    return 0;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ctx_t *ctx = user;
    char msg[512];
    if (ctx->err)
        return 1; /* keep only the first error */
    if (!name)    /* a bare [section] line (inih >= 50 with INI_CALL_HANDLER_ON_NEW_SECTION) */
        return 1;
    size_t idx;
    const cchc_cfg_entry_t *e = s_find(ctx->table, ctx->n, section, name, &idx);
    if (!e) {
        if (section[0] == '\0')
            snprintf(msg, sizeof msg, "key '%s' is outside any [section]", name);
        else if (!s_section_known(ctx->table, ctx->n, section))
            snprintf(msg, sizeof msg, "unknown section [%s] (key '%s')", section, name);
        else
            snprintf(msg, sizeof msg, "unknown key '%s' in section [%s]", name, section);
        ctx->err = cchc_strdup(msg);
        ctx->err_line = ctx->line;
        return 0;
    }
    if (ctx->seen[idx]) {
        snprintf(msg, sizeof msg, "key '%s' in section [%s] is set twice", name, section);
        ctx->err = cchc_strdup(msg);
        ctx->err_line = ctx->line;
        return 0;
    }
    if (s_store(e, ctx->out, ctx->dir, value, msg, sizeof msg) != CCHC_OK) {
        ctx->err = cchc_strdup(msg);
        ctx->err_line = ctx->line;
        return 0;
    }
    ctx->seen[idx] = 1;
    return 1;
}

int cchc_config_defaults(const cchc_cfg_entry_t *table, size_t n, void *out, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!table[i].def)
            continue;
        if (s_store(&table[i], out, NULL, table[i].def, err, errlen) != CCHC_OK)
            return CCHC_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!table[i].def) {
            snprintf(err, errlen, "missing required key '%s' in section [%s]", table[i].name,
                     table[i].section);
            return CCHC_EINVAL;
        }
    }
    return CCHC_OK;
}

int cchc_config_load(const char *path, const cchc_cfg_entry_t *table, size_t n, void *out,
                     char *err, size_t errlen)
{
    int rc = CCHC_OK;
    s_ctx_t ctx = {table, n, out, path, NULL, NULL, NULL, NULL, 0, 0};
    char msg[512];
    for (size_t i = 0; i < n; i++) {
        if (table[i].def && s_store(&table[i], out, NULL, table[i].def, msg, sizeof msg)) {
            snprintf(err, errlen, "%s: internal default: %s", path, msg);
            return CCHC_EINVAL;
        }
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "could not open config file \"%s\": %s", path, strerror(errno));
        return CCHC_EIO;
    }
    ctx.dir = s_dirname(path);
    ctx.seen = cchc_calloc(n ? n : 1, 1);
    ctx.file = f;
    int line = ini_parse_stream(s_reader, &ctx, s_handler, &ctx);
    fclose(f);
    if (line != 0 || ctx.err) {
        /* inih returns the first bad line: ours, or an earlier syntax error */
        if (ctx.err && (line <= 0 || line >= ctx.err_line))
            snprintf(err, errlen, "%s:%d: %s", path, ctx.err_line, ctx.err);
        else if (line > 0)
            snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)", path,
                     line);
        else
            snprintf(err, errlen, "%s: could not read the file", path);
        rc = line < 0 ? CCHC_EIO : CCHC_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (!table[i].def && !ctx.seen[i]) {
            snprintf(err, errlen, "%s: missing required key '%s' in section [%s]", path,
                     table[i].name, table[i].section);
            rc = CCHC_EINVAL;
            goto out;
        }
    }
    /* Defaults of path type are relative to the file too. */
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == CCHC_CFG_PATH && !ctx.seen[i] && table[i].def && table[i].def[0] &&
            table[i].def[0] != '/')
            s_store(&table[i], out, ctx.dir, table[i].def, msg, sizeof msg);
    }
out:
    free(ctx.err);
    free(ctx.dir);
    free(ctx.seen);
    return rc;
}

int cchc_config_set(const cchc_cfg_entry_t *table, size_t n, void *out, const char *section,
                    const char *name, const char *value, char *err, size_t errlen)
{
    const cchc_cfg_entry_t *e = s_find(table, n, section, name, NULL);
    if (!e) {
        snprintf(err, errlen, "unknown key '%s' in section [%s]", name, section);
        return CCHC_EINVAL;
    }
    return s_store(e, out, NULL, value, err, errlen);
}

void cchc_config_free(const cchc_cfg_entry_t *table, size_t n, void *out)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == CCHC_CFG_STRING || table[i].type == CCHC_CFG_PATH) {
            char **sp = (char **)(void *)((char *)out + table[i].offset);
            free(*sp);
            *sp = NULL;
        }
    }
}

void cchc_config_describe(const cchc_cfg_entry_t *table, size_t n, void *fp)
{
    FILE *f = fp;
    const char *section = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(section, table[i].section) != 0) {
            section = table[i].section;
            fprintf(f, "  [%s]\n", section);
        }
        char left[96];
        snprintf(left, sizeof left, "%s = %s", table[i].name,
                 table[i].def ? (table[i].def[0] ? table[i].def : "\"\"") : "(required)");
        fprintf(f, "    %-40s %s\n", left, table[i].help ? table[i].help : "");
    }
}

void cchc_config_list_keys(const cchc_cfg_entry_t *table, size_t n, void *fp)
{
    FILE *f = fp;
    for (size_t i = 0; i < n; i++) {
        if (table[i].def)
            fprintf(f, "%s.%s=%s\n", table[i].section, table[i].name, table[i].def);
        else
            fprintf(f, "%s.%s\n", table[i].section, table[i].name);
    }
}
