/* cli_figs.c: the figures of cchc status, overdue, dossiers, remediation,
 * tasks and agents, and of cchc-web's pages (see cli_figs.h).
 *
 * Constant data only: a query of the views of 013_figures.sql and the
 * columns it gives, in order. Rates are computed by the views, never here. */
#include "cli_figs.h"

#define S_N(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* ---- status ------------------------------------------------------------------------------ */

/* $1 period or subject (upper case), $2 type, $3 unit, $4 status; NULL: any. */
#define S_STATUS_WHERE                                                                             \
    "WHERE ($1::text IS NULL OR upper(s.period) = $1 OR upper(s.subject) = $1) "                   \
    "AND ($2::text IS NULL OR s.type_code = $2) "

static const cli_out_col_t s_status_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"subject", "Đối tượng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"what", "Kỳ / đối tượng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"status", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"status_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"met_at", "Thời điểm nộp", CLI_OUT_TIME, CLI_OUT_JSON_ONLY, 0},
    {"met_on", "Ngày nộp", CLI_OUT_DATE, CLI_OUT_HUMAN_ONLY, 0},
    {"basis", "Căn cứ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"basis_vi", "Căn cứ", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"working_days_late", "Số ngày làm việc chậm", CLI_OUT_INT, 0, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"exempt_reason", "Lý do miễn", CLI_OUT_TEXT, 0, 40},
    /* Rolled up only (the last column): the unit the row is of. */
    {"source_unit", "Đơn vị gốc", CLI_OUT_TEXT, 0, 0},
};

#define S_STATUS_SQL(extra)                                                                        \
    "SELECT s.type_code, s.period, s.subject, s.what, s.unit_code, s.unit_name, s.due::text, "     \
    "s.status, s.status_vi, (extract(epoch FROM s.met_at) * 1000)::int8, s.met_on::text, "         \
    "s.basis, cchc_label_vi(s.basis), s.wd_late, s.report_id, s.exempt_reason" extra " "           \
    "FROM cchc_status s " S_STATUS_WHERE "AND ($3::text IS NULL OR s.unit_code = $3) "             \
    "AND ($4::text IS NULL OR s.status = $4) "                                                     \
    "ORDER BY s.due, s.type_code, s.what, s.unit_code, s.source_unit"

const cli_figs_def_t cli_figs_status = {NULL, s_status_cols, S_N(s_status_cols) - 1,
                                        S_STATUS_SQL(""), 4};
const cli_figs_def_t cli_figs_status_rollup = {NULL, s_status_cols, S_N(s_status_cols),
                                               S_STATUS_SQL(", s.source_unit"), 4};

static const cli_out_col_t s_rate_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"subject", "Đối tượng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"what", "Kỳ / đối tượng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"due", "Hạn nộp", CLI_OUT_DATE, 0, 0},
    {"expected", "Phải nộp", CLI_OUT_INT, 0, 0},
    {"reported", "Đã nộp", CLI_OUT_INT, 0, 0},
    {"on_time", "Đúng hạn", CLI_OUT_INT, 0, 0},
    {"late", "Chậm hạn", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"not_yet_due", "Chưa đến hạn", CLI_OUT_INT, 0, 0},
    {"exempt", "Miễn nộp", CLI_OUT_INT, 0, 0},
    {"reporting_rate", "Tỷ lệ báo cáo (%)", CLI_OUT_NUM, 0, 0},
    {"on_time_rate", "Tỷ lệ đúng hạn (%)", CLI_OUT_NUM, 0, 0},
};

const cli_figs_def_t cli_figs_rates = {
    NULL, s_rate_cols, S_N(s_rate_cols),
    "SELECT s.type_code, s.period, s.subject, s.what, s.due::text, s.expected, s.reported, "
    "s.on_time, s.late, s.overdue, s.not_yet_due, s.exempt, s.reporting_rate, s.on_time_rate "
    "FROM cchc_completeness s " S_STATUS_WHERE "ORDER BY s.due, s.type_code, s.what",
    2};

/* ---- overdue dossiers -------------------------------------------------------------------- */

static const cli_out_col_t s_overdue_cols[] = {
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0},
    {"period", "Kỳ", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    CLI_FIG_OVERDUE_COLS,
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    /* Rolled up only (the last column): the unit the row is of. */
    {"source_unit", "Đơn vị gốc", CLI_OUT_TEXT, 0, 0},
};

