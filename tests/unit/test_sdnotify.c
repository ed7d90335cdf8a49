/* test_sdnotify.c: what cchc_sdnotify_send puts on the service manager's
 * socket (a Unix datagram socket of the test's, named by NOTIFY_SOCKET), and
 * that it does nothing without NOTIFY_SOCKET and reports a dead socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cchc_err.h"
#include "cchc_sdnotify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char s_dir[64];
static char s_sock[96];
static int s_fd = -1;

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/cchc-test-sdnotify-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_sock, sizeof s_sock, "%.64s/notify", s_dir);
    s_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(s_fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s_sock);
    assert_int_equal(bind(s_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", s_sock, 1), 0);
    return 0;
}

static int s_teardown(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    close(s_fd);
    s_fd = -1;
    unlink(s_sock);
    rmdir(s_dir);
    return 0;
}

/* The next datagram on the socket, or "" when none is waiting. */
static const char *s_recv(void)
{
    static char buf[1024];
    ssize_t n = recv(s_fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void test_ready_with_status(void **state)
{
    assert_int_equal(
        cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "listening on %s; %d keys", "tcp://*:7470", 3), 1);
    assert_string_equal(s_recv(), "READY=1\nSTATUS=listening on tcp://*:7470; 3 keys");
    assert_string_equal(s_recv(), "");
}

static void test_status_alone_and_state_alone(void **state)
{
    assert_int_equal(cchc_sdnotify_send(NULL, "draining %zu", (size_t)5), 1);
    assert_string_equal(s_recv(), "STATUS=draining 5");
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_STOPPING, NULL), 1);
    assert_string_equal(s_recv(), "STOPPING=1");
    /* Nothing to say: nothing sent. */
    assert_int_equal(cchc_sdnotify_send(NULL, NULL), 0);
    assert_string_equal(s_recv(), "");
}

/* A newline in a status (an endpoint from a file, an error text) would start
 * another assignment, e.g. a forged READY=1: it becomes a space. */
static void test_control_characters(void **state)
{
    assert_int_equal(cchc_sdnotify_send(NULL, "bad %s", "x\nREADY=1\tz"), 1);
    assert_string_equal(s_recv(), "STATUS=bad x READY=1 z");
}

static void test_unset_does_nothing(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "x"), 0);
    assert_string_equal(s_recv(), "");
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "x"), 0);
    assert_string_equal(s_recv(), "");
}

static void test_dead_socket(void **state)
{
    char dead[160];
    snprintf(dead, sizeof dead, "%s/nobody", s_dir);
    setenv("NOTIFY_SOCKET", dead, 1);
    errno = 0;
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "x"), CCHC_EIO);
    assert_int_equal(errno, ENOENT);
}

/* An abstract socket ('@' for the leading NUL), as systemd may name one. */
static void test_abstract_socket(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "@cchc-test-sdnotify-%d", (int)getpid());
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path + 1, name + 1, strlen(name) - 1);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "abstract"), 1);
    char buf[128];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    assert_true(n > 0);
    buf[n] = 0;
    assert_string_equal(buf, "READY=1\nSTATUS=abstract");
}

/* Neither a path nor an abstract name (a relative path, a vsock: address
 * systemd 252 does not give): refused with a reason, nothing sent. */
static void test_unusable_name(void **state)
{
    setenv("NOTIFY_SOCKET", "relative/notify", 1);
    errno = 0;
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "x"), CCHC_EIO);
    assert_int_equal(errno, EAFNOSUPPORT);
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = 0;
    setenv("NOTIFY_SOCKET", longname, 1);
    assert_int_equal(cchc_sdnotify_send(CCHC_SDNOTIFY_READY, "x"), CCHC_EIO);
    assert_string_equal(s_recv(), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ready_with_status, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_status_alone_and_state_alone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_control_characters, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unset_does_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dead_socket, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_abstract_socket, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unusable_name, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
