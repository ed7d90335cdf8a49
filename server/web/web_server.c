/* web_server.c: the HTTP side of cchc-web (see web_server.h).
 *
 * Owns the listening socket (bound here, so that a refusal has its errno),
 * the libmicrohttpd daemon, the database connection and the authenticator.
 * A request gets a small record at its start (s_on_target: the raw target,
 * before libmicrohttpd unescapes anything), answered once in s_handle, and
 * logged and freed at its end (s_on_done). */
#include "web_server.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "web_auth.h"
#include "web_db.h"
#include "web_gate.h"
#include "web_page.h"
#include "web_static.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MEMORY_LIMIT 16384 /* bytes a connection may use: request line and headers */

struct web {
    const web_config_t *cfg;
    struct MHD_Daemon *mhd;
    web_db_t *db;
    web_auth_t *auth; /* NULL: no authentication */
    web_gate_t *gate; /* accepts, and hands libmicrohttpd what is HTTP/1.x */
};

/* One request, from its target to its log line. */
typedef struct {
    char *raw;                   /* the target as sent, NULL when over WEB_TARGET_MAX */
    int64_t t0_ms;               /* monotonic, at the request line */
    int status;                  /* what it was answered (0: libmicrohttpd answered) */
    int answered;                /* s_handle queued a response */
    char path[WEB_PATH_MAX + 1]; /* for the log: the checked path, or "-" */
    char addr[48];               /* the client's address, for the log */
} s_req_t;

/* ---- routes ------------------------------------------------------------------------------ */

static const char *const s_period_type[] = {"period", "type", NULL};
static const char *const s_year[] = {"year", NULL};

/* Pages, at their path and (api) under /api: the same data as JSON. */
static const struct {
    const char *path;
    web_page_fn fn;
    const char *const *params;
    int html, api; /* served as a page, as /api<path> */
} s_routes[] = {
    {"/", web_page_overview, NULL, 1, 1},
    {"/status", web_page_status, s_period_type, 1, 1},
    {"/overdue", web_page_overdue, s_period_type, 1, 1},
    {"/dossiers", web_page_dossiers, s_period_type, 1, 1},
    {"/remediation", web_page_remediation, NULL, 1, 1},
    {"/tasks", web_page_tasks, s_year, 1, 1},
    {"/agents", web_page_agents, NULL, 1, 1},
    {"/summary", web_page_summary, s_period_type, 1, 1},
    {"/summary.xlsx", web_page_summary_xlsx, s_period_type, 1, 0},
};
#define S_NROUTES (sizeof s_routes / sizeof s_routes[0])

/* The route of path (api set for /api...), or -1. "/api" and "/api/" are the
 * overview's JSON. */
static int s_route(const char *path, int *api)
{
    *api = 0;
    if (strcmp(path, "/api") == 0 || strcmp(path, "/api/") == 0) {
        *api = 1;
        return 0;
    }
    if (strncmp(path, "/api/", 5) == 0) {
        for (size_t i = 1; i < S_NROUTES; i++)
            if (s_routes[i].api && strcmp(path + 4, s_routes[i].path) == 0) {
                *api = 1;
                return (int)i;
            }
        return -1;
    }
    for (size_t i = 0; i < S_NROUTES; i++)
        if (s_routes[i].html && strcmp(path, s_routes[i].path) == 0)
            return (int)i;
    return -1;
}

/* ---- responses --------------------------------------------------------------------------- */

static void s_headers(struct MHD_Response *resp, const char *content_type, int cacheable)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, WEB_CSP);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            cacheable ? "public, max-age=31536000, immutable" : "no-store");
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
}

static enum MHD_Result s_queue(struct MHD_Connection *c, s_req_t *r, int status,
                               struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    r->answered = 1;
    return ok;
}

/* A body the response owns (buf malloc'd, or NULL for none). */
static struct MHD_Response *s_body(char *buf, size_t len)
{
    return buf ? MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE)
               : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

