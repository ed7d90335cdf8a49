/* cchc_keys.h: CURVE key pairs and key files.
 *
 * Keys are Z85 text, 40 characters, one per file: NAME.pub (mode 0644) and
 * NAME.key (mode 0600). Secrets are never logged. */
#ifndef CCHC_KEYS_H
#define CCHC_KEYS_H

#include <stddef.h>

#define CCHC_KEY_Z85_LEN 40

/* Makes a key pair into two 41-byte buffers. 0 or CCHC_EIO. */
int cchc_keys_generate(char pub[CCHC_KEY_Z85_LEN + 1], char sec[CCHC_KEY_Z85_LEN + 1]);
/* Writes PREFIX.pub and PREFIX.key (0600, created without a window where it is
 * readable). Refuses to overwrite existing files. 0, CCHC_EIO or CCHC_EINVAL. */
int cchc_keys_write_pair(const char *prefix, const char *pub, const char *sec, char *err,
                         size_t errlen);
/* The same with any two file names: the secret is written first (a public
 * key never exists without its secret) and removed if the public one fails. */
int cchc_keys_write_files(const char *pub_path, const char *sec_path, const char *pub,
                          const char *sec, char *err, size_t errlen);
/* Reads one Z85 key (40 characters, optional trailing newline) from path.
 * When secret is true the file must not be readable by group or others.
 * 0, CCHC_EIO or CCHC_EINVAL; err says what is wrong and how to fix it. */
int cchc_keys_read(const char *path, int secret, char out[CCHC_KEY_Z85_LEN + 1], char *err,
                   size_t errlen);
/* True when text is a 40-character Z85 string that decodes to 32 bytes. */
int cchc_keys_valid_z85(const char *text);
/* Public key of a secret key (both Z85). 0 or CCHC_EINVAL. */
int cchc_keys_public_of(const char *sec, char pub[CCHC_KEY_Z85_LEN + 1]);

#endif
