/* web_query.c: request targets and query values, read strictly (see
 * web_query.h).
 *
 * The grammar accepted is narrower than RFC 3986 on purpose: a path of
 * [A-Za-z0-9/._-] (anything else cannot be a route, so it is a 404), then
 * at most one '?' and name=value pairs joined by '&', names of
 * [a-z0-9_], values percent-encoded or plain, '+' for a space. Decoded
 * values must be UTF-8 without control characters. */
#include "web_query.h"
#include "cchc_period.h"
#include "cchc_wire.h"

#include <ctype.h>
#include <string.h>

static int s_refuse(web_refusal_t *why, int status, const char *vi, const char *en)
{
    why->status = status;
    why->vi = vi;
    why->en = en;
    return -1;
}

static int s_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (at most cap - 1 bytes, then NUL). 0, or -1 with why. */
static int s_decode(const char *s, size_t n, char *out, size_t cap, web_refusal_t *why)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || s_hex(s[i + 1]) < 0 || s_hex(s[i + 2]) < 0)
                return s_refuse(why, 400, "dấu % phải có hai chữ số hệ 16 theo sau",
                                "a % must be followed by two hex digits");
            c = s_hex(s[i + 1]) * 16 + s_hex(s[i + 2]);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        } else if (c <= 0x20 || c >= 0x7F) {
            return s_refuse(why, 400, "ký tự không hợp lệ trong tham số",
                            "a character not allowed in a query string");
        }
        if (c == 0 || c < 0x20 || c == 0x7F)
            return s_refuse(why, 400, "tham số chứa ký tự điều khiển (NUL…)",
                            "a parameter holds a control character (NUL...)");
        if (k + 1 >= cap)
            return s_refuse(why, 400, "giá trị tham số quá dài", "a parameter value is too long");
        out[k++] = (char)c;
    }
    out[k] = '\0';
    if (!cchc_wire_text_ok(out, k))
        return s_refuse(why, 400, "tham số không phải UTF-8 hợp lệ",
                        "a parameter is not valid UTF-8");
    return 0;
}

static int s_pair(web_target_t *t, const char *s, size_t n, web_refusal_t *why)
{
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return s_refuse(why, 400, "tham số thiếu dấu =", "a parameter without '='");
    size_t nlen = (size_t)(eq - s);
    if (nlen == 0 || nlen > WEB_QUERY_NAME_MAX)
        return s_refuse(why, 400, "tên tham số không hợp lệ", "a parameter name is not valid");
    for (size_t i = 0; i < nlen; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return s_refuse(why, 400, "tên tham số không hợp lệ", "a parameter name is not valid");
    if (t->nparams == WEB_QUERY_PARAMS_MAX)
        return s_refuse(why, 400, "quá nhiều tham số", "too many parameters");
    web_param_t *p = &t->params[t->nparams];
    memcpy(p->name, s, nlen);
    p->name[nlen] = '\0';
    for (int i = 0; i < t->nparams; i++)
        if (strcmp(t->params[i].name, p->name) == 0)
            return s_refuse(why, 400, "một tham số được cho hai lần", "a parameter is given twice");
    const char *v = eq + 1;
    if (s_decode(v, (size_t)(s + n - v), p->value, sizeof p->value, why) != 0)
        return -1;
    if (p->value[0])
        t->nparams++;
    return 0;
}

int web_target_parse(const char *raw, web_target_t *t, web_refusal_t *why)
{
    memset(t, 0, sizeof *t);
    size_t n = strnlen(raw, WEB_TARGET_MAX + 1);
    if (n > WEB_TARGET_MAX)
        return s_refuse(why, 414, "địa chỉ quá dài", "the request target is too long");
    if (raw[0] != '/')
        return s_refuse(why, 400, "địa chỉ phải bắt đầu bằng /",
                        "the request target must start with /");
    const char *q = strchr(raw, '?');
    size_t plen = q ? (size_t)(q - raw) : n;
    if (plen > WEB_PATH_MAX)
        return s_refuse(why, 404, "không có trang này", "no such page");
    for (size_t i = 0; i < plen; i++)
        if (!(isalnum((unsigned char)raw[i]) || strchr("/._-", raw[i])))
            return s_refuse(why, 404, "không có trang này", "no such page");
    memcpy(t->path, raw, plen);
    t->path[plen] = '\0';
    if (!q)
        return 0;
    for (const char *s = q + 1; *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        if (len > 0 && s_pair(t, s, len, why) != 0)
            return -1;
        s += len + (amp ? 1 : 0);
    }
    return 0;
}

const char *web_target_get(const web_target_t *t, const char *name)
{
    for (int i = 0; i < t->nparams; i++)
        if (strcmp(t->params[i].name, name) == 0)
            return t->params[i].value;
    return NULL;
}

int web_target_only(const web_target_t *t, const char *const *allowed, web_refusal_t *why)
{
    for (int i = 0; i < t->nparams; i++) {
        int ok = 0;
        for (size_t k = 0; allowed && allowed[k]; k++)
            ok |= strcmp(t->params[i].name, allowed[k]) == 0;
        if (!ok)
            return s_refuse(why, 400, "trang này không nhận tham số đó",
                            "this page does not take that parameter");
    }
    return 0;
}

int web_value_period(const char *v, char *buf, size_t len, web_refusal_t *why)
{
    size_t n = strlen(v);
    cchc_period_t p;
    if (n == 0 || n >= len || n > 6)
        goto bad;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)toupper((unsigned char)v[i]);
    if (cchc_period_parse(buf, &p) == 0)
        return 0;
bad:
    return s_refuse(why, 400,
                    "kỳ báo cáo (period) không đúng dạng 2024Q1, 2024S1, 2024N9, 2024, 202406",
                    "period is not a period id such as 2024Q1, 2024S1, 2024N9, 2024, 202406");
}

int web_value_type(const char *v, char *buf, size_t len, web_refusal_t *why)
{
    size_t n = strlen(v);
    if (n == 0 || n > 32 || n >= len)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!(isalnum(c) || c == '_'))
            goto bad;
        buf[i] = (char)toupper(c);
    }
    buf[n] = '\0';
    return 0;
bad:
    return s_refuse(why, 400, "loại báo cáo (type) không đúng dạng, ví dụ CCHC_DK",
                    "type is not a report type code such as CCHC_DK");
}

int web_value_year(const char *v, int *year, web_refusal_t *why)
{
    if (strlen(v) == 4 && isdigit((unsigned char)v[0]) && isdigit((unsigned char)v[1]) &&
        isdigit((unsigned char)v[2]) && isdigit((unsigned char)v[3])) {
        int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
        if (y >= 2000 && y <= 2199) {
            *year = y;
            return 0;
        }
    }
    return s_refuse(why, 400, "năm (year) phải từ 2000 đến 2199", "year must be 2000-2199");
}