/* The error page (or JSON under /api/): the status, Vietnamese first, then English. */
static enum MHD_Result s_error(web_t *self, struct MHD_Connection *c, s_req_t *r, int api,
                               const web_refusal_t *why)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return MHD_NO;
    web_page_t p = {.body = f,
                    .refresh_seconds = 0,
                    .css_href = web_static_css_href(),
                    .icon_href = web_static_icon_href()};
    if (api) {
        web_json_begin(&p);
        fprintf(f, "\"status\": %d", why->status);
        p.json_members = 1;
        web_json_str(&p, "error", why->vi);
        web_json_str(&p, "error_en", why->en);
        web_json_end(&p);
    } else {
        char title[32];
        snprintf(title, sizeof title, "Lỗi %d", why->status);
        web_page_begin(&p, NULL, title);
        fputs("<div class=\"error\"><p lang=\"vi\">", f);
        web_page_text(&p, why->vi);
        fputs(".</p><p lang=\"en\">", f);
        web_page_text(&p, why->en);
        fputs(".</p></div>\n<p><a href=\"/\">Về trang tổng quan</a></p>\n", f);
        web_page_end(&p, NULL);
    }
    fclose(f);
    struct MHD_Response *resp = s_body(buf, len);
    if (!resp)
        return MHD_NO;
    s_headers(resp, api ? "application/json; charset=utf-8" : "text/html; charset=utf-8", 0);
    if (why->status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (why->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"cchc-web\", charset=\"UTF-8\"");
    (void)self;
    return s_queue(c, r, why->status, resp);
}

static enum MHD_Result s_refuse(web_t *self, struct MHD_Connection *c, s_req_t *r, int api,
                                int status, const char *vi, const char *en)
{
    web_refusal_t why = {status, vi, en};
    return s_error(self, c, r, api, &why);
}

/* ---- a page ------------------------------------------------------------------------------ */

static enum MHD_Result s_page(web_t *self, struct MHD_Connection *c, s_req_t *r, int route, int api,
                              const web_target_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    web_page_t p = {
        .db = self->db,
        .target = t,
        .api = api,
        .refresh_seconds = (int)self->cfg->refresh_seconds,
        .css_href = web_static_css_href(),
        .icon_href = web_static_icon_href(),
        .status = 200,
        .content_type = api ? "application/json; charset=utf-8" : "text/html; charset=utf-8",
        .fd = -1,
    };
    p.body = open_memstream(&buf, &len);
    if (!p.body)
        return MHD_NO;
    int rc;
    if (web_db_begin(self->db) != 0) {
        rc = web_page_db_fail(&p);
    } else {
        rc = s_routes[route].fn(&p);
        web_db_end(self->db);
    }
    int werr = ferror(p.body);
    fclose(p.body);
    if (rc == 0 && werr) {
        CCHC_LOG(CCHC_LOG_ERROR, "page", "path=%s err=\"could not write the page\"", t->path);
        rc = web_page_fail(&p, 500, "lỗi khi tạo trang", "could not make the page");
    }
    if (rc != 0) {
        free(buf);
        if (p.fd >= 0)
            close(p.fd);
        return s_error(self, c, r, api, &p.fail);
    }
    struct MHD_Response *resp;
    if (p.fd >= 0) {
        free(buf);
        resp = MHD_create_response_from_fd64((uint64_t)p.fd_size, p.fd);
        if (!resp)
            close(p.fd);
    } else {
        resp = s_body(buf, len);
    }
    if (!resp)
        return MHD_NO;
    s_headers(resp, p.content_type, 0);
    if (p.disposition[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, p.disposition);
    return s_queue(c, r, p.status, resp);
}

/* ---- libmicrohttpd's callbacks ----------------------------------------------------------- */

static void *s_on_target(void *cls, const char *uri, struct MHD_Connection *c)
{
    s_req_t *r = cchc_calloc(1, sizeof *r);
    r->t0_ms = cchc_clock_mono_ms();
    if (strnlen(uri, WEB_TARGET_MAX + 1) <= WEB_TARGET_MAX)
        r->raw = cchc_strdup(uri);
    strcpy(r->path, "-");
    strcpy(r->addr, "-");
    const union MHD_ConnectionInfo *ci =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->addr, sizeof r->addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->addr, sizeof r->addr);
    return r;
}

static void s_on_done(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    s_req_t *r = *req_cls;
    if (!r)
        return;
    CCHC_LOG(r->status >= 500 ? CCHC_LOG_WARN : CCHC_LOG_INFO, "http",
             "addr=%s path=%s status=%d ms=%lld%s", r->addr, r->path, r->status,
             (long long)(cchc_clock_mono_ms() - r->t0_ms),
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " completed=no");
    free(r->raw);
    free(r);
    *req_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\r')
            *p = *p == '"' ? '\'' : ' ';
    CCHC_LOG(CCHC_LOG_INFO, "mhd", "msg=\"%s\"", msg);
}

