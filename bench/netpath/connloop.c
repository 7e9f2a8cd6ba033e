// connloop: the TCP connect/close measurement of bench/netpath, small enough that the loop costs almost nothing.
//
//   connloop serve PORT NAME          accept, write NAME's first byte, close; forever (until SIGTERM)
//   connloop loop IP[,IP..] PORT SECONDS  connect/read-to-EOF/close back to back for SECONDS (taking the IPs in
//                                     turn); prints one summary line
//   connloop probe IP PORT TIMEOUT_MS one connect that must be answered within TIMEOUT_MS; prints the backend's byte
//   connloop wait IP PORT TIMEOUT_MS  probe every 5 ms until one succeeds; prints the milliseconds it took
//
// The server closes first, so TIME_WAIT stays on the server side and the client never runs out of ports. The
// client times only connect() for the latency (SYN to SYN-ACK, where a socket LB or a DNAT rule does its work) and
// the whole cycle for connects/s. The loop's summary is one line of key=value pairs:
//   connects=N failures=N seconds=S rate=R p50_us=X p99_us=Y p999_us=Z backends=A:n,B:n
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int parse_addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1) {
		fprintf(stderr, "connloop: not an IPv4 address: %s\n", ip);
		return -1;
	}
	return 0;
}

static int serve(const char *port, const char *name)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port)) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
		perror("connloop serve");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("connloop accept");
			return 1;
		}
		(void)!write(c, name, 1);
		close(c);
	}
}

// One connect/read/close. Returns the backend's byte (>0), or -errno. *connect_us gets connect()'s duration.
static int cycle(const struct sockaddr_in *to, int timeout_ms, double *connect_us)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	double start = now_us();
	int rc = connect(fd, (const struct sockaddr *)to, sizeof(*to));
	if (rc < 0 && errno != EINPROGRESS) {
		rc = -errno;
		close(fd);
		return rc;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (rc < 0) {
		if (poll(&p, 1, timeout_ms) != 1) {
			close(fd);
			return -ETIMEDOUT;
		}
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			close(fd);
			return -err;
		}
	}
	*connect_us = now_us() - start;
	char got = 0, rest;
	p.events = POLLIN;
	int result = -ETIMEDOUT;
	if (poll(&p, 1, timeout_ms) == 1 && read(fd, &got, 1) == 1) {
		// Read to EOF so the server's FIN has arrived: our close then sends the last FIN and leaves no TIME_WAIT here.
		if (poll(&p, 1, timeout_ms) == 1 && read(fd, &rest, 1) == 0)
			result = (unsigned char)got;
	}
	close(fd);
	return result;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(double *sorted, long n, double q)
{
	if (n == 0)
		return 0;
	long i = (long)(q * (double)(n - 1) + 0.5);
	return sorted[i];
}

#define MAX_TARGETS 8

static int loop(const char *ips, const char *port, const char *seconds)
{
	// IP may be a comma-separated list: the loop takes them in turn, so a direct baseline can spread its connects
	// over the same backends a Service would.
	struct sockaddr_in targets[MAX_TARGETS];
	int n_targets = 0;
	char list[256];
	snprintf(list, sizeof(list), "%s", ips);
	for (char *save = NULL, *ip = strtok_r(list, ",", &save); ip; ip = strtok_r(NULL, ",", &save)) {
		if (n_targets == MAX_TARGETS || parse_addr(ip, port, &targets[n_targets]) < 0)
			return 2;
		n_targets++;
	}
	if (n_targets == 0)
		return 2;
	double duration_us = atof(seconds) * 1e6;
	long capacity = 1 << 20, n = 0, failures = 0, by_backend[256] = { 0 };
	double *latencies = malloc(sizeof(double) * (size_t)capacity);
	if (!latencies)
		return 1;
	int first_error = 0;
	double start = now_us(), end = start + duration_us, elapsed;
	while ((elapsed = now_us()) < end) {
		double connect_us = 0;
		int r = cycle(&targets[(n + failures) % n_targets], 1000, &connect_us);
		if (r > 0) {
			by_backend[r]++;
			if (n < capacity)
				latencies[n] = connect_us;
			n++;
		} else {
			failures++;
			if (!first_error)
				first_error = -r;
		}
	}
	elapsed = now_us() - start;
	long kept = n < capacity ? n : capacity;
	qsort(latencies, (size_t)kept, sizeof(double), cmp_double);
	printf("connects=%ld failures=%ld seconds=%.3f rate=%.1f p50_us=%.2f p99_us=%.2f p999_us=%.2f backends=", n,
	       failures, elapsed / 1e6, n / (elapsed / 1e6), percentile(latencies, kept, 0.5),
	       percentile(latencies, kept, 0.99), percentile(latencies, kept, 0.999));
	const char *sep = "";
	for (int b = 1; b < 256; b++)
		if (by_backend[b]) {
			printf("%s%c:%ld", sep, b, by_backend[b]);
			sep = ",";
		}
	if (first_error)
		printf(" first_error=%s", strerrorname_np(first_error) ? strerrorname_np(first_error) : "?");
	printf("\n");
	free(latencies);
	return n > 0 ? 0 : 1;
}

static int probe(const char *ip, const char *port, const char *timeout_ms)
{
	struct sockaddr_in to;
	if (parse_addr(ip, port, &to) < 0)
		return 2;
	double connect_us = 0;
	int r = cycle(&to, atoi(timeout_ms), &connect_us);
	if (r > 0) {
		printf("backend=%c connect_us=%.1f\n", r, connect_us);
		return 0;
	}
	printf("error=%s\n", strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	return 1;
}

static int wait_until_answered(const char *ip, const char *port, const char *timeout_ms)
{
	struct sockaddr_in to;
	if (parse_addr(ip, port, &to) < 0)
		return 2;
	double start = now_us(), deadline = start + atof(timeout_ms) * 1e3;
	while (now_us() < deadline) {
		double connect_us = 0;
		if (cycle(&to, 5, &connect_us) > 0) {
			printf("%.1f\n", (now_us() - start) / 1e3);
			return 0;
		}
		usleep(5000);
	}
	printf("timeout\n");
	return 1;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "loop"))
		return loop(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "probe"))
		return probe(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "wait"))
		return wait_until_answered(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: connloop serve PORT NAME | loop IP PORT SECONDS | probe IP PORT TIMEOUT_MS | wait IP PORT TIMEOUT_MS\n");
	return 2;
}
