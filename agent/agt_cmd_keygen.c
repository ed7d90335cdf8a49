/* agt_cmd_keygen.c: `cchc-agent keygen [--out PREFIX] [--force]`.
 *
 * Owns making this agent's CURVE key pair: by default into the files agent.ini
 * names ([agent] public_key and secret_key, which need not exist yet), or into
 * PREFIX.pub and PREFIX.key. Existing keys are never replaced silently: the
 * district has registered the old public key, and a new one locks the agent
 * out until it is registered again, so replacing takes --force. */
#include "agt_config.h"

#include "cchc_err.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int s_write(const char *pub_path, const char *sec_path, const char *pub, const char *sec)
{
    char err[512] = "";
    int rc = cchc_keys_write_files(pub_path, sec_path, pub, sec, err, sizeof err);
    if (rc != CCHC_OK)
        fprintf(stderr, "Không ghi được tệp khóa: %s\n(could not write the key files: %s)\n", err,
                err);
    return rc;
}

/* Without --force an existing file stops keygen; with it, both are removed. */
static int s_make_room(const char *path, int force)
{
    struct stat st;
    if (!force) {
        if (lstat(path, &st) != 0)
            return CCHC_OK;
        fprintf(stderr,
                "Tệp khóa đã có: %s. Khóa mới sẽ thay khóa huyện đã đăng ký; nếu thật sự cần, "
                "chạy lại với --force rồi gửi khóa công khai mới cho Phòng Nội vụ.\n"
                "(key file exists: %s; use --force to replace it, then have the district "
                "register the new public key)\n",
                path, path);
        return CCHC_EINVAL;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "Không xóa được tệp khóa cũ %s: %s\n(could not remove %s: %s)\n", path,
                strerror(errno), path, strerror(errno));
        return CCHC_EIO;
    }
    return CCHC_OK;
}

int agt_cmd_keygen(const agt_config_t *cfg, int argc, char **argv)
{
    const char *out = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc && argv[i + 1][0]) {
            out = argv[++i];
        } else if (strncmp(argv[i], "--out=", 6) == 0 && argv[i][6]) {
            out = argv[i] + 6;
        } else {
            fprintf(stderr,
                    "keygen: tùy chọn không hợp lệ \"%s\" (unknown option or missing "
                    "PREFIX)\n",
                    argv[i]);
            return AGT_EXIT_USAGE;
        }
    }
    char *pub_path = out ? cchc_asprintf("%s.pub", out) : cchc_strdup(cfg->public_key);
    char *sec_path = out ? cchc_asprintf("%s.key", out) : cchc_strdup(cfg->secret_key);
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1];
    int code = AGT_EXIT_FAILED;
    memset(sec, 0, sizeof sec);
    if (strcmp(pub_path, sec_path) == 0) {
        fprintf(stderr,
                "Khóa công khai và khóa bí mật phải là hai tệp khác nhau: %s\n"
                "(public_key and secret_key name the same file)\n",
                pub_path);
        code = AGT_EXIT_USAGE;
        goto out;
    }
    if (s_make_room(sec_path, force) != CCHC_OK || s_make_room(pub_path, force) != CCHC_OK)
        goto out;
    if (cchc_keys_generate(pub, sec) != CCHC_OK) {
        fprintf(stderr, "Không tạo được cặp khóa (could not generate a key pair: is libzmq built "
                        "with CURVE?)\n");
        goto out;
    }
    if (s_write(pub_path, sec_path, pub, sec) != CCHC_OK)
        goto out;
    CCHC_LOG(CCHC_LOG_INFO, "keygen", "public=%s path=\"%s\" forced=%d", pub, pub_path, force);
    printf("Khóa công khai (public key): %s\n"
           "Tệp khóa công khai (public key file): %s\n"
           "Gửi tệp này cho Phòng Nội vụ huyện để đăng ký máy trạm; giữ kín tệp %s.\n"
           "(send this file to the district to register this agent; keep %s private)\n",
           pub, pub_path, sec_path, sec_path);
    code = AGT_EXIT_OK;
out:
    explicit_bzero(sec, sizeof sec);
    free(sec_path);
    free(pub_path);
    return code;
}
