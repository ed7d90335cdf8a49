/* web_static.h: the files cchc-web serves as they are, built into the
 * program (no CDN, no web font, nothing fetched from elsewhere): the style
 * sheet and the icon. Each is served under a name carrying a hash of its
 * content (/static/app-<hash>.css), so a browser may keep it for a year and
 * still gets a new one with a new build. */
#ifndef WEB_STATIC_H
#define WEB_STATIC_H

#include <stddef.h>

typedef struct {
    const char *path;         /* "/static/app-0123456789ab.css" */
    const char *content_type; /* with its charset when text */
    const char *data;
    size_t len;
} web_static_t;

/* Computes the names once (at start, before any request). */
void web_static_init(void);
/* The file served at path, or NULL. Borrowed. */
const web_static_t *web_static_find(const char *path);
/* The style sheet's and the icon's paths, for pages to link. */
const char *web_static_css_href(void);
const char *web_static_icon_href(void);

#endif
