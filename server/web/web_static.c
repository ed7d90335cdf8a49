/* web_static.c: the style sheet and the icon of cchc-web (see web_static.h).
 *
 * The style is the only presentation the pages have: the Content-Security-
 * Policy refuses inline style (style="..." and <style>), so every colour and
 * size is a class here. Phones first: tables scroll sideways in their own
 * box, the status matrix keeps the unit's name in view while it scrolls,
 * and the navigation wraps. Colours of the five statuses are kept apart in
 * hue and in lightness, and each status is also written, for whoever does
 * not see colour. */
#include "web_static.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char s_css[] =
    ":root{--ink:#1b1f24;--muted:#5b6670;--line:#d5dbe1;--soft:#eef2f6;--brand:#12355b;"
    "--on_time:#1e6b31;--on_time-bg:#dcf1e2;--late:#7a4f00;--late-bg:#fcebc2;"
    "--overdue:#9c1919;--overdue-bg:#f9d9d9;--not_yet_due:#2d4f7c;--not_yet_due-bg:#e1eaf6;"
    "--exempt:#5b4a7a;--exempt-bg:#ebe6f3}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
    "\"DejaVu Sans\",Arial,sans-serif;font-size:15px;line-height:1.45;color:var(--ink);"
    "background:#f4f6f8}\n"
    "a{color:#0b57a4}\n"
    "header.top{background:var(--brand);color:#fff;padding:.6rem 1rem .5rem}\n"
    "header.top .brand{color:#fff;font-weight:700;text-decoration:none;font-size:1.05rem}\n"
    "nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;margin:.35rem 0 0;"
    "padding:0}\n"
    "nav a{color:#d6e4f5;text-decoration:none;display:inline-block;padding:.15rem 0}\n"
    "nav a:hover{color:#fff;text-decoration:underline}\n"
    "nav a[aria-current]{color:#fff;font-weight:600;border-bottom:2px solid #ffd24d}\n"
    "main{padding:1rem;max-width:1400px;margin:0 auto}\n"
    "h1{font-size:1.35rem;margin:.2rem 0 .8rem;line-height:1.25}\n"
    "h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
    "p.lead{margin:.2rem 0 .8rem;color:var(--muted)}\n"
    ".scroll{overflow-x:auto;background:#fff;border:1px solid var(--line);border-radius:6px;"
    "margin:0 0 1rem}\n"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}\n"
    "th,td{border-bottom:1px solid #e3e7eb;padding:.35rem .5rem;text-align:left;"
    "vertical-align:top}\n"
    "thead th{background:var(--soft);font-weight:600;vertical-align:bottom}\n"
    "td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    "td.d,td.c{white-space:nowrap}td.w{min-width:16rem}table:not(.matrix) thead "
    "th{min-width:4.2rem}\n"
    "tr.total td,tr.total th{font-weight:700;background:#f6f7f9}\n"
    "td.none{font-style:italic;color:var(--muted)}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.6rem;"
    "margin:.4rem 0 1rem}\n"
    ".card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.55rem .8rem}\n"
    ".card b{display:block;font-size:1.45rem;font-variant-numeric:tabular-nums}\n"
    ".card span{color:var(--muted);font-size:.85rem}\n"
    "form.filter{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end;margin:0 0 1rem}\n"
    "form.filter label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}\n"
    "form.filter label{max-width:100%}select{max-width:100%}\n"
    "select,button{font:inherit;padding:.3rem .45rem;border:1px solid #aab4bf;border-radius:4px;"
    "background:#fff;color:var(--ink)}\n"
    "button{background:var(--brand);color:#fff;border-color:var(--brand);cursor:pointer}\n"
    "ul.pages{padding-left:1.2rem}ul.pages li{margin:.25rem 0}\n"
    "a.download{display:inline-block;margin:.2rem 0 1rem;padding:.4rem .8rem;"
    "background:var(--brand);color:#fff;border-radius:4px;text-decoration:none}\n"
    /* the status matrix */
    "table.matrix th.unit{position:sticky;left:0;z-index:1;background:#fff;min-width:8rem;"
    "max-width:11rem;font-weight:500}\n"
    "table.matrix thead th.unit{background:var(--soft)}\n"
    "table.matrix th.st{text-align:center;width:3.6rem;font-size:.8rem;line-height:1.2}\n"
    "table.matrix td.m{text-align:center;width:3.6rem}\n"
    "table.matrix td.m.on{font-weight:700}\n"
    "table.matrix th.x{min-width:5.5rem}table.matrix .why{min-width:12rem}"
    "table.matrix td.d{white-space:nowrap}\n"
    ".on_time.on,.badge.on_time,.key.on_time{background:var(--on_time-bg);color:var(--on_time)}\n"
    ".late.on,.badge.late,.key.late{background:var(--late-bg);color:var(--late)}\n"
    ".overdue.on,.badge.overdue,.key.overdue{background:var(--overdue-bg);color:var(--overdue)}\n"
    ".not_yet_due.on,.badge.not_yet_due,.key.not_yet_due{background:var(--not_yet_due-bg);"
    "color:var(--not_yet_due)}\n"
    ".exempt.on,.badge.exempt,.key.exempt{background:var(--exempt-bg);color:var(--exempt)}\n"
    ".badge{display:inline-block;padding:0 .4rem;border-radius:3px;white-space:nowrap;"
    "font-size:.85rem}\n"
    "ul.legend{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0;margin:.2rem 0 "
    ".6rem}\n"
    "ul.legend li.key{padding:.1rem .5rem;border-radius:3px;font-size:.85rem}\n"
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}\n"
    /* the chart */
    "figure.chart{margin:0 0 1rem;background:#fff;border:1px solid var(--line);"
    "border-radius:6px;padding:.5rem;max-width:36rem}\n"
    "figure.chart svg{display:block;width:100%;height:auto}\n"
    "figure.chart figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}\n"
    "svg .bar{fill:#3a78c2}svg .bar.below{fill:#d9822b}svg .track{fill:#eef2f6}\n"
    "svg .avg{stroke:#9c1919;stroke-width:2;stroke-dasharray:5 4}\n"
    "svg text{font-size:14px;fill:#1b1f24}svg text.v{font-variant-numeric:tabular-nums}\n"
    "svg text.avgl{fill:#9c1919;font-size:13px}\n"
    "footer{color:var(--muted);font-size:.85rem;padding:.5rem 1rem 1.5rem;max-width:1400px;"
    "margin:0 auto}\n"
    ".error{background:#fff;border:1px solid var(--line);border-left:4px solid "
    "var(--overdue);padding:.8rem 1rem;border-radius:4px}\n"
    "@media (max-width:600px){body{font-size:14px}main{padding:.6rem}"
    "th,td{padding:.3rem .35rem}h1{font-size:1.2rem}"
    "table.matrix th.st,table.matrix td.m{width:2.7rem}"
    "table.matrix th.st{font-size:.72rem}}\n"
    "@media print{header.top,footer,form.filter{display:none}.scroll{overflow:visible;"
    "border:0}}\n";

