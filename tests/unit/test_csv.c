/* test_csv.c: the import driver (cli_csv_import) on bad input, with no
 * database and no units: a file with problems is reported whole, sorted by
 * line, and nothing is written; without a pass 3 it never reaches for the
 * database; with one, a database that cannot be reached still leaves the
 * file's problems on screen. The database the driver may try is a socket
 * directory that does not exist, so an attempt shows as "could not connect". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_csv.h"
#include "cli_db.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64];
static char s_path[128];    /* the CSV file of a test */
static char s_err[8192];    /* what the driver said on stderr */
static int s_writes;        /* rows the write callback was given */
static int s_units_checked; /* times pass 3 ran */

static const char *const s_fields[] = {"code", "count"};

/* Pass 1: count is one digit. */
static void s_check(cli_csv_t *csv, cli_csv_row_t *row, void *arg)
{
    if (!(row->bad & 1u << 1) && !cli_csv_int_ok(row->f[1], 0, 9)) {
        cli_csv_problem(csv, row->line, "count '%s' is not a digit", row->f[1]);
        row->bad |= 1u << 1;
    }
}

static void s_check_units(cli_csv_t *csv, const PGresult *unit_codes, void *arg)
{
    s_units_checked++;
}

static int s_write(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg)
{
    s_writes++;
    return 1;
}

static const cli_csv_import_t s_spec = {
    .fields = s_fields,
    .nfields = 2,
    .check = s_check,
    .key = 0,
    .key_label = "code",
    .item = "thing",
    .write = s_write,
    .things = "things",
    .event = "things_imported",
    .log_key = "things",
};

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/cchc-test-csv-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/t.csv", s_dir);
    s_writes = s_units_checked = 0;
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd);
}

static void s_file(const char *text)
{
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Runs the driver on s_path, keeping what it says on stderr in s_err. */
static int s_import(const cli_csv_import_t *spec)
{
    char errpath[160];
    snprintf(errpath, sizeof errpath, "%s/err.txt", s_dir);
    cli_ctx_t ctx = {.conninfo = "host=/nonexistent-cchc-test-csv dbname=cchc"};
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    int rc = cli_csv_import(&ctx, spec, s_path);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_null(ctx.conn);
    FILE *f = fopen(errpath, "r");
    assert_non_null(f);
    size_t n = fread(s_err, 1, sizeof s_err - 1, f);
    s_err[n] = '\0';
    fclose(f);
    return rc;
}

/* The position of line in s_err, which must hold it. */
static const char *s_said(const char *line)
{
    const char *p = strstr(s_err, line);
    if (!p)
        fail_msg("expected '%s' in:\n%s", line, s_err);
    return p;
}

/* Pass 1 and 2 problems, found in that order, are printed sorted by line;
 * nothing is written and the database is not asked. */
static void test_bad_rows_named_by_line_before_the_database(void **state)
{
    s_file("code,count\n"
           "a,1\n"
           "a,2\n"
           "b,x\n"
           "c\n");
    assert_int_equal(s_import(&s_spec), CLI_EXIT_FAIL);
    char line3[200], line4[200], line5[200];
    snprintf(line3, sizeof line3, "%s:3: duplicate code 'a': it is already on line 2\n", s_path);
    snprintf(line4, sizeof line4, "%s:4: count 'x' is not a digit\n", s_path);
    snprintf(line5, sizeof line5, "%s:5: expected 2 fields (code,count), found 1\n", s_path);
    const char *p3 = s_said(line3), *p4 = s_said(line4), *p5 = s_said(line5);
    assert_true(p3 < p4 && p4 < p5);
    s_said("3 problems; nothing was imported");
    assert_null(strstr(s_err, "could not connect"));
    assert_int_equal(s_writes, 0);
}

/* A wrong header stops the reading: one problem, on its line. */
static void test_wrong_header(void **state)
{
    s_file("\ncode,amount\na,1\n");
    assert_int_equal(s_import(&s_spec), CLI_EXIT_FAIL);
    char want[200];
    snprintf(want, sizeof want, "%s:2: expected the header 'code,count'\n", s_path);
    s_said(want);
    s_said("1 problem; nothing was imported");
    assert_null(strstr(s_err, "could not connect"));
    assert_int_equal(s_writes, 0);
}

/* A missing or empty file is said so, without a problem list. */
static void test_missing_and_empty_file(void **state)
{
    assert_int_equal(s_import(&s_spec), CLI_EXIT_FAIL);
    s_said("could not open file");
    s_file("");
    assert_int_equal(s_import(&s_spec), CLI_EXIT_FAIL);
    s_said("the file is empty; expected the header 'code,count'");
    assert_null(strstr(s_err, "nothing was imported"));
    assert_int_equal(s_writes, 0);
}

/* With a pass 3 a bad file still asks the database, so that one run shows
 * every problem; when the database cannot be reached the file's problems
 * are still shown, and pass 3 and the writes do not run. */
static void test_pass3_asks_the_database_even_for_a_bad_file(void **state)
{
    cli_csv_import_t spec = s_spec;
    spec.check_units = s_check_units;
    s_file("code,count\na,x\n");
    assert_int_equal(s_import(&spec), CLI_EXIT_FAIL);
    s_said("could not connect to the database");
    char want[200];
    snprintf(want, sizeof want, "%s:2: count 'x' is not a digit\n", s_path);
    s_said(want);
    s_said("1 problem; nothing was imported");
    assert_int_equal(s_units_checked, 0);
    assert_int_equal(s_writes, 0);
}

/* A clean file goes to the database; one that cannot be reached ends the
 * import with its reason and no problem list. */
static void test_clean_file_needs_the_database(void **state)
{
    s_file("code,count\na,1\nb,2\n");
    assert_int_equal(s_import(&s_spec), CLI_EXIT_FAIL);
    s_said("could not connect to the database");
    assert_null(strstr(s_err, "nothing was imported"));
    assert_int_equal(s_writes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_rows_named_by_line_before_the_database, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_header, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_empty_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_pass3_asks_the_database_even_for_a_bad_file, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_clean_file_needs_the_database, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
