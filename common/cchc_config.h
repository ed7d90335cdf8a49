/* cchc_config.h: INI files read into a struct through a declarative table.
 *
 * Each program declares one table (section, key, type, default, bounds,
 * where in its struct the value goes). Loading applies the defaults, then the
 * file; an unknown section or key, a bad value or a missing required key
 * stops loading with "FILE:LINE: ..." in the error buffer. Strings and paths
 * are malloc'd into the struct; cchc_config_free() releases them.
 * A path that is relative is taken relative to the config file's directory,
 * so a bundle of files (agent.ini with its keys) works from anywhere. */
#ifndef CCHC_CONFIG_H
#define CCHC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CCHC_CFG_STRING,   /* char *  */
    CCHC_CFG_PATH,     /* char *, made absolute against the file's directory */
    CCHC_CFG_INT,      /* int64_t, within [min, max] */
    CCHC_CFG_BOOL,     /* int: true/false, yes/no, on/off, 1/0 */
    CCHC_CFG_LOGLEVEL, /* int: debug/info/warn/error */
} cchc_cfg_type_t;

typedef struct {
    const char *section;
    const char *name;
    cchc_cfg_type_t type;
    const char *def;  /* default as text; NULL means required */
    int64_t min, max; /* CCHC_CFG_INT only */
    size_t offset;    /* offsetof(struct, member) */
    const char *help; /* one line, shown by --help */
} cchc_cfg_entry_t;

/* Loads defaults then `path` into `out`. Returns 0, CCHC_EIO (cannot read),
 * or CCHC_EINVAL (unknown key, bad value, missing key); err names file and line. */
int cchc_config_load(const char *path, const cchc_cfg_entry_t *table, size_t n, void *out,
                     char *err, size_t errlen);
/* Applies only the defaults (for programs run without a file). CCHC_EINVAL if
 * a required key has no default. */
int cchc_config_defaults(const cchc_cfg_entry_t *table, size_t n, void *out, char *err,
                         size_t errlen);
/* Sets one key from text (a command-line override); same checks as the file. */
int cchc_config_set(const cchc_cfg_entry_t *table, size_t n, void *out, const char *section,
                    const char *name, const char *value, char *err, size_t errlen);
/* Frees the strings the table owns in `out`. */
void cchc_config_free(const cchc_cfg_entry_t *table, size_t n, void *out);
/* Prints the table as "  [section] name = default   help" lines to f (for --help). */
void cchc_config_describe(const cchc_cfg_entry_t *table, size_t n, void *f);
/* Prints one line per key to f, for scripts and tests (--config-keys):
 * "section.name=default", or "section.name" alone when the key is required. */
void cchc_config_list_keys(const cchc_cfg_entry_t *table, size_t n, void *f);

#endif
