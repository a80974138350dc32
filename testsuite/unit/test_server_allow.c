/* --allow HOST[/MASK]: parsing and matching of peers (server/remote.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "server/remote.h"
#include "testsuite/unit/check.h"

static struct sockaddr_storage peer(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
		v4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
		v6->sin6_family = AF_INET6;
	return ss;
}

static bool permits(const struct allow_list *a, const char *text)
{
	struct sockaddr_storage ss = peer(text);
	return allow_list_permits(a, (struct sockaddr *)&ss);
}

/* The error for SPEC, or "" if it was accepted. */
static const char *error_of(const char *spec)
{
	static char err[256];
	struct allow_list a = {0};
	if (allow_list_add(&a, spec, err, sizeof err) == 0)
		err[0] = '\0';
	allow_list_free(&a);
	return err;
}

int main(void)
{
	char err[256];
	struct allow_list none = {0};
	CHECK(permits(&none, "203.0.113.9"));       /* no --allow: anyone */
	CHECK(allow_list_permits(NULL, (struct sockaddr *)&(struct sockaddr_storage){.ss_family = AF_INET}));

	struct allow_list a = {0};
	CHECK(allow_list_add(&a, "192.0.2.0/24", err, sizeof err) == 0);
	CHECK(allow_list_add(&a, "10.1.2.3", err, sizeof err) == 0);
	CHECK(allow_list_add(&a, "2001:db8::/32", err, sizeof err) == 0);
	CHECK(allow_list_add(&a, "[fe80::1]", err, sizeof err) == 0);
	CHECK(allow_list_add(&a, "172.16.0.0/12", err, sizeof err) == 0);
	CHECK(a.n == 5);
	CHECK(permits(&a, "192.0.2.0"));
	CHECK(permits(&a, "192.0.2.255"));
	CHECK(!permits(&a, "192.0.3.1"));
	CHECK(permits(&a, "10.1.2.3"));
	CHECK(!permits(&a, "10.1.2.4"));            /* a bare address is /32 */
	CHECK(permits(&a, "172.31.255.255"));       /* mask not on a byte */
	CHECK(!permits(&a, "172.32.0.0"));
	CHECK(permits(&a, "2001:db8:ffff::1"));
	CHECK(!permits(&a, "2001:db9::1"));
	CHECK(permits(&a, "fe80::1"));
	CHECK(!permits(&a, "fe80::2"));
	CHECK(!permits(&a, "127.0.0.1"));           /* loopback is not implied */
	CHECK(!permits(&a, "::1"));
	CHECK(permits(&a, "::ffff:192.0.2.7"));     /* v4-mapped peer matches v4 rules */
	CHECK(!permits(&a, "::ffff:192.0.3.7"));
	struct sockaddr_storage unix_peer = {.ss_family = AF_UNIX};
	CHECK(!allow_list_permits(&a, (struct sockaddr *)&unix_peer));
	allow_list_free(&a);
	CHECK(a.n == 0 && !a.given);

	struct allow_list all = {0};
	CHECK(allow_list_add(&all, "0.0.0.0/0", err, sizeof err) == 0);
	CHECK(permits(&all, "198.51.100.1"));
	CHECK(!permits(&all, "2001:db8::1"));       /* an IPv4 rule never matches IPv6 */
	allow_list_free(&all);

	/* A name resolves at start-up to every address it has. */
	struct allow_list named = {0};
	CHECK(allow_list_add(&named, "localhost", err, sizeof err) == 0);
	CHECK(named.n >= 1);
	CHECK(permits(&named, "127.0.0.1"));
	CHECK(!permits(&named, "127.0.0.2"));
	allow_list_free(&named);

	CHECK_STR(error_of(""), "--allow: missing HOST[/MASK]");
	CHECK_STR(error_of("10.0.0.0/33"), "--allow 10.0.0.0/33: the mask of an IPv4 address is 0 to 32 bits");
	CHECK_STR(error_of("10.0.0.0/-1"), "--allow 10.0.0.0/-1: the mask of an IPv4 address is 0 to 32 bits");
	CHECK_STR(error_of("10.0.0.0/8x"), "--allow 10.0.0.0/8x: the mask of an IPv4 address is 0 to 32 bits");
	CHECK_STR(error_of("::/129"), "--allow ::/129: the mask of an IPv6 address is 0 to 128 bits");
	CHECK_STR(error_of("10.0.0.0/"), "--allow 10.0.0.0/: missing mask after '/'");
	CHECK_STR(error_of("/8"), "--allow /8: missing host before the mask");
	CHECK_STR(error_of("1.2.3"), "--allow 1.2.3: not an IPv4 or IPv6 address");
	CHECK_STR(error_of("300.1.1.1"), "--allow 300.1.1.1: not an IPv4 or IPv6 address");
	CHECK_STR(error_of("fe80::zz"), "--allow fe80::zz: not an IPv4 or IPv6 address");
	CHECK(strncmp(error_of("no-such-host.invalid"),
		      "--allow no-such-host.invalid: cannot resolve name: ", 51) == 0);
	CHECK_STR(error_of("localhost/33"),
		  "--allow localhost/33: localhost has an IPv4 address; its mask is 0 to 32 bits");
	CHECK_STR(error_of("127.0.0.1/32"), "");
	return check_done("test_server_allow");
}
