/* cchc_log.h: one line per event on stderr, `level event=name key=value ...`.
 *
 * The level is checked before anything is formatted (Redis serverLog), so a
 * debug line in a hot path costs one comparison when debug is off. Lines go
 * to stderr, which journald collects under systemd. */
#ifndef CCHC_LOG_H
#define CCHC_LOG_H

typedef enum {
    CCHC_LOG_DEBUG = 0,
    CCHC_LOG_INFO = 1,
    CCHC_LOG_WARN = 2,
    CCHC_LOG_ERROR = 3,
} cchc_log_level_t;

extern int cchc_log_level;

/* "debug" | "info" | "warn" | "error" -> level; -1 if unknown. */
int cchc_log_parse_level(const char *name);
/* Sets the program name printed on every line (borrowed, must outlive logging). */
void cchc_log_set_ident(const char *ident);

void cchc_log_write(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CCHC_LOG(CCHC_LOG_INFO, "report_stored", "unit=%s id=%lld", unit, id) */
#define CCHC_LOG(level, event, ...)                                                                \
    do {                                                                                           \
        if ((level) >= cchc_log_level)                                                             \
            cchc_log_write((level), (event), __VA_ARGS__);                                         \
    } while (0)

#endif
