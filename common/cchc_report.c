/* cchc_report.c: the report model, JSON <-> protobuf (see cchc_report.h).
 *
 * Reading JSON walks the document with a path string kept in step, so every
 * problem is reported with the JSON path of the value it is about
 * ("$.overdue_dossiers[2].cause") and in Vietnamese and English. Reading goes
 * on after a problem, so the officer sees every problem at once.
 * Strings are copied NFC-normalised (a Windows tool may send NFD). */
#include "cchc_report.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define S_COUNT_MAX 100000000LL /* E010: a sane bound for any count */

typedef struct {
    cchc_findings_t *f;
    char path[512];
} s_rd_t;

/* ---- path handling ------------------------------------------------------------ */

static size_t s_push_key(s_rd_t *rd, const char *key)
{
    size_t len = strlen(rd->path);
    snprintf(rd->path + len, sizeof rd->path - len, ".%s", key);
    return len;
}

static size_t s_push_idx(s_rd_t *rd, size_t i)
{
    size_t len = strlen(rd->path);
    snprintf(rd->path + len, sizeof rd->path - len, "[%zu]", i);
    return len;
}

static void s_pop(s_rd_t *rd, size_t len)
{
    rd->path[len] = '\0';
}

static void s_bad(s_rd_t *rd, const char *code, const char *vi, const char *en)
{
    cchc_findings_add(rd->f, code, rd->path, vi, en);
}

static const char *s_type_vi(json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "một đối tượng {…}";
    case JSON_ARRAY:
        return "một danh sách […]";
    case JSON_STRING:
        return "một chuỗi văn bản";
    case JSON_INTEGER:
        return "một số nguyên";
    case JSON_REAL:
        return "một số thực";
    case JSON_TRUE:
    case JSON_FALSE:
        return "true/false";
    default:
        return "null";
    }
}

static void s_wrong_type(s_rd_t *rd, const json_t *v, const char *want_vi, const char *want_en)
{
    char vi[256], en[256];
    snprintf(vi, sizeof vi, "Sai kiểu dữ liệu: cần %s, nhưng nhận được %s.", want_vi,
             s_type_vi(json_typeof(v)));
    snprintf(en, sizeof en, "Wrong type: expected %s.", want_en);
    s_bad(rd, "E000", vi, en);
}

/* Every key of obj must be in allowed (NULL-terminated). */
static void s_known_keys(s_rd_t *rd, const json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            size_t mark = s_push_key(rd, key);
            char vi[300], en[300];
            snprintf(vi, sizeof vi,
                     "Trường \"%.100s\" không có trong mẫu báo cáo: kiểm tra lại chính tả hoặc "
                     "xoá trường này.",
                     key);
            snprintf(en, sizeof en, "Unknown field \"%.100s\": check its spelling or remove it.",
                     key);
            s_bad(rd, "E000", vi, en);
            s_pop(rd, mark);
        }
    }
}

/* ---- scalar readers ----------------------------------------------------------- */

/* Copies a JSON string value into a new NFC string; NULL (and a finding) on failure. */
static char *s_text(s_rd_t *rd, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len > CCHC_REPORT_MAX_TEXT) {
        char vi[200], en[200];
        snprintf(vi, sizeof vi, "Văn bản quá dài (%zu byte, tối đa %d): hãy rút gọn.", len,
                 CCHC_REPORT_MAX_TEXT);
        snprintf(en, sizeof en, "Text too long (%zu bytes, at most %d): shorten it.", len,
                 CCHC_REPORT_MAX_TEXT);
        s_bad(rd, "E050", vi, en);
        return NULL;
    }
    if (!cchc_wire_text_ok(s, len)) {
        s_bad(rd, "E050",
              "Văn bản chứa ký tự không hợp lệ (không phải UTF-8 hoặc có ký tự NUL): lưu lại tệp "
              "ở dạng UTF-8.",
              "Text is not valid UTF-8 or holds a NUL character: save the file as UTF-8.");
        return NULL;
    }
    utf8proc_uint8_t *nfc = utf8proc_NFC((const utf8proc_uint8_t *)s);
    if (!nfc) {
        s_bad(rd, "E050", "Văn bản không chuẩn hoá được sang NFC.",
              "Text could not be normalised to NFC.");
        return NULL;
    }
    return (char *)nfc;
}

