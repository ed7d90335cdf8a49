/* web_auth.h: HTTP basic authentication against one user and a crypt(3)
 * password hash ([web] auth_user, auth_hash), and the hash's making for
 * `cchc-web --hash-password`.
 *
 * The password is checked with libcrypt's crypt_r (yescrypt "$y$" or
 * SHA-512 "$6$"), whose cost is the point: a guess costs the guesser as
 * much as the check. The results are compared in constant time. The last
 * Authorization header that passed is remembered (the browser sends the same
 * one with every page and style sheet), and a request that repeats it is let
 * through on a constant-time comparison alone, without hashing again. */
#ifndef WEB_AUTH_H
#define WEB_AUTH_H

#include <stddef.h>

typedef struct web_auth web_auth_t;

/* The hash schemes accepted, as a hash begins. */
#define WEB_AUTH_SCHEMES "$y$ (yescrypt) or $6$ (SHA-512)"

/* 0 when hash is one crypt_r can check with a scheme accepted; else -1 with
 * the reason in err. */
int web_auth_hash_ok(const char *hash, char *err, size_t errlen);

/* A new hash of password, yescrypt with a fresh random salt, into out (at
 * least 128 bytes). 0, or -1 with the reason in err. */
int web_auth_hash_password(const char *password, char *out, size_t outlen, char *err,
                           size_t errlen);

/* The check of user and hash (both borrowed, checked by web_auth_hash_ok). */
web_auth_t *web_auth_new(const char *user, const char *hash);
void web_auth_destroy(web_auth_t **self_p);

/* 1 when the Authorization header (NULL when absent) carries the user and
 * a password whose hash is the one configured; else 0. */
int web_auth_check(web_auth_t *self, const char *authorization);

/* ---- helpers, unit-tested ------------------------------------------------------------ */

/* Standard base64 (RFC 4648, '=' padding required, no whitespace) of
 * in[0..n) into out. The decoded length, or -1 when in is not base64 or out
 * (cap bytes) is too small. */
long web_auth_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

/* 1 when a[0..alen) equals b[0..blen). Its time depends on the lengths only,
 * never on where the bytes differ. */
int web_auth_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