#define S_OVERDUE_SQL(extra)                                                                       \
    "SELECT o.type_code, o.period, o.unit_code, o.unit_name, " CLI_FIG_OVERDUE_SELECT ", "         \
    "o.report_id" extra " FROM cchc_overdue_dossiers o "                                           \
    "WHERE ($1::text IS NULL OR upper(o.period) = $1) AND ($2::text IS NULL OR o.type_code = $2) " \
    "AND ($3::text IS NULL OR o.unit_code = $3) AND ($4::text IS NULL OR upper(o.field) = $4) "    \
    "ORDER BY o.type_code, o.period, o.unit_code, o.source_unit, o.seq"

const cli_figs_def_t cli_figs_overdue = {NULL, s_overdue_cols, S_N(s_overdue_cols) - 1,
                                         S_OVERDUE_SQL(""), 4};
const cli_figs_def_t cli_figs_overdue_rollup = {NULL, s_overdue_cols, S_N(s_overdue_cols),
                                                S_OVERDUE_SQL(", o.source_unit"), 4};

/* ---- dossier figures (Form 06) ----------------------------------------------------------- */

/* The columns of one --by: a field table names no unit, a unit table no
 * field, a unit-field table counts no units (each row is one). */
#define S_DOSSIER_COLS(unit_flags, field_flags, units_flags)                                       \
    {"type", "Loại báo cáo", CLI_OUT_TEXT, 0, 0}, {"period", "Kỳ", CLI_OUT_TEXT, 0, 0},            \
        {"unit", "Mã đơn vị", CLI_OUT_TEXT, unit_flags, 0},                                        \
        {"unit_name", "Đơn vị", CLI_OUT_TEXT, unit_flags, 0},                                      \
        {"field", "Lĩnh vực", CLI_OUT_TEXT, field_flags, 0},                                       \
        {"units", "Số đơn vị", CLI_OUT_INT, units_flags, 0}, CLI_FIG_FORM06_FIGURE_COLS,           \
    {                                                                                              \
        "total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0                                            \
    }

static const cli_out_col_t s_dossier_field_cols[] = {
    S_DOSSIER_COLS(CLI_OUT_JSON_ONLY, 0, 0),
};
static const cli_out_col_t s_dossier_unit_cols[] = {
    S_DOSSIER_COLS(0, CLI_OUT_JSON_ONLY, 0),
};
static const cli_out_col_t s_dossier_unit_field_cols[] = {
    S_DOSSIER_COLS(0, 0, CLI_OUT_JSON_ONLY),
};

/* $1 period, $2 type, $3 unit, $4 field; NULL: any. Then one grouping per
 * --by and the total per period over the same rows. */
#define S_ROWS                                                                                     \
    "WITH d AS (SELECT * FROM cchc_dossiers d WHERE ($1::text IS NULL OR upper(d.period) = $1) "   \
    "AND ($2::text IS NULL OR d.type_code = $2) AND ($3::text IS NULL OR d.unit_code = $3) "       \
    "AND ($4::text IS NULL OR upper(d.field) = $4)) "
#define S_TOTAL                                                                                    \
    "UNION ALL SELECT d.type_code, d.period, NULL, NULL, NULL, " CLI_FIG_FORM06_SUMS ", true "     \
    "FROM d GROUP BY d.type_code, d.period ORDER BY 1, 2, 22, 3, 5"

const cli_figs_def_t cli_figs_dossiers[3] = {
    {NULL, s_dossier_field_cols, S_N(s_dossier_field_cols),
     S_ROWS "SELECT d.type_code, d.period, NULL, NULL, d.field, " CLI_FIG_FORM06_SUMS ", false "
            "FROM d GROUP BY d.type_code, d.period, d.field " S_TOTAL,
     4},
    {NULL, s_dossier_unit_cols, S_N(s_dossier_unit_cols),
     S_ROWS "SELECT d.type_code, d.period, d.unit_code, min(d.unit_name), "
            "NULL, " CLI_FIG_FORM06_SUMS ", false "
            "FROM d GROUP BY d.type_code, d.period, d.unit_code " S_TOTAL,
     4},
    {NULL, s_dossier_unit_field_cols, S_N(s_dossier_unit_field_cols),
     S_ROWS
     "SELECT d.type_code, d.period, d.unit_code, min(d.unit_name), d.field, " CLI_FIG_FORM06_SUMS
     ", false FROM d GROUP BY d.type_code, d.period, d.unit_code, d.field " S_TOTAL,
     4},
};

/* ---- remediation ------------------------------------------------------------------------- */

static const cli_out_col_t s_remediation_cols[] = {CLI_FIG_REMEDIATION_COLS};

/* $1 inspection, $2 unit; the total row over the same inspections. */
const cli_figs_def_t cli_figs_remediation = {
    NULL, s_remediation_cols, S_N(s_remediation_cols),
    "WITH x AS (SELECT * FROM cchc_remediation x WHERE ($1::text IS NULL OR x.inspection = $1) "
    "AND ($2::text IS NULL OR x.unit_code = $2)) " CLI_FIG_REMEDIATION_SELECT,
    2};

static const cli_out_col_t s_finding_cols[] = {
    {"inspection", "Mã kiểm tra", CLI_OUT_TEXT, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"finding_no", "Tồn tại số", CLI_OUT_INT, 0, 0},
    {"finding", "Tồn tại, hạn chế", CLI_OUT_TEXT, 0, 40},
    {"status", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"status_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"actions", "Kết quả khắc phục", CLI_OUT_TEXT, 0, 40},
    {"evidence", "Minh chứng", CLI_OUT_TEXT, 0, 30},
    {"cause", "Nguyên nhân", CLI_OUT_TEXT, 0, 40},
    {"plan", "Kế hoạch", CLI_OUT_TEXT, 0, 40},
    {"expected_by", "Dự kiến hoàn thành", CLI_OUT_DATE, 0, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"revision", "Lần", CLI_OUT_INT, 0, 0},
};

const cli_figs_def_t cli_figs_findings = {
    NULL, s_finding_cols, S_N(s_finding_cols),
    "SELECT f.inspection, f.unit_code, f.unit_name, f.finding_no, f.finding, f.status, "
    "f.status_vi, f.actions, f.evidence, f.cause, f.plan, f.expected_by::text, f.report_id, "
    "f.revision FROM cchc_remediation_findings f "
    "WHERE ($1::text IS NULL OR f.inspection = $1) AND ($2::text IS NULL OR f.unit_code = $2) "
    "AND ($3::text IS NULL OR f.status = $3) "
    "ORDER BY f.conclusion_date, f.inspection, f.finding_no",
    3};

/* ---- tasks
 * ---------------------------------------------------------------------------------------- */

static const cli_out_col_t s_task_cols[] = {
    {"task", "Mã nhiệm vụ", CLI_OUT_TEXT, 0, 0},
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"target", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"target_vi", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"due", "Hạn", CLI_OUT_DATE, 0, 0},
    {"lead", "Chủ trì", CLI_OUT_TEXT, 0, 20},
    {"leads", "Số đơn vị chủ trì", CLI_OUT_INT, 0, 0},
    {"done", "Hoàn thành", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"in_progress", "Đang thực hiện", CLI_OUT_INT, 0, 0},
    {"not_reported", "Chưa báo cáo", CLI_OUT_INT, 0, 0},
    {"exempt", "Miễn", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0},
    {"done_rate", "Tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"avg_percent", "Tiến độ bình quân (%)", CLI_OUT_NUM, 0, 0},
    {"state", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"state_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"title", "Tên nhiệm vụ", CLI_OUT_TEXT, 0, 40},
};

static const cli_out_col_t s_task_unit_cols[] = {
    {"task", "Mã nhiệm vụ", CLI_OUT_TEXT, 0, 0},
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn", CLI_OUT_DATE, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"progress_status", "Báo cáo gần nhất", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"progress_status_vi", "Báo cáo gần nhất", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"percent", "Tiến độ (%)", CLI_OUT_INT, 0, 0},
    {"done_by_due", "Hoàn thành đúng hạn", CLI_OUT_BOOL, CLI_OUT_JSON_ONLY, 0},
    {"state", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"state_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"received_at", "Nhận lúc", CLI_OUT_TIME, 0, 0},
    {"result", "Kết quả", CLI_OUT_TEXT, 0, 40},
};

static const cli_out_col_t s_task_dim_cols[] = {
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"target", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"target_vi", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"tasks", "Số nhiệm vụ", CLI_OUT_INT, 0, 0},
    {"done", "Hoàn thành", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"in_progress", "Đang thực hiện", CLI_OUT_INT, 0, 0},
    {"done_rate", "Tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"avg_percent", "Tiến độ bình quân (%)", CLI_OUT_NUM, 0, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

const cli_figs_def_t cli_figs_tasks[3] = {
    /* $1 index, $2 dimension, $3 status. */
    {NULL, s_task_cols, S_N(s_task_cols),
     "SELECT k.task_code, k.index_name, k.dimension, k.target, cchc_label_vi(k.target), "
     "k.due::text, k.lead, k.leads, k.done, k.overdue, k.in_progress, k.not_reported, k.exempt, "
     "k.done_rate, k.avg_percent, k.state, k.state_vi, k.title FROM cchc_tasks k "
     "WHERE ($1::text IS NULL OR k.index_name = $1) AND ($2::text IS NULL OR k.dimension = $2) "
     "AND ($3::text IS NULL OR k.state = $3) ORDER BY k.due, k.task_code",
     3},
    /* $1 index, $2 dimension, $3 status, $4 unit. */
    {NULL, s_task_unit_cols, S_N(s_task_unit_cols),
     "SELECT k.task_code, k.index_name, k.dimension, k.due::text, k.unit_code, k.unit_name, "
     "k.progress_status, cchc_label_vi(k.progress_status), k.percent, "
     "coalesce(k.done_by_due, false), k.state, k.state_vi, k.report_id, "
     "(extract(epoch FROM k.received_at) * 1000)::int8, k.result FROM cchc_task_units k "
     "WHERE ($1::text IS NULL OR k.index_name = $1) AND ($2::text IS NULL OR k.dimension = $2) "
     "AND ($3::text IS NULL OR k.state = $3) AND ($4::text IS NULL OR k.unit_code = $4) "
     "ORDER BY k.due, k.task_code, k.unit_code",
     4},
    /* $1 index, $2 dimension. The total is over the tasks, not the dimensions. */
    {NULL, s_task_dim_cols, S_N(s_task_dim_cols),
     "WITH k AS (SELECT * FROM cchc_tasks k WHERE ($1::text IS NULL OR k.index_name = $1) "
     "AND ($2::text IS NULL OR k.dimension = $2)) "
     "SELECT k.index_name, k.dimension, k.target, cchc_label_vi(k.target), count(*), "
     "count(*) FILTER (WHERE k.state = 'done'), count(*) FILTER (WHERE k.state = 'overdue'), "
     "count(*) FILTER (WHERE k.state = 'in_progress'), "
     "cchc_rate(count(*) FILTER (WHERE k.state = 'done'), count(*)), "
     "round(avg(k.avg_percent), 1), false FROM k GROUP BY k.index_name, k.dimension, k.target "
     "UNION ALL SELECT NULL, NULL, NULL, NULL, count(*), "
     "count(*) FILTER (WHERE k.state = 'done'), count(*) FILTER (WHERE k.state = 'overdue'), "
     "count(*) FILTER (WHERE k.state = 'in_progress'), "
     "cchc_rate(count(*) FILTER (WHERE k.state = 'done'), count(*)), "
     "round(avg(k.avg_percent), 1), true FROM k HAVING count(*) > 0 "
     "ORDER BY 11, 1, 2, 3",
     2},
};

/* ---- agents
 * ---------------------------------------------------------------------------------------- */

static const cli_out_col_t s_agent_cols[] = {
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"kind", "Loại", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"kind_vi", "Loại", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"last_seen", "Liên lạc lần cuối", CLI_OUT_TIME, 0, 0},
    {"silent_since", "Im lặng từ", CLI_OUT_TIME, 0, 0},
    {"agent_version", "Phiên bản", CLI_OUT_TEXT, 0, 0},
    {"queue_depth", "Đang chờ gửi", CLI_OUT_INT, 0, 0},
    {"clock_skew_ms", "Lệch đồng hồ (ms)", CLI_OUT_INT, 0, 0},
    {"active_keys", "Khoá hiệu lực", CLI_OUT_INT, 0, 0},
    {"refused_open", "Báo cáo bị từ chối chưa sửa", CLI_OUT_INT, 0, 0},
    {"open", "Đang hoạt động", CLI_OUT_BOOL, 0, 0},
    {"valid_from", "Hoạt động từ", CLI_OUT_DATE, CLI_OUT_JSON_ONLY, 0},
    {"valid_to", "Đến", CLI_OUT_DATE, CLI_OUT_JSON_ONLY, 0},
};

/* $1 unit, $2 't' for units not open today too. */
const cli_figs_def_t cli_figs_agents = {
    NULL, s_agent_cols, S_N(s_agent_cols),
    "SELECT a.unit_code, a.unit_name, a.unit_kind, cchc_label_vi(a.unit_kind), "
    "(extract(epoch FROM a.last_seen) * 1000)::int8, "
    "(extract(epoch FROM a.silent_since) * 1000)::int8, nullif(a.agent_version, ''), "
    "a.queue_depth, a.clock_skew_ms, a.active_keys, a.refused_open, a.is_open, "
    "a.valid_from::text, a.valid_to::text FROM cchc_agents_all a "
    "WHERE ($1::text IS NULL OR a.unit_code = $1) AND ($2::boolean OR a.is_open) "
    "ORDER BY a.last_seen NULLS FIRST, a.unit_code",
    2};
