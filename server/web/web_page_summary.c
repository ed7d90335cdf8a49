/* web_page_summary.c: the consolidated report of a period (/summary, its
 * JSON /api/summary) and its workbook (/summary.xlsx), read and written by
 * the same code as `cchc summary --out x.xlsx` (cli_figs_summary.c,
 * cli_export.c).
 *
 * libxlsxwriter writes a workbook to a file: it is made in the temporary
 * directory ($TMPDIR, else /tmp) under a name of its own, opened, unlinked,
 * and streamed from the open descriptor, so nothing is left behind whatever
 * happens to the connection. */
#include "cchc_err.h"
#include "cchc_log.h"
#include "cli_export.h"
#include "web_page.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Loads the report of the period asked for (or the current one). 0, or -1
 * after web_page_fail. */
static int s_load(web_page_t *p, web_pt_t *pt, cli_figs_summary_t *s)
{
    memset(s, 0, sizeof *s);
    if (web_page_period_type(p, pt) != 0)
        return -1;
    if (!pt->period[0])
        return web_page_fail(p, 404, "chưa có kỳ báo cáo nào", "no period yet");
    int rc =
        cli_figs_summary_load(s, pt->period, pt->type[0] ? pt->type : NULL, web_db_query_fn, p->db);
    if (rc == CCHC_ENOTFOUND)
        return web_page_fail(p, 404, "không có loại báo cáo theo kỳ nào có kỳ này",
                             "no periodic report type has this period");
    if (rc != 0)
        return web_page_db_fail(p);
    return 0;
}

int web_page_summary(web_page_t *p)
{
    web_pt_t pt;
    cli_figs_summary_t s;
    if (s_load(p, &pt, &s) != 0) {
        cli_figs_summary_free(&s);
        return -1;
    }
    int rc = 0;
    if (p->api) {
        web_json_begin(p);
        web_json_str(p, "period", pt.period);
        web_json_str(p, "type", pt.type[0] ? pt.type : NULL);
        web_json_str(p, "types", PQgetvalue(s.period, 0, 0));
        web_json_str(p, "title", s.title);
        for (int i = 0; i < CLI_FIGS_SUMMARY_TABLES; i++)
            web_json_fig(p, cli_figs_summary_keys[i], &s.outs[i]);
        web_json_end(p);
        goto out;
    }
    web_page_begin(p, "/summary", s.title);
    for (int i = 0; i < 3; i++) {
        fputs("<p class=\"lead\">", p->body);
        web_page_text(p, s.lines[i]);
        fputs("</p>\n", p->body);
    }
    char xlsx[96];
    web_page_href(xlsx, sizeof xlsx, "/summary.xlsx", &pt);
    fputs("<p><a class=\"download\" href=\"", p->body);
    web_page_text(p, xlsx);
    fputs("\">Tải về tệp Excel (.xlsx)</a></p>\n", p->body);
    if ((rc = web_page_period_form(p, "/summary", pt.period, pt.type)) != 0)
        goto out;
    for (int i = 0; i < CLI_FIGS_SUMMARY_TABLES; i++) {
        fprintf(p->body, "<h2>%d. ", i + 1);
        web_page_text(p, s.outs[i].title);
        fputs("</h2>\n", p->body);
        web_page_table(p, &s.outs[i]);
    }
    char api[96];
    web_page_href(api, sizeof api, "/api/summary", &pt);
    web_page_end(p, api);
out:
    cli_figs_summary_free(&s);
    return rc;
}

int web_page_summary_xlsx(web_page_t *p)
{
    web_pt_t pt;
    cli_figs_summary_t s;
    if (s_load(p, &pt, &s) != 0) {
        cli_figs_summary_free(&s);
        return -1;
    }
    const char *dir = getenv("TMPDIR");
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/cchc-web-XXXXXX.xlsx", dir && *dir ? dir : "/tmp");
    int rc = -1, tmp = mkstemps(path, 5);
    if (tmp < 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "xlsx", "err=\"could not create a file in %s: %s\"",
                 dir && *dir ? dir : "/tmp", strerror(errno));
        goto fail;
    }
    close(tmp);
    if (cli_export_xlsx(path, s.title, s.subject, s.outs, CLI_FIGS_SUMMARY_TABLES, err,
                        sizeof err) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "xlsx", "err=\"%s\"", err);
        unlink(path);
        goto fail;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unlink(path);
    if (fd < 0 || fstat(fd, &st) != 0) {
        CCHC_LOG(CCHC_LOG_ERROR, "xlsx", "err=\"could not read back the workbook: %s\"",
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    p->fd = fd;
    p->fd_size = (long long)st.st_size;
    p->content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    snprintf(p->disposition, sizeof p->disposition, "attachment; filename=\"tong-hop-%s%s%s.xlsx\"",
             pt.period, pt.type[0] ? "-" : "", pt.type);
    rc = 0;
    goto out;
fail:
    rc = web_page_fail(p, 500, "không tạo được tệp Excel", "could not make the workbook");
out:
    cli_figs_summary_free(&s);
    return rc;
}
