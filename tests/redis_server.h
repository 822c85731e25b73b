/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef REDIS_SERVER_H
#define REDIS_SERVER_H

/* A throwaway redis-server for a test, on a unix socket in a directory
 * of its own, without persistence unless asked; stopped by its PID. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct redis_server {
	pid_t pid;
	char dir[64];
	char socket[128];
};

/* Starts redis-server with extra arguments (NULL-terminated); waits
 * until its socket answers. Returns 0 or -1. */
static inline int
redis_server_start(struct redis_server *rs, const char *const *extra)
{
	const char *argv[32] = { "redis-server", "--port", "0", "--unixsocket",
		rs->socket, "--save", "", "--appendonly", "no", "--dir", rs->dir };
	int argc = 11;

	if (rs->dir[0] == '\0') {
		strcpy(rs->dir, "/tmp/crossings-redis-XXXXXX");
		if (mkdtemp(rs->dir) == NULL)
			return -1;
		snprintf(rs->socket, sizeof(rs->socket), "%s/redis.sock", rs->dir);
	}
	for (; extra && *extra && argc < 31; extra++)
		argv[argc++] = *extra;
	argv[argc] = NULL;
	rs->pid = fork();
	if (rs->pid < 0)
		return -1;
	if (rs->pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "redis-cli -s %s ping >/dev/null 2>&1",
			 rs->socket);
		if (system(cmd) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Stops the server with a signal (SIGTERM, or SIGKILL as a crash). */
static inline void
redis_server_stop(struct redis_server *rs, int sig)
{
	if (rs->pid > 0) {
		kill(rs->pid, sig);
		waitpid(rs->pid, NULL, 0);
		rs->pid = 0;
		unlink(rs->socket);
	}
}

/* Runs redis-cli against the server; returns its first output line. */
static inline char *
redis_cli(const struct redis_server *rs, const char *args, char *out, size_t len)
{
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "redis-cli -s %s %s 2>&1", rs->socket, args);
	f = popen(cmd, "r");
	out[0] = '\0';
	if (f != NULL) {
		if (fgets(out, len, f) != NULL)
			out[strcspn(out, "\n")] = '\0';
		pclose(f);
	}
	return out;
}

#endif /* REDIS_SERVER_H */
