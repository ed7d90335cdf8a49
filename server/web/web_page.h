/* web_page.h: what a page of cchc-web gets and gives, and the helpers every
 * page shares (the frame of the HTML page, escaping, figures as tables and
 * JSON, the period and type parameters).
 *
 * A page is a function of the request (its checked target, the database in
 * a read-only transaction) that writes its body into p->body: HTML, or JSON
 * when it is asked under /api/. It returns 0, or -1 after web_page_fail
 * (the HTTP layer then answers the error in the same language as the page).
 * Everything from the database is escaped on the way out. */
#ifndef WEB_PAGE_H
#define WEB_PAGE_H

#include "cli_figs.h"
#include "web_db.h"
#include "web_query.h"

#include <stdio.h>

typedef struct {
    /* in */
    web_db_t *db;
    const web_target_t *target;
    int api;               /* under /api/: JSON */
    int refresh_seconds;   /* [web] refresh_seconds */
    const char *css_href;  /* "/static/app-<hash>.css" */
    const char *icon_href; /* "/static/icon-<hash>.svg" */
    /* out */
    FILE *body; /* a memory stream the page writes */
    int status; /* 200 unless the page says otherwise */
    const char *content_type;
    int fd; /* a file to send instead of body (the workbook), else -1 */
    long long fd_size;
    char disposition[160]; /* Content-Disposition, or "" */
    web_refusal_t fail;    /* after web_page_fail */
    int json_members;      /* members written so far (web_json_*) */
} web_page_t;

typedef int (*web_page_fn)(web_page_t *p);

/* The pages (web_page_*.c). */
int web_page_overview(web_page_t *p);
int web_page_status(web_page_t *p);
int web_page_overdue(web_page_t *p);
int web_page_dossiers(web_page_t *p);
int web_page_remediation(web_page_t *p);
int web_page_tasks(web_page_t *p);
int web_page_agents(web_page_t *p);
int web_page_summary(web_page_t *p);
int web_page_summary_xlsx(web_page_t *p);

/* Records why the page cannot be given (status, Vietnamese, English; static
 * strings) and returns -1. */
int web_page_fail(web_page_t *p, int status, const char *vi, const char *en);
/* web_page_fail for a database that failed (503). */
int web_page_db_fail(web_page_t *p);

/* ---- HTML --------------------------------------------------------------------------------- */

/* The page's head, header and navigation (`active` is the path of the
 * current page), and the start of <main> with the h1 title (escaped). */
void web_page_begin(web_page_t *p, const char *active, const char *title);
/* The footer (the time of the figures, the JSON of the page) and the end. */
void web_page_end(web_page_t *p, const char *api_href);
/* s escaped for HTML text and attribute values. */
void web_page_text(web_page_t *p, const char *s);
/* A figure as a table in a box that scrolls sideways (cli_export_html_table). */
void web_page_table(web_page_t *p, const cli_out_t *out);
/* The form choosing a period and a type: every period of a periodic type,
 * newest first, and the periodic types. */
int web_page_period_form(web_page_t *p, const char *action, const char *period, const char *type);
/* A civil date "YYYY-MM-DD" as the district writes it, "dd/mm/yyyy"
 * (NULL: nothing; anything else escaped as it is). */
void web_page_date(web_page_t *p, const char *iso);
/* The index of the column whose JSON key is key (it must be there). */
int web_page_col(const cli_out_t *out, const char *key);
/* A cell's text or NULL. */
const char *web_page_cell(const cli_out_t *out, int row, const char *key);

/* ---- JSON ------------------------------------------------------------------------------------ */

/* "{" ... "}" with members written by the helpers below, comma-separated. */
void web_json_begin(web_page_t *p);
void web_json_end(web_page_t *p);
/* "key": "value" (NULL: null). */
void web_json_str(web_page_t *p, const char *key, const char *value);
/* "key": the figure as cchc <command> --json prints it. */
void web_json_fig(web_page_t *p, const char *key, const cli_out_t *out);

/* ---- parameters ------------------------------------------------------------------------------ */

typedef struct {
    char period[8]; /* "" when none */
    char type[40];  /* "" when none */
} web_pt_t;

/* The period (given, or else the current one) and the type (given, which
 * must exist and be periodic). 0, or -1 after web_page_fail. "Current": the
 * latest period of a periodic type due by today, else the next one due;
 * "" when the district has no periods yet. */
int web_page_period_type(web_page_t *p, web_pt_t *pt);

/* path?period=P&type=T into buf, with what pt holds (checked: no escaping needed). */
void web_page_href(char *buf, size_t len, const char *path, const web_pt_t *pt);

/* Runs a definition with params into out (res owned by the caller). 0, or
 * -1 after web_page_db_fail. */
int web_page_fig(web_page_t *p, const cli_figs_def_t *def, const char *const *params,
                 cli_out_t *out);

#endif