/* Reads obj.key as a string into *out (left as the protobuf default when absent
 * or null). required: absent/empty is a finding. */
static void s_str(s_rd_t *rd, const json_t *obj, const char *key, int required, char **out)
{
    const json_t *v = json_object_get(obj, key);
    size_t mark = s_push_key(rd, key);
    if (!v || json_is_null(v)) {
        if (required) {
            char vi[200], en[200];
            snprintf(vi, sizeof vi, "Thiếu trường bắt buộc \"%s\".", key);
            snprintf(en, sizeof en, "Required field \"%s\" is missing.", key);
            s_bad(rd, "E000", vi, en);
        }
    } else if (!json_is_string(v)) {
        s_wrong_type(rd, v, "một chuỗi văn bản", "a string");
    } else {
        char *t = s_text(rd, v);
        if (t && required && t[0] == '\0') {
            char vi[200], en[200];
            snprintf(vi, sizeof vi, "Trường bắt buộc \"%s\" đang để trống.", key);
            snprintf(en, sizeof en, "Required field \"%s\" is empty.", key);
            s_bad(rd, "E000", vi, en);
        }
        if (t)
            *out = t;
    }
    s_pop(rd, mark);
}

/* Reads obj.key as an integer count (E010: integer, >= 0, below a bound). */
static void s_count(s_rd_t *rd, const json_t *obj, const char *key, int required, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);
    size_t mark = s_push_key(rd, key);
    if (!v || json_is_null(v)) {
        if (required) {
            char vi[200], en[200];
            snprintf(vi, sizeof vi, "Thiếu số liệu \"%s\": ghi 0 nếu không có.", key);
            snprintf(en, sizeof en, "Missing count \"%s\": write 0 if there is none.", key);
            s_bad(rd, "E010", vi, en);
        }
    } else if (!json_is_integer(v)) {
        s_bad(rd, "E010", "Số liệu phải là số nguyên (ví dụ 12), không phải chữ hay số thập phân.",
              "A count must be an integer (e.g. 12), not text or a decimal.");
    } else if (json_integer_value(v) < 0 || json_integer_value(v) > S_COUNT_MAX) {
        s_bad(rd, "E010", "Số liệu phải từ 0 đến 100.000.000.",
              "A count must be between 0 and 100,000,000.");
    } else {
        *out = json_integer_value(v);
    }
    s_pop(rd, mark);
}

static const json_t *s_obj(s_rd_t *rd, const json_t *obj, const char *key, int required)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) {
            size_t mark = s_push_key(rd, key);
            char vi[200], en[200];
            snprintf(vi, sizeof vi, "Thiếu mục bắt buộc \"%s\".", key);
            snprintf(en, sizeof en, "Required section \"%s\" is missing.", key);
            s_bad(rd, "E000", vi, en);
            s_pop(rd, mark);
        }
        return NULL;
    }
    if (!json_is_object(v)) {
        size_t mark = s_push_key(rd, key);
        s_wrong_type(rd, v, "một đối tượng {…}", "an object");
        s_pop(rd, mark);
        return NULL;
    }
    return v;
}

static const json_t *s_arr(s_rd_t *rd, const json_t *obj, const char *key, int required)
{
    const json_t *v = json_object_get(obj, key);
    size_t mark = s_push_key(rd, key);
    const json_t *res = NULL;
    if (!v || json_is_null(v)) {
        if (required) {
            char vi[200], en[200];
            snprintf(vi, sizeof vi, "Thiếu danh sách bắt buộc \"%s\".", key);
            snprintf(en, sizeof en, "Required list \"%s\" is missing.", key);
            s_bad(rd, "E000", vi, en);
        }
    } else if (!json_is_array(v)) {
        s_wrong_type(rd, v, "một danh sách […]", "a list");
    } else if (json_array_size(v) > CCHC_REPORT_MAX_ITEMS) {
        s_bad(rd, "E050", "Danh sách quá dài (tối đa 10.000 mục).",
              "List too long (at most 10,000 entries).");
    } else {
        res = v;
    }
    s_pop(rd, mark);
    return res;
}

