/* agt_main.c: cchc-agent's entry point.
 *
 * Owns only the process: global options, loading agent.ini (defaults < file <
 * --set flags), starting the log, and dispatching to one agt_cmd_<name>. A
 * command's --help is answered before the configuration is read, so help
 * works anywhere. Exit codes: 0 ok, 1 refused or failed, 2 usage or
 * configuration, 3 `run --drain` timed out. */
#include "agt_config.h"

#include "cchc_err.h"
#include "cchc_log.h"

#include <stdio.h>
#include <string.h>

#define S_MAX_SETS 32

typedef struct {
    const char *name;
    int (*fn)(const agt_config_t *cfg, int argc, char **argv);
    const char *usage;
    const char *help;
} agt_command_t;

static const agt_command_t s_commands[] = {
    {"template", agt_cmd_template,
     "template periodic|remediation|task_progress [--period ID] [--inspection CODE] "
     "[--task CODE]",
     "    In ra mẫu báo cáo (JSON) để điền: đơn vị, loại báo cáo, kỳ, cuộc kiểm tra và nhiệm vụ\n"
     "    lấy từ dữ liệu của huyện đã đồng bộ; mọi chỗ cần điền ghi trong <...>. Không cần mạng.\n"
     "    (print a report to fill in; every <...> must be replaced before submit)\n"
     "    --period ID         kỳ báo cáo, ví dụ 2024Q3 (default: the period now being reported)\n"
     "    --inspection CODE   cuộc kiểm tra (default: the unit's first open inspection)\n"
     "    --task CODE         nhiệm vụ (default: the unit's first task)\n"
     "    e.g. cchc-agent template periodic > bao-cao.json\n"},
    {"submit", agt_cmd_submit, "submit FILE [FILE...] [--dry-run]",
     "    Kiểm tra báo cáo (tệp JSON) theo mẫu và theo quy định của huyện (dữ liệu đã đồng bộ),\n"
     "    rồi lưu vào hàng đợi gửi; không cần mạng. Có lỗi thì không lưu (mã thoát 1); chỉ có\n"
     "    cảnh báo thì vẫn lưu. (check a report's JSON file offline against the structure and\n"
     "    the district's rules, and queue it; any error: nothing queued, exit 1)\n"
     "    Nhiều tệp: mỗi tệp được kiểm tra và lưu riêng, một dòng kết quả cho mỗi tệp; mã thoát 0\n"
     "    chỉ khi mọi tệp đều được lưu. (several files: each checked and queued on its own, one\n"
     "    line each; exit 0 only if all were queued)\n"
     "    Hàng đợi đầy ([agent] max_outbox_reports, max_outbox_bytes): không lưu, mã thoát 1;\n"
     "    chạy `cchc-agent run` để gửi bớt. (outbox full: nothing queued, exit 1; let it drain)\n"
     "    --dry-run   chỉ kiểm tra, không lưu (check only, queue nothing; exit 0 if no error)\n"},
    {"run", agt_cmd_run, "run [--drain] [--timeout SEC]",
     "    Chạy nền: gửi các báo cáo trong hàng đợi tới máy chủ huyện, gửi lại đến khi được\n"
     "    trả lời; đồng bộ dữ liệu của huyện (loại báo cáo, lịch, cuộc kiểm tra, nhiệm vụ).\n"
     "    Các bản sửa đổi của một báo cáo được gửi lần lượt, theo số lần sửa đổi.\n"
     "    (the daemon: deliver queued reports, resend until answered, the revisions of one\n"
     "    report one at a time in revision order; sync the district's data)\n"
     "    --drain        dừng khi không còn báo cáo chờ gửi và đã đồng bộ dữ liệu của huyện\n"
     "                   một lần (exit 0 once nothing is queued and the metadata was synced)\n"
     "    --timeout SEC  dừng sau SEC giây; với --drain mà chưa xong thì mã thoát 3\n"
     "                   (stop after SEC seconds; with --drain, exit 3 if not done)\n"},
    {"sync", agt_cmd_sync, "sync [--timeout SEC]",
     "    Đồng bộ ngay dữ liệu của huyện (loại báo cáo, lịch làm việc, cuộc kiểm tra, nhiệm vụ,\n"
     "    báo cáo đã nộp), in phiên bản và những gì thay đổi; không gửi báo cáo. Không đồng bộ\n"
     "    được (không kết nối được, khoá bị từ chối, máy chủ không trả lời): mã thoát 1.\n"
     "    (connect and sync the district's data now; print the version and what changed;\n"
     "    sends no report; exit 1 when it cannot)\n"
     "    --timeout SEC  chờ tối đa SEC giây (wait at most SEC seconds; default 30)\n"},
    {"status", agt_cmd_status, "status [--json]",
     "    Tình trạng hàng đợi: chờ gửi, đã gửi (kèm cảnh báo), bị từ chối (kèm lỗi cần sửa),\n"
     "    bản cũ đã có bản mới hơn (không cần sửa), chờ khoá mới (tự gửi lại khi cài khoá mới),\n"
     "    liên lạc gần nhất, lỗi gần nhất, không kết nối được máy chủ từ lúc nào và đã thử gì,\n"
     "    giới hạn hàng đợi và cửa sổ gửi, phiên bản dữ liệu của huyện và lần đồng bộ gần nhất.\n"
     "    (queued, delivered, refused, superseded and held reports, last contact, last error,\n"
     "    since when the server is unreachable and what was tried, outbox caps and window,\n"
     "    metadata sync)\n"
     "    --json   một đối tượng JSON (one JSON object)\n"},
    {"inspections", agt_cmd_inspections, "inspections [--json]",
     "    Các cuộc kiểm tra chưa kết thúc của đơn vị và từng tồn tại cần khắc phục (từ dữ liệu\n"
     "    đã đồng bộ; không cần mạng). (the unit's open inspections and their findings)\n"
     "    --json   một đối tượng JSON (one JSON object)\n"},
    {"tasks", agt_cmd_tasks, "tasks [--json]",
     "    Nhiệm vụ của kế hoạch giao cho đơn vị: chỉ số, mục tiêu, thời hạn, chủ trì hay phối\n"
     "    hợp (từ dữ liệu đã đồng bộ). (the plan's tasks of this unit, lead or support)\n"
     "    --json   một đối tượng JSON (one JSON object)\n"},
    {"notifications", agt_cmd_notifications, "notifications [--json] [--limit N]",
     "    Thông báo huyện đã gửi đơn vị (nhắc hạn, quá hạn, tiếp nhận, từ chối...), mới nhất\n"
     "    trước: số thứ tự, thời gian (giờ Việt Nam), loại, nội dung. Không cần mạng.\n"
     "    (notifications received from the district, newest first; offline)\n"
     "    --json      một đối tượng JSON, thêm nội dung tiếng Anh và dữ kiện (adds text_en, "
     "facts)\n"
     "    --limit N   chỉ N thông báo mới nhất (default 20)\n"},
    {"deadlines", agt_cmd_deadlines, "deadlines [--json]",
     "    Nghĩa vụ báo cáo của đơn vị: hạn nộp, loại báo cáo, kỳ hoặc cuộc kiểm tra/nhiệm vụ,\n"
     "    trạng thái (chưa đến hạn, đến hạn hôm nay, quá hạn, đã nộp đúng hạn, nộp muộn) và số\n"
     "    ngày còn lại hoặc đã quá, theo dữ liệu đã đồng bộ. Không cần mạng.\n"
     "    (the unit's obligations with due dates and status, from synced data; offline)\n"
     "    --json   một đối tượng JSON (one JSON object)\n"},
    {"keygen", agt_cmd_keygen, "keygen [--out PREFIX] [--force]",
     "    Tạo cặp khóa CURVE của máy trạm vào các tệp [agent] public_key và secret_key.\n"
     "    (make this agent's key pair into the files agent.ini names)\n"
     "    --out PREFIX   ghi PREFIX.pub và PREFIX.key (write PREFIX.pub and PREFIX.key)\n"
     "    --force        thay khóa đã có (replace existing key files)\n"},
};

