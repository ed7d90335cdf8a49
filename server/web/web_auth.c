/* web_auth.c: basic authentication with a crypt(3) hash (see web_auth.h).
 *
 * Owns the configured user and hash (copies), libcrypt's work area (32 KiB,
 * reused: cchc-web answers one request at a time) and the last header that
 * passed. */
#include "web_auth.h"
#include "cchc_mem.h"

#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_HEADER_MAX 512 /* bytes of a Basic credential we read at most */

struct web_auth {
    char *user, *hash;
    struct crypt_data cd;
    char *last_ok; /* the last Authorization header that passed, or NULL */
};

int web_auth_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const unsigned char *x = a, *y = b;
    unsigned diff = alen != blen;
    for (size_t i = 0; i < blen; i++)
        diff |= (unsigned)((i < alen ? x[i] : 0) ^ y[i]);
    return diff == 0;
}

static int s_b64(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long web_auth_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = s_b64((unsigned char)in[i + j])) < 0) {
                return -1; /* a character after '=', or not base64 */
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        if (k + (size_t)(3 - pad) > cap)
            return -1;
        memcpy(out + k, bytes, (size_t)(3 - pad));
        k += (size_t)(3 - pad);
    }
    return (long)k;
}

int web_auth_hash_ok(const char *hash, char *err, size_t errlen)
{
    if (strncmp(hash, "$y$", 3) != 0 && strncmp(hash, "$6$", 3) != 0) {
        snprintf(err, errlen,
                 "the hash must begin with " WEB_AUTH_SCHEMES
                 ": make one with 'cchc-web --hash-password'");
        return -1;
    }
    struct crypt_data *cd = cchc_calloc(1, sizeof *cd);
    const char *r = crypt_r("cchc-web probe", hash, cd);
    int ok = r && r[0] == '$';
    free(cd);
    if (!ok) {
        snprintf(err, errlen,
                 "libcrypt cannot read the hash (cut short or mistyped?): make one with "
                 "'cchc-web --hash-password'");
        return -1;
    }
    return 0;
}

int web_auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!password[0]) {
        snprintf(err, errlen, "the password is empty");
        return -1;
    }
    /* NULL random bytes: libcrypt takes them from the kernel. */
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) || salt[0] != '$') {
        snprintf(err, errlen, "could not make a salt (libcrypt without yescrypt?)");
        return -1;
    }
    struct crypt_data *cd = cchc_calloc(1, sizeof *cd);
    const char *r = crypt_r(password, salt, cd);
    int rc = -1;
    if (!r || r[0] != '$')
        snprintf(err, errlen, "could not hash the password");
    else if (strlen(r) >= outlen)
        snprintf(err, errlen, "the hash is too long");
    else {
        memcpy(out, r, strlen(r) + 1);
        rc = 0;
    }
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

web_auth_t *web_auth_new(const char *user, const char *hash)
{
    web_auth_t *self = cchc_calloc(1, sizeof *self);
    self->user = cchc_strdup(user);
    self->hash = cchc_strdup(hash);
    return self;
}

void web_auth_destroy(web_auth_t **self_p)
{
    web_auth_t *self = *self_p;
    if (!self)
        return;
    if (self->last_ok) {
        explicit_bzero(self->last_ok, strlen(self->last_ok));
        free(self->last_ok);
    }
    explicit_bzero(&self->cd, sizeof self->cd);
    free(self->user);
    free(self->hash);
    free(self);
    *self_p = NULL;
}

/* The password of a "Basic <base64 of user:password>" header for our user,
 * into buf; -1 when the header is not that. The user is compared in constant
 * time too, so a wrong user costs what a wrong password does. */
static int s_basic(const web_auth_t *self, const char *h, char *buf, size_t cap, int *user_ok)
{
    if (strncasecmp(h, "Basic ", 6) != 0)
        return -1;
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strnlen(h, S_HEADER_MAX + 1);
    if (n > S_HEADER_MAX)
        return -1;
    unsigned char dec[S_HEADER_MAX];
    long k = web_auth_base64_decode(h, n, dec, sizeof dec);
    if (k < 0)
        return -1;
    unsigned char *colon = memchr(dec, ':', (size_t)k);
    if (!colon || memchr(dec, '\0', (size_t)k))
        return -1;
    size_t ulen = (size_t)(colon - dec), plen = (size_t)k - ulen - 1;
    if (plen + 1 > cap)
        return -1;
    *user_ok = web_auth_equal(dec, ulen, self->user, strlen(self->user));
    memcpy(buf, colon + 1, plen);
    buf[plen] = '\0';
    explicit_bzero(dec, sizeof dec);
    return 0;
}

int web_auth_check(web_auth_t *self, const char *authorization)
{
    if (!authorization)
        return 0;
    size_t n = strnlen(authorization, S_HEADER_MAX + 16);
    if (self->last_ok && web_auth_equal(authorization, n, self->last_ok, strlen(self->last_ok)))
        return 1;
    char password[S_HEADER_MAX];
    int user_ok = 0;
    if (s_basic(self, authorization, password, sizeof password, &user_ok) != 0)
        return 0;
    const char *r = crypt_r(password, self->hash, &self->cd);
    explicit_bzero(password, sizeof password);
    int ok = r && r[0] == '$' && web_auth_equal(r, strlen(r), self->hash, strlen(self->hash));
    ok = ok && user_ok;
    if (ok) {
        if (self->last_ok) {
            explicit_bzero(self->last_ok, strlen(self->last_ok));
            free(self->last_ok);
        }
        self->last_ok = cchc_strndup(authorization, n);
    }
    return ok;
}