/* Reads a list of strings (evidence). */
static void s_strlist(s_rd_t *rd, const json_t *obj, const char *key, char ***out, size_t *n)
{
    const json_t *arr = s_arr(rd, obj, key, 0);
    if (!arr)
        return;
    size_t mark = s_push_key(rd, key), i;
    const json_t *v;
    *out = cchc_calloc(json_array_size(arr), sizeof **out);
    json_array_foreach(arr, i, v)
    {
        size_t m2 = s_push_idx(rd, i);
        if (!json_is_string(v)) {
            s_wrong_type(rd, v, "một chuỗi văn bản", "a string");
        } else {
            char *t = s_text(rd, v);
            if (t)
                (*out)[(*n)++] = t;
        }
        s_pop(rd, m2);
    }
    s_pop(rd, mark);
}

/* ---- messages -------------------------------------------------------------------- */

static Cchc__V1__Document *s_document(s_rd_t *rd, const json_t *obj, int required)
{
    static const char *const keys[] = {"number", "date", "signer", "capacity", NULL};
    const json_t *o = s_obj(rd, obj, "document", required);
    if (!o)
        return NULL;
    Cchc__V1__Document *d = cchc_malloc(sizeof *d);
    cchc__v1__document__init(d);
    size_t mark = s_push_key(rd, "document");
    s_known_keys(rd, o, keys);
    s_str(rd, o, "number", 0, &d->number);
    s_str(rd, o, "date", 0, &d->date);
    s_str(rd, o, "signer", 0, &d->signer);
    s_str(rd, o, "capacity", 0, &d->capacity);
    s_pop(rd, mark);
    return d;
}

static Cchc__V1__Narrative *s_narrative(s_rd_t *rd, const json_t *obj)
{
    static const char *const keys[] = {"results",    "shortcomings", "causes",
                                       "next_tasks", "proposals",    NULL};
    const json_t *o = s_obj(rd, obj, "narrative", 0);
    if (!o)
        return NULL;
    Cchc__V1__Narrative *n = cchc_malloc(sizeof *n);
    cchc__v1__narrative__init(n);
    size_t mark = s_push_key(rd, "narrative");
    s_known_keys(rd, o, keys);
    s_str(rd, o, "results", 0, &n->results);
    s_str(rd, o, "shortcomings", 0, &n->shortcomings);
    s_str(rd, o, "causes", 0, &n->causes);
    s_str(rd, o, "next_tasks", 0, &n->next_tasks);
    s_str(rd, o, "proposals", 0, &n->proposals);
    s_pop(rd, mark);
    return n;
}

/* Runs fn over each object of obj.key, collecting the results into out and n. */
typedef void *(*s_item_fn)(s_rd_t *rd, const json_t *item);

static void s_list(s_rd_t *rd, const json_t *obj, const char *key, int required, s_item_fn fn,
                   void ***out, size_t *n)
{
    const json_t *arr = s_arr(rd, obj, key, required);
    if (!arr)
        return;
    size_t mark = s_push_key(rd, key), i;
    const json_t *v;
    *out = cchc_calloc(json_array_size(arr), sizeof **out);
    json_array_foreach(arr, i, v)
    {
        size_t m2 = s_push_idx(rd, i);
        if (!json_is_object(v))
            s_wrong_type(rd, v, "một đối tượng {…}", "an object");
        else
            (*out)[(*n)++] = fn(rd, v);
        s_pop(rd, m2);
    }
    s_pop(rd, mark);
}

/* An optional total: NULL when absent. */
static Cchc__V1__Count *s_total(s_rd_t *rd, const json_t *o, const char *key)
{
    if (!json_object_get(o, key) || json_is_null(json_object_get(o, key)))
        return NULL;
    Cchc__V1__Count *c = cchc_malloc(sizeof *c);
    cchc__v1__count__init(c);
    s_count(rd, o, key, 0, &c->value);
    return c;
}