#define S_NCOMMANDS (sizeof s_commands / sizeof s_commands[0])

static void s_usage(FILE *f)
{
    fprintf(f, "Cách dùng (usage): cchc-agent [-c agent.ini] [--set SECTION.KEY=VALUE]... "
               "<command> [options]\n"
               "                   cchc-agent [-c agent.ini] --check-config\n"
               "                   cchc-agent --config-keys | --help | --version\n"
               "                   cchc-agent <command> --help\n\n"
               "Lệnh (commands):\n");
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        fprintf(f, "  %s\n%s", s_commands[i].usage, s_commands[i].help);
    fprintf(f,
            "\nTùy chọn chung (global options):\n"
            "  -c, --config FILE   tệp cấu hình (configuration file), mặc định agent.ini\n"
            "  --set S.K=V         ghi đè một khóa cấu hình (override one key), "
            "e.g. --set log.level=debug\n"
            "  --check-config      chỉ kiểm tra tệp cấu hình rồi thoát: 0 nếu hợp lệ, 2 kèm tên\n"
            "                      tệp và dòng sai (check the configuration file and exit; reads\n"
            "                      no key file, opens no outbox, connects to nothing)\n"
            "  --config-keys       in mọi khóa cấu hình, mỗi dòng section.key=mặc định (print\n"
            "                      every key as section.key=default; section.key if required)\n"
            "  -h, --help          trợ giúp này (this help)\n"
            "  -V, --version       phiên bản (version)\n\n"
            "Cấu hình (agent.ini keys, with defaults):\n");
    agt_config_describe(f);
    fprintf(f, "\nMã thoát (exit codes): 0 ok, 1 bị từ chối hoặc lỗi (refused or failed), "
               "2 sai cách dùng hoặc cấu hình (usage or configuration), 3 run --drain hết giờ "
               "(timed out)\n");
}

