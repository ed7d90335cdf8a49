/* cchc_findings.c: a growable list of findings (see cchc_findings.h). */
#include "cchc_findings.h"
#include "cchc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cchc_findings_add(cchc_findings_t *f, const char *code, const char *path, const char *vi,
                       const char *en)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->v = cchc_realloc(f->v, f->cap * sizeof *f->v);
    }
    cchc_finding_t *x = &f->v[f->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->code, sizeof x->code, "%s", code ? code : "");
    x->path = cchc_strdup(path ? path : "$");
    x->msg_vi = cchc_strdup(vi ? vi : "");
    x->msg_en = cchc_strdup(en ? en : "");
    if (x->code[0] == 'E')
        f->errors++;
    else
        f->warnings++;
}

void cchc_findings_clear(cchc_findings_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].path);
        free(f->v[i].msg_vi);
        free(f->v[i].msg_en);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}

json_t *cchc_findings_to_json(const cchc_findings_t *f)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < f->n; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "code", f->v[i].code, "path",
                                             f->v[i].path, "message_vi", f->v[i].msg_vi,
                                             "message_en", f->v[i].msg_en));
    }
    return arr;
}

void cchc_findings_from_json(cchc_findings_t *f, const json_t *arr)
{
    size_t i;
    json_t *it;
    if (!json_is_array(arr))
        return;
    json_array_foreach(arr, i, it)
    {
        const char *code = json_string_value(json_object_get(it, "code"));
        if (!code)
            continue;
        cchc_findings_add(f, code, json_string_value(json_object_get(it, "path")),
                          json_string_value(json_object_get(it, "message_vi")),
                          json_string_value(json_object_get(it, "message_en")));
    }
}