static void *s_dossier_row(s_rd_t *rd, const json_t *o)
{
    static const char *const keys[] = {"field",           "carried_over",
                                       "new_online",      "new_direct_postal",
                                       "resolved_early",  "resolved_on_time",
                                       "resolved_late",   "pending_in_time",
                                       "pending_overdue", "comment",
                                       "received",        "resolved",
                                       "pending",         NULL};
    Cchc__V1__DossierRow *r = cchc_malloc(sizeof *r);
    cchc__v1__dossier_row__init(r);
    s_known_keys(rd, o, keys);
    s_str(rd, o, "field", 1, &r->field);
    s_count(rd, o, "carried_over", 1, &r->carried_over);
    s_count(rd, o, "new_online", 1, &r->new_online);
    s_count(rd, o, "new_direct_postal", 1, &r->new_direct_postal);
    s_count(rd, o, "resolved_early", 1, &r->resolved_early);
    s_count(rd, o, "resolved_on_time", 1, &r->resolved_on_time);
    s_count(rd, o, "resolved_late", 1, &r->resolved_late);
    s_count(rd, o, "pending_in_time", 1, &r->pending_in_time);
    s_count(rd, o, "pending_overdue", 1, &r->pending_overdue);
    s_str(rd, o, "comment", 0, &r->comment);
    r->received = s_total(rd, o, "received");
    r->resolved = s_total(rd, o, "resolved");
    r->pending = s_total(rd, o, "pending");
    return r;
}

static void *s_overdue(s_rd_t *rd, const json_t *o)
{
    static const char *const keys[] = {"code",     "field", "procedure", "received", "due",
                                       "resolved", "cause", "remedy",    "apology",  NULL};
    static const char *const akeys[] = {"number", "date", "new_due", NULL};
    Cchc__V1__OverdueDossier *d = cchc_malloc(sizeof *d);
    cchc__v1__overdue_dossier__init(d);
    s_known_keys(rd, o, keys);
    s_str(rd, o, "code", 1, &d->code);
    s_str(rd, o, "field", 1, &d->field);
    s_str(rd, o, "procedure", 0, &d->procedure);
    s_str(rd, o, "received", 0, &d->received);
    s_str(rd, o, "due", 0, &d->due);
    s_str(rd, o, "resolved", 0, &d->resolved);
    s_str(rd, o, "cause", 0, &d->cause);
    s_str(rd, o, "remedy", 0, &d->remedy);
    const json_t *a = s_obj(rd, o, "apology", 0);
    if (a) {
        size_t mark = s_push_key(rd, "apology");
        d->apology = cchc_malloc(sizeof *d->apology);
        cchc__v1__apology_slip__init(d->apology);
        s_known_keys(rd, a, akeys);
        s_str(rd, a, "number", 0, &d->apology->number);
        s_str(rd, a, "date", 0, &d->apology->date);
        s_str(rd, a, "new_due", 0, &d->apology->new_due);
        s_pop(rd, mark);
    }
    return d;
}

static void *s_initiative(s_rd_t *rd, const json_t *o)
{
    static const char *const keys[] = {"title", "status", NULL};
    Cchc__V1__Initiative *x = cchc_malloc(sizeof *x);
    cchc__v1__initiative__init(x);
    s_known_keys(rd, o, keys);
    s_str(rd, o, "title", 1, &x->title);
    s_str(rd, o, "status", 0, &x->status);
    return x;
}

static void *s_communication(s_rd_t *rd, const json_t *o)
{
    static const char *const keys[] = {"form", "count", NULL};
    Cchc__V1__Communication *x = cchc_malloc(sizeof *x);
    cchc__v1__communication__init(x);
    s_known_keys(rd, o, keys);
    s_str(rd, o, "form", 1, &x->form);
    s_count(rd, o, "count", 0, &x->count);
    return x;
}

static void *s_rem_item(s_rd_t *rd, const json_t *o)
{
    static const char *const keys[] = {"finding", "status", "actions",     "evidence",
                                       "cause",   "plan",   "expected_by", NULL};
    Cchc__V1__RemediationItem *x = cchc_malloc(sizeof *x);
    cchc__v1__remediation_item__init(x);
    s_known_keys(rd, o, keys);
    s_count(rd, o, "finding", 1, &x->finding);
    s_str(rd, o, "status", 1, &x->status);
    s_str(rd, o, "actions", 0, &x->actions);
    s_strlist(rd, o, "evidence", &x->evidence, &x->n_evidence);
    s_str(rd, o, "cause", 0, &x->cause);
    s_str(rd, o, "plan", 0, &x->plan);
    s_str(rd, o, "expected_by", 0, &x->expected_by);
    return x;
}