static const agt_command_t *s_find(const char *name)
{
    for (size_t i = 0; i < S_NCOMMANDS; i++)
        if (strcmp(s_commands[i].name, name) == 0)
            return &s_commands[i];
    return NULL;
}

/* The value of an option given as "-o VALUE", "--opt VALUE" or "--opt=VALUE";
 * NULL when a is not that option. *i moves past a separate value. */
static const char *s_optarg(int argc, char **argv, int *i, const char *shrt, const char *lng,
                            int *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (strncmp(a, lng, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (strcmp(a, lng) != 0 && (!shrt || strcmp(a, shrt) != 0))
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int main(int argc, char **argv)
{
    const char *config = "agent.ini", *sets[S_MAX_SETS], *v;
    size_t nsets = 0;
    int i = 1, missing = 0, check = 0;
    cchc_log_set_ident("cchc-agent");
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            s_usage(stdout);
            return AGT_EXIT_OK;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("cchc-agent %s\n", CCHC_VERSION);
            return AGT_EXIT_OK;
        }
        if (strcmp(a, "--config-keys") == 0) {
            agt_config_list_keys(stdout);
            return AGT_EXIT_OK;
        }
        if (strcmp(a, "--check-config") == 0) {
            check = 1;
            continue;
        }
        if ((v = s_optarg(argc, argv, &i, "-c", "--config", &missing))) {
            config = v;
        } else if ((v = s_optarg(argc, argv, &i, NULL, "--set", &missing))) {
            if (nsets == S_MAX_SETS) {
                fprintf(stderr, "cchc-agent: quá nhiều --set (at most %d)\n", S_MAX_SETS);
                return AGT_EXIT_USAGE;
            }
            sets[nsets++] = v;
        } else {
            fprintf(stderr, "cchc-agent: %s \"%s\"; xem cchc-agent --help\n",
                    missing ? "thiếu giá trị cho tùy chọn (option needs a value)"
                            : "tùy chọn không hợp lệ (unknown option)",
                    a);
            return AGT_EXIT_USAGE;
        }
    }
    if (check && i < argc) {
        fprintf(stderr,
                "cchc-agent: --check-config không đi cùng lệnh \"%s\" (--check-config "
                "takes no command); xem cchc-agent --help\n",
                argv[i]);
        return AGT_EXIT_USAGE;
    }
    if (i >= argc && !check) {
        fprintf(stderr, "cchc-agent: thiếu lệnh (missing command); xem cchc-agent --help\n");
        return AGT_EXIT_USAGE;
    }
    const agt_command_t *cmd = check ? NULL : s_find(argv[i]);
    if (!cmd && !check) {
        fprintf(stderr,
                "cchc-agent: không có lệnh \"%s\" (unknown command); xem cchc-agent "
                "--help\n",
                argv[i]);
        return AGT_EXIT_USAGE;
    }
    int cmd_argc = argc - i;
    char **cmd_argv = argv + i;
    for (int j = 1; j < cmd_argc; j++) {
        if (strcmp(cmd_argv[j], "--help") == 0 || strcmp(cmd_argv[j], "-h") == 0) {
            printf("Cách dùng (usage): cchc-agent [-c agent.ini] %s\n%s", cmd->usage, cmd->help);
            return AGT_EXIT_OK;
        }
    }

    agt_config_t cfg;
    char err[1024] = "";
    int rc = agt_config_load(config, &cfg, err, sizeof err);
    if (rc != CCHC_OK) {
        fprintf(stderr, "Lỗi cấu hình (configuration error): %s\n", err);
        if (rc == CCHC_EIO)
            fprintf(stderr, "Chỉ rõ tệp cấu hình bằng -c FILE (give the agent.ini with -c FILE)\n");
        agt_config_free(&cfg);
        return AGT_EXIT_USAGE;
    }
    for (size_t k = 0; k < nsets; k++) {
        if (agt_config_override(&cfg, sets[k], err, sizeof err) != CCHC_OK) {
            fprintf(stderr, "Lỗi cấu hình (configuration error): %s\n", err);
            agt_config_free(&cfg);
            return AGT_EXIT_USAGE;
        }
    }
    if (check) {
        printf("Cấu hình hợp lệ (configuration ok): %s\n", config);
        agt_config_free(&cfg);
        return AGT_EXIT_OK;
    }
    cchc_log_level = cfg.log_level;
    int code = cmd->fn(&cfg, cmd_argc, cmd_argv);
    agt_config_free(&cfg);
    return code;
}