static int s_has_body(struct MHD_Connection *c)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return te || (cl && strcmp(cl, "0") != 0);
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **req_cls)
{
    web_t *self = cls;
    s_req_t *r = *req_cls;
    if (!r) {
        r = s_on_target(NULL, "", c); /* no target seen: refused below */
        *req_cls = r;
    }
    if (r->answered) {
        *upload_size = 0; /* a body after the answer: dropped */
        return MHD_YES;
    }
    int api = r->raw && strncmp(r->raw, "/api", 4) == 0;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_refuse(self, c, r, api, 405, "chỉ đọc: chỉ nhận GET và HEAD",
                        "read-only: only GET and HEAD");
    if (s_has_body(c))
        return s_refuse(self, c, r, api, 400, "yêu cầu GET không có phần thân",
                        "a GET request has no body");
    if (self->auth) {
        const char *h =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!web_auth_check(self->auth, h)) {
            if (h) /* a wrong guess, not a browser asking first */
                CCHC_LOG(CCHC_LOG_WARN, "auth_failed", "addr=%s", r->addr);
            return s_refuse(self, c, r, api, 401, "cần đăng nhập (tên và mật khẩu)",
                            "authentication required");
        }
    }
    web_target_t t;
    web_refusal_t why;
    if (!r->raw || web_target_parse(r->raw, &t, &why) != 0) {
        if (!r->raw)
            why = (web_refusal_t){414, "địa chỉ quá dài", "the request target is too long"};
        return s_error(self, c, r, api, &why);
    }
    snprintf(r->path, sizeof r->path, "%s", t.path);
    const web_static_t *st = web_static_find(t.path);
    if (st) {
        if (t.nparams)
            return s_refuse(self, c, r, 0, 400, "tệp tĩnh không nhận tham số",
                            "a static file takes no parameters");
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(st->len, (void *)st->data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        s_headers(resp, st->content_type, 1);
        return s_queue(c, r, 200, resp);
    }
    int route = s_route(t.path, &api);
    if (route < 0)
        return s_refuse(self, c, r, api, 404, "không có trang này", "no such page");
    if (web_target_only(&t, s_routes[route].params, &why) != 0)
        return s_error(self, c, r, api, &why);
    return s_page(self, c, r, route, api, &t);
}

/* ---- the daemon -------------------------------------------------------------------------- */

/* The listening socket of [web] listen; -1 with err. */
static int s_listen(const web_config_t *cfg, char *err, size_t errlen)
{
    int family = cfg->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) {
        snprintf(err, errlen, "could not create a socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) != 0 || listen(fd, 128) != 0) {
        snprintf(err, errlen,
                 "could not listen on %s: %s (another program on that port? set [web] listen)",
                 cfg->listen, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

web_t *web_new(const web_config_t *cfg, char *err, size_t errlen)
{
    web_static_init();
    int fd = s_listen(cfg, err, errlen);
    if (fd < 0)
        return NULL;
    web_t *self = cchc_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->db = web_db_new(cfg->conninfo, cfg->statement_timeout_ms);
    if (cfg->auth_user[0])
        self->auth = web_auth_new(cfg->auth_user, cfg->auth_hash);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
                     MHD_USE_ITC;
    self->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)S_MEMORY_LIMIT, MHD_OPTION_URI_LOG_CALLBACK,
        s_on_target, self, MHD_OPTION_NOTIFY_COMPLETED, s_on_done, self,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
    if (!self->mhd) {
        snprintf(err, errlen, "could not start the HTTP server on %s", cfg->listen);
        close(fd);
        web_destroy(&self);
        return NULL;
    }
    self->gate = web_gate_new(fd, self->mhd, (unsigned)cfg->max_connections,
                              (unsigned)cfg->max_per_ip, (int)cfg->timeout_seconds, S_MEMORY_LIMIT,
                              err, errlen);
    if (!self->gate) {
        close(fd);
        web_destroy(&self);
        return NULL;
    }
    CCHC_LOG(CCHC_LOG_INFO, "listening", "addr=%s auth=%s refresh_s=%lld", cfg->listen,
             self->auth ? "basic" : "none", (long long)cfg->refresh_seconds);
    return self;
}

void web_destroy(web_t **self_p)
{
    web_t *self = *self_p;
    if (!self)
        return;
    web_gate_destroy(&self->gate); /* first: it hands connections to the daemon */
    if (self->mhd)
        MHD_stop_daemon(self->mhd);
    web_auth_destroy(&self->auth);
    web_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}