static const char *const s_top_common[] = {"type", "unit", "period", "revision", NULL};

static int s_allowed(const char *key, const char *const *a, const char *const *b)
{
    for (; *a; a++)
        if (strcmp(*a, key) == 0)
            return 1;
    for (; *b; b++)
        if (strcmp(*b, key) == 0)
            return 1;
    return 0;
}

int cchc_report_from_json(const json_t *root, cchc_report_t **out, cchc_findings_t *f)
{
    static const char *const periodic_keys[] = {
        "document",    "narrative",     "dossiers", "overdue_dossiers",
        "initiatives", "communication", NULL};
    static const char *const rem_keys[] = {"inspection", "document", "items", NULL};
    static const char *const task_keys[] = {"task",   "status",   "percent",
                                            "result", "evidence", NULL};
    s_rd_t rd = {f, "$"};
    size_t errors_before = f->errors;
    *out = NULL;
    if (!json_is_object(root)) {
        s_wrong_type(&rd, root, "một đối tượng {…} (toàn bộ báo cáo)", "an object (the report)");
        return CCHC_EINVAL;
    }
    cchc_report_t *r = cchc_malloc(sizeof *r);
    cchc__v1__report__init(r);
    s_str(&rd, root, "type", 1, &r->type);
    s_str(&rd, root, "unit", 1, &r->unit);
    s_str(&rd, root, "period", 0, &r->period);
    r->revision = 1;
    s_count(&rd, root, "revision", 0, &r->revision);

    const char *const *kind_keys;
    if (json_object_get(root, "inspection") || json_object_get(root, "items")) {
        kind_keys = rem_keys;
        r->content_case = CCHC__V1__REPORT__CONTENT_REMEDIATION;
        Cchc__V1__Remediation *m = cchc_malloc(sizeof *m);
        cchc__v1__remediation__init(m);
        r->remediation = m;
        s_str(&rd, root, "inspection", 1, &m->inspection);
        m->document = s_document(&rd, root, 0);
        s_list(&rd, root, "items", 1, s_rem_item, (void ***)&m->items, &m->n_items);
    } else if (json_object_get(root, "task")) {
        kind_keys = task_keys;
        r->content_case = CCHC__V1__REPORT__CONTENT_TASK_PROGRESS;
        Cchc__V1__TaskProgress *m = cchc_malloc(sizeof *m);
        cchc__v1__task_progress__init(m);
        r->task_progress = m;
        s_str(&rd, root, "task", 1, &m->task);
        s_str(&rd, root, "status", 1, &m->status);
        s_count(&rd, root, "percent", 0, &m->percent);
        s_str(&rd, root, "result", 0, &m->result);
        s_strlist(&rd, root, "evidence", &m->evidence, &m->n_evidence);
    } else {
        kind_keys = periodic_keys;
        r->content_case = CCHC__V1__REPORT__CONTENT_PERIODIC;
        Cchc__V1__Periodic *m = cchc_malloc(sizeof *m);
        cchc__v1__periodic__init(m);
        r->periodic = m;
        if (!json_object_get(root, "period")) {
            size_t mark = s_push_key(&rd, "period");
            s_bad(&rd, "E000", "Báo cáo định kỳ phải ghi kỳ báo cáo, ví dụ \"2024Q3\".",
                  "A periodic report needs its period, e.g. \"2024Q3\".");
            s_pop(&rd, mark);
        }
        m->document = s_document(&rd, root, 0);
        m->narrative = s_narrative(&rd, root);
        s_list(&rd, root, "dossiers", 0, s_dossier_row, (void ***)&m->dossiers, &m->n_dossiers);
        s_list(&rd, root, "overdue_dossiers", 0, s_overdue, (void ***)&m->overdue_dossiers,
               &m->n_overdue_dossiers);
        s_list(&rd, root, "initiatives", 0, s_initiative, (void ***)&m->initiatives,
               &m->n_initiatives);
        s_list(&rd, root, "communication", 0, s_communication, (void ***)&m->communication,
               &m->n_communication);
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        if (!s_allowed(key, s_top_common, kind_keys)) {
            size_t mark = s_push_key(&rd, key);
            char vi[300], en[300];
            snprintf(vi, sizeof vi,
                     "Trường \"%.100s\" không thuộc loại báo cáo này: kiểm tra lại chính tả hoặc "
                     "xoá trường này.",
                     key);
            snprintf(en, sizeof en,
                     "Field \"%.100s\" does not belong to this kind of report: check its "
                     "spelling or remove it.",
                     key);
            s_bad(&rd, "E000", vi, en);
            s_pop(&rd, mark);
        }
    }
    if (f->errors > errors_before) {
        cchc_report_free(&r);
        return CCHC_EINVAL;
    }
    *out = r;
    return CCHC_OK;
}

