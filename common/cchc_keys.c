/* cchc_keys.c: CURVE key pairs and key files (see cchc_keys.h). */
#include "cchc_keys.h"
#include "cchc_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int cchc_keys_valid_z85(const char *text)
{
    uint8_t raw[32];
    if (strlen(text) != CCHC_KEY_Z85_LEN)
        return 0;
    return zmq_z85_decode(raw, text) != NULL;
}

int cchc_keys_generate(char pub[CCHC_KEY_Z85_LEN + 1], char sec[CCHC_KEY_Z85_LEN + 1])
{
    return zmq_curve_keypair(pub, sec) == 0 ? CCHC_OK : CCHC_EIO;
}

int cchc_keys_public_of(const char *sec, char pub[CCHC_KEY_Z85_LEN + 1])
{
    if (!cchc_keys_valid_z85(sec))
        return CCHC_EINVAL;
    return zmq_curve_public(pub, sec) == 0 ? CCHC_OK : CCHC_EINVAL;
}

static int s_write(const char *path, const char *key, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create key file \"%s\": %s%s", path, strerror(errno),
                 errno == EEXIST ? " (remove it first, or choose another name)" : "");
        return CCHC_EIO;
    }
    char line[CCHC_KEY_Z85_LEN + 2];
    snprintf(line, sizeof line, "%s\n", key);
    size_t len = strlen(line);
    int rc = CCHC_OK;
    if (fchmod(fd, mode) != 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) != 0) {
        snprintf(err, errlen, "could not write key file \"%s\": %s", path, strerror(errno));
        rc = CCHC_EIO;
    }
    if (close(fd) != 0 && rc == CCHC_OK) {
        snprintf(err, errlen, "could not write key file \"%s\": %s", path, strerror(errno));
        rc = CCHC_EIO;
    }
    if (rc != CCHC_OK)
        unlink(path);
    return rc;
}

int cchc_keys_write_files(const char *pub_path, const char *sec_path, const char *pub,
                          const char *sec, char *err, size_t errlen)
{
    if (!cchc_keys_valid_z85(pub) || !cchc_keys_valid_z85(sec)) {
        snprintf(err, errlen, "internal: not a Z85 key");
        return CCHC_EINVAL;
    }
    int rc = s_write(sec_path, sec, 0600, err, errlen);
    if (rc != CCHC_OK)
        return rc;
    rc = s_write(pub_path, pub, 0644, err, errlen);
    if (rc != CCHC_OK)
        unlink(sec_path);
    return rc;
}

int cchc_keys_write_pair(const char *prefix, const char *pub, const char *sec, char *err,
                         size_t errlen)
{
    char pub_path[4096], sec_path[4096];
    snprintf(pub_path, sizeof pub_path, "%s.pub", prefix);
    snprintf(sec_path, sizeof sec_path, "%s.key", prefix);
    return cchc_keys_write_files(pub_path, sec_path, pub, sec, err, errlen);
}

int cchc_keys_read(const char *path, int secret, char out[CCHC_KEY_Z85_LEN + 1], char *err,
                   size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "could not open key file \"%s\": %s", path, strerror(errno));
        return CCHC_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "could not stat key file \"%s\": %s", path, strerror(errno));
        close(fd);
        return CCHC_EIO;
    }
    if (secret && (st.st_mode & 077)) {
        snprintf(err, errlen,
                 "secret key file \"%s\" is readable by others (mode %04o): run chmod 600 %s", path,
                 (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return CCHC_EINVAL;
    }
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "could not read key file \"%s\": %s", path, strerror(errno));
        return CCHC_EIO;
    }
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n != CCHC_KEY_Z85_LEN || !cchc_keys_valid_z85(buf)) {
        snprintf(err, errlen,
                 "key file \"%s\" does not hold a CURVE key (expected 40 Z85 characters on one "
                 "line, as written by 'cchc-agent keygen')",
                 path);
        return CCHC_EINVAL;
    }
    memcpy(out, buf, CCHC_KEY_Z85_LEN + 1);
    return CCHC_OK;
}