/* A document with the letters CCHC on the district's blue. */
static const char s_icon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
    "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#12355b\"/>"
    "<rect x=\"8\" y=\"6\" width=\"16\" height=\"20\" rx=\"2\" fill=\"#fff\"/>"
    "<rect x=\"11\" y=\"11\" width=\"10\" height=\"2\" fill=\"#12355b\"/>"
    "<rect x=\"11\" y=\"15\" width=\"10\" height=\"2\" fill=\"#12355b\"/>"
    "<rect x=\"11\" y=\"19\" width=\"6\" height=\"2\" fill=\"#ffd24d\"/></svg>\n";

static char s_css_path[40], s_icon_path[40];
static web_static_t s_files[2];

/* 48 bits of FNV-1a of the content: enough to tell builds apart. */
static unsigned long long s_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return (unsigned long long)(h >> 16);
}

void web_static_init(void)
{
    snprintf(s_css_path, sizeof s_css_path, "/static/app-%012llx.css",
             s_hash(s_css, sizeof s_css - 1));
    snprintf(s_icon_path, sizeof s_icon_path, "/static/icon-%012llx.svg",
             s_hash(s_icon, sizeof s_icon - 1));
    s_files[0] = (web_static_t){s_css_path, "text/css; charset=utf-8", s_css, sizeof s_css - 1};
    s_files[1] = (web_static_t){s_icon_path, "image/svg+xml", s_icon, sizeof s_icon - 1};
}

const web_static_t *web_static_find(const char *path)
{
    for (size_t i = 0; i < sizeof s_files / sizeof s_files[0]; i++)
        if (s_files[i].path && strcmp(path, s_files[i].path) == 0)
            return &s_files[i];
    return NULL;
}

const char *web_static_css_href(void)
{
    return s_css_path;
}

const char *web_static_icon_href(void)
{
    return s_icon_path;
}