int cchc_report_from_text(const char *text, size_t len, cchc_report_t **out, cchc_findings_t *f)
{
    json_error_t e;
    *out = NULL;
    if (len > CCHC_REPORT_MAX_JSON) {
        cchc_findings_add(f, "E050", "$", "Tệp báo cáo quá lớn (tối đa 4 MB).",
                          "The report file is too large (at most 4 MB).");
        return CCHC_EINVAL;
    }
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        char vi[400], en[400];
        enum json_error_code code = json_error_code(&e);
        int enc = code == json_error_invalid_utf8 || code == json_error_null_character ||
                  memchr(text, '\0', len) != NULL;
        snprintf(vi, sizeof vi, "Tệp không đúng định dạng JSON ở dòng %d, cột %d: %s%s", e.line,
                 e.column, e.text,
                 enc ? " (tệp phải được lưu ở dạng UTF-8, không chứa ký tự NUL)" : "");
        snprintf(en, sizeof en, "Not valid JSON at line %d, column %d: %s", e.line, e.column,
                 e.text);
        cchc_findings_add(f, enc ? "E050" : "E000", "$", vi, en);
        return CCHC_EINVAL;
    }
    int rc = cchc_report_from_json(root, out, f);
    json_decref(root);
    return rc;
}

/* ---- model -> JSON ---------------------------------------------------------------- */

static void s_put(json_t *o, const char *key, const char *s)
{
    if (s && s[0])
        json_object_set_new(o, key, json_string(s));
}

static json_t *s_strs(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    return a;
}

static json_t *s_doc_json(const Cchc__V1__Document *d)
{
    json_t *o = json_object();
    s_put(o, "number", d->number);
    s_put(o, "date", d->date);
    s_put(o, "signer", d->signer);
    s_put(o, "capacity", d->capacity);
    return o;
}

static void s_periodic_json(json_t *o, const Cchc__V1__Periodic *p)
{
    if (p->document)
        json_object_set_new(o, "document", s_doc_json(p->document));
    if (p->narrative) {
        json_t *n = json_object();
        s_put(n, "results", p->narrative->results);
        s_put(n, "shortcomings", p->narrative->shortcomings);
        s_put(n, "causes", p->narrative->causes);
        s_put(n, "next_tasks", p->narrative->next_tasks);
        s_put(n, "proposals", p->narrative->proposals);
        json_object_set_new(o, "narrative", n);
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < p->n_dossiers; i++) {
        const Cchc__V1__DossierRow *r = p->dossiers[i];
        json_t *x = json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "field", r->field, "carried_over",
            (json_int_t)r->carried_over, "new_online", (json_int_t)r->new_online,
            "new_direct_postal", (json_int_t)r->new_direct_postal, "resolved_early",
            (json_int_t)r->resolved_early, "resolved_on_time", (json_int_t)r->resolved_on_time,
            "resolved_late", (json_int_t)r->resolved_late, "pending_in_time",
            (json_int_t)r->pending_in_time, "pending_overdue", (json_int_t)r->pending_overdue);
        s_put(x, "comment", r->comment);
        if (r->received)
            json_object_set_new(x, "received", json_integer(r->received->value));
        if (r->resolved)
            json_object_set_new(x, "resolved", json_integer(r->resolved->value));
        if (r->pending)
            json_object_set_new(x, "pending", json_integer(r->pending->value));
        json_array_append_new(rows, x);
    }
    json_object_set_new(o, "dossiers", rows);
    json_t *od = json_array();
    for (size_t i = 0; i < p->n_overdue_dossiers; i++) {
        const Cchc__V1__OverdueDossier *d = p->overdue_dossiers[i];
        json_t *x = json_object();
        s_put(x, "code", d->code);
        s_put(x, "field", d->field);
        s_put(x, "procedure", d->procedure);
        s_put(x, "received", d->received);
        s_put(x, "due", d->due);
        if (d->resolved && d->resolved[0])
            s_put(x, "resolved", d->resolved);
        else
            json_object_set_new(x, "resolved", json_null());
        s_put(x, "cause", d->cause);
        s_put(x, "remedy", d->remedy);
        if (d->apology) {
            json_t *a = json_object();
            s_put(a, "number", d->apology->number);
            s_put(a, "date", d->apology->date);
            s_put(a, "new_due", d->apology->new_due);
            json_object_set_new(x, "apology", a);
        }
        json_array_append_new(od, x);
    }
    json_object_set_new(o, "overdue_dossiers", od);
    if (p->n_initiatives) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_initiatives; i++) {
            json_t *x = json_object();
            s_put(x, "title", p->initiatives[i]->title);
            s_put(x, "status", p->initiatives[i]->status);
            json_array_append_new(a, x);
        }
        json_object_set_new(o, "initiatives", a);
    }
    if (p->n_communication) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_communication; i++) {
            json_t *x = json_object();
            s_put(x, "form", p->communication[i]->form);
            json_object_set_new(x, "count", json_integer(p->communication[i]->count));
            json_array_append_new(a, x);
        }
        json_object_set_new(o, "communication", a);
    }
}

