/* srv_dbhosts.h: a multi-host conninfo taken apart, one host per connection
 * attempt.
 *
 * libpq goes through the hosts of "host=a,b port=p1,p2" itself, and moves
 * on from a host that does not answer within connect_timeout, but only in
 * its blocking connect: with PQconnectStart and PQconnectPoll (srv_db's
 * reconnects, from the poll loop) connect_timeout is ignored, and a host
 * that accepts TCP but never answers (a frozen or wedged primary, a network
 * that drops packets) holds the attempt until srv_db gives it up, every
 * time, so the next host is never tried. srv_db therefore connects to one
 * host at a time, with a deadline of its own for each: this module gives the
 * connection parameters of host i. */
#ifndef SRV_DBHOSTS_H
#define SRV_DBHOSTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct srv_dbhosts srv_dbhosts_t;

/* conninfo: a libpq connection string or URI ("" = the PG* environment;
 * PGHOST, PGHOSTADDR and PGPORT stand in for what it does not say). NULL
 * when it names fewer than two hosts, cannot be parsed, or its host,
 * hostaddr and port lists do not match: connect with it as it is, and libpq
 * says what is wrong. */
srv_dbhosts_t *srv_dbhosts_new(const char *conninfo);
void srv_dbhosts_destroy(srv_dbhosts_t **self_p);

/* How many hosts (>= 2). */
size_t srv_dbhosts_count(const srv_dbhosts_t *self);

/* The keywords and values (NULL-terminated, for PQconnectStartParams with
 * expand_dbname 0) of host i < count: defaults first (def_keys/def_vals,
 * NULL-terminated, borrowed until the connect call), then every option the
 * conninfo sets, which override them, with the host, hostaddr and port of
 * entry i alone. The arrays are the object's, valid until the next call or
 * destroy. */
void srv_dbhosts_params(srv_dbhosts_t *self, size_t i, const char *const *def_keys,
                        const char *const *def_vals, const char *const **keys,
                        const char *const **vals);

/* How long one host may take to connect, in ms: the conninfo's
 * connect_timeout (as libpq reads it: under 2 s counts as 2 s), else def_s
 * seconds; 0 when it says 0 (wait forever). */
int64_t srv_dbhosts_timeout_ms(const srv_dbhosts_t *self, int def_s);

#endif