static void s_remediation_json(json_t *o, const Cchc__V1__Remediation *m)
{
    s_put(o, "inspection", m->inspection);
    if (m->document)
        json_object_set_new(o, "document", s_doc_json(m->document));
    json_t *items = json_array();
    for (size_t i = 0; i < m->n_items; i++) {
        const Cchc__V1__RemediationItem *it = m->items[i];
        json_t *x = json_object();
        json_object_set_new(x, "finding", json_integer(it->finding));
        s_put(x, "status", it->status);
        s_put(x, "actions", it->actions);
        if (it->n_evidence)
            json_object_set_new(x, "evidence", s_strs(it->evidence, it->n_evidence));
        s_put(x, "cause", it->cause);
        s_put(x, "plan", it->plan);
        s_put(x, "expected_by", it->expected_by);
        json_array_append_new(items, x);
    }
    json_object_set_new(o, "items", items);
}

json_t *cchc_report_to_json(const cchc_report_t *r)
{
    json_t *o = json_object();
    s_put(o, "type", r->type);
    s_put(o, "unit", r->unit);
    s_put(o, "period", r->period);
    json_object_set_new(o, "revision", json_integer(r->revision));
    switch (r->content_case) {
    case CCHC__V1__REPORT__CONTENT_PERIODIC:
        s_periodic_json(o, r->periodic);
        break;
    case CCHC__V1__REPORT__CONTENT_REMEDIATION:
        s_remediation_json(o, r->remediation);
        break;
    case CCHC__V1__REPORT__CONTENT_TASK_PROGRESS: {
        const Cchc__V1__TaskProgress *t = r->task_progress;
        s_put(o, "task", t->task);
        s_put(o, "status", t->status);
        json_object_set_new(o, "percent", json_integer(t->percent));
        s_put(o, "result", t->result);
        if (t->n_evidence)
            json_object_set_new(o, "evidence", s_strs(t->evidence, t->n_evidence));
        break;
    }
    default:
        break;
    }
    return o;
}

const char *cchc_report_kind(const cchc_report_t *r)
{
    switch (r->content_case) {
    case CCHC__V1__REPORT__CONTENT_PERIODIC:
        return r->periodic ? "periodic" : NULL;
    case CCHC__V1__REPORT__CONTENT_REMEDIATION:
        return r->remediation ? "remediation" : NULL;
    case CCHC__V1__REPORT__CONTENT_TASK_PROGRESS:
        return r->task_progress ? "task_progress" : NULL;
    default:
        return NULL;
    }
}

void cchc_report_free(cchc_report_t **r)
{
    if (!r || !*r)
        return;
    protobuf_c_message_free_unpacked(&(*r)->base, NULL);
    *r = NULL;
}
